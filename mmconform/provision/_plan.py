"""Provisioning and teardown: one user per role, its role, its token; and undoing it.

``provision`` makes, for each built-in role, a user with a recognisable name (``mmconform-admin``,
``mmconform-manager``, ...), assigns the role through ``PUT /users/{user_id}/roles`` and obtains a
token: a login session by default (``POST /users/login``, the ``Token`` header), a personal
access token when asked and the server allows them. Roles the server refuses by its license
rule are recorded as unavailable with its answer. A re-run reuses the users its target file
records (reactivating them, keeping tokens that still work). ``teardown`` revokes the recorded
personal access tokens and deactivates the users, which revokes their sessions, and checks that
their tokens are refused. Neither ever changes the server's configuration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from mmconform._wire import (
    ROLE_LICENSE_ERROR_ID,
    ROLES,
    Provisioned,
    ProvisionedUser,
    Secret,
    TargetFile,
    TargetFileError,
    read_target_file,
    redact,
)
from mmconform.provision._api import Answer, Connection, Server
from mmconform.provision._credentials import AdminCredential
from mmconform.provision._errors import (
    EXIT_ADMIN_REFUSED,
    EXIT_SERVER_REFUSED,
    EXIT_USAGE,
    EXIT_USERNAME_TAKEN,
    ProvisionError,
)

__all__ = [
    "DEFAULT_PREFIX",
    "ROLE_NAMES",
    "Options",
    "Say",
    "provision",
    "teardown",
    "username_for",
]

DEFAULT_PREFIX: Final = "mmconform-"
#: role -> the end of its user's name (short: older servers allow 22 characters in all)
ROLE_NAMES: Final = {
    "system_admin": "admin",
    "system_manager": "manager",
    "system_user_manager": "usermanager",
    "system_read_only_admin": "readonly",
    "system_user": "user",
}
_USERNAME_MAX: Final = 22
_USERNAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
#: A well-formed user id no user has: a role assignment for it tells, without touching any
#: user, whether the license rule refuses the role (it is checked before the user is looked up).
_PROBE_USER_ID: Final = "mmconformroleprobe00000000"
_ROLES_PATH: Final = "PUT /api/v4/users/{user_id}/roles"
_TOKEN_DESCRIPTION: Final = "mmconform conformance run"
_TAKEN: Final = ("app.user.save.username_exists.app_error", "app.user.save.email_exists.app_error")

#: Where provisioning says what it does (one line at a time; never a token).
Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """What to provision, where, with which credential, into which target file."""

    connection: Connection
    credential: AdminCredential
    target_file: Path
    prefix: str = DEFAULT_PREFIX
    email_domain: str = "example.com"
    personal_access_tokens: bool = False
    #: a license file the server accepts, recorded for the license lifecycle tests
    license_file: Path | None = None
    #: how long to wait for a server just started to answer (0: not at all)
    wait: float = 0.0


def username_for(prefix: str, role: str) -> str:
    """The name of the user made for ``role``; ValueError for a prefix servers refuse."""
    name = f"{prefix}{ROLE_NAMES[role]}"
    if not prefix or set(prefix) - _USERNAME_CHARS or not prefix[0].isalpha():
        raise ValueError(
            f"prefix {prefix!r}: a user name starts with a letter and has only lower-case "
            "letters, digits, '.', '-' and '_'"
        )
    if len(name) > _USERNAME_MAX:
        raise ValueError(
            f"prefix {prefix!r} makes the user name {name!r} longer than {_USERNAME_MAX} "
            "characters, which older servers refuse"
        )
    return name


def _new_password() -> Secret:
    """Strong and random, and of every character class a password policy may ask for."""
    return Secret("Mm1!" + secrets.token_urlsafe(45), "password")


def _roles_of(role: str) -> str:
    return "system_user" if role == "system_user" else f"system_user {role}"


@dataclass
class _Run:
    """One provisioning or teardown run: the server, and everything no output may show."""

    server: Server
    say_raw: Say
    secrets: dict[str, Secret] = field(default_factory=dict)

    def keep_secret(self, name: str, secret: Secret) -> Secret:
        self.secrets[f"{name}-{len(self.secrets)}"] = secret
        return secret

    def say(self, line: str) -> None:
        self.say_raw(redact(line, self.secrets))

    @contextlib.contextmanager
    def redacting(self) -> Iterator[None]:
        """A stop of the run says nothing it must not either."""
        try:
            yield
        except ProvisionError as exc:
            raise ProvisionError(redact(exc.message, self.secrets), exc.exit_code) from None


class _TokensDisabled(Exception):
    """The server refuses personal access tokens (EnableUserAccessTokens is off)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.describe())
        self.answer = answer


