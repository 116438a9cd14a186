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
    "TargetFile",
    "TargetFileError",
    "normalise_url",
    "read_target_file",
]

EDITIONS: Final = ("enterprise", "team")
_TARGET_KEYS: Final = frozenset(
    {"url", "server_version", "edition", "licensed", "local_socket", "features", "license_file"}
)
_TABLES: Final = ("target", "tokens")


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
        return {
            "target": target,
            "tokens": {role: secret.reveal() for role, secret in self.tokens.items()},
        }

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
    return TargetFile(**values, tokens=MappingProxyType(parsed), source=source.resolve())
