"""The cell grammar: ``grant:OPERATION:CALLER`` or ``deny:OPERATION:CALLER`` names one cell of
the permission matrix answered wrongly. Parsed here once; which operations exist, and which
callers a given tool can reach, each user of the grammar checks against its own knowledge."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Literal

from mmconform._wire._words import CALLERS

__all__ = ["CELL_KINDS", "CellSpec", "looks_like_cell"]

CELL_KINDS: Final = ("grant", "deny")


def looks_like_cell(text: str) -> bool:
    """Whether ``text`` is meant as a cell (it has the grammar's separators)."""
    return ":" in text


@dataclass(frozen=True)
class CellSpec:
    """``grant`` or ``deny`` one caller one operation."""

    kind: Literal["grant", "deny"]
    operation: str
    caller: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.operation}:{self.caller}"

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        operations: Collection[str],
        callers: Collection[str] = CALLERS,
    ) -> CellSpec:
        """``grant:GetLogs:system_user`` -> CellSpec; ``ValueError`` naming what is wrong.

        ``operations`` are the operation names the caller of this function knows, ``callers``
        those it can reach."""
        parts = text.strip().split(":")
        if len(parts) != 3:
            raise ValueError(
                f"not a cell fault {text!r}: expected grant:OPERATION:CALLER or "
                "deny:OPERATION:CALLER, e.g. grant:GetLogs:system_user"
            )
        kind, operation, caller = parts
        kind = kind.lower()
        checked: Literal["grant", "deny"]
        if kind == "grant":
            checked = "grant"
        elif kind == "deny":
            checked = "deny"
        else:
            raise ValueError(f"cell fault {text!r}: kind must be one of {', '.join(CELL_KINDS)}")
        if operation not in operations:
            raise ValueError(
                f"cell fault {text!r}: unknown operation {operation!r} "
                f"(known: {', '.join(sorted(operations))})"
            )
        if caller not in callers:
            raise ValueError(
                f"cell fault {text!r}: unknown caller {caller!r} (callers: {', '.join(callers)})"
            )
        return cls(checked, operation, caller)