# --------------------------------------------------------------------------------------------
# the target file
# --------------------------------------------------------------------------------------------
def _previous(path: Path, url: str) -> TargetFile | None:
    """The target file an earlier run wrote for this server (None: there is none yet); a file
    anything else wrote is never overwritten."""
    if not path.exists():
        return None
    try:
        previous = read_target_file(path)
    except TargetFileError as exc:
        raise ProvisionError(
            f"{exc}; it is left as it is: give another --target-file", EXIT_USAGE
        ) from None
    if previous.provisioned is None:
        raise ProvisionError(
            f"target file {path} exists and has no [provisioned] table: mmconform provision did "
            "not write it, so it is left as it is; give another --target-file",
            EXIT_USAGE,
        )
    if previous.url != url:
        raise ProvisionError(
            f"target file {path} was written for {previous.url}, not {url}; it is left as it "
            "is: give another --target-file",
            EXIT_USAGE,
        )
    return previous


# --------------------------------------------------------------------------------------------
# provisioning
# --------------------------------------------------------------------------------------------
def provision(options: Options, say: Say = print) -> TargetFile:
    """Create (or reuse) one user per role, assign the roles, obtain the tokens and write the
    target file (mode 0600). Raises :class:`ProvisionError` with its exit code."""
    url = options.connection.url
    previous = _previous(options.target_file, url)
    for role in ROLES:
        username_for(options.prefix, role)  # a bad prefix stops here, before any request
    with Server(options.connection) as server:
        run = _Run(server, say, dict(options.credential.secrets()))
        with run.redacting():
            written = _provision(run, options, previous)
    written.write(options.target_file)
    run.say(
        f"wrote {options.target_file} (mode 0600): tokens for {len(written.tokens)} role(s)"
        + (f", {len(written.unavailable)} unavailable" if written.unavailable else "")
    )
    run.say(f"next: pytest --target-file {options.target_file}")
    return written


def _provision(run: _Run, options: Options, previous: TargetFile | None) -> TargetFile:
    server = run.server
    if options.wait > 0:
        server.wait_until_up(options.wait, run.say)
    version = server.check_mattermost()
    acting = options.credential.connect(server)
    run.say(f"mmconform provision: {options.connection.url} (Mattermost {version}), as {acting}")
    unavailable = _unavailable_roles(run)
    kind = "personal_access_token" if options.personal_access_tokens else "session"
    users: dict[str, ProvisionedUser] = {}
    tokens: dict[str, Secret] = {}
    for role in ROLES:
        record = _recorded(previous, role)
        if role in unavailable:
            if record is not None:
                users[role] = dataclasses.replace(record, token_id=None)
            run.say(f"  {role:<23} unavailable: {unavailable[role]}")
            continue
        user_id, username, password, done = _ensure_user(run, options, role, record)
        refusal = _assign(run, role, user_id)
        if refusal is not None:
            unavailable[role] = refusal
            users[role] = ProvisionedUser(user_id, username)
            deactivated = run.server.admin("DELETE", f"/users/{user_id}")
            note = "deactivated" if deactivated.status == 200 else deactivated.describe()
            run.say(f"  {role:<23} unavailable: {refusal} ({username} {note})")
            continue
        done.append("role assigned")
        old = previous.tokens.get(role) if previous is not None else None
        old_kind = previous.provisioned.token_kind if previous and previous.provisioned else ""
        kept = old if old is not None and old_kind == kind else None
        try:
            token, token_id, how = _token(run, kind, user_id, username, password, kept, record)
        except _TokensDisabled as exc:
            kind = "session"
            run.say(
                "  personal access tokens are refused ("
                + exc.answer.describe()
                + "): the server's ServiceSettings.EnableUserAccessTokens is off, and "
                "provisioning does not change configuration; using session tokens instead"
            )
            token, token_id, how = _token(run, kind, user_id, username, password, None, None)
        done.append(how)
        users[role] = ProvisionedUser(user_id, username, token_id=token_id)
        tokens[role] = token
        run.say(f"  {role:<23} {username:<22} {', '.join(done)}")
    return _target_file(options, previous, tokens, unavailable, Provisioned(kind, users))


