"""Data visibility: what a caller may call is half of it; what the answer shows it is the other.

Each role sees only the data it is entitled to (ping's root_status, the config filtered by its
sysconsole read permissions with secrets masked, the client license trimmed, the limited client
config without a session), and a config write it may not make does not land.

Parameters come from the session (``pytest_generate_tests`` below, with the plans at the end of
the module): who holds a permission is the contract's, which writes a role is refused is
planned from what the preflight learnt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mmconform.contract import (
    ANONYMOUS,
    CONFIG_MASK,
    MATRIX_COLUMNS,
    ROLES,
    Contract,
    MatrixConditions,
    expected_cell,
    setting_value,
)
from mmconform.harness import ConformanceSession, ServerState, session_of
from suites.permissions.support_test import app_error_id, describe_answer

ClientFor = Callable[..., httpx.Client]


def _role_param(role: str, *marks: Any) -> Any:
    role_marks = [pytest.mark.mm_role(role)] if role in ROLES else []
    return pytest.param(role, id=role, marks=[*role_marks, *marks])


def _holders(contract: Contract, permission: str) -> set[str]:
    return {role for role, perms in contract.roles.items() if permission in perms}


# --- ping ---------------------------------------------------------------------------------------


@pytest.mark.mm_operation("GetPing")
@pytest.mark.mm_requirement("visibility.ping-root-status")
def test_ping_hides_root_status_from_callers_without_manage_system(
    role: str, client_for: ClientFor
) -> None:
    """With the server status asked for, root_status is for manage_system callers only."""
    response = client_for(role).get(
        "/system/ping", params={"get_server_status": "true", "use_rest_semantics": "true"}
    )
    body = response.json()
    assert "root_status" not in body, (
        f"GET /system/ping?get_server_status=true as {role} shows root_status "
        f"({body.get('root_status')!r}), which only manage_system callers may see"
    )


# --- config -------------------------------------------------------------------------------------

#: Settings whose readers are known from upstream's access tags (server/public/model/config.go)
#: and default roles (role.go): setting -> roles (besides system_admin) that read it.
#: EnableLocalMode has no sysconsole tag, so it needs manage_system; DriverName is tagged
#: environment_database, which the user manager's permissions do not cover.
VISIBILITY_PROBES: dict[str, set[str]] = {
    "ServiceSettings.EnableLocalMode": set(),
    "SqlSettings.DriverName": {"system_manager", "system_read_only_admin"},
}
#: Secrets the server masks (behaviour.md 2.10): always, or when set.
SECRETS = (
    "FileSettings.PublicLinkSalt",
    "SqlSettings.DataSource",
    "SqlSettings.AtRestEncryptKey",
    "ElasticsearchSettings.Password",
    "ServiceSettings.SplitKey",
    "CacheSettings.RedisPassword",
    "LdapSettings.BindPassword",
    "FileSettings.AmazonS3SecretAccessKey",
    "EmailSettings.SMTPPassword",
    "GitLabSettings.Secret",
    "GoogleSettings.Secret",
    "Office365Settings.Secret",
    "OpenIdSettings.Secret",
    "MessageExportSettings.GlobalRelaySettings.SMTPPassword",
)
SECRET_LISTS = ("SqlSettings.DataSourceReplicas", "SqlSettings.DataSourceSearchReplicas")


def _readers(contract: Contract) -> list[str]:
    return sorted(contract.roles_granted("GetConfig") - {ANONYMOUS})


def _differences(seen: Any, full: Any, path: str = "") -> list[str]:
    """Where a reader's config shows a value system_admin does not see (null is hidden)."""
    if seen is None:
        return []
    if isinstance(seen, dict) and isinstance(full, dict):
        out: list[str] = []
        for key, value in seen.items():
            out += _differences(value, full.get(key), f"{path}.{key}" if path else key)
        return out
    return [] if seen == full else [f"{path}: {seen!r} (system_admin sees {full!r})"]


