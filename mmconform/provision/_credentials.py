"""The one admin credential provisioning acts with: a token, a login and password (created as
the server's first user when it has none), or the local-mode socket."""

from __future__ import annotations

from dataclasses import dataclass

from mmconform._wire import Secret
from mmconform.provision._api import Server

__all__ = ["AdminCredential"]


@dataclass(frozen=True)
class AdminCredential:
    """Exactly one of: ``token``; ``login`` with ``password`` (``first_admin``: created, with
    ``email``, when the server has no user yet); ``socket``."""

    token: Secret | None = None
    login: str | None = None
    password: Secret | None = None
    socket: str | None = None
    first_admin: bool = False
    email: str = ""

    def __post_init__(self) -> None:
        given = [self.token is not None, self.login is not None, self.socket is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one admin credential: a token, a login or a socket")
        if self.login is not None and self.password is None:
            raise ValueError("a login needs its password")

    def describe(self) -> str:
        if self.token is not None:
            return "an admin token"
        if self.login is not None:
            return f"the login {self.login}"
        return f"the local-mode socket {self.socket}"

    def secrets(self) -> dict[str, Secret]:
        """What no output may show."""
        found = {}
        if self.token is not None:
            found["admin token"] = self.token
        if self.password is not None:
            found["admin password"] = self.password
        return found

    def connect(self, server: Server) -> str:
        """Make ``server`` act with this credential (checking it is a system admin's); who it
        acts as, in words."""
        if self.login is not None and self.password is not None and self.first_admin:
            return server.use_first_admin(self.login, self.password, self.email)
        if self.token is not None:
            server.use_admin_token(self.token)
        elif self.login is not None and self.password is not None:
            server.use_login(self.login, self.password)
        elif self.socket is not None:
            server.use_socket(self.socket)
        return self.describe()
