"""The client suites and the permission matrix judge one server by one model.

For every operation and caller, at every version of the version matrix, in both editions, with
and without a license, RestrictSystemAdmin and developer mode: the client suites' expectation
(``suites/clients/expect_test.py``) lets the same callers through as the matrix's cell
(``mmconform.contract.expected_cell``), and accepts exactly the error answers the cell accepts
among the contract's documented statuses. Compared directly, not through a server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, cast

import pytest

from mmconform._version import Version
from mmconform.contract import (
    ANONYMOUS,
    LOCAL,
    PERMISSION_ERROR_ID,
    ROLES,
    SESSION_ERROR_ID,
    SUPPORTED_VERSIONS,
    Contract,
    MatrixConditions,
    expected_cell,
)
from mmconform.harness import ServerFacts
from suites.clients import test_python_driver, test_typescript_client
from suites.clients.cases_test import CallContext, Case
from suites.clients.expect_test import Granted, expected_answer

CALLERS = (*ROLES, ANONYMOUS, LOCAL)
DEVELOPER = "ServiceSettings.EnableDeveloper"
RESTRICTION_STATES = (False, True, None)


def conditions(contract: Contract) -> Iterator[MatrixConditions]:
    for version_text, (edition, licensed), restrict, developer in itertools.product(
        SUPPORTED_VERSIONS,
        (("team", False), ("enterprise", False), ("enterprise", True), (None, None)),
        RESTRICTION_STATES,
        (False, True),
    ):
        base = MatrixConditions.default_install(
            contract, version=Version.parse(version_text), edition=edition, licensed=licensed
        )
        yield base.replace(restrict_system_admin=restrict, settings={DEVELOPER: developer})


def candidate_answers(contract: Contract, operation_id: str, cell: Any) -> set[tuple[int, Any]]:
    """Error answers worth asking about: every documented error status with no id, the
    permission and session ids, an unrelated id, and every answer the cell names."""
    statuses = {int(s) for s in contract.documented_statuses(operation_id) if s.isdigit()}
    statuses |= {answer.status for answer in cell.answers}
    ids = {None, PERMISSION_ERROR_ID, SESSION_ERROR_ID, "app.some.other.error"}
    ids |= {answer.error_id for answer in cell.answers}
    return {(status, error_id) for status in statuses if status >= 400 for error_id in ids}


def test_clients_and_matrix_agree_on_every_cell_everywhere(contract: Contract) -> None:
    disagreements: list[str] = []
    cells = 0
    for condition in conditions(contract):
        for operation in contract.operations:
            if not operation.available_in(condition.version):
                continue
            for caller in CALLERS:
                op = operation.operation_id
                cell = expected_cell(contract, op, caller, condition)
                client = expected_answer(
                    contract, op, caller, conditions=condition, granted=Granted()
                )
                cells += 1
                where = f"{op} as {caller} under {condition}"
                if client.passes != cell.passes:
                    disagreements.append(f"{where}: passes {client.passes} vs {cell.passes}")
                for status, error_id in candidate_answers(contract, op, cell):
                    documented = status in cell.statuses or not cell.passes
                    want = cell.accepts(status, error_id) and documented
                    if client.allows_error(status, error_id) != want:
                        disagreements.append(f"{where}: {status} {error_id}: matrix says {want}")
    assert cells > 10_000
    assert not disagreements, "\n".join(disagreements[:20])


def _every_case() -> list[Any]:
    cases: list[Case] = [*test_typescript_client.CASES, *test_python_driver.CASES]
    return [pytest.param(case, id=f"{case.method}") for case in cases]


def _context(contract: Contract, condition: MatrixConditions, role: str) -> CallContext:
    facts = ServerFacts(edition=condition.edition, licensed=condition.licensed)
    request = cast(pytest.FixtureRequest, None)  # the cases' answers read no fixture
    return CallContext(
        request, cast(Any, None), contract, condition.version, facts, condition, role
    )


@pytest.mark.parametrize("case", _every_case())
def test_every_client_case_accepts_every_error_the_contract_accepts(
    contract: Contract, case: Case
) -> None:
    """A case may add answers its call's state decides, never drop one the matrix accepts."""
    missing: list[str] = []
    for condition in conditions(contract):
        if not contract.operation(case.operation).available_in(condition.version):
            continue
        for role in case.roles:
            cell = expected_cell(contract, case.operation, role, condition)
            ctx = _context(contract, condition, role)
            expected = expected_answer(
                contract, case.operation, role, conditions=condition, granted=case.granted(ctx)
            )
            assert expected.passes == cell.passes
            for status, error_id in candidate_answers(contract, case.operation, cell):
                accepted = cell.accepts(status, error_id) and (
                    status in cell.statuses or not cell.passes
                )
                if accepted and not expected.allows_error(status, error_id):
                    missing.append(f"{role} under {condition}: {status} {error_id}")
    assert not missing, f"{case.method} refuses what the contract accepts:\n" + "\n".join(
        missing[:10]
    )