def _recorded(previous: TargetFile | None, role: str) -> ProvisionedUser | None:
    if previous is None or previous.provisioned is None:
        return None
    return previous.provisioned.users.get(role)


def _unavailable_roles(run: _Run) -> dict[str, str]:
    """Roles the server's license rule refuses: asked with a role assignment for a user id no
    user has (the rule is checked before the user is looked up), so no user is touched."""
    found: dict[str, str] = {}
    for role in ROLES:
        if role == "system_user":
            continue
        answer = run.server.admin(
            "PUT",
            f"/users/{_PROBE_USER_ID}/roles",
            json={"roles": _roles_of(role)},
            label=_ROLES_PATH,
        )
        if answer.status == 400 and answer.error_id == ROLE_LICENSE_ERROR_ID:
            found[role] = answer.describe()
        elif answer.status in (401, 403):
            raise answer.refused(
                "the admin credential may not assign roles (it needs manage_roles)",
                EXIT_ADMIN_REFUSED,
            )
    return found


def _ensure_user(
    run: _Run, options: Options, role: str, record: ProvisionedUser | None
) -> tuple[str, str, Secret | None, list[str]]:
    """The user for ``role``: the recorded one (reactivated if need be), or a new one. Its id,
    name, password when just made, and what was done."""
    if record is not None:
        got = run.server.admin("GET", f"/users/{record.user_id}")
        if got.status == 200 and isinstance(got.body, dict):
            done = ["reused"]
            if got.body.get("delete_at"):
                back = run.server.admin(
                    "PUT", f"/users/{record.user_id}/active", json={"active": True}
                )
                if back.status != 200:
                    raise back.refused(f"reactivating {record.username}")
                done.append("reactivated")
            return record.user_id, str(got.body.get("username", record.username)), None, done
        if got.status not in (400, 404):
            raise got.refused(f"looking up {record.username}, recorded in the target file")
    username = username_for(options.prefix, role)
    password = run.keep_secret("password", _new_password())
    created = run.server.admin(
        "POST",
        "/users",
        json={
            "username": username,
            "email": f"{username}@{options.email_domain}",
            "password": password.reveal(),
            "disable_welcome_email": True,
        },
    )
    if created.status == 400 and created.error_id in _TAKEN:
        raise ProvisionError(
            f"the user name {username} (or its email {username}@{options.email_domain}) belongs "
            f"to a user {options.target_file} does not record, so it is not ours to use: remove "
            "that user, or choose another --prefix or --email-domain (" + created.describe() + ")",
            EXIT_USERNAME_TAKEN,
        )
    if created.status != 201 or not isinstance(created.body, dict):
        raise created.refused(f"creating the user {username}")
    return str(created.body["id"]), username, password, ["created"]


def _assign(run: _Run, role: str, user_id: str) -> str | None:
    """Give the user its role; the server's answer when the license rule refuses it."""
    answer = run.server.admin(
        "PUT", f"/users/{user_id}/roles", json={"roles": _roles_of(role)}, label=_ROLES_PATH
    )
    if answer.status == 200:
        return None
    if answer.status == 400 and answer.error_id == ROLE_LICENSE_ERROR_ID:
        return answer.describe()
    raise answer.refused(f"assigning {role}")


def _token(
    run: _Run,
    kind: str,
    user_id: str,
    username: str,
    password: Secret | None,
    kept: Secret | None,
    record: ProvisionedUser | None,
) -> tuple[Secret, str | None, str]:
    """A token for the user: the one the target file holds while it still works, else a new
    session (``kind`` session) or personal access token."""
    if kept is not None:
        run.keep_secret("token", kept)
        me = run.server.as_user(kept, "GET", "/users/me")
        if me.status == 200 and isinstance(me.body, dict) and me.body.get("id") == user_id:
            return kept, record.token_id if record is not None else None, "token kept"
    if kind == "personal_access_token":
        answer = run.server.admin(
            "POST", f"/users/{user_id}/tokens", json={"description": _TOKEN_DESCRIPTION}
        )
        if answer.status == 501:
            raise _TokensDisabled(answer)
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise answer.refused(f"creating a personal access token for {username}")
        token = run.keep_secret("token", Secret(str(answer.body["token"]), username))
        return token, str(answer.body["id"]), "personal access token"
    if password is None:
        password = run.keep_secret("password", _new_password())
        reset = run.server.admin(
            "PUT", f"/users/{user_id}/password", json={"new_password": password.reveal()}
        )
        if reset.status != 200:
            raise reset.refused(f"setting a new password for {username}")
    answer, session = run.server.login(username, password)
    if session is None:
        raise answer.refused(f"logging in as {username}")
    return run.keep_secret("token", session), None, "session token"


