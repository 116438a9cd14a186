"""Single-cell faults: one caller gets one operation wrong, and nothing else changes.

A cell of the permission matrix is one operation and one caller (a built-in role, ``anonymous``
for no credentials, or ``local`` for the local-mode socket). ``grant`` lets that caller through
every access check of the operation (the session, the permission, config gates, and the route
itself where the caller has none, such as integrity over TCP); ``deny`` refuses it with 403
``api.context.permissions.app_error`` before the handler runs. Start a stub with
``StubOptions(cell_faults=frozenset({CellFault.parse("grant:GetLogs:system_user")}))`` or
``--fault grant:GetLogs:system_user``; ``stub.state.cell_faults`` can be changed while it runs.

Operation names and roles are the stub's own (``handlers.OPERATIONS``, ``_auth.ROLES``): the stub
does not read the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from mmconform.stub._auth import ANONYMOUS, ROLES

__all__ = ["CELL_CALLERS", "CELL_KINDS", "CellFault"]

CELL_KINDS: Final = ("grant", "deny")
#: The callers of a cell: the roles, no credentials, and the local-mode socket.
CELL_CALLERS: Final = (*ROLES, ANONYMOUS, "local")


@dataclass(frozen=True)
class CellFault:
    """``grant`` or ``deny`` one caller one operation."""

    kind: Literal["grant", "deny"]
    operation: str
    caller: str

    @classmethod
    def parse(cls, text: str) -> CellFault:
        """``grant:GetLogs:system_user`` -> CellFault (``ValueError`` naming what is wrong)."""
        parts = text.strip().split(":")
        if len(parts) != 3:
            raise ValueError(
                f"not a cell fault {text!r}: expected KIND:OPERATION:CALLER, e.g. "
                "grant:GetLogs:system_user"
            )
        kind, operation, caller = parts
        kind = kind.lower()
        if kind == "grant":
            checked: Literal["grant", "deny"] = "grant"
        elif kind == "deny":
            checked = "deny"
        else:
            raise ValueError(f"cell fault {text!r}: kind must be one of {', '.join(CELL_KINDS)}")
        known = _operation_names()
        if operation not in known:
            raise ValueError(
                f"cell fault {text!r}: unknown operation {operation!r} "
                f"(known: {', '.join(sorted(known))})"
            )
        if caller not in CELL_CALLERS:
            raise ValueError(
                f"cell fault {text!r}: unknown caller {caller!r} (known: {', '.join(CELL_CALLERS)})"
            )
        return cls(checked, operation, caller)

    def __str__(self) -> str:
        return f"{self.kind}:{self.operation}:{self.caller}"

    @property
    def description(self) -> str:
        verb = "lets" if self.kind == "grant" else "refuses"
        return f"{self.operation} {verb} {self.caller} (one cell of the permission matrix)"


def _operation_names() -> frozenset[str]:
    # Imported here: the handlers import the request context, which imports the options.
    from mmconform.stub.handlers import OPERATIONS

    return frozenset(op.name for op in OPERATIONS)
