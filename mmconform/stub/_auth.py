"""Identity and permissions: users and their roles, credentials, the caller of a request, the
built-in users and the default role matrix."""

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


#: Roles a user may hold besides the built-in system roles, with what they grant here. The
#: personal access token role lets a user create and revoke its own tokens.
EXTRA_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "system_user_access_token": frozenset(
        {"create_user_access_token", "read_user_access_token", "revoke_user_access_token"}
    ),
    "system_post_all": frozenset(),
    "system_post_all_public": frozenset(),
}
#: Every role id the stub knows (an unknown one in a role assignment is refused).
KNOWN_ROLES: frozenset[str] = frozenset(ROLES) | frozenset(EXTRA_ROLE_PERMISSIONS)


@dataclass(frozen=True)
class User:
    """One account: its roles are a space-separated string of role ids, as Mattermost stores
    them (``"system_user system_manager"``); it holds every permission of every role."""

    id: str
    username: str
    email: str
    roles: str
    create_at: int = 0
    update_at: int = 0
    #: when it was deactivated (0: active)
    delete_at: int = 0
    password_hash: str = field(default="", repr=False)

    @property
    def role_ids(self) -> tuple[str, ...]:
        return tuple(self.roles.split())

    @property
    def role(self) -> str:
        """The caller's name in the permission matrix: its most privileged system role."""
        held = set(self.role_ids)
        return next((role for role in ROLES if role in held), "system_user")

    @property
    def is_system_admin(self) -> bool:
        return "system_admin" in self.role_ids

    @property
    def active(self) -> bool:
        return self.delete_at == 0

    @property
    def permissions(self) -> frozenset[str]:
        """Every permission of every role it holds (system_admin's are checked apart)."""
        out: set[str] = set()
        for role in self.role_ids:
            out |= ROLE_PERMISSIONS.get(role, frozenset())
            out |= EXTRA_ROLE_PERMISSIONS.get(role, frozenset())
        return frozenset(out)

    def to_json(self) -> dict[str, object]:
        """The user as the API answers it (sanitised: no password, no auth data)."""
        return {
            "id": self.id,
            "create_at": self.create_at,
            "update_at": self.update_at,
            "delete_at": self.delete_at,
            "username": self.username,
            "auth_data": "",
            "auth_service": "",
            "email": self.email,
            "nickname": "",
            "first_name": "",
            "last_name": "",
            "position": "",
            "roles": self.roles,
            "locale": "en",
            "timezone": {
                "automaticTimezone": "",
                "manualTimezone": "",
                "useAutomaticTimezone": "true",
            },
            "disable_welcome_email": False,
        }


@dataclass(frozen=True)
class Credential:
    """What a bearer token stands for: a login session, or a personal access token (then
    ``token_id`` names it)."""

    token: str = field(repr=False)
    user_id: str
    session_id: str
    csrf_token: str = field(default="", repr=False)
    token_id: str | None = None

    @property
    def personal(self) -> bool:
        return self.token_id is not None


@dataclass(frozen=True)
class Session:
    """The caller of one request: a user, the local-mode session, or nobody."""

    user: User | None = None
    credential: Credential | None = None
    local: bool = False
    extra_permissions: frozenset[str] = field(default_factory=frozenset)
    #: a cell fault lets this caller through every access check of the operation
    granted: bool = False

    @property
    def user_id(self) -> str:
        return self.user.id if self.user else ""

    @property
    def session_id(self) -> str:
        return self.credential.session_id if self.credential else ""

    @property
    def role(self) -> str:
        if self.local:
            return "local"
        return self.user.role if self.user else ANONYMOUS

    @property
    def is_system_admin(self) -> bool:
        return self.user is not None and self.user.is_system_admin

    @property
    def anonymous(self) -> bool:
        """No user, not the socket, and no cell fault letting it through."""
        return self.user is None and not self.local and not self.granted

    def has_permission(self, perm: str) -> bool:
        if self.local or self.is_system_admin or self.granted:
            return True
        if self.user is None:
            return False
        return perm in self.user.permissions or perm in self.extra_permissions

    def has_any(self, prefix: str) -> bool:
        """True when the session holds any permission starting with ``prefix``."""
        if self.local or self.is_system_admin or self.granted:
            return True
        if self.user is None:
            return False
        perms = self.user.permissions | self.extra_permissions
        return any(p.startswith(prefix) for p in perms)


@dataclass(frozen=True)
class BuiltInUser:
    """One of the users every stub starts with, one per role, with a login session and a
    personal access token ready (``tokens`` of the target file)."""

    role: str
    id: str
    token: str = field(repr=False)
    csrf_token: str = field(repr=False)
    session_id: str
    access_token: str = field(repr=False)

    @property
    def username(self) -> str:
        return self.role.replace("system_", "") if self.role != "system_user" else "user"

    @property
    def roles(self) -> str:
        return "system_user" if self.role == "system_user" else f"system_user {self.role}"


def built_in_users(tokens: Mapping[str, str] | None) -> dict[str, BuiltInUser]:
    """One user per role; tokens are random unless given for that role."""
    users: dict[str, BuiltInUser] = {}
    for role in ROLES:
        users[role] = BuiltInUser(
            role=role,
            id=new_id(),
            token=(tokens or {}).get(role) or secrets.token_hex(13),
            csrf_token=new_id(),
            session_id=new_id(),
            access_token=secrets.token_hex(13),
        )
    return users


__all__ = [
    "ANONYMOUS",
    "EXTRA_ROLE_PERMISSIONS",
    "KNOWN_ROLES",
    "ROLES",
    "ROLE_PERMISSIONS",
    "BuiltInUser",
    "Credential",
    "Session",
    "User",
    "built_in_users",
]