@pytest.mark.mm_operation("GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("visibility.config-filtered")
def test_config_is_filtered_by_the_readers_permissions(role: str, client_for: ClientFor) -> None:
    """Settings the role may not read are null; the rest are what system_admin sees."""
    full = client_for("system_admin").get("/config").json()
    seen = client_for(role).get("/config").json()
    missing = sorted(set(full) - set(seen))
    assert not missing, f"GET /config as {role} lacks sections {missing}"
    wrong = _differences(seen, full)
    assert not wrong, f"GET /config as {role} differs from system_admin's:\n  " + "\n  ".join(
        wrong[:10]
    )
    for setting, readers in VISIBILITY_PROBES.items():
        value = setting_value(seen, setting)
        if role in readers:
            assert value is not None, (
                f"GET /config as {role}: {setting} is hidden ({role} reads it)"
            )
        else:
            assert value is None, (
                f"GET /config as {role} shows {setting} = {value!r}, which {role} may not read"
            )


@pytest.mark.mm_operation("GetConfig")
@pytest.mark.mm_requirement("visibility.config-secrets-masked")
def test_config_secrets_are_masked(role: str, client_for: ClientFor) -> None:
    seen = client_for(role).get("/config").json()
    # The names of the leaked settings only: repeating a secret the server showed would put it
    # in every report of this run.
    leaked = [path for path in SECRETS if setting_value(seen, path) not in (None, "", CONFIG_MASK)]
    leaked += [
        path
        for path in SECRET_LISTS
        if (value := setting_value(seen, path)) and any(item != CONFIG_MASK for item in value)
    ]
    assert not leaked, (
        f"GET /config as {role} shows these secrets unmasked (values not repeated here): "
        + ", ".join(leaked)
    )


# --- client license and client config -----------------------------------------------------------

#: What the sanitised client license leaves out (behaviour.md 2.18).
LICENSE_DETAILS = ("Id", "Name", "Email", "IssuedAt", "StartsAt", "ExpiresAt", "SkuName")


@pytest.fixture
def licensed_server(
    server_state: ServerState, mm_session: ConformanceSession, request: pytest.FixtureRequest
) -> Iterator[None]:
    """A server holding a license: as found, or with the target's accepted license installed
    for the test (only where destructive operations are allowed) and removed again."""
    if server_state.licensed():
        yield
        return
    if not mm_session.allow_destructive:
        pytest.skip(
            "the server holds no license, and installing one needs --allow-destructive and "
            "[target].license_file"
        )
    license_bytes: bytes = request.getfixturevalue("accepted_license")
    with server_state.guard({"license"}):
        response = server_state.client.post(
            "/license", files={"license": ("test.mattermost-license", license_bytes)}
        )
        assert response.status_code == 200, (
            f"installing the test license: {describe_answer(response)}"
        )
        yield


@pytest.mark.mm_operation("GetClientLicense")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("visibility.client-license-trimmed")
def test_client_license_is_trimmed_without_read_license_information(
    role: str, client_for: ClientFor, licensed_server: None
) -> None:
    shown = client_for(role).get("/license/client", params={"format": "old"}).json()
    assert shown.get("IsLicensed") == "true", f"the server says it is not licensed: {shown}"
    details = {key: shown[key] for key in LICENSE_DETAILS if key in shown}
    assert not details, (
        f"GET /license/client as {role} shows {sorted(details)}, which only callers with "
        "read_license_information may see"
    )


#: Keys of the full client config that the limited one never has (behaviour.md 2.13).
FULL_ONLY_KEYS = (
    "GoogleDeveloperKey",
    "EnableCommands",
    "EnableIncomingWebhooks",
    "EnableOutgoingWebhooks",
    "TeammateNameDisplay",
    "SendPushNotifications",
    "MaxFileSize",
    "EnableUserAccessTokens",
    "EnableLinkPreviews",
)


@pytest.mark.mm_operation("GetClientConfig")
@pytest.mark.mm_role("system_user")
@pytest.mark.mm_requirement("visibility.client-config-limited")
def test_client_config_without_a_session_is_the_limited_one(client_for: ClientFor) -> None:
    params = {"format": "old"}
    limited = client_for(ANONYMOUS).get("/config/client", params=params).json()
    full = client_for("system_user").get("/config/client", params=params).json()
    extra = sorted(set(limited) - set(full))
    assert not extra, f"anonymous callers get keys logged-in users do not: {extra}"
    shown = sorted(key for key in FULL_ONLY_KEYS if limited.get(key))
    assert not shown, f"GET /config/client without a session shows {shown}"
    assert len(limited) < len(full), (
        f"GET /config/client without a session has all {len(full)} keys of the full config"
    )


# --- writes that must not land ------------------------------------------------------------------

SITE_NAME = "TeamSettings.SiteName"
PROBE_NAME = "mmconform refused write"


def _refused_writers(session: ConformanceSession) -> list[Any]:
    contract = session.contract
    facts = session.server_facts
    planned = MatrixConditions.default_install(
        contract, version=session.server_version, edition=facts.edition, licensed=facts.licensed
    )
    params = []
    for op_id in ("UpdateConfig", "PatchConfig"):
        for role in MATRIX_COLUMNS:
            if not expected_cell(contract, op_id, role, planned).refused:
                continue
            marks = [pytest.mark.mm_operation(op_id, "GetConfig")]
            if role in ROLES:
                marks.append(pytest.mark.mm_role(role))
            params.append(pytest.param(op_id, role, id=f"{op_id}-{role}", marks=marks))
    return params


def _write(
    contract: Contract, op_id: str, role: str, full: dict[str, Any], client_for: ClientFor
) -> httpx.Response:
    if op_id == "UpdateConfig":
        body = contract.operation(op_id).request.body_for(full)
        body["TeamSettings"]["SiteName"] = PROBE_NAME
        return client_for(role, check=False).put("/config", json=body)
    return client_for(role, check=False).put(
        "/config/patch", json={"TeamSettings": {"SiteName": PROBE_NAME}}
    )


@pytest.mark.mm_refusal_only
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("permissions.denied-write-not-applied")
def test_a_refused_config_write_does_not_land(
    operation_id: str,
    role: str,
    client_for: ClientFor,
    config_guard: dict[str, Any],
    matrix_conditions: MatrixConditions,
    contract: Contract,
) -> None:
    """Refused (401 or 403), and the config read back as system_admin is unchanged."""
    expectation = expected_cell(contract, operation_id, role, matrix_conditions)
    response = _write(contract, operation_id, role, config_guard, client_for)
    after = client_for("system_admin").get("/config").json()
    assert setting_value(after, SITE_NAME) == setting_value(config_guard, SITE_NAME), (
        f"{operation_id} as {role} changed {SITE_NAME} to {setting_value(after, SITE_NAME)!r}; "
        f"the answer was {describe_answer(response)}"
    )
    assert expectation.accepts(response.status_code, app_error_id(response)), (
        f"{operation_id} as {role}: expected {expectation.describe()}, received "
        f"{describe_answer(response)}"
    )


@pytest.mark.mm_operation("PatchConfig", "GetConfig")
@pytest.mark.mm_refusal_only
@pytest.mark.mm_role("system_user_manager", "system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("permissions.denied-write-not-applied")
def test_a_write_outside_the_roles_area_does_not_land(
    client_for: ClientFor, config_guard: dict[str, Any], contract: Contract
) -> None:
    """The user manager may patch the config, but not the site name (site customisation is
    not among its write permissions): the patch is accepted and the name stays."""
    response = _write(contract, "PatchConfig", "system_user_manager", config_guard, client_for)
    after = client_for("system_admin").get("/config").json()
    assert setting_value(after, SITE_NAME) == setting_value(config_guard, SITE_NAME), (
        f"PatchConfig as system_user_manager changed {SITE_NAME}: {describe_answer(response)}"
    )
    assert response.status_code == 200, describe_answer(response)


# --- plans: each test's parameters, from the session ---------------------------------------------

Plan = Callable[[ConformanceSession], tuple[str | tuple[str, ...], list[Any]]]


def _roles(keep: Callable[[Contract], set[str] | list[str]]) -> Plan:
    return lambda session: ("role", [_role_param(role) for role in keep(session.contract)])


_PLANS: dict[str, Plan] = {
    "test_ping_hides_root_status_from_callers_without_manage_system": _roles(
        lambda c: [r for r in MATRIX_COLUMNS if r not in _holders(c, "manage_system")]
    ),
    "test_config_is_filtered_by_the_readers_permissions": _roles(
        lambda c: [r for r in _readers(c) if r != "system_admin"]
    ),
    "test_config_secrets_are_masked": _roles(_readers),
    "test_client_license_is_trimmed_without_read_license_information": _roles(
        lambda c: [r for r in MATRIX_COLUMNS if r not in _holders(c, "read_license_information")]
    ),
    "test_a_refused_config_write_does_not_land": lambda session: (
        ("operation_id", "role"),
        _refused_writers(session),
    ),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    plan = _PLANS.get(metafunc.function.__name__)
    if plan is not None:
        names, params = plan(session_of(metafunc.config))
        metafunc.parametrize(names, params)
