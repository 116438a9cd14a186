"""The target file: the TOML document that tells a run, a proxy or a comparison where a server is
and which credentials it was given. One model, one strict reader, one writer.

```toml
[target]
url = "http://127.0.0.1:8065"       # base URL, no trailing slash, no /api/v4
server_version = "11.1.0"           # optional
edition = "enterprise"              # optional: "enterprise" or "team"
licensed = false                    # optional
local_socket = "/tmp/x/mattermost_local.socket"   # optional
features = ["local_mode"]           # optional claimed features
license_file = "valid.mattermost-license"         # optional, relative to the file's folder

[tokens]                            # role = token
system_admin = "..."

[unavailable]                       # roles the server cannot hold: role = the server's answer
system_manager = "PUT /api/v4/users/{user_id}/roles answered 400 api.user.update_user_roles..."

[provisioned]                       # what `mmconform provision` created (re-runs, --teardown)
token_kind = "session"              # "session" or "personal_access_token"

[provisioned.users.system_admin]    # one table per role
id = "..."                          # the user's id
username = "mmconform-admin"
token_id = "..."                    # the personal access token's id (personal_access_token)
```
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import tomli_w

from mmconform._wire._secrets import Secret
from mmconform._wire._words import ROLES

__all__ = [
    "EDITIONS",
    "TOKEN_KINDS",
    "Provisioned",
    "ProvisionedUser",
    "TargetFile",
    "TargetFileError",
    "normalise_url",
    "read_target_file",
]

EDITIONS: Final = ("enterprise", "team")
_TARGET_KEYS: Final = frozenset(
    {"url", "server_version", "edition", "licensed", "local_socket", "features", "license_file"}
)
_TABLES: Final = ("target", "tokens", "unavailable", "provisioned")
#: How provisioning obtained the tokens: a login session, or a personal access token.
TOKEN_KINDS: Final = ("session", "personal_access_token")
_PROVISIONED_KEYS: Final = frozenset({"token_kind", "users"})
_USER_KEYS: Final = frozenset({"id", "username", "token_id"})


class TargetFileError(ValueError):
    """The target file (or a value meant for one) is unusable; the message names the file and
    the key."""


def normalise_url(raw: str, *, origin: str) -> str:
    """Check a base URL; strip a trailing slash and a trailing ``/api/v4``."""
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetFileError(
            f"{origin}: {raw!r} is not an http(s) base URL (expected e.g. http://127.0.0.1:8065)"
        )
    if parts.query or parts.fragment:
        raise TargetFileError(f"{origin}: the base URL {raw!r} must not carry a query or fragment")
    url = url.rstrip("/")
    if url.endswith("/api/v4"):
        url = url[: -len("/api/v4")]
    return url


@dataclass(frozen=True)
class ProvisionedUser:
    """A user ``mmconform provision`` created for one role."""

    user_id: str
    username: str
    #: the id of its personal access token (None for a session token)
    token_id: str | None = None


@dataclass(frozen=True)
class Provisioned:
    """What ``mmconform provision`` created on the server: one user per role, and how their
    tokens were obtained. Re-runs reuse the users; ``--teardown`` deactivates them."""

    token_kind: str = "session"
    #: role -> the user created for it
    users: Mapping[str, ProvisionedUser] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.token_kind not in TOKEN_KINDS:
            raise TargetFileError(
                f"token_kind must be one of {list(TOKEN_KINDS)}, got {self.token_kind!r}"
            )
        unknown = sorted(set(self.users) - set(ROLES))
        if unknown:
            raise TargetFileError(f"unknown role(s) {unknown}; known roles: {list(ROLES)}")
        object.__setattr__(self, "users", MappingProxyType(dict(self.users)))

    def document(self) -> dict[str, Any]:
        users: dict[str, Any] = {}
        for role in ROLES:
            user = self.users.get(role)
            if user is None:
                continue
            entry = {"id": user.user_id, "username": user.username}
            if user.token_id is not None:
                entry["token_id"] = user.token_id
            users[role] = entry
        return {"token_kind": self.token_kind, "users": users}


@dataclass(frozen=True)
class TargetFile:
    """What a target file says. Tokens are :class:`Secret` values: they print redacted."""

    url: str
    #: role -> token
    tokens: Mapping[str, Secret] = field(default_factory=lambda: MappingProxyType({}))
    server_version: str | None = None
    edition: str | None = None
    licensed: bool | None = None
    local_socket: str | None = None
    features: frozenset[str] = frozenset()
    #: an absolute path (a relative one in the file is read from the file's folder)
    license_file: Path | None = None
    #: role -> why the server cannot hold it (its answer to the role assignment)
    unavailable: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: what ``mmconform provision`` created (None for a file written otherwise)
    provisioned: Provisioned | None = None
    #: the file it was read from (None when built in memory)
    source: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", normalise_url(self.url, origin="target url"))
        tokens = {
            role: token if isinstance(token, Secret) else Secret(token, role)
            for role, token in self.tokens.items()
        }
        unknown = sorted(set(tokens) - set(ROLES))
        if unknown:
            raise TargetFileError(f"unknown role(s) {unknown}; known roles: {list(ROLES)}")
        object.__setattr__(self, "tokens", MappingProxyType(tokens))
        unavailable = dict(self.unavailable)
        unknown = sorted(set(unavailable) - set(ROLES))
        if unknown:
            raise TargetFileError(
                f"unknown role(s) {unknown} marked unavailable; known roles: {list(ROLES)}"
            )
        both = [role for role in ROLES if role in unavailable and role in tokens]
        if both:
            raise TargetFileError(
                f"role(s) {both} both have a token and are marked unavailable: a role the "
                "server cannot hold has no token"
            )
        object.__setattr__(self, "unavailable", MappingProxyType(unavailable))
        if self.edition is not None and self.edition not in EDITIONS:
            raise TargetFileError(f"edition must be one of {list(EDITIONS)}, got {self.edition!r}")
        object.__setattr__(self, "features", frozenset(self.features))

    @property
    def roles_by_token(self) -> Mapping[str, str]:
        """token -> role (for a proxy that must tell callers apart)."""
        return MappingProxyType({secret.reveal(): role for role, secret in self.tokens.items()})

    def document(self) -> dict[str, Any]:
        """The TOML document, tokens in clear (only for writing the file)."""
        target: dict[str, Any] = {"url": self.url}
        for key in ("server_version", "edition", "licensed", "local_socket"):
            value = getattr(self, key)
            if value is not None:
                target[key] = value
        if self.features:
            target["features"] = sorted(self.features)
        if self.license_file is not None:
            target["license_file"] = str(self.license_file)
        document: dict[str, Any] = {
            "target": target,
            "tokens": {role: secret.reveal() for role, secret in self.tokens.items()},
        }
        if self.unavailable:
            document["unavailable"] = {
                role: self.unavailable[role] for role in ROLES if role in self.unavailable
            }
        if self.provisioned is not None:
            document["provisioned"] = self.provisioned.document()
        return document

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the file atomically (a reader never sees half of it), readable by its owner
        only, since it holds credentials."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(tomli_w.dumps(self.document()))
        os.chmod(tmp, 0o600)
        tmp.replace(out)
        return out

    def proxied(self, url: str) -> TargetFile:
        """The same server, credentials and facts, reached through ``url``."""
        return dataclasses.replace(self, url=url, source=None)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise TargetFileError(f"{where} must be a non-empty string, got {value!r}")
    return value


def read_target_file(path: str | os.PathLike[str]) -> TargetFile:
    """Read and check a target file: every key known, every value of its type, every role a
    Mattermost role; :class:`TargetFileError` names the file and what is wrong."""
    source = Path(path)
    where = f"target file {source}"
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise TargetFileError(f"{where}: no such file") from None
    except OSError as exc:
        raise TargetFileError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TargetFileError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetFileError(f"{where}: not valid TOML ({exc})") from None

    unknown_tables = sorted(set(data) - set(_TABLES))
    if unknown_tables:
        expected = ", ".join(f"[{name}]" for name in _TABLES)
        raise TargetFileError(f"{where}: unknown table(s) {unknown_tables}; expected {expected}")
    section = data.get("target")
    if not isinstance(section, dict):
        raise TargetFileError(f"{where}: missing [target] table with at least `url`")
    unknown = sorted(set(section) - _TARGET_KEYS)
    if unknown:
        raise TargetFileError(
            f"{where}: unknown key(s) {unknown} in [target]; expected {sorted(_TARGET_KEYS)}"
        )
    if "url" not in section:
        raise TargetFileError(f"{where}: [target] has no `url`")
    values: dict[str, Any] = {
        "url": normalise_url(_text(section["url"], f"{where}: [target].url"), origin=where)
    }
    for key in ("server_version", "local_socket"):
        if key in section:
            values[key] = _text(section[key], f"{where}: [target].{key}")
    if "edition" in section:
        if section["edition"] not in EDITIONS:
            raise TargetFileError(
                f"{where}: [target].edition must be one of {list(EDITIONS)}, "
                f"got {section['edition']!r}"
            )
        values["edition"] = section["edition"]
    if "licensed" in section:
        if not isinstance(section["licensed"], bool):
            raise TargetFileError(f"{where}: [target].licensed must be true or false")
        values["licensed"] = section["licensed"]
    if "license_file" in section:
        license_file = Path(_text(section["license_file"], f"{where}: [target].license_file"))
        if not license_file.is_absolute():
            license_file = (source.parent / license_file).resolve()
        if not license_file.is_file():
            raise TargetFileError(f"{where}: [target].license_file {license_file}: no such file")
        values["license_file"] = license_file
    if "features" in section:
        features = section["features"]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise TargetFileError(f"{where}: [target].features must be a list of strings")
        values["features"] = frozenset(features)
    tokens = data.get("tokens", {})
    if not isinstance(tokens, dict):
        raise TargetFileError(f"{where}: [tokens] must be a table of role = token")
    parsed: dict[str, Secret] = {}
    for role, token in tokens.items():
        if role not in ROLES:
            raise TargetFileError(
                f"{where}: unknown role {role!r} in [tokens]; known roles: {list(ROLES)}"
            )
        parsed[role] = Secret(_text(token, f"{where}: [tokens].{role}"), role)
    unavailable = _read_unavailable(data.get("unavailable", {}), where)
    both = [role for role in ROLES if role in unavailable and role in parsed]
    if both:
        raise TargetFileError(
            f"{where}: role(s) {both} have a token in [tokens] and are marked unavailable in "
            "[unavailable]; remove one of the two"
        )
    if "provisioned" in data:
        values["provisioned"] = _read_provisioned(data["provisioned"], where)
    return TargetFile(
        **values,
        tokens=MappingProxyType(parsed),
        unavailable=MappingProxyType(unavailable),
        source=source.resolve(),
    )


def _read_unavailable(table: Any, where: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise TargetFileError(f"{where}: [unavailable] must be a table of role = reason")
    out: dict[str, str] = {}
    for role, reason in table.items():
        if role not in ROLES:
            raise TargetFileError(
                f"{where}: unknown role {role!r} in [unavailable]; known roles: {list(ROLES)}"
            )
        out[role] = _text(reason, f"{where}: [unavailable].{role}")
    return out


def _read_provisioned(table: Any, where: str) -> Provisioned:
    if not isinstance(table, dict):
        raise TargetFileError(f"{where}: [provisioned] must be a table")
    unknown = sorted(set(table) - _PROVISIONED_KEYS)
    if unknown:
        raise TargetFileError(
            f"{where}: unknown key(s) {unknown} in [provisioned]; "
            f"expected {sorted(_PROVISIONED_KEYS)}"
        )
    kind = table.get("token_kind", "session")
    if kind not in TOKEN_KINDS:
        raise TargetFileError(
            f"{where}: [provisioned].token_kind must be one of {list(TOKEN_KINDS)}, got {kind!r}"
        )
    users_table = table.get("users", {})
    if not isinstance(users_table, dict):
        raise TargetFileError(f"{where}: [provisioned.users] must be a table of role tables")
    users: dict[str, ProvisionedUser] = {}
    for role, entry in users_table.items():
        at = f"{where}: [provisioned.users.{role}]"
        if role not in ROLES:
            raise TargetFileError(
                f"{where}: unknown role {role!r} in [provisioned.users]; known roles: {list(ROLES)}"
            )
        if not isinstance(entry, dict):
            raise TargetFileError(f"{at} must be a table with `id` and `username`")
        unknown = sorted(set(entry) - _USER_KEYS)
        if unknown:
            raise TargetFileError(f"{at}: unknown key(s) {unknown}; expected {sorted(_USER_KEYS)}")
        for key in ("id", "username"):
            if key not in entry:
                raise TargetFileError(f"{at} has no `{key}`")
        token_id = entry.get("token_id")
        users[role] = ProvisionedUser(
            user_id=_text(entry["id"], f"{at}.id"),
            username=_text(entry["username"], f"{at}.username"),
            token_id=None if token_id is None else _text(token_id, f"{at}.token_id"),
        )
    return Provisioned(token_kind=kind, users=users)
