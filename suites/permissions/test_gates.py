"""Settings that change who passes: RestrictSystemAdmin, and the developer-mode gate of POST /logs.

Both change the server's configuration, so they run only where destructive operations are
allowed (``mm_destructive``); the config guard puts the configuration back. The matrix cells
already hold every operation to the target's settings as found; these tests switch them.

RestrictSystemAdmin is itself a setting a restricted admin may not write: it is switched on and
off again over the local-mode socket (the only caller the restriction spares), so the test needs
the socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mmconform.contract import (
    LOCAL,
    MATRIX_COLUMNS,
    ROLES,
    Contract,
    MatrixConditions,
    expected_cell,
)
from mmconform.harness import ConformanceSession, Target, session_of
from suites.permissions.support_test import (
    RESTRICTION_ERRATUM,
    app_error_id,
    dependent_states,
    describe_answer,
)

DEVELOPER = "ServiceSettings.EnableDeveloper"

ClientFor = Callable[..., httpx.Client]


def _check(
    contract: Contract,
    target: Target,
    operation_id: str,
    callers: list[str],
    conditions: MatrixConditions,
    send_example: Callable[..., httpx.Response],
) -> list[str]:
    """Each caller's answer against the matrix under ``conditions``: the mismatches (roles the
    target gave no token for are left out)."""
    wrong = []
    for caller in callers:
        if caller in ROLES and caller not in target.tokens:
            continue
        expectation = expected_cell(contract, operation_id, caller, conditions)
        response = send_example(operation_id, caller)
        if not expectation.accepts(response.status_code, app_error_id(response)):
            wrong.append(
                f"{operation_id} as {caller}: expected {expectation.describe()} "
                f"({'; '.join(expectation.reasons)}), received {describe_answer(response)}"
            )
    return wrong


def _restricted(session: ConformanceSession) -> list[Any]:
    """The operations RestrictSystemAdmin guards on the target's version."""
    contract = session.contract
    erratum = contract.erratum(RESTRICTION_ERRATUM)
    return [
        pytest.param(
            op.operation_id,
            id=op.operation_id,
            marks=[
                pytest.mark.mm_operation(op.operation_id, "PatchConfig"),
                pytest.mark.mm_global_state(*dependent_states(contract, op)),
            ],
        )
        for op in contract.operations
        if erratum.applies_to_operation(op.operation_id) and op.available_in(session.server_version)
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function.__name__ == "test_restrict_system_admin_refuses_as_the_version_does":
        metafunc.parametrize("operation_id", _restricted(session_of(metafunc.config)))


@pytest.mark.mm_destructive
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_feature("local_mode")
@pytest.mark.mm_requirement("permissions.restrict-system-admin")
def test_restrict_system_admin_refuses_as_the_version_does(
    operation_id: str,
    client_for: ClientFor,
    config_guard: dict[str, Any],
    conditions_for: Callable[[str], MatrixConditions],
    send_example: Callable[..., httpx.Response],
    contract: Contract,
    target: Target,
) -> None:
    """RestrictSystemAdmin on: every role is refused as erratum restricted-admin-error-codes
    says for the target's version; the local socket is spared (but on older servers for logs
    and the support packet)."""
    local = client_for(LOCAL, check=False)
    before = bool(config_guard.get("ExperimentalSettings", {}).get("RestrictSystemAdmin"))
    op = contract.operation(operation_id)
    callers = list(MATRIX_COLUMNS)
    if op.local_mode and not op.destructive:
        callers.append(LOCAL)
    switched = local.put(
        "/config/patch", json={"ExperimentalSettings": {"RestrictSystemAdmin": True}}
    )
    assert switched.status_code == 200, (
        f"switching RestrictSystemAdmin on: {describe_answer(switched)}"
    )
    try:
        wrong = _check(
            contract,
            target,
            operation_id,
            callers,
            conditions_for(operation_id).replace(restrict_system_admin=True),
            send_example,
        )
    finally:
        back = local.put(
            "/config/patch", json={"ExperimentalSettings": {"RestrictSystemAdmin": before}}
        )
        assert back.status_code == 200, (
            f"switching RestrictSystemAdmin back: {describe_answer(back)}"
        )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("enabled", [pytest.param(True, id="on"), pytest.param(False, id="off")])
@pytest.mark.mm_operation("PostLog", "PatchConfig")
@pytest.mark.mm_destructive
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("permissions.developer-mode-gate")
def test_postlog_follows_developer_mode(
    enabled: bool,
    client_for: ClientFor,
    config_guard: dict[str, Any],
    matrix_conditions: MatrixConditions,
    send_example: Callable[..., httpx.Response],
    contract: Contract,
    target: Target,
) -> None:
    """ServiceSettings.EnableDeveloper on lets callers without a session log; off refuses them
    with 403; logged-in callers log either way."""
    switched = client_for("system_admin", check=False).put(
        "/config/patch", json={"ServiceSettings": {"EnableDeveloper": enabled}}
    )
    assert switched.status_code == 200, f"setting {DEVELOPER}: {describe_answer(switched)}"
    conditions = matrix_conditions.replace(settings={DEVELOPER: enabled})
    wrong = _check(contract, target, "PostLog", list(MATRIX_COLUMNS), conditions, send_example)
    assert not wrong, "\n".join(wrong)
