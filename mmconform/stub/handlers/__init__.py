"""The stub's operations, one module per area; and, apart from them, the user routes that
provisioning needs (test infrastructure, not operations of the contract)."""

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
    users,
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

#: Routes served beside the operations for ``mmconform provision`` (``handlers/users.py``).
INFRASTRUCTURE: list[Op] = list(users.INFRASTRUCTURE)

__all__ = ["INFRASTRUCTURE", "OPERATIONS"]
