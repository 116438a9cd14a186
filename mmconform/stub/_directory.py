"""The stub's user directory: accounts, login sessions and personal access tokens.

Every request's token is looked up here, and the user it stands for is read at that moment, so
a role given or taken away applies to sessions already open, as on a real server (which clears
its session cache when roles change). Deactivating a user revokes its login sessions; its
personal access tokens stay but are refused while the user is inactive (upstream
``createSessionForUserAccessToken``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mmconform.stub._auth import BuiltInUser, Credential, User
from mmconform.stub._errors import AppError, new_id

__all__ = ["AccessToken", "Directory"]


@dataclass(frozen=True)
class AccessToken:
    """A personal access token (``model.UserAccessToken``)."""

    id: str
    token: str = field(repr=False)
    user_id: str
    description: str
    is_active: bool = True

    def to_json(self, *, with_token: bool) -> dict[str, object]:
        body: dict[str, object] = {
            "id": self.id,
            "user_id": self.user_id,
            "description": self.description,
            "is_active": self.is_active,
        }
        if with_token:
            body["token"] = self.token
        return body


def _hash(password: str, salt: str) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000)
    return f"{salt}${digest.hex()}"


class Directory:
    """Accounts and credentials, under one lock."""

    def __init__(self, clock_ms: Callable[[], int]) -> None:
        self._now = clock_ms
        self._lock = threading.RLock()
        self._accounts: dict[str, User] = {}
        self._sessions: dict[str, Credential] = {}
        self._tokens: dict[str, AccessToken] = {}

    # -- the built-in users ---------------------------------------------------------------------
    def add_built_in(self, users: Iterable[BuiltInUser]) -> None:
        now = self._now()
        with self._lock:
            for user in users:
                self._accounts[user.id] = User(
                    id=user.id,
                    username=user.username,
                    email=f"{user.role}@stub.example.com",
                    roles=user.roles,
                    create_at=now,
                    update_at=now,
                )
                self._sessions[user.token] = Credential(
                    token=user.token,
                    user_id=user.id,
                    session_id=user.session_id,
                    csrf_token=user.csrf_token,
                )
                token_id = new_id()
                self._tokens[token_id] = AccessToken(
                    id=token_id, token=user.access_token, user_id=user.id, description="built-in"
                )

    # -- reading ----------------------------------------------------------------------------------
    def get(self, user_id: str) -> User | None:
        with self._lock:
            return self._accounts.get(user_id)

    def by_login(self, login_id: str) -> User | None:
        """The user whose username or email is ``login_id`` (case-insensitive)."""
        wanted = login_id.strip().lower()
        with self._lock:
            return next(
                (
                    user
                    for user in self._accounts.values()
                    if wanted in (user.username, user.email.lower())
                ),
                None,
            )

    def resolve(self, token: str) -> tuple[User, Credential, AccessToken | None] | None:
        """The user and credential a bearer token stands for (None: no such token)."""
        with self._lock:
            credential = self._sessions.get(token)
            access: AccessToken | None = None
            if credential is None:
                access = next((t for t in self._tokens.values() if t.token == token), None)
                if access is None:
                    return None
                credential = Credential(
                    token=token, user_id=access.user_id, session_id=access.id, token_id=access.id
                )
            user = self._accounts.get(credential.user_id)
            return None if user is None else (user, credential, access)

    def access_token(self, token_id: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(token_id)

    def count(self) -> int:
        """Every account, deactivated ones included."""
        with self._lock:
            return len(self._accounts)

    def active_count(self) -> int:
        with self._lock:
            return sum(1 for user in self._accounts.values() if user.active)

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    # -- changing ---------------------------------------------------------------------------------
    def create(self, username: str, email: str, password: str) -> User:
        """A new active user holding ``system_user`` (upstream ignores roles sent at creation),
        or ``system_admin system_user`` when it is the server's first account; a username or
        email already taken is refused as the store does."""
        with self._lock:
            for user in self._accounts.values():
                if user.username == username:
                    raise AppError(400, "app.user.save.username_exists.app_error")
                if user.email.lower() == email.lower():
                    raise AppError(400, "app.user.save.email_exists.app_error")
            now = self._now()
            user = User(
                id=new_id(),
                username=username,
                email=email.lower(),
                roles="system_admin system_user" if not self._accounts else "system_user",
                create_at=now,
                update_at=now,
                password_hash=_hash(password, secrets.token_hex(8)),
            )
            self._accounts[user.id] = user
            return user

    def password_matches(self, user: User, password: str) -> bool:
        if not user.password_hash or "$" not in user.password_hash:
            return False
        salt = user.password_hash.split("$", 1)[0]
        return hmac.compare_digest(user.password_hash, _hash(password, salt))

    def _update(self, user_id: str, change: Callable[[User, int], User]) -> User:
        with self._lock:
            updated = change(self._accounts[user_id], self._now())
            self._accounts[user_id] = updated
            return updated

    def set_roles(self, user_id: str, roles: str) -> User:
        clean = " ".join(roles.split())
        return self._update(
            user_id, lambda user, now: dataclasses.replace(user, roles=clean, update_at=now)
        )

    def set_password(self, user_id: str, password: str) -> User:
        hashed = _hash(password, secrets.token_hex(8))
        return self._update(
            user_id,
            lambda user, now: dataclasses.replace(user, password_hash=hashed, update_at=now),
        )

    def set_active(self, user_id: str, active: bool) -> User:
        """Activate or deactivate; deactivating revokes every login session of the user."""
        with self._lock:
            user = self._update(
                user_id,
                lambda user, now: dataclasses.replace(
                    user, delete_at=0 if active else now, update_at=now
                ),
            )
            if not active:
                self.revoke_sessions(user_id)
            return user

    def open_session(self, user_id: str) -> Credential:
        """A login session for the user (its token goes back in the ``Token`` header)."""
        credential = Credential(
            token=new_id(), user_id=user_id, session_id=new_id(), csrf_token=new_id()
        )
        with self._lock:
            self._sessions[credential.token] = credential
        return credential

    def revoke_sessions(self, user_id: str) -> int:
        """Revoke every login session of the user; how many there were."""
        with self._lock:
            gone = [token for token, cred in self._sessions.items() if cred.user_id == user_id]
            for token in gone:
                del self._sessions[token]
            return len(gone)

    def create_access_token(self, user_id: str, description: str) -> AccessToken:
        token = AccessToken(id=new_id(), token=new_id(), user_id=user_id, description=description)
        with self._lock:
            self._tokens[token.id] = token
        return token

    def revoke_access_token(self, token_id: str) -> None:
        with self._lock:
            self._tokens.pop(token_id, None)
