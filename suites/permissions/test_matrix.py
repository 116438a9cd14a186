"""The permission matrix: every operation the target has, for every caller.

One test per cell, ``test_permission[GetLogs-system_user]``: the operation's ``x-mm-request``
sent as that caller (a role, ``anonymous``, or ``local`` over the local-mode socket when the
target gives one), and the answer held against what the contract says the caller gets
(``mmconform.contract.expected_cell``, under the target's conditions: version, edition, license,
RestrictSystemAdmin and the gated settings as found at the start of the run). Every cell is
recorded (``reports/permission-matrix.json``).

The cells are planned by ``pytest_generate_tests`` from what the session's preflight learnt;
the expectation a cell is held to is computed again when it runs, from the settings read then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mmconform.contract import (
    LOCAL,
    MATRIX_COLUMNS,
    NOT_SERVED,
    ROLES,
    Contract,
    MatrixConditions,
    expected_cell,
)
from mmconform.harness import (
    GUARDED_STATES,
    CellResult,
    ConformanceSession,
    ResponseChecker,
    ServerState,
    record_cell,
    session_of,
)
from suites.permissions.support_test import (
    app_error_id,
    cell_requirement,
    dependent_states,
    describe_answer,
    refusal_may_run_anywhere,
)


@dataclass(frozen=True)
class PlannedCell:
    operation: str
    role: str
    #: a refusal of a destructive operation that runs where destructive operations are excluded
    refusal_only: bool


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" in metafunc.fixturenames:
        metafunc.parametrize("cell", _cells(session_of(metafunc.config)))


def _cells(session: ConformanceSession) -> list[Any]:
    """One cell per operation the target has and caller, planned under the conditions of a
    server as installed, with the facts the preflight learnt."""
    contract = session.contract
    facts = session.server_facts
    target = session.require_target()
    columns = (*MATRIX_COLUMNS, LOCAL) if target.local_socket is not None else MATRIX_COLUMNS
    planned_under = MatrixConditions.default_install(
        contract, version=session.server_version, edition=facts.edition, licensed=facts.licensed
    )
    params = []
    for op in contract.operations:
        if not op.available_in(session.server_version):
            continue
        for role in columns:
            planned = expected_cell(contract, op.operation_id, role, planned_under)
            refusal_only = (
                op.destructive and planned.refused and refusal_may_run_anywhere(op, facts)
            )
            marks = [
                pytest.mark.mm_operation(op.operation_id),
                pytest.mark.mm_requirement(cell_requirement(op, role, planned)),
            ]
            if role in ROLES:
                marks.append(pytest.mark.mm_role(role))
            if role == LOCAL:
                marks.append(pytest.mark.mm_feature("local_mode"))
            states = dependent_states(contract, op)
            if states:
                marks.append(pytest.mark.mm_global_state(*states))
            if refusal_only:
                marks.append(pytest.mark.mm_refusal_only)
            params.append(
                pytest.param(
                    PlannedCell(op.operation_id, role, refusal_only),
                    id=f"{op.operation_id}-{role}",
                    marks=marks,
                )
            )
    return params


def _send_guarded(
    cell: PlannedCell,
    contract: Contract,
    request: pytest.FixtureRequest,
    send_example: Callable[..., httpx.Response],
    reinstall_license: Callable[[ServerState], None],
) -> httpx.Response:
    """The cell's request, with the server-wide state it may change put back as system_admin:
    the config restored, a license it removed installed again, a license it installed removed,
    and server busy cleared when the request left the server busy (only then: clearing it is
    one of the operations under test)."""
    states = set(contract.operation(cell.operation).global_state) & GUARDED_STATES
    if not states:
        return send_example(cell.operation, cell.role)
    server_state: ServerState = request.getfixturevalue("server_state")
    licensed_before = server_state.licensed() if "license" in states else None
    with server_state.guard(states - {"server_busy"}):
        response = send_example(cell.operation, cell.role)
        if licensed_before and not server_state.licensed():
            reinstall_license(server_state)
    if "server_busy" in states and server_state.busy():
        server_state.clear_busy()
    return response


def test_permission(
    cell: PlannedCell,
    contract: Contract,
    request: pytest.FixtureRequest,
    conditions_for: Callable[[str], MatrixConditions],
    send_example: Callable[..., httpx.Response],
    response_checker: ResponseChecker,
    reproduce: Callable[[httpx.Response], str],
    run_allows_destructive: bool,
    reinstall_license: Callable[[ServerState], None],
) -> None:
    """The caller gets what the contract says: through the access check (neither 401 nor 403,
    a documented answer that fits its schema), or refused with the named status and AppError."""
    op = contract.operation(cell.operation)
    expectation = expected_cell(contract, cell.operation, cell.role, conditions_for(cell.operation))
    if cell.refusal_only and not expectation.refused and not run_allows_destructive:
        pytest.skip(
            f"{cell.operation} as {cell.role} would pass under the target's settings "
            f"({'; '.join(expectation.reasons)}), and the operation is destructive"
        )
    response = _send_guarded(cell, contract, request, send_example, reinstall_license)
    error_id = app_error_id(response)
    record_cell(
        request.node,
        CellResult(
            operation=cell.operation,
            role=cell.role,
            expected=expectation.access,
            expected_statuses=expectation.statuses,
            observed=response.status_code,
            observed_error_id=error_id,
            note="; ".join((*expectation.reasons, *expectation.notes)),
        ),
    )
    # The router's catch-all is outside every operation's contract: only its 404 is checked.
    problems = [] if expectation.access == NOT_SERVED else response_checker.problems_of(response)
    message = (
        f"{cell.operation} ({op.label}) as {cell.role}: expected {expectation.describe()}\n"
        f"  because: {'; '.join(expectation.reasons)}\n"
        + "".join(f"  note: {note}\n" for note in expectation.notes)
        + f"  received: {describe_answer(response)}\n"
        + "".join(f"  contract: {problem}\n" for problem in problems)
        + f"Reproduce (credentials redacted):\n    {reproduce(response)}"
    )
    assert expectation.accepts(response.status_code, error_id), message
    assert not problems, message