def test_a_trial_request_the_licensing_service_cannot_serve_is_accepted(
    contract: Contract,
) -> None:
    """An offline server's trial request: 400 api.license.request_trial_license.app_error."""
    condition = MatrixConditions.default_install(contract, version=Version(11, 10, 0))
    for case in (*test_typescript_client.CASES, *test_python_driver.CASES):
        if case.operation != "RequestTrialLicense":
            continue
        ctx = _context(contract, condition, "system_admin")
        expected = expected_answer(
            contract,
            case.operation,
            "system_admin",
            conditions=condition,
            granted=case.granted(ctx),
        )
        assert expected.allows_error(400, "api.license.request_trial_license.app_error"), (
            case.method
        )
        assert not expected.allows_error(403, PERMISSION_ERROR_ID), case.method


def _both(
    contract: Contract, operation_id: str, caller: str, condition: MatrixConditions
) -> tuple[Any, Any]:
    cell = expected_cell(contract, operation_id, caller, condition)
    client = expected_answer(
        contract, operation_id, caller, conditions=condition, granted=Granted()
    )
    return cell, client


@pytest.mark.parametrize(
    ("rule", "operation_id", "caller", "before", "after", "answer"),
    [
        (
            "RestrictSystemAdmin",
            "GetLogs",
            "system_admin",
            {"restrict_system_admin": False},
            {"restrict_system_admin": True},
            (403, "api.context.permissions.app_error"),
        ),
        (
            "x-mm-edition-gates",
            "RequestTrialLicense",
            "system_admin",
            {"edition": "enterprise"},
            {"edition": "team"},
            (403, "api.license.upgrade_needed.app_error"),
        ),
        (
            "local-routes-by-version",
            "GetClientConfig",
            "local",
            {"version": Version(11, 1, 0)},
            {"version": Version(7, 0, 0)},
            (404, "api.context.404.app_error"),
        ),
    ],
)
def test_each_gate_rule_changes_the_client_expectation_as_it_changes_the_cell(
    contract: Contract,
    rule: str,
    operation_id: str,
    caller: str,
    before: dict[str, Any],
    after: dict[str, Any],
    answer: tuple[int, str],
) -> None:
    base = MatrixConditions.default_install(contract, version=Version(11, 1, 0))
    cell_before, client_before = _both(contract, operation_id, caller, base.replace(**before))
    cell_after, client_after = _both(contract, operation_id, caller, base.replace(**after))
    assert cell_before.passes, rule
    assert client_before.passes, rule
    assert not cell_after.passes, rule
    assert not client_after.passes, rule
    assert cell_after.accepts(*answer), rule
    assert client_after.allows_error(*answer), rule
    assert not client_before.allows_error(*answer) or cell_before.accepts(*answer), rule
    assert any(rule in reason for reason in cell_after.reasons), cell_after.reasons
    assert rule in client_after.reason


@pytest.mark.parametrize("operation_id", ["TestEmail", "TestS3Connection", "PatchConfig"])
def test_validation_before_permission_is_told_by_the_cell_and_the_client_alike(
    contract: Contract, operation_id: str
) -> None:
    condition = MatrixConditions.default_install(contract, version=Version(11, 1, 0))
    cell, client = _both(contract, operation_id, "system_user", condition)
    assert any("validation-before-permission" in note for note in cell.notes)
    assert "validation-before-permission" in client.reason
    assert not client.passes
    assert client.allows_error(403, PERMISSION_ERROR_ID)
