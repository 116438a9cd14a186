"""Users, sessions and personal access tokens: what ``mmconform provision`` needs of a server.

These routes are test infrastructure, not operations of the contract: the suites never hold a
server to them, and they are not among the 39 operations (``spec/README.md``). They follow
upstream ``api4/user.go`` (and ``user_local.go`` for what the local socket serves) in the order
of their checks, their statuses and their error ids:

* ``POST /users``: a caller with ``manage_system`` (or the socket) creates any user; anyone else
  only while ``TeamSettings.EnableOpenServer`` is on, or when the server has no user yet. Roles
  sent at creation are ignored: a new user holds ``system_user``, the server's first one
  ``system_admin system_user``.
* ``POST /users/login``: the session token comes back in the ``Token`` header.
* ``PUT /users/{user_id}/roles``: the body is validated first, then the license rule (the
  three newer system roles need a license with ``CustomPermissionsSchemes``, over the socket
  too), then ``manage_roles``.
* ``POST /users/{user_id}/tokens``: ``create_user_access_token`` (403), then 501 while
  ``ServiceSettings.EnableUserAccessTokens`` is off.
* ``GET /users/{user_id}`` (``me`` for the caller), ``PUT /users/{user_id}/active``,
  ``PUT /users/{user_id}/password``, ``DELETE /users/{user_id}`` (deactivation, which revokes
  the user's sessions), ``POST /users/{user_id}/sessions/revoke/all``,
  ``POST /users/tokens/revoke``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

from mmconform._wire import ROLE_LICENSE_ERROR_ID
from mmconform.stub import _godecode as go
from mmconform.stub._auth import KNOWN_ROLES, User
from mmconform.stub._context import BodyTooLarge, Ctx, Op
from mmconform.stub._errors import (
    AppError,
    invalid_param,
    invalid_url_param,
    permission_error,
)

__all__ = ["INFRASTRUCTURE", "NEW_SYSTEM_ROLES", "ROLES_LICENSE_ERROR"]

#: The system roles upstream assigns only under a license with CustomPermissionsSchemes
#: (``model.NewSystemRoleIDs``).
NEW_SYSTEM_ROLES = ("system_user_manager", "system_read_only_admin", "system_manager")
ROLES_LICENSE_ERROR = ROLE_LICENSE_ERROR_ID

_ID_RE = re.compile(r"^[a-z0-9]{26}$")
_USERNAME_RE = re.compile(r"^[a-z0-9.\-_]+$")
_ROLE_NAME_RE = re.compile(r"^[a-z0-9_]{1,64}$")
_EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_RESTRICTED_USERNAMES = frozenset({"all", "channel", "matterbot", "system"})
_STRING_MAP = go.MapOf(go.STRING)
_PASSWORD_MAX = 72


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _user_id(ctx: Ctx) -> str:
    """``c.RequireUserId``: ``me`` is the caller; anything but a valid id is refused."""
    raw = ctx.path_params.get("user_id", "")
    user_id = ctx.session.user_id if raw == "me" else raw
    if not _ID_RE.match(user_id):
        raise invalid_url_param("user_id")
    return user_id


def _existing(ctx: Ctx, user_id: str) -> User:
    user = ctx.state.directory.get(user_id)
    if user is None:
        raise AppError(404, "app.user.missing_account.const", detailed=f"user_id={user_id}")
    return user


def _may_act_for(ctx: Ctx, user_id: str) -> None:
    """``SessionHasPermissionToUser``: oneself, or ``edit_other_users``."""
    if user_id != ctx.session.user_id and not ctx.has_permission("edit_other_users"):
        raise permission_error(ctx.session.user_id, "edit_other_users")


async def _string_map(ctx: Ctx) -> dict[str, str]:
    """``model.MapFromJSON``: whatever decodes; nothing when the body cannot be parsed."""
    try:
        values = go.decode_body(await ctx.body(), _STRING_MAP).value
    except (BodyTooLarge, go.GoSyntaxError):
        return {}
    return values if isinstance(values, dict) else {}


async def _object(ctx: Ctx, name: str) -> dict[str, Any]:
    """A JSON object decoded into a struct; anything else is an invalid body parameter."""
    try:
        value = json.loads(await ctx.body())
    except (BodyTooLarge, ValueError) as exc:
        raise invalid_param(name, str(exc)) from None
    if not isinstance(value, dict):
        raise invalid_param(name, "not a JSON object")
    return value


def _check_password(ctx: Ctx, password: str) -> None:
    minimum = ctx.state.setting("PasswordSettings", "MinimumLength")
    minimum = minimum if isinstance(minimum, int) and minimum > 0 else 8
    if not minimum <= len(password) <= _PASSWORD_MAX:
        raise AppError(400, "model.user.is_valid.pwd.app_error", params={"Min": minimum})


def _valid_user_roles(roles: str) -> bool:
    """``model.IsValidUserRoles``: role names of their alphabet, and not system_admin alone."""
    names = roles.split()
    if not all(_ROLE_NAME_RE.match(name) for name in names):
        return False
    return names != ["system_admin"]


def _licensed_for_new_roles(ctx: Ctx) -> bool:
    license = ctx.state.license
    return license is not None and license.features.custom_permissions_schemes


# --------------------------------------------------------------------------------------------
# handlers
# --------------------------------------------------------------------------------------------
async def create_user(ctx: Ctx) -> Response:
    fields = await _object(ctx, "user")
    first = ctx.state.directory.count() == 0
    if (
        not ctx.has_permission("manage_system")
        and not first
        and not ctx.state.setting("TeamSettings", "EnableOpenServer")
    ):
        raise AppError(403, "api.user.create_user.no_open_server")
    username = str(fields.get("username") or "").lower()
    email = str(fields.get("email") or "").strip()
    password = str(fields.get("password") or "")
    if not (
        1 <= len(username) <= 64
        and _USERNAME_RE.match(username)
        and username not in _RESTRICTED_USERNAMES
    ):
        raise AppError(400, "model.user.is_valid.username.app_error")
    if not email or len(email) > 128 or not _EMAIL_RE.match(email):
        raise AppError(400, "model.user.is_valid.email.app_error")
    _check_password(ctx, password)
    user = ctx.state.directory.create(username, email, password)
    ctx.state.log("info", "User created", user_id=user.id)
    return ctx.json(user.to_json(), 201)


async def login(ctx: Ctx) -> Response:
    props = await _string_map(ctx)
    login_id = props.get("login_id", "")
    password = props.get("password", "")
    if not password:
        raise AppError(400, "api.user.login.blank_pwd.app_error")
    directory = ctx.state.directory
    user = directory.by_login(login_id) if login_id else directory.get(props.get("id", ""))
    if user is None or not directory.password_matches(user, password):
        raise AppError(401, "api.user.login.invalid_credentials_email_username")
    if not user.active:
        raise AppError(401, "api.user.login.inactive.app_error")
    credential = directory.open_session(user.id)
    return ctx.json(user.to_json(), headers={"Token": credential.token})


async def get_user(ctx: Ctx) -> Response:
    user = _existing(ctx, _user_id(ctx))
    return ctx.json(user.to_json())


async def update_roles(ctx: Ctx) -> Response:
    user_id = _user_id(ctx)
    roles = (await _string_map(ctx)).get("roles", "")
    if not _valid_user_roles(roles):
        raise invalid_param("roles")
    if any(name in NEW_SYSTEM_ROLES for name in roles.split()) and not _licensed_for_new_roles(ctx):
        raise AppError(400, ROLES_LICENSE_ERROR)
    ctx.require("manage_roles")
    _existing(ctx, user_id)
    unknown = sorted(set(roles.split()) - KNOWN_ROLES)
    if unknown:
        raise AppError(
            400, "app.role.check_roles_exist.role_not_found", detailed=f"role={unknown[0]}"
        )
    ctx.state.directory.set_roles(user_id, roles)
    ctx.state.log("info", "User roles updated", user_id=user_id, roles=roles)
    return ctx.ok()


async def update_active(ctx: Ctx) -> Response:
    user_id = _user_id(ctx)
    try:
        props = json.loads(await ctx.body())
    except (BodyTooLarge, ValueError):
        props = {}
    active = props.get("active") if isinstance(props, dict) else None
    if not isinstance(active, bool):
        raise invalid_param("active")
    self_deactivate = not active and user_id == ctx.session.user_id
    if not self_deactivate and not ctx.has_permission("sysconsole_write_user_management_users"):
        raise AppError(403, "api.user.update_active.permissions.app_error")
    user = _existing(ctx, user_id)
    if user.is_system_admin:
        ctx.require("manage_system")
    ctx.state.directory.set_active(user_id, active)
    return ctx.ok()


async def update_password(ctx: Ctx) -> Response:
    user_id = _user_id(ctx)
    props = await _string_map(ctx)
    new_password = props.get("new_password", "")
    directory = ctx.state.directory
    user = directory.get(user_id)
    if user_id == ctx.session.user_id and user is not None:
        current = props.get("current_password", "")
        if not current:
            raise invalid_param("current_password")
        if not directory.password_matches(user, current):
            raise AppError(400, "api.user.update_password.incorrect.app_error")
    else:
        needed = (
            "manage_system"
            if user is not None and user.is_system_admin
            else "sysconsole_write_user_management_users"
        )
        if user is None or not ctx.has_permission(needed):
            raise AppError(403, "api.user.update_password.context.app_error")
    _check_password(ctx, new_password)
    directory.set_password(user_id, new_password)
    return ctx.ok()


async def deactivate_user(ctx: Ctx) -> Response:
    user_id = _user_id(ctx)
    if not ctx.session.local:
        _may_act_for(ctx, user_id)
        if (
            user_id == ctx.session.user_id
            and not ctx.state.setting("TeamSettings", "EnableUserDeactivation")
            and not ctx.has_permission("manage_system")
        ):
            raise AppError(401, "api.user.update_active.not_enable.app_error")
    user = _existing(ctx, user_id)
    if user.is_system_admin:
        ctx.require("manage_system")
    if ctx.query.get("permanent") == "true":
        # PermanentDeleteUser needs ServiceSettings.EnableAPIUserDeletion; the stub never
        # deletes, it only deactivates.
        raise AppError(401, "api.user.delete_user.not_enabled.app_error")
    ctx.state.directory.set_active(user_id, False)
    ctx.state.log("info", "User deactivated", user_id=user_id)
    return ctx.ok()


async def revoke_all_sessions(ctx: Ctx) -> Response:
    user_id = _user_id(ctx)
    _may_act_for(ctx, user_id)
    ctx.state.directory.revoke_sessions(user_id)
    return ctx.ok()


async def create_access_token(ctx: Ctx) -> Response:
    user_id = _user_id(ctx)
    fields = await _object(ctx, "user_access_token")
    description = fields.get("description")
    if not isinstance(description, str) or not description:
        raise invalid_param("description")
    ctx.require("create_user_access_token")
    _may_act_for(ctx, user_id)
    _existing(ctx, user_id)
    if not ctx.state.setting("ServiceSettings", "EnableUserAccessTokens"):
        raise AppError(501, "app.user_access_token.disabled")
    token = ctx.state.directory.create_access_token(user_id, description)
    return ctx.json(token.to_json(with_token=True))


async def revoke_access_token(ctx: Ctx) -> Response:
    token_id = (await _string_map(ctx)).get("token_id", "")
    if not token_id:
        raise invalid_param("token_id")
    ctx.require("revoke_user_access_token")
    token = ctx.state.directory.access_token(token_id)
    if token is None:
        raise AppError(404, "app.user_access_token.get_by_user.app_error")
    _may_act_for(ctx, token.user_id)
    ctx.state.directory.revoke_access_token(token_id)
    return ctx.ok()


#: The user routes, served beside the contract's operations (never part of them).
INFRASTRUCTURE: list[Op] = [
    Op("CreateUser", "POST", "/api/v4/users", create_user, auth="none", local=True),
    Op("Login", "POST", "/api/v4/users/login", login, auth="none"),
    Op(
        "RevokeUserAccessToken",
        "POST",
        "/api/v4/users/tokens/revoke",
        revoke_access_token,
        local=True,
    ),
    Op("GetUser", "GET", "/api/v4/users/{user_id}", get_user, local=True),
    Op("DeleteUser", "DELETE", "/api/v4/users/{user_id}", deactivate_user, local=True),
    Op("UpdateUserRoles", "PUT", "/api/v4/users/{user_id}/roles", update_roles, local=True),
    Op("UpdateUserActive", "PUT", "/api/v4/users/{user_id}/active", update_active, local=True),
    Op(
        "UpdateUserPassword", "PUT", "/api/v4/users/{user_id}/password", update_password, local=True
    ),
    Op(
        "CreateUserAccessToken",
        "POST",
        "/api/v4/users/{user_id}/tokens",
        create_access_token,
        local=True,
    ),
    Op(
        "RevokeSessionsForUser",
        "POST",
        "/api/v4/users/{user_id}/sessions/revoke/all",
        revoke_all_sessions,
    ),
]
