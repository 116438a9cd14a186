"""Identity and permissions: the built-in users, their roles and the default role matrix."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from mmconform._wire import ANONYMOUS, ROLES
from mmconform.stub._config_defaults import SYSCONSOLE_SUBSECTIONS
from mmconform.stub._errors import new_id

# The role names are Mattermost's, shared through the neutral floor; what each may do is the
# stub's own (below).

# Ancillary permissions derived from sysconsole permissions (role.go).
_ANCILLARY: dict[str, tuple[str, ...]] = {
    "sysconsole_write_environment_web_server": (
        "test_site_url",
        "reload_config",
        "invalidate_caches",
    ),
    "sysconsole_write_environment_database": ("recycle_database_connections",),
    "sysconsole_write_environment_file_storage": ("test_s3",),
    "sysconsole_write_environment_smtp": ("test_email",),
    "sysconsole_read_reporting_server_logs": ("get_logs",),
    "sysconsole_read_reporting_site_statistics": ("get_analytics",),
    "sysconsole_read_reporting_team_statistics": ("get_analytics",),
    "sysconsole_read_compliance_compliance_monitoring": ("read_audits",),
    "sysconsole_read_about_edition_and_license": ("read_license_information",),
    "sysconsole_write_about_edition_and_license": ("manage_license_information",),
}


def _with_ancillary(perms: set[str]) -> frozenset[str]:
    out = set(perms)
    for perm in perms:
        out.update(_ANCILLARY.get(perm, ()))
    return frozenset(out)


def _subs(*prefixes: str) -> list[str]:
    return [s for s in SYSCONSOLE_SUBSECTIONS if s.startswith(prefixes)]


def _role_permissions() -> dict[str, frozenset[str]]:
    manager_read = _subs(
        "about_",
        "reporting_",
        "environment_",
        "site_",
        "authentication_",
        "plugins",
        "integrations_",
        "user_management_groups",
        "user_management_teams",
        "user_management_channels",
        "user_management_permissions",
    )
    manager_write = _subs(
        "environment_",
        "site_",
        "integrations_",
        "user_management_groups",
        "user_management_teams",
        "user_management_channels",
        "user_management_permissions",
    )
    user_manager_read = _subs(
        "authentication_",
        "user_management_groups",
        "user_management_teams",
        "user_management_channels",
        "user_management_permissions",
    )
    user_manager_write = _subs(
        "user_management_groups",
        "user_management_teams",
        "user_management_channels",
    )
    read_only = list(SYSCONSOLE_SUBSECTIONS)
    return {
        "system_manager": _with_ancillary(
            {f"sysconsole_read_{s}" for s in manager_read}
            | {f"sysconsole_write_{s}" for s in manager_write}
        ),
        "system_user_manager": _with_ancillary(
            {f"sysconsole_read_{s}" for s in user_manager_read}
            | {f"sysconsole_write_{s}" for s in user_manager_write}
        ),
        "system_read_only_admin": _with_ancillary({f"sysconsole_read_{s}" for s in read_only}),
        "system_user": frozenset(),
        ANONYMOUS: frozenset(),
    }


ROLE_PERMISSIONS: dict[str, frozenset[str]] = _role_permissions()


@dataclass(frozen=True)
class User:
    """One built-in user: the stub has exactly one user per role."""

    role: str
    id: str
    username: str
    email: str
    token: str
    csrf_token: str
    session_id: str
    access_token: str  # a personal access token (needs ServiceSettings.EnableUserAccessTokens)

    @property
    def roles(self) -> str:
        return "system_user" if self.role == "system_user" else f"system_user {self.role}"


@dataclass(frozen=True)
class Session:
    """The caller of one request: a user, the local-mode session, or nobody."""

    user: User | None = None
    local: bool = False
    extra_permissions: frozenset[str] = field(default_factory=frozenset)
    #: a cell fault lets this caller through every access check of the operation
    granted: bool = False

    @property
    def user_id(self) -> str:
        return self.user.id if self.user else ""

    @property
    def role(self) -> str:
        if self.local:
            return "local"
        return self.user.role if self.user else ANONYMOUS

    @property
    def is_system_admin(self) -> bool:
        return self.user is not None and self.user.role == "system_admin"

    @property
    def anonymous(self) -> bool:
        """No user, not the socket, and no cell fault letting it through."""
        return self.user is None and not self.local and not self.granted

    def has_permission(self, perm: str) -> bool:
        if self.local or self.is_system_admin or self.granted:
            return True
        if self.user is None:
            return False
        return perm in ROLE_PERMISSIONS[self.user.role] or perm in self.extra_permissions

    def has_any(self, prefix: str) -> bool:
        """True when the session holds any permission starting with ``prefix``."""
        if self.local or self.is_system_admin or self.granted:
            return True
        if self.user is None:
            return False
        perms = ROLE_PERMISSIONS[self.user.role] | self.extra_permissions
        return any(p.startswith(prefix) for p in perms)


def make_users(tokens: Mapping[str, str] | None) -> dict[str, User]:
    """One user per role; tokens are random unless given for that role."""
    users: dict[str, User] = {}
    for role in ROLES:
        token = (tokens or {}).get(role) or secrets.token_hex(13)
        users[role] = User(
            role=role,
            id=new_id(),
            username=role.replace("system_", "") if role != "system_user" else "user",
            email=f"{role}@stub.example.com",
            token=token,
            csrf_token=new_id(),
            session_id=new_id(),
            access_token=secrets.token_hex(13),
        )
    return users


__all__ = ["ANONYMOUS", "ROLES", "ROLE_PERMISSIONS", "Session", "User", "make_users"]
