"""The stub's operations, one module per area."""

from __future__ import annotations

from mmconform.stub._context import Op
from mmconform.stub.handlers import (
    busy,
    config,
    connectivity,
    license,
    logs,
    maintenance,
    system,
)

OPERATIONS: list[Op] = [
    *system.OPERATIONS,
    *maintenance.OPERATIONS,
    *busy.OPERATIONS,
    *config.OPERATIONS,
    *license.OPERATIONS,
    *logs.OPERATIONS,
    *connectivity.OPERATIONS,
]

__all__ = ["OPERATIONS"]
