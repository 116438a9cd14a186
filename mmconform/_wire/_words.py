"""Mattermost's words on the wire, shared by every part that speaks to a server or imitates one.

Names only: who may call what is the contract's business, and the stub decides it on its own.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ANONYMOUS",
    "BENIGN",
    "CALLERS",
    "CONFIG_MASK",
    "FAULT_AREAS",
    "LOCAL",
    "MUTANT_AREAS",
    "PERMISSION_ERROR_ID",
    "ROLES",
    "ROLE_LICENSE_ERROR_ID",
    "SESSION_ERROR_ID",
]

#: Mattermost's built-in system role ids, most privileged first.
ROLES: Final = (
    "system_admin",
    "system_manager",
    "system_user_manager",
    "system_read_only_admin",
    "system_user",
)
#: The caller without credentials.
ANONYMOUS: Final = "anonymous"
#: The local-mode unix socket: a transport, not a role, named like one where a name is needed.
LOCAL: Final = "local"
#: Every caller of a permission-matrix cell: the roles, no credentials, the local socket.
CALLERS: Final = (*ROLES, ANONYMOUS, LOCAL)

#: What a server sends in place of a secret setting (and takes back as "unchanged").
CONFIG_MASK: Final = "*" * 32

#: The AppError of a caller that lacks a permission (403).
PERMISSION_ERROR_ID: Final = "api.context.permissions.app_error"
#: The AppError of a request without a valid session (401).
SESSION_ERROR_ID: Final = "api.context.session_expired.app_error"
#: The AppError of a role assignment the license does not allow (400): the newer system roles
#: need a license with CustomPermissionsSchemes.
ROLE_LICENSE_ERROR_ID: Final = "api.user.update_user_roles.license.app_error"

#: The areas of the API a deliberate fault can break, as the mutation score groups them.
FAULT_AREAS: Final = (
    "schema",
    "auth",
    "permissions",
    "errors",
    "headers",
    "ping",
    "busy",
    "config",
    "license",
    "paging",
    "logs",
    "timezones",
    "notices",
    "analytics",
    "integrity",
    "image",
    "upgrade",
    "support-packet",
    "email",
    "notifications",
    "clients",
    "visibility",
)
#: The area of a change that a correct suite must let pass.
BENIGN: Final = "benign"
#: Every area of the selftest's catalogue.
MUTANT_AREAS: Final = (*FAULT_AREAS, BENIGN)
