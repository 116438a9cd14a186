"""Property-based contract tests: every operation of spec/openapi.yaml, generated valid and
invalid inputs, every applicable schemathesis check.

``test_operation`` is built for the target when this module is collected, after the session's
preflight (``operation_test`` below, called by this folder's conftest with the session's contract
run: base URL, version-specific expectations, the most privileged role's token). The other tests
are planned by ``pytest_generate_tests`` from the session and get the rest from fixtures.
Exemptions come only from spec/errata.yaml, per operation and version. Operations the target must
not or cannot run are deselected by the plugin, each with its reason; ``--operation`` narrows the
schema too, so that collection stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import settings

from mmconform.contract import Contract
from mmconform.harness import ContractRun, Target, session_of


def operation_test(run: ContractRun, selected: tuple[str, ...]) -> Callable[..., None]:
    """The property-based test of every operation the run's schema has (``selected`` narrows
    it), one pytest item per operation."""
    schema = run.schema.include(operation_id=list(selected)) if selected else run.schema

    @schema.parametrize()  # type: ignore[untyped-decorator]
    @settings(run.settings)
    @pytest.mark.mm_requirement("contract.answers-documented")
    def test_operation(case: Any) -> None:
        """Each operation answers generated requests as the contract says (all checks, as the
        most privileged role given; negative-auth cases are sent without credentials)."""
        run.runner.run(case)

    built: Callable[..., None] = test_operation
    return built


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The other tests' parameters, from the session's contract."""
    contract = session_of(metafunc.config).contract
    if "operation_id" in metafunc.fixturenames:
        metafunc.parametrize("operation_id", _session_operations(contract))
    if "family" in metafunc.fixturenames:
        metafunc.parametrize(
            "family", [_family_param(contract, f) for f in contract.link_families()]
        )
    if "path" in metafunc.fixturenames:
        metafunc.parametrize(
            "path",
            [
                pytest.param(path, marks=pytest.mark.mm_operation(*ops))
                for path, ops in _paths(contract).items()
            ],
        )


# --- authentication really works ---------------------------------------------------------------


@pytest.mark.mm_operation("GetSupportedTimezone")
@pytest.mark.mm_requirement("auth.token-accepted")
def test_authenticated_calls_succeed(
    client_for: Callable[..., httpx.Client], privileged_role: str, contract: Contract
) -> None:
    """A token the suite authenticates with is accepted: a wrong token must not yield a green run
    in which every 401 looks 'documented'."""
    path = contract.operation("GetSupportedTimezone").client_path()
    response = client_for(privileged_role).get(path)
    assert response.status_code == 200, (
        f"GET /api/v4{path} as {privileged_role} answered {response.status_code}: "
        "the suite's credentials are not accepted, so its results would be meaningless"
    )


TEAM_ID = "abcdefghijklmnopqrstuvwxyz"


def _session_operations(contract: Contract) -> list[Any]:
    return [
        pytest.param(op.operation_id, marks=pytest.mark.mm_operation(op.operation_id))
        for op in contract.operations
        if op.auth == "session"
    ]


@pytest.mark.mm_requirement("auth.session-required")
def test_session_required(
    operation_id: str, anonymous_client: httpx.Client, contract: Contract, target: Target
) -> None:
    """Without credentials every session operation answers 401 with an AppError body."""
    op = contract.operation(operation_id)
    path = op.client_path(teamId=TEAM_ID) if "{teamId}" in op.path else op.client_path()
    response = anonymous_client.request(op.method, path)
    assert response.status_code == 401, (
        f"{operation_id} ({op.label}) as anonymous: expected 401, received "
        f"{response.status_code}\nReproduce: curl -X {op.method} {target.api_url}{path}"
    )
    body = response.json()
    assert isinstance(body, dict), f"{operation_id}: 401 body is not an AppError object: {body!r}"
    assert {"id", "message"} <= set(body), f"{operation_id}: 401 body lacks id/message: {body!r}"


# --- stateful sequences over the spec's links ---------------------------------------------------


def _family_param(contract: Contract, family: tuple[str, ...]) -> Any:
    states = sorted({s for op_id in family for s in contract.operation(op_id).global_state})
    marks = [pytest.mark.mm_operation(*family)]
    if states:
        marks.append(pytest.mark.mm_global_state(*states))
    return pytest.param(family, id="+".join(family), marks=marks)


@pytest.mark.mm_requirement("contract.linked-sequences")
def test_stateful_links(family: tuple[str, ...], contract_run: ContractRun, target: Target) -> None:
    """Sequences that follow the spec's OpenAPI links, one family of linked operations at a time
    (server busy set->get->clear, config get->patch->get, license upload->client license->remove,
    notices get->view)."""
    machine = contract_run.schema.include(operation_id=list(family)).as_state_machine()
    runner = contract_run.runner
    license_bytes = target.license_file.read_bytes() if target.license_file else None

    class Machine(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            runner.prepare(case)
            # Random bytes are never a validly signed license: for the upload -> client license
            # -> remove sequence to get past its first step, positive uploads carry the license
            # the target file names as one the target accepts.
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
            runner.check(
                case,
                response,
                run_checks=lambda excluded: case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=excluded,
                    transport_kwargs=kwargs or None,
                    recorder=getattr(self, "recorder", None),
                ),
            )

    Machine.run(
        settings=settings(
            contract_run.settings,
            max_examples=max(5, contract_run.profile.max_examples // 2),
            stateful_step_count=6,
        )
    )


# --- undeclared methods --------------------------------------------------------------------------

_PROBE_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def _paths(contract: Contract) -> dict[str, list[str]]:
    paths: dict[str, list[str]] = {}
    for op in contract.operations:
        if op.auth != "local-only":
            paths.setdefault(op.path, []).append(op.operation_id)
    return paths


@pytest.mark.mm_requirement("routing.undeclared-methods-refused")
def test_undeclared_methods_refused(
    path: str, client_for: Callable[..., httpx.Client], privileged_role: str, contract: Contract
) -> None:
    """A method the contract does not declare on a path is refused with 404 (what Mattermost's
    catch-all router answers) or 405 with an Allow header naming the declared methods; never
    accepted and never a server error. This is the suite's own form of schemathesis'
    unsupported_method check, which spec/errata.yaml (method-mismatch-404) skips because it only
    accepts 405."""
    declared = {op.method for op in contract.operations if op.path == path}
    client = client_for(privileged_role)
    concrete = path.replace("{teamId}", TEAM_ID)
    url = concrete.removeprefix("/api/v4")
    # A method declared on another path that also matches (e.g. GET /system/notices/{teamId}
    # for /system/notices/view) is not undeclared for this URL.
    shadowed = {
        op.method
        for op in contract.operations
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
