"""What the permission suite's modules share besides fixtures: reading an answer's AppError id,
the requirement a cell proves, the server-wide states a cell depends on, and the safety rule
for refusals of destructive operations."""

from __future__ import annotations

import json

import httpx

from mmconform.contract import (
    ALLOWED,
    DENIED,
    LOCAL,
    NOT_SERVED,
    UNAUTHENTICATED,
    CellExpectation,
    Contract,
    Operation,
)
from mmconform.harness import ServerFacts

RESTRICTION_ERRATUM = "restricted-admin-error-codes"


def app_error_id(response: httpx.Response) -> str | None:
    """The AppError id of an answer, whatever its content type says (None when it has none)."""
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    return str(body["id"]) if isinstance(body, dict) and "id" in body else None


def cell_requirement(operation: Operation, role: str, expectation: CellExpectation) -> str:
    """The requirement of spec/requirements.yaml a cell proves."""
    access = expectation.access
    if role == LOCAL:
        if access == NOT_SERVED:
            return "permissions.local-not-served"
        if operation.license == "required" and access != ALLOWED:
            return "permissions.license-gate"
        return "permissions.local-served"
    if operation.auth == "local-only":
        return "permissions.integrity-local-only"
    if access == UNAUTHENTICATED:
        return "auth.session-required"
    if any(role in gate.denies for gate in operation.config_gates):
        return "permissions.developer-mode-gate"
    if access not in (ALLOWED, DENIED):
        if operation.license == "required":
            return "permissions.license-gate"
        if operation.edition_gates:
            return "permissions.edition-gates"
    if access == DENIED:
        return "permissions.denied"
    return "permissions.granted"


def dependent_states(contract: Contract, operation: Operation) -> tuple[str, ...]:
    """Server-wide states a cell of ``operation`` changes or whose value decides its answer:
    the operation's own, ``config`` where RestrictSystemAdmin or a config gate decides who
    passes, ``license`` where a license does. Tests sharing one are never run concurrently."""
    states = set(operation.grouping_states)
    restricted = contract.erratum(RESTRICTION_ERRATUM).applies_to_operation(operation.operation_id)
    if restricted or operation.config_gates:
        states.add("config")
    if operation.license == "required":
        states.add("license")
    return tuple(sorted(states))


def refusal_may_run_anywhere(operation: Operation, facts: ServerFacts) -> bool:
    """Whether a refusal of ``operation`` may be checked on a target that is not disposable
    (``x-mm-request.denied-cells``); always for operations that are not destructive."""
    if not operation.destructive:
        return True
    policy = operation.request.denied_cells
    if policy == "always":
        return True
    if policy == "when-unlicensed":
        return facts.licensed is False
    if policy == "on-enterprise-builds":
        return facts.edition == "enterprise"
    return False


def describe_answer(response: httpx.Response) -> str:
    error_id = app_error_id(response)
    kind = response.headers.get("content-type", "no content type")
    text = response.text[:300].replace("\n", " ")
    return f"{response.status_code}{f' {error_id}' if error_id else ''} ({kind}): {text}"