def _target_file(
    options: Options,
    previous: TargetFile | None,
    tokens: dict[str, Secret],
    unavailable: dict[str, str],
    provisioned: Provisioned,
) -> TargetFile:
    """The file to write: what an earlier run's file said of the target, the socket and
    license file given now, and this run's tokens, unavailable roles and users."""
    base = previous or TargetFile(url=options.connection.url)
    socket = options.credential.socket
    license_file = options.license_file.resolve() if options.license_file else None
    claimed = {"local_mode"} if socket else set()
    return dataclasses.replace(
        base,
        tokens=tokens,
        unavailable=unavailable,
        provisioned=provisioned,
        local_socket=socket or base.local_socket,
        license_file=license_file or base.license_file,
        features=base.features | claimed | ({"license"} if license_file else set()),
        source=None,
    )


# --------------------------------------------------------------------------------------------
# teardown
# --------------------------------------------------------------------------------------------
def teardown(options: Options, say: Say = print) -> TargetFile:
    """Revoke the recorded personal access tokens, deactivate the recorded users (which revokes
    their sessions), check their tokens are refused, and write the target file without them."""
    path = options.target_file
    if not path.exists():
        raise ProvisionError(f"target file {path}: no such file; nothing to tear down", EXIT_USAGE)
    described = _previous(path, options.connection.url)
    if described is None or described.provisioned is None:  # _previous refuses both
        raise ProvisionError(f"target file {path} records nothing to tear down", EXIT_USAGE)
    with Server(options.connection) as server:
        run = _Run(server, say, {**options.credential.secrets(), **described.tokens})
        with run.redacting():
            still_accepted = _teardown(run, options, described)
    users = {
        role: dataclasses.replace(record, token_id=None)
        for role, record in described.provisioned.users.items()
    }
    written = dataclasses.replace(
        described,
        tokens={r: t for r, t in described.tokens.items() if r not in users},
        provisioned=Provisioned(described.provisioned.token_kind, users),
        source=None,
    )
    written.write(path)
    run.say(f"wrote {path}: the users are kept on record, so a re-run reactivates them")
    if still_accepted:
        raise ProvisionError(
            f"the server still accepts the tokens of {', '.join(still_accepted)} after their "
            "users were deactivated",
            EXIT_SERVER_REFUSED,
        )
    return written


def _teardown(run: _Run, options: Options, described: TargetFile) -> list[str]:
    """Revoke, deactivate and check each recorded user; the roles whose token still works."""
    server = run.server
    server.check_mattermost()
    acting = options.credential.connect(server)
    run.say(f"mmconform provision --teardown: {described.url}, as {acting}")
    still_accepted = []
    recorded = described.provisioned.users if described.provisioned is not None else {}
    for role, record in recorded.items():
        done = []
        if record.token_id is not None:
            revoked = server.admin(
                "POST", "/users/tokens/revoke", json={"token_id": record.token_id}
            )
            if revoked.status not in (200, 404):
                raise revoked.refused(f"revoking the personal access token of {record.username}")
            done.append("personal access token revoked")
        gone = server.admin("DELETE", f"/users/{record.user_id}")
        if gone.status == 404:
            done.append("already gone")
        elif gone.status != 200:
            raise gone.refused(f"deactivating {record.username}")
        else:
            done.append("deactivated, sessions revoked")
        token = described.tokens.get(role)
        if token is not None:
            refused = server.as_user(token, "GET", "/users/me").status == 401
            done.append("token refused" if refused else "token STILL ACCEPTED")
            if not refused:
                still_accepted.append(role)
        run.say(f"  {role:<23} {record.username:<22} {', '.join(done)}")
    return still_accepted
