"""Single-cell faults: one caller gets one operation wrong, and nothing else changes.

A cell of the permission matrix is one operation and one caller (a built-in role, ``anonymous``
for no credentials, or ``local`` for the local-mode socket). ``grant`` lets that caller through
every access check of the operation (the session, the permission, config gates, and the route
itself where the caller has none, such as integrity over TCP); ``deny`` refuses it with 403
``api.context.permissions.app_error`` before the handler runs. Start a stub with
``StubOptions(cell_faults=frozenset({parse_cell_fault("grant:GetLogs:system_user")}))`` or
``--fault grant:GetLogs:system_user``; ``stub.state.cell_faults`` can be changed while it runs.

The grammar is the neutral floor's (``mmconform._wire.CellSpec``); the operation names are the
stub's own (``handlers.OPERATIONS``): the stub does not read the contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from mmconform._wire import CALLERS, CELL_KINDS, CellSpec
from mmconform.stub.handlers import OPERATIONS

__all__ = [
    "CELL_CALLERS",
    "CELL_KINDS",
    "OPERATION_NAMES",
    "check_cell_faults",
    "describe_cell_fault",
    "parse_cell_fault",
]

#: The callers of a cell: the roles, no credentials, and the local-mode socket.
CELL_CALLERS: Final = CALLERS
#: The operations the stub serves, by the names a cell fault takes.
OPERATION_NAMES: Final = frozenset(op.name for op in OPERATIONS)


def parse_cell_fault(text: str) -> CellSpec:
    """``grant:GetLogs:system_user`` -> the cell (``ValueError`` naming what is wrong)."""
    return CellSpec.parse(text, operations=OPERATION_NAMES, callers=CELL_CALLERS)


def check_cell_faults(cells: Iterable[CellSpec]) -> None:
    """``ValueError`` for a cell of an operation the stub does not serve."""
    for cell in cells:
        parse_cell_fault(str(cell))


def describe_cell_fault(cell: CellSpec) -> str:
    verb = "lets" if cell.kind == "grant" else "refuses"
    return f"{cell.operation} {verb} {cell.caller} (one cell of the permission matrix)"
