"""Which operations a comparison sends, in which order, and as whom.

Operations that change nothing go first, then those that change state only they show (server
busy, notice views, log lines, caches, pooled connections), then those that can change every
other answer: the license, the configuration, the server binary, and the restart last. After
each state-changing operation comes a *read pass*: the example request (``x-mm-request``) of
every GET operation that changes nothing, so that a change of state one side made and the
other did not (a license that stays, a busy flag that is not cleared, a busy time in the wrong
unit, a config reload that brings back the wrong file) shows. Both sides receive the same
requests in the same order, each as every caller both sides can be asked as. Destructive
operations (``x-mm-destructive``) are sent only when allowed; operations that no side's
version has are not sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlencode

from mmconform.contract import BODY_NONE, Contract, Operation
from mmconform.diff._model import RequestSpec
from mmconform.diff._sides import SideFacts

__all__ = [
    "EVERYTHING_ELSE",
    "Plan",
    "common_callers",
    "example_request",
    "plan_operations",
    "read_pass",
    "tier_of",
]

#: Server-wide states whose change can change every other answer, in the order they are sent.
EVERYTHING_ELSE: Final = ("license", "config", "server_binary", "server_process")


def tier_of(operation: Operation) -> tuple[int, int]:
    """(0, 0) changes nothing; (1, 0) changes only what it shows itself; (2, rank) can change
    everything else, ranked by :data:`EVERYTHING_ELSE`."""
    if not operation.global_state:
        return (0, 0)
    ranks = [EVERYTHING_ELSE.index(s) for s in operation.global_state if s in EVERYTHING_ELSE]
    return (2, max(ranks)) if ranks else (1, 0)


@dataclass(frozen=True)
class Plan:
    """The operations to compare, in order, and those left out with the reason."""

    operations: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)


def plan_operations(
    contract: Contract,
    sides: Sequence[SideFacts],
    *,
    selected: Iterable[str] = (),
    allow_destructive: bool = False,
) -> Plan:
    wanted = set(selected)
    unknown = sorted(wanted - {op.operation_id for op in contract.operations})
    if unknown:
        raise KeyError(f"no operation {', '.join(unknown)} in the contract")
    chosen: list[Operation] = []
    skipped: dict[str, str] = {}
    for operation in contract.operations:
        op_id = operation.operation_id
        if wanted and op_id not in wanted:
            continue
        if operation.destructive and not allow_destructive:
            skipped[op_id] = "destructive (x-mm-destructive): give --allow-destructive"
            continue
        reasons = [operation.unavailability(side.version) for side in sides]
        if reasons and all(reason is not None for reason in reasons):
            skipped[op_id] = f"no side has it: {reasons[0]}"
            continue
        chosen.append(operation)
    order = {op.operation_id: index for index, op in enumerate(contract.operations)}
    chosen.sort(key=lambda op: (tier_of(op), order[op.operation_id]))
    return Plan(tuple(op.operation_id for op in chosen), skipped)


def common_callers(*sides: SideFacts) -> tuple[str, ...]:
    """The callers every side can be asked as, in the first side's order."""
    first, *others = sides
    return tuple(c for c in first.callers if all(c in other.callers for other in others))


def example_request(operation: Operation, origin: str) -> RequestSpec | None:
    """The operation's ``x-mm-request`` as a request (None for one with a body)."""
    example = operation.request
    if example.body_kind != BODY_NONE:
        return None
    path = operation.path
    for name, value in example.path_params.items():
        path = path.replace("{" + name + "}", value)
    query = urlencode(sorted(example.query.items()))
    return RequestSpec(
        operation=operation.operation_id,
        method=operation.method,
        target=f"{path}?{query}" if query else path,
        origin=origin,
    )


def read_pass(contract: Contract, plan: Plan, after: str) -> list[RequestSpec]:
    """The read pass after the state-changing operation ``after``: the example request of
    every planned GET operation that changes nothing."""
    out = []
    for op_id in plan.operations:
        operation = contract.operation(op_id)
        if operation.method != "GET" or operation.global_state:
            continue
        request = example_request(operation, f"read pass after {after}")
        if request is not None:
            out.append(request)
    return out
