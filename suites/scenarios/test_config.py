"""The configuration: secrets masked, a masked value sent back keeping the secret, PATCH
changing only what it names (nested sections too), PUT resetting what it omits, plugin uploads
out of the API's reach, ``remove_masked``/``remove_defaults``, the client config without a
session, the environment config, and reload.

Every scenario that writes puts the original config back (``config_guard``), and the session
still compares the config at its end with the one it found. Secrets are only ever written
where the stored value is empty (a secret a scenario overwrote could not be put back, since
the server never shows it), or, with --allow-destructive, where the local-mode socket shows
the config in clear, so that the guard holds the secret to put back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mmconform.contract import (
    ANONYMOUS,
    CONFIG_MASK,
    LOCAL,
    SECRETS_MASKED_WHEN_SET,
    Contract,
    Version,
    setting_value,
)
from mmconform.harness import ConformanceSession, Target
from suites.scenarios.support_test import (
    FORMAT_CASES,
    Path_,
    Verdict,
    compact,
    dotted,
    erratum_case,
    has_path,
    leaves,
    nested,
    shown,
)

CONFIG = "/config"
PATCH = "/config/patch"
ClientFor = Callable[..., httpx.Client]

#: Secrets a server always masks when it sends them.
ALWAYS_MASKED: tuple[Path_, ...] = (("SqlSettings", "DataSource"),)
#: Secrets a server masks when they are set (and leaves empty when they are not).
MASKED_WHEN_SET: tuple[Path_, ...] = SECRETS_MASKED_WHEN_SET
#: Secrets newer servers have; where present they never show in clear.
OTHER_SECRETS: tuple[Path_, ...] = (
    ("SqlSettings", "AtRestEncryptKey"),
    ("FileSettings", "PublicLinkSalt"),
    ("ElasticsearchSettings", "Password"),
    ("ServiceSettings", "SplitKey"),
    ("CacheSettings", "RedisPassword"),
)
#: Settings whose Go type is a plain value rather than a pointer: a PATCH that leaves them out
#: sets them to their zero value on real servers (behaviour.md, section 5), so a scenario about
#: PATCH does not hold them against the server.
PLAIN_VALUE_SETTINGS: tuple[Path_, ...] = (
    ("ClientRequirements",),
    ("RateLimitSettings", "VaryByHeader"),
)
#: A setting with a long-standing default (model.TeamSettingsDefaultMaxUsersPerTeam), and a
#: value that is not it.
MAX_USERS: Path_ = ("TeamSettings", "MaxUsersPerTeam")
MAX_USERS_DEFAULT = 50
MAX_USERS_CHANGED = 77
UPLOADS: Path_ = ("PluginSettings", "EnableUploads")
#: Keys of the full client config that upstream never gives a caller without a session.
SESSION_ONLY_CLIENT_KEYS = (
    "EnableCommands",
    "EnableIncomingWebhooks",
    "EnableOutgoingWebhooks",
    "EnableUserAccessTokens",
)


def _get(client: httpx.Client, verdict: Verdict, **params: str) -> dict[str, Any]:
    response = verdict.record(client.get(CONFIG, params=params))
    verdict.status(response, 200, what="GET /config")
    return verdict.json_object(response)


def _patch(client: httpx.Client, verdict: Verdict, body: dict[str, Any]) -> httpx.Response:
    response = verdict.record(client.put(PATCH, json=body))
    verdict.status(response, 200, what=f"PUT /config/patch {compact(body)}")
    return response


#: The secrets a scenario may empty for its duration (with --allow-destructive, where the config
#: guard keeps an exact copy): single sign-on secrets, used only when someone signs in that way.
EMPTIED_FOR_A_SCENARIO: tuple[Path_, ...] = (
    ("OpenIdSettings", "Secret"),
    ("GoogleSettings", "Secret"),
    ("Office365Settings", "Secret"),
    ("GitLabSettings", "Secret"),
)


def _empty_secret(
    admin_client: httpx.Client,
    verdict: Verdict,
    target: Target,
    client_for: ClientFor,
    mm_session: ConformanceSession,
) -> Path_:
    """A secret the target stores empty (writing it can be undone; the caller holds the
    config guard).

    GET /config shows an empty secret empty. Where it shows every secret masked, the config
    in clear over the local-mode socket (newer servers) says which are really set, so that a
    server masking empty secrets too fails here rather than making the scenario skip. Where
    every secret holds a value, the scenario empties a single sign-on secret for its duration
    when destructive operations are allowed (the config guard's copy, read over the same
    socket, holds the value to put back); otherwise it skips, saying so."""
    response = verdict.record(admin_client.get(CONFIG))
    verdict.status(response, 200, what="GET /config")
    config = verdict.json_object(response)
    for path in MASKED_WHEN_SET:
        if setting_value(config, path) == "":
            return path
    in_clear = _config_in_clear(target, client_for)
    if in_clear is None:
        pytest.skip(
            "every secret setting reads masked (GET /config), and nothing tells which hold a "
            "value (no local-mode socket that shows the config in clear); a scenario that "
            "wrote one could not put it back, since the server never shows it"
        )
    empty = [path for path in MASKED_WHEN_SET if setting_value(in_clear, path) == ""]
    if empty:
        verdict.fail(
            f"{dotted(empty[0])} shown empty: it holds no secret (GET /config over the "
            "local-mode socket shows it empty)",
            received=shown(empty[0], setting_value(config, empty[0])),
            response=response,
        )
    held = [path for path in EMPTIED_FOR_A_SCENARIO if has_path(in_clear, path)]
    if not held or not mm_session.allow_destructive:
        pytest.skip(
            "every secret setting of the target holds a value (the local-mode socket shows "
            "them); with --allow-destructive the scenario empties a single sign-on secret for "
            "its duration and puts it back"
        )
    _patch(admin_client, verdict, nested(held[0], ""))
    return held[0]


def _config_in_clear(target: Target, client_for: ClientFor) -> dict[str, Any] | None:
    """The config with its secrets in clear, over the local-mode socket (None without one, or
    where this version masks secrets there too)."""
    if target.local_socket is None:
        return None
    response = client_for(LOCAL).get(CONFIG)
    if response.status_code != 200:
        return None
    body = response.json()
    if not isinstance(body, dict) or setting_value(body, ALWAYS_MASKED[0]) == CONFIG_MASK:
        return None
    return body


def _secret_paths(config: dict[str, Any]) -> list[Path_]:
    found = [p for p in (*ALWAYS_MASKED, *MASKED_WHEN_SET, *OTHER_SECRETS) if has_path(config, p)]
    replicas = ("SqlSettings", "DataSourceReplicas")
    for index, _ in enumerate(setting_value(config, replicas) or []):
        found.append((*replicas, str(index)))
    return found


def _value(config: dict[str, Any], path: Path_) -> Any:
    node: Any = config
    for key in path:
        if isinstance(node, list) and key.isdigit():
            node = node[int(key)] if int(key) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


# --- masking -------------------------------------------------------------------------------------


@pytest.mark.mm_operation("GetConfig")
@pytest.mark.mm_requirement("config.secrets-masked")
@pytest.mark.parametrize("role", ["system_admin", "system_read_only_admin"])
def test_secrets_come_back_masked(role: str, client_for: ClientFor, verdict: Verdict) -> None:
    config = _get(client_for(role), verdict)
    for path in ALWAYS_MASKED:
        value = setting_value(config, path)
        verdict.check(
            value in (CONFIG_MASK, None),
            f"{dotted(path)} masked as {CONFIG_MASK!r} (or null when {role} may not read it)",
            received=shown(path, value),
        )
    for path in _secret_paths(config):
        value = _value(config, path)
        verdict.check(
            value in (CONFIG_MASK, "", None),
            f"{dotted(path)} masked, empty or null, never in clear",
            received=shown(path, value),
        )


@pytest.mark.mm_operation("GetConfig", "PatchConfig")
@pytest.mark.mm_requirement("config.secrets-masked")
@pytest.mark.usefixtures("config_guard")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
def test_a_secret_written_is_read_back_masked(
    admin_client: httpx.Client,
    client_for: ClientFor,
    target: Target,
    mm_session: ConformanceSession,
    verdict: Verdict,
) -> None:
    path = _empty_secret(admin_client, verdict, target, client_for, mm_session)
    _patch(admin_client, verdict, nested(path, "mmconform-secret-value"))
    value = setting_value(_get(admin_client, verdict), path)
    verdict.check(
        value == CONFIG_MASK,
        f"{dotted(path)} masked as {CONFIG_MASK!r} once it holds a secret",
        received=shown(path, value),
    )


@pytest.mark.mm_operation("GetConfig", "PatchConfig", "UpdateConfig")
@pytest.mark.mm_requirement("config.masked-value-keeps-secret")
@pytest.mark.usefixtures("config_guard")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
def test_a_masked_value_sent_back_keeps_the_stored_secret(
    admin_client: httpx.Client,
    client_for: ClientFor,
    target: Target,
    mm_session: ConformanceSession,
    verdict: Verdict,
) -> None:
    """The mask sent back where the stored secret is empty must leave it empty (a server that
    stored the mask would now show it masked), by PATCH and by PUT. Where the local-mode socket
    shows secrets in clear, a secret set and then echoed back masked is also read back whole."""
    path = _empty_secret(admin_client, verdict, target, client_for, mm_session)
    _patch(admin_client, verdict, nested(path, CONFIG_MASK))
    value = setting_value(_get(admin_client, verdict), path)
    verdict.check(
        value == "",
        f"{dotted(path)} still empty after PATCH sent the mask for it",
        received=shown(path, value),
    )
    full = _get(admin_client, verdict)
    full_path: Any = full
    for key in path[:-1]:
        full_path = full_path[key]
    full_path[path[-1]] = CONFIG_MASK
    put = verdict.record(admin_client.put(CONFIG, json=full))
    verdict.status(put, 200, what="PUT /config with the mask for an empty secret")
    value = setting_value(_get(admin_client, verdict), path)
    verdict.check(
        value == "",
        f"{dotted(path)} still empty after PUT sent the mask for it",
        received=shown(path, value),
    )
    if target.local_socket is None:
        return
    if _config_in_clear(target, client_for) is None:
        return  # this version masks secrets on the local socket too
    local = client_for(LOCAL)
    secret = "mmconform-kept-secret"
    _patch(admin_client, verdict, nested(path, secret))
    echoed = _get(admin_client, verdict)
    put = verdict.record(admin_client.put(CONFIG, json=echoed))
    verdict.status(put, 200, what="PUT /config echoing the masked config")
    kept = setting_value(local.get(CONFIG).json(), path)
    verdict.check(
        kept == secret,
        f"{dotted(path)} still {secret!r} (read over the local socket) after PUT echoed the "
        "masked config",
        received=shown(path, kept),
    )


# --- PATCH and PUT -------------------------------------------------------------------------------

RELAY: Path_ = ("MessageExportSettings", "GlobalRelaySettings")


@pytest.mark.mm_operation("GetConfig", "PatchConfig")
@pytest.mark.mm_requirement("config.patch-changes-only-named")
@pytest.mark.usefixtures("config_guard")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
def test_patch_changes_only_what_it_names(admin_client: httpx.Client, verdict: Verdict) -> None:
    """Settings set away from their defaults (a sibling in the same nested section, another
    field of the section above, another section) survive a PATCH that names one nested
    setting; nothing but that setting changes."""
    setup = {
        "TeamSettings": {"MaxUsersPerTeam": MAX_USERS_CHANGED},
        "MessageExportSettings": {
            "BatchSize": 7777,
            "GlobalRelaySettings": {"EmailAddress": "relay@mmconform.invalid"},
        },
    }
    _patch(admin_client, verdict, setup)
    before = _get(admin_client, verdict)
    named = (*RELAY, "SMTPUsername")
    _patch(admin_client, verdict, nested(named, "mmconform-relay-user"))
    after = _get(admin_client, verdict)
    verdict.check(
        setting_value(after, named) == "mmconform-relay-user",
        f"{dotted(named)} changed to 'mmconform-relay-user'",
        received=shown(named, setting_value(after, named)),
    )
    old = dict(leaves(before))
    changed = [
        f"{dotted(path)}: {compact(old.get(path), path[-1])} -> {compact(value, path[-1])}"
        for path, value in leaves(after)
        if path != named
        and old.get(path) != value
        and not any(path[: len(p)] == p for p in PLAIN_VALUE_SETTINGS)
    ]
    changed += [
        f"{dotted(path)}: removed"
        for path, value in old.items()
        if value is not None
        and not has_path(after, path)
        and not any(path[: len(p)] == p for p in PLAIN_VALUE_SETTINGS)
    ]
    verdict.check(
        not changed,
        f"only {dotted(named)} to change",
        received="also changed: " + "; ".join(changed[:8]),
    )


@pytest.mark.mm_operation("GetConfig", "PatchConfig", "UpdateConfig")
@pytest.mark.mm_requirement("config.put-resets-omitted")
@pytest.mark.usefixtures("config_guard")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
def test_put_resets_what_it_omits(admin_client: httpx.Client, verdict: Verdict) -> None:
    _patch(admin_client, verdict, nested(MAX_USERS, MAX_USERS_CHANGED))
    body = _get(admin_client, verdict)
    del body[MAX_USERS[0]][MAX_USERS[1]]
    put = verdict.record(admin_client.put(CONFIG, json=body))
    verdict.status(put, 200, what=f"PUT /config without {dotted(MAX_USERS)}")
    value = setting_value(_get(admin_client, verdict), MAX_USERS)
    verdict.check(
        value == MAX_USERS_DEFAULT,
        f"{dotted(MAX_USERS)} back at its default {MAX_USERS_DEFAULT} (it was "
        f"{MAX_USERS_CHANGED}, and the PUT left it out)",
        received=shown(MAX_USERS, value),
    )


@pytest.mark.mm_operation("GetConfig", "PatchConfig", "UpdateConfig")
@pytest.mark.mm_requirement("config.enable-uploads-locked", "errors.app-error-shape")
@pytest.mark.usefixtures("config_guard")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
def test_plugin_uploads_cannot_be_switched_through_the_api(
    admin_client: httpx.Client, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    requirement = "config.enable-uploads-locked"
    current = setting_value(admin_config, UPLOADS)
    if not isinstance(current, bool):
        pytest.skip(f"{dotted(UPLOADS)} is not readable as a boolean: {current!r}")
    refused = verdict.record(admin_client.put(PATCH, json=nested(UPLOADS, not current)))
    verdict.app_error(
        refused,
        status=403,
        error_id="api.config.update_config.not_allowed_security.app_error",
        requirement=requirement,
    )
    body = copy.deepcopy(admin_config)
    body[UPLOADS[0]][UPLOADS[1]] = not current
    put = verdict.record(admin_client.put(CONFIG, json=body))
    verdict.status(put, 200, requirement=requirement, what="PUT /config flipping EnableUploads")
    value = setting_value(_get(admin_client, verdict), UPLOADS)
    verdict.check(
        value is current,
        f"{dotted(UPLOADS)} still {current} after PATCH and PUT asked for {not current}",
        received=shown(UPLOADS, value),
        requirement=requirement,
    )


# --- remove_masked / remove_defaults ----------------------------------------------------------


@pytest.mark.mm_operation("GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("config.remove-masked")
def test_remove_masked_leaves_out_masked_values(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    plain = _get(admin_client, verdict)
    filtered = _get(admin_client, verdict, remove_masked="true")
    masked = [dotted(p) for p, v in leaves(filtered) if v == CONFIG_MASK]
    verdict.check(not masked, "no masked value left", received=f"masked values at {masked}")
    gone = [dotted(p) for p, v in leaves(plain) if v == CONFIG_MASK and setting_value(filtered, p)]
    verdict.check(not gone, "the masked settings left out", received=f"still there: {gone}")
    kept = [dotted(p) for p, v in leaves(filtered) if setting_value(plain, p) != v]
    verdict.check(not kept, "every other setting as GET /config shows it", received=f"{kept[:8]}")


@pytest.mark.mm_operation("GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("config.remove-defaults")
def test_remove_defaults_keeps_only_settings_away_from_their_defaults(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    plain = _get(admin_client, verdict)
    filtered = _get(admin_client, verdict, remove_defaults="true")
    differing = [dotted(p) for p, v in leaves(filtered) if setting_value(plain, p) != v]
    verdict.check(
        not differing,
        "only settings with the values GET /config shows",
        received=f"other values at {differing[:8]}",
    )
    full_count, kept_count = len(list(leaves(plain))), len(list(leaves(filtered)))
    verdict.check(
        kept_count < full_count,
        "fewer settings than the whole config (those at their defaults left out)",
        received=f"{kept_count} of {full_count} settings",
    )


# --- the client config ---------------------------------------------------------------------------


@pytest.mark.mm_operation("GetClientConfig")
@pytest.mark.mm_requirement("config.client-limited-without-session")
def test_client_config_without_a_session_is_the_limited_set(
    client_for: ClientFor, verdict: Verdict
) -> None:
    limited_response = verdict.record(
        client_for(ANONYMOUS).get("/config/client", params={"format": "old"})
    )
    verdict.status(limited_response, 200)
    limited = verdict.json_object(limited_response)
    full_response = verdict.record(
        client_for("system_user").get("/config/client", params={"format": "old"})
    )
    verdict.status(full_response, 200)
    full = verdict.json_object(full_response)
    verdict.check(
        "Version" in limited, "the limited set to name the Version", response=limited_response
    )
    leaked = [key for key in SESSION_ONLY_CLIENT_KEYS if key in limited]
    verdict.check(
        not leaked,
        f"none of {', '.join(SESSION_ONLY_CLIENT_KEYS)} without a session",
        received=f"present without a session: {leaked}",
        response=limited_response,
    )
    extra = sorted(set(limited) - set(full))
    verdict.check(
        not extra and len(limited) < len(full),
        "fewer keys without a session than with one, all of them in the full set",
        received=f"{len(limited)} keys without a session, {len(full)} with one; only "
        f"without: {extra[:8]}",
    )


@pytest.mark.mm_operation("GetClientConfig")
@pytest.mark.mm_requirement("config.client-format", "errors.app-error-shape")
@FORMAT_CASES
def test_client_config_format_by_server_version(
    case: str,
    params: dict[str, str],
    anonymous_client: httpx.Client,
    contract: Contract,
    server_version: Version | None,
    verdict: Verdict,
) -> None:
    response = verdict.record(anonymous_client.get("/config/client", params=params))
    if case == "format_old":
        verdict.status(response, 200, requirement="config.client-format", what="format=old")
        return
    expect = erratum_case(contract, "client-config-format", case, server_version)
    if expect.status == 200 and not expect.also:
        verdict.status(response, 200, requirement="config.client-format")
        verdict.json_object(response, requirement="config.client-format")
    elif response.status_code == 200 and expect.allows(200):
        return
    else:
        verdict.app_error(response, expect=expect, requirement="config.client-format")


# --- the environment config ----------------------------------------------------------------------


@pytest.mark.mm_operation("GetEnvironmentConfig", "GetConfig")
@pytest.mark.mm_requirement("config.environment-shape")
def test_environment_config_names_overridden_settings_only(
    client_for: ClientFor, verdict: Verdict
) -> None:
    response = verdict.record(client_for("system_admin").get("/config/environment"))
    verdict.status(response, 200)
    tree = verdict.json_object(response)
    not_true = [dotted(p) for p, v in leaves(tree) if v is not True]
    verdict.check(
        not not_true and all(isinstance(v, dict) for v in tree.values()),
        "sections mapping each overridden setting to true",
        received=f"other values at {not_true[:8]}",
        response=response,
    )
    config = _get(client_for("system_admin"), verdict)
    unknown = [dotted(p) for p, _ in leaves(tree) if not has_path(config, p)]
    verdict.check(
        not unknown,
        "only settings the config has",
        received=f"unknown: {unknown}",
        response=response,
    )
    user = verdict.record(client_for("system_user").get("/config/environment"))
    verdict.status(user, 200)
    verdict.check(
        verdict.json_object(user) == {},
        "an empty object for a caller who may read no setting",
        response=user,
    )


@pytest.mark.mm_operation("GetEnvironmentConfig", "PatchConfig", "GetConfig")
@pytest.mark.mm_requirement("config.environment-only-overridden")
@pytest.mark.usefixtures("config_guard")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
def test_a_setting_the_api_changed_is_not_named_by_the_environment(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    """A setting an environment variable sets keeps the variable's value whatever is saved, so
    a setting a patch did change is not one of them."""
    changed = MAX_USERS_CHANGED + 1
    _patch(admin_client, verdict, nested(MAX_USERS, changed))
    if setting_value(_get(admin_client, verdict), MAX_USERS) != changed:
        pytest.skip(f"{dotted(MAX_USERS)} did not take the patched value on this target")
    response = verdict.record(admin_client.get("/config/environment"))
    verdict.status(response, 200)
    tree = verdict.json_object(response)
    verdict.check(
        not has_path(tree, MAX_USERS),
        f"{dotted(MAX_USERS)}, which the API just changed, not named as set by the environment",
        received=f"{len(list(leaves(tree)))} settings named, among them {dotted(MAX_USERS)}",
        response=response,
    )


# --- the S3 connection test ----------------------------------------------------------------------

#: An S3 endpoint nothing answers on: a closed port on the target's own loopback.
UNREACHABLE_S3 = "127.0.0.1:1"


@pytest.mark.mm_operation("TestS3Connection", "GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("config.s3-test-tries-store", "errors.app-error-shape")
def test_s3_test_fails_for_a_store_it_cannot_reach(
    admin_client: httpx.Client, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    """The posted file settings name a bucket behind a port nothing listens on: the test must
    report the failure (500 on real servers), never OK. Nothing is saved."""
    files = copy.deepcopy(admin_config["FileSettings"])
    files.update(
        DriverName="amazons3",
        AmazonS3Bucket="mmconform-unreachable",
        AmazonS3Endpoint=UNREACHABLE_S3,
        AmazonS3SSL=False,
        AmazonS3AccessKeyId="mmconform",
        AmazonS3SecretAccessKey="mmconform-not-a-secret",
    )
    # The server reads the body as a whole config but looks only at FileSettings.
    response = verdict.record(admin_client.post("/file/s3_test", json={"FileSettings": files}))
    verdict.app_error(response, status=(400, 500), requirement="config.s3-test-tries-store")


# --- reload --------------------------------------------------------------------------------------


@pytest.mark.mm_operation("GetConfig", "PatchConfig", "ReloadConfig")
@pytest.mark.mm_requirement("config.reload-keeps-saved")
@pytest.mark.usefixtures("config_guard")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
def test_reload_keeps_what_was_saved(admin_client: httpx.Client, verdict: Verdict) -> None:
    _patch(admin_client, verdict, nested(MAX_USERS, MAX_USERS_CHANGED))
    reload = verdict.record(admin_client.post("/config/reload"))
    verdict.status(reload, 200)
    verdict.check(
        verdict.json_object(reload).get("status") == "OK", '{"status": "OK"}', response=reload
    )
    value = setting_value(_get(admin_client, verdict), MAX_USERS)
    verdict.check(
        value == MAX_USERS_CHANGED,
        f"{dotted(MAX_USERS)} still {MAX_USERS_CHANGED} after the reload",
        received=shown(MAX_USERS, value),
    )
