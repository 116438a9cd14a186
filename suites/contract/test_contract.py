"""Property-based contract tests: every operation of spec/openapi.yaml, generated valid and
invalid inputs, every applicable schemathesis check.

The schema is built when this module is imported, after the plugin's preflight: base URL,
version-specific expectations and the most privileged role's token (set through the schema's
configuration) come from the target. Exemptions come only from spec/errata.yaml, per operation
and version. Operations the target must not or cannot run are deselected by the plugin, each with
its reason.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hypothesis import settings

from mmconform.contract import load_contract
from mmconform.harness._profiles import hypothesis_settings
from mmconform.harness._schema import CaseRunner, link_families, load_schema
from mmconform.harness._target import Target
from mmconform.plugin import current_session

SESSION = current_session()
TARGET = SESSION.require_target()
CONTRACT = load_contract()
ROLE = TARGET.most_privileged_role
PROFILE_SETTINGS = hypothesis_settings(SESSION.profile)

schema = load_schema(
    CONTRACT,
    target=TARGET,
    role=ROLE,
    profile=SESSION.profile,
    seed=SESSION.seed,
    transport=SESSION.transport,
    server_version=SESSION.server_version,
)


@schema.hook  # type: ignore[untyped-decorator]
def after_call(context: Any, case: Any, response: Any) -> None:
    """Count what the suite sends (reported at the end of the run)."""
    SESSION.requests_sent += 1


FULL_SCHEMA = schema
if SESSION.selected_operations:
    schema = schema.include(operation_id=list(SESSION.selected_operations))


def _selected(*operation_ids: str) -> bool:
    wanted = SESSION.selected_operations
    return not wanted or any(op in wanted for op in operation_ids)


RUNNER = CaseRunner(
    contract=CONTRACT,
    target=TARGET,
    role=ROLE or "anonymous",
    profile=SESSION.profile,
    seed=SESSION.seed,
    server_version=SESSION.server_version,
)


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(PROFILE_SETTINGS)
def test_operation(case: Any) -> None:
    """Each operation answers generated requests as the contract says (all checks, as the
    most privileged role given; negative-auth cases are sent without credentials)."""
    RUNNER.run(case)


# --- authentication really works ---------------------------------------------------------------

_SESSION_OPS = [
    op for op in CONTRACT.operations if op.auth == "session" and _selected(op.operation_id)
]


@pytest.mark.mm_operation("GetSupportedTimezone")
def test_authenticated_calls_succeed(target: Target, privileged_role: str) -> None:
    """A token the suite authenticates with is accepted: a wrong token must not yield a green run
    in which every 401 looks 'documented'."""
    with httpx.Client(
        base_url=target.api_url,
        headers={"Authorization": f"Bearer {target.tokens[privileged_role]}"},
        timeout=SESSION.transport.timeout,
        verify=SESSION.transport.verify,
    ) as client:
        response = client.get("/system/timezones")
    assert response.status_code == 200, (
        f"GET /api/v4/system/timezones as {privileged_role} answered {response.status_code}: "
        "the suite's credentials are not accepted, so its results would be meaningless"
    )


@pytest.mark.parametrize(
    "operation_id",
    [
        pytest.param(op.operation_id, marks=pytest.mark.mm_operation(op.operation_id))
        for op in _SESSION_OPS
    ],
)
def test_session_required(operation_id: str, anonymous_client: httpx.Client) -> None:
    """Without credentials every session operation answers 401 with an AppError body."""
    op = CONTRACT.operation(operation_id)
    path = op.path.removeprefix("/api/v4").replace("{teamId}", "abcdefghijklmnopqrstuvwxyz")
    response = anonymous_client.request(op.method.upper(), path)
    assert response.status_code == 401, (
        f"{operation_id} ({op.method.upper()} {op.path}) as anonymous: expected 401, received "
        f"{response.status_code}\nReproduce: curl -X {op.method.upper()} {TARGET.api_url}{path}"
    )
    body = response.json()
    assert isinstance(body, dict), f"{operation_id}: 401 body is not an AppError object: {body!r}"
    assert {"id", "message"} <= set(body), f"{operation_id}: 401 body lacks id/message: {body!r}"


# --- stateful sequences over the spec's links ---------------------------------------------------

_FAMILIES = [family for family in link_families(CONTRACT.document) if _selected(*family)]


def _family_param(family: tuple[str, ...]) -> Any:
    states = sorted({s for op_id in family for s in CONTRACT.operation(op_id).global_state})
    marks = [pytest.mark.mm_operation(*family)]
    if states:
        marks.append(pytest.mark.mm_global_state(*states))
    return pytest.param(family, id="+".join(family), marks=marks)


@pytest.mark.parametrize(
    "family",
    [_family_param(f) for f in _FAMILIES]
    or [
        pytest.param(
            (), id="no-links", marks=pytest.mark.skip(reason="spec defines no OpenAPI links")
        )
    ],
)
def test_stateful_links(family: tuple[str, ...]) -> None:
    """Sequences that follow the spec's OpenAPI links, one family of linked operations at a time
    (server busy set->get->clear, config get->patch->get, license upload->client license->remove,
    notices get->view)."""
    stateful_schema = FULL_SCHEMA.include(operation_id=list(family))
    machine = stateful_schema.as_state_machine()
    runner = RUNNER
    license_bytes = _stub_test_license()

    class Machine(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            # Random bytes are never a validly signed license: for the upload -> client license
            # -> remove sequence to get past its first step, positive uploads to the embedded
            # stub carry the project's test license (real servers reject it, as they should).
            if (
                license_bytes is not None
                and runner.operation_id(case) == "UploadLicenseFile"
                and isinstance(case.body, dict)
                and "license" in case.body
                and case.meta is not None
                and str(case.meta.generation.mode.value) == "positive"
            ):
                case.body["license"] = license_bytes

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            __tracebackhide__ = True

            def run(excluded_checks: list[Any]) -> None:
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=excluded_checks,
                    transport_kwargs=kwargs or None,
                    recorder=getattr(self, "recorder", None),
                )

            runner.validate(case, response, validate=run)

    Machine.run(
        settings=settings(
            PROFILE_SETTINGS,
            max_examples=max(5, SESSION.profile.max_examples // 2),
            stateful_step_count=6,
        )
    )


def _stub_test_license() -> bytes | None:
    from fixtures.data import license_path

    path = license_path("valid")
    return path.read_bytes() if TARGET.embedded and path.is_file() else None


# --- undeclared methods --------------------------------------------------------------------------

_PROBE_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def _paths() -> dict[str, list[str]]:
    paths: dict[str, list[str]] = {}
    for op in CONTRACT.operations:
        if op.auth != "local-only" and _selected(op.operation_id):
            paths.setdefault(op.path, []).append(op.operation_id)
    return paths


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, marks=pytest.mark.mm_operation(*ops)) for path, ops in _paths().items()],
)
def test_undeclared_methods_refused(path: str, client_for: Any, privileged_role: str) -> None:
    """A method the contract does not declare on a path is refused with 404 (what Mattermost's
    catch-all router answers) or 405 with an Allow header naming the declared methods; never
    accepted and never a server error. This is the suite's own form of schemathesis'
    unsupported_method check, which spec/errata.yaml (method-mismatch-404) skips because it only
    accepts 405."""
    declared = {op.method.upper() for op in CONTRACT.operations if op.path == path}
    client: httpx.Client = client_for(privileged_role)
    concrete = path.replace("{teamId}", "abcdefghijklmnopqrstuvwxyz")
    url = concrete.removeprefix("/api/v4")
    # A method declared on another path that also matches (e.g. GET /system/notices/{teamId}
    # for /system/notices/view) is not undeclared for this URL.
    shadowed = {
        op.method.upper()
        for op in CONTRACT.operations
        if op.path != path and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", op.path), concrete)
    }
    problems = []
    for method in sorted(set(_PROBE_METHODS) - declared - shadowed):
        response = client.request(method, url)
        code = response.status_code
        if code == 405:
            allow = {m.strip().upper() for m in response.headers.get("Allow", "").split(",")}
            if not declared <= allow:
                problems.append(
                    f"{method}: 405 with Allow {response.headers.get('Allow')!r}, "
                    f"expected it to list {sorted(declared)}"
                )
        elif code != 404:
            problems.append(f"{method}: expected 404 or 405, received {code}")
    assert not problems, f"{path} as {privileged_role}, undeclared methods:\n  " + "\n  ".join(
        problems
    )
