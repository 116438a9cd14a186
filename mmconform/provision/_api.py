"""The REST calls provisioning makes: Mattermost's user API, over TCP or the local socket.

Every answer that is not the one expected becomes a :class:`ProvisionError` whose message
names the request and what came back (status, AppError id and message); no token is ever part
of a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from mmconform._wire import Secret
from mmconform.provision._errors import (
    EXIT_ADMIN_REFUSED,
    EXIT_NOT_MATTERMOST,
    EXIT_SERVER_REFUSED,
    EXIT_UNREACHABLE,
    ProvisionError,
)

__all__ = ["Answer", "Connection", "Server"]

_API = "/api/v4"


@dataclass(frozen=True)
class Connection:
    """How to reach the server: its URL, and TLS and timeout settings."""

    url: str
    timeout: float = 10.0
    verify: bool | str = True


@dataclass(frozen=True)
class Answer:
    """One answer, read: its status, and the AppError id and message when it is an error."""

    label: str
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def error_id(self) -> str:
        return str(self.body.get("id", "")) if isinstance(self.body, dict) else ""

    def describe(self) -> str:
        """``PUT /api/v4/users/{user_id}/roles answered 400 some.error.id: its message``."""
        detail = ""
        if isinstance(self.body, dict) and self.error_id:
            detail = f" {self.error_id}"
            message = str(self.body.get("message", "")).strip()
            if message:
                detail += f": {message}"
        return f"{self.label} answered {self.status}{detail}"

    def refused(self, step: str, exit_code: int = EXIT_SERVER_REFUSED) -> ProvisionError:
        return ProvisionError(f"{step}: {self.describe()}", exit_code)


def _client(
    connection: Connection, *, socket: str | None = None, token: Secret | None = None
) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token.reveal()}"} if token is not None else {}
    if socket is not None:
        return httpx.Client(
            transport=httpx.HTTPTransport(uds=socket),
            base_url=f"http://localhost{_API}",
            timeout=connection.timeout,
            headers=headers,
            trust_env=False,
        )
    return httpx.Client(
        base_url=connection.url + _API,
        timeout=connection.timeout,
        verify=connection.verify,
        headers=headers,
        trust_env=False,
        follow_redirects=False,
    )


class Server:
    """One Mattermost server: anonymous calls over TCP, and admin calls with the admin
    credential (a token, or the local socket)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._anonymous = _client(connection)
        self._admin: httpx.Client | None = None
        self.admin_over_socket = False

    def close(self) -> None:
        self._anonymous.close()
        if self._admin is not None:
            self._admin.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending --------------------------------------------------------------------------------
    def _send(
        self, client: httpx.Client, method: str, path: str, label: str | None = None, **kwargs: Any
    ) -> Answer:
        where = label or f"{method} {_API}{path}"
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            over = "the local socket" if client is not self._anonymous else self.connection.url
            raise ProvisionError(
                f"{where}: no answer from {over} ({type(exc).__name__}: {exc})", EXIT_UNREACHABLE
            ) from None
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        return Answer(where, response.status_code, body, response.headers)

    def anonymous(self, method: str, path: str, **kwargs: Any) -> Answer:
        return self._send(self._anonymous, method, path, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> Answer:
        if self._admin is None:
            raise RuntimeError("no admin credential is in use")
        return self._send(self._admin, method, path, **kwargs)

    def as_user(self, token: Secret, method: str, path: str) -> Answer:
        with _client(self.connection, token=token) as client:
            return self._send(client, method, path)

    # -- who it is ------------------------------------------------------------------------------
    def wait_until_up(self, seconds: float, say: Callable[[str], None]) -> None:
        """Poll GET /system/ping until the server answers (not 502-504), for up to ``seconds``:
        a server just started is given time to come up."""
        deadline = time.monotonic() + seconds
        said = False
        while True:
            try:
                status = self._anonymous.get("/system/ping").status_code
                if status not in (502, 503, 504):
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                return  # what it answers now is for check_mattermost to judge
            if not said:
                say(f"waiting up to {seconds:.0f} s for {self.connection.url} to answer")
                said = True
            time.sleep(1.0)

    def check_mattermost(self) -> str:
        """GET /system/ping as Mattermost answers it; the version it reports."""
        answer = self.anonymous("GET", "/system/ping")
        if 300 <= answer.status < 400:
            location = answer.headers.get("location", "?")
            raise ProvisionError(
                f"{self.connection.url} is not a Mattermost API: {answer.label} answered "
                f"{answer.status}, a redirect to {location}; give the server's own URL",
                EXIT_NOT_MATTERMOST,
            )
        version = answer.headers.get("x-version-id", "")
        is_ping = isinstance(answer.body, dict) and "status" in answer.body
        if answer.status not in (200, 500) or not is_ping or not version:
            kind = answer.headers.get("content-type", "no content type")
            raise ProvisionError(
                f"{self.connection.url} does not look like a Mattermost server: {answer.label} "
                f"answered {answer.status} ({kind}), not a JSON ping status with X-Version-Id",
                EXIT_NOT_MATTERMOST,
            )
        return ".".join(version.split(".")[:3])

    def use_admin_token(self, token: Secret) -> dict[str, Any]:
        """Act with ``token``; the user it belongs to, who must be a system admin."""
        self._admin = _client(self.connection, token=token)
        me = self.admin("GET", "/users/me")
        if me.status == 401:
            raise me.refused(
                "the admin token is refused (a personal access token is refused while the "
                "server's ServiceSettings.EnableUserAccessTokens is off)",
                EXIT_ADMIN_REFUSED,
            )
        if me.status != 200 or not isinstance(me.body, dict):
            raise me.refused("the admin token could not be checked")
        roles = str(me.body.get("roles", "")).split()
        if "system_admin" not in roles:
            raise ProvisionError(
                f"the admin credential belongs to {me.body.get('username', '?')}, who is not a "
                f"system admin (roles: {' '.join(roles) or 'none'})",
                EXIT_ADMIN_REFUSED,
            )
        return me.body

    def use_socket(self, socket: str) -> None:
        """Act over the local-mode socket (an unrestricted session on the server's host)."""
        self._admin = _client(self.connection, socket=socket)
        self.admin_over_socket = True
        try:
            answer = self.admin("GET", "/system/ping")
        except ProvisionError as exc:
            why = exc.message.split(": ", 1)[-1]
            raise ProvisionError(
                f"the local-mode socket {socket} does not answer ({why}); is "
                "ServiceSettings.EnableLocalMode on, and is this the server's socket?",
                EXIT_ADMIN_REFUSED,
            ) from None
        if answer.status != 200:
            raise answer.refused(
                f"the local-mode socket {socket} does not answer as Mattermost", EXIT_ADMIN_REFUSED
            )

    # -- users ----------------------------------------------------------------------------------
    def login(self, login_id: str, password: Secret) -> tuple[Answer, Secret | None]:
        """POST /users/login; the session token comes in the ``Token`` header."""
        answer = self.anonymous(
            "POST", "/users/login", json={"login_id": login_id, "password": password.reveal()}
        )
        token = answer.headers.get("token") if answer.status == 200 else None
        return answer, Secret(token, f"session of {login_id}") if token else None

    def use_first_admin(self, login_id: str, password: Secret, email: str) -> str:
        """Log in as ``login_id``; on a server with no user yet, first create it, which makes it
        the server's system admin (upstream ``createUserOrGuest``). What was done."""
        answer, token = self.login(login_id, password)
        if token is not None:
            self.use_admin_token(token)
            return f"the login {login_id}"
        created = self.anonymous(
            "POST",
            "/users",
            json={"username": login_id, "email": email, "password": password.reveal()},
        )
        if created.status == 403:
            raise ProvisionError(
                f"the login {login_id} is refused ({answer.describe()}), and the server already "
                f"has users, so it will not make {login_id} its first admin "
                f"({created.describe()}): give an admin's --login or --admin-token",
                EXIT_ADMIN_REFUSED,
            )
        if created.status == 400 and created.error_id.startswith("app.user.save."):
            raise answer.refused(
                f"the login {login_id} is refused (the user exists: is the password right?)",
                EXIT_ADMIN_REFUSED,
            )
        if created.status != 201 or not isinstance(created.body, dict):
            raise created.refused(f"creating the first user {login_id}")
        if "system_admin" not in str(created.body.get("roles", "")).split():
            raise ProvisionError(
                f"{login_id} was created, but as a plain user: the server already had users "
                "(TeamSettings.EnableOpenServer lets anyone sign up); remove it and give an "
                "admin's --login or --admin-token",
                EXIT_ADMIN_REFUSED,
            )
        self.use_login(login_id, password)
        return f"{login_id}, created as the server's first user and so its system admin"

    def use_login(self, login_id: str, password: Secret) -> Secret:
        """Log in as the admin and act with that session; the session token."""
        answer, token = self.login(login_id, password)
        if answer.status == 401:
            raise answer.refused(f"the admin login {login_id} is refused", EXIT_ADMIN_REFUSED)
        if token is None:
            raise answer.refused(f"the admin login {login_id} gave no session token")
        self.use_admin_token(token)
        return token
