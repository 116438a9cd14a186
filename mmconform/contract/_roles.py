"""Which roles a target can hold at all: the license rule of role assignment.

Upstream assigns the three newer system roles only under a license that grants a feature
(``x-mm-role-license`` in ``spec/openapi.yaml``): on a Team Edition build, on an unlicensed
server, or under a license without that feature, nobody can be given them. A run against such
a target cannot test those roles, and says so (the tests are *unsupported*, not missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmconform.contract._vocabulary import ROLES, ContractError

__all__ = ["ROLE_LICENSE_ANNOTATION", "RoleLicenseRule", "parse_role_license"]

ROLE_LICENSE_ANNOTATION = "x-mm-role-license"
_KEYS = frozenset({"roles", "license-feature", "status", "error-id", "source"})


@dataclass(frozen=True)
class RoleLicenseRule:
    """Roles a server assigns only under a license granting ``feature``; otherwise the role
    assignment answers ``status`` with ``error_id``. ``source`` says where upstream does it."""

    roles: tuple[str, ...]
    feature: str
    status: int
    error_id: str
    source: str

    def describe(self) -> str:
        """The rule in one sentence, naming the roles, the feature and the server's answer."""
        names = ", ".join(self.roles[:-1]) + f" and {self.roles[-1]}"
        return (
            f"upstream assigns {names} only under a license with {self.feature} "
            f"(otherwise {self.status} {self.error_id}; {self.source})"
        )

    def unavailability(
        self,
        role: str,
        *,
        edition: str | None,
        licensed: bool | None,
        license_features: Mapping[str, bool] | None = None,
    ) -> str | None:
        """Why a target with these facts cannot hold ``role`` (None: it can, or it is not
        known that it cannot). ``license_features``: the license's feature flags, when read."""
        if role not in self.roles:
            return None
        if edition == "team":
            state = "this target is a Team Edition build, which holds no license"
        elif licensed is False:
            state = "this target holds no license"
        elif (
            licensed
            and license_features is not None
            and license_features.get(self.feature) is False
        ):
            state = f"this target's license does not grant {self.feature}"
        else:
            return None
        return f"{self.describe()}, and {state}"


def parse_role_license(raw: Any, path: Path) -> RoleLicenseRule:
    """Read and check the ``x-mm-role-license`` annotation."""
    where = f"{path}: {ROLE_LICENSE_ANNOTATION}"
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: missing or not a mapping")
    unknown = sorted(set(raw) - _KEYS)
    missing = sorted(_KEYS - set(raw))
    if unknown or missing:
        raise ContractError(f"{where}: unknown keys {unknown}, missing keys {missing}")
    roles = raw["roles"]
    if not isinstance(roles, list) or not roles or not all(role in ROLES for role in roles):
        raise ContractError(f"{where}.roles: expected a list of built-in roles, got {roles!r}")
    if "system_admin" in roles or "system_user" in roles:
        raise ContractError(f"{where}.roles: system_admin and system_user need no license")
    for key in ("license-feature", "error-id", "source"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise ContractError(f"{where}.{key}: expected a non-empty string")
    status = raw["status"]
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status < 500:
        raise ContractError(f"{where}.status: expected a 4xx status, got {status!r}")
    return RoleLicenseRule(
        roles=tuple(role for role in ROLES if role in roles),
        feature=raw["license-feature"],
        status=status,
        error_id=raw["error-id"],
        source=" ".join(raw["source"].split()),
    )
