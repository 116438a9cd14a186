"""The server under test: where it is, which credentials it was given, which version it runs.

A target comes from (lowest precedence first) the TOML target file, environment variables, and
the ``--target-url`` option. When none of them names a URL, the plugin starts the embedded stub.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from mmconform.contract import ROLES
from mmconform.harness._redaction import Secret

__all__ = ["Target", "TargetError", "normalise_url", "read_target_file", "resolve_target"]

ENV_URL = "MMCONFORM_TARGET_URL"
ENV_TOKEN_PREFIX = "MMCONFORM_TOKEN_"
ENV_LOCAL_SOCKET = "MMCONFORM_LOCAL_SOCKET"
ENV_SERVER_VERSION = "MMCONFORM_SERVER_VERSION"
ENV_FEATURES = "MMCONFORM_FEATURES"

_TARGET_KEYS = frozenset(
    {"url", "server_version", "edition", "licensed", "local_socket", "features", "license_file"}
)
EDITIONS = ("enterprise", "team")
ENV_EDITION = "MMCONFORM_EDITION"


class TargetError(Exception):
    """The target description is unusable (bad file, bad URL, unknown role...)."""


@dataclass(frozen=True)
class Target:
    """Everything the suites need to know about the server they test."""

    url: str
    #: role -> token; a Secret prints redacted, ``token(role)`` gives the value
    tokens: Mapping[str, Secret] = field(default_factory=lambda: MappingProxyType({}))
    local_socket: str | None = None
    server_version: str | None = None
    #: "enterprise" or "team" when stated; otherwise the preflight asks the server
    edition: str | None = None
    #: whether the server holds a license, when stated; otherwise the preflight asks
    licensed: bool | None = None
    features: frozenset[str] = frozenset()
    #: a license file the target accepts (for license lifecycle tests), if one was given
    license_file: Path | None = None
    embedded: bool = False
    #: Human-readable origin of each value, e.g. {"url": "env MMCONFORM_TARGET_URL"}.
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    @functools.cached_property
    def secrets(self) -> Mapping[str, Secret]:
        """Everything no output may show: the tokens, and the license file's content (whole,
        and line by line, so that a truncated copy is caught too)."""
        found: dict[str, Secret] = dict(self.tokens)
        if self.license_file is not None and self.license_file.is_file():
            text = self.license_file.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                found["license"] = Secret(text, "license")
                for index, line in enumerate(text.splitlines()):
                    if len(line.strip()) >= 16:
                        found[f"license-{index}"] = Secret(line.strip(), "license")
        return MappingProxyType(found)

    def token(self, role: str) -> str:
        """The token of ``role``, in clear, for building a request (KeyError when not given)."""
        return self.tokens[role].reveal()

    @property
    def roles(self) -> tuple[str, ...]:
        """Roles with a token, most privileged first."""
        return tuple(role for role in ROLES if role in self.tokens)

    @property
    def missing_roles(self) -> tuple[str, ...]:
        return tuple(role for role in ROLES if role not in self.tokens)

    @property
    def most_privileged_role(self) -> str | None:
        roles = self.roles
        return roles[0] if roles else None

    def with_version(self, version: str | None, source: str) -> Target:
        sources = dict(self.sources)
        sources["server_version"] = source
        return replace(self, server_version=version, sources=MappingProxyType(sources))


def normalise_url(raw: str, *, origin: str) -> str:
    """Check a base URL and strip a trailing slash and a trailing ``/api/v4``."""
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(
            f"{origin}: {raw!r} is not an http(s) base URL (expected e.g. http://127.0.0.1:8065)"
        )
    if parts.query or parts.fragment:
        raise TargetError(f"{origin}: the base URL {raw!r} must not carry a query or fragment")
    url = url.rstrip("/")
    if url.endswith("/api/v4"):
        url = url[: -len("/api/v4")]
    return url


def _expect_str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise TargetError(f"{where} must be a non-empty string, got {value!r}")
    return value


def read_target_file(path: Path) -> dict[str, Any]:
    """Parse and validate a target file; return its values as plain data.

    Raises :class:`TargetError` with the file name and the offending key in the message.
    """
    where = f"target file {path}"
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise TargetError(f"{where}: no such file") from None
    except OSError as exc:
        raise TargetError(f"{where}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise TargetError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{where}: not valid TOML ({exc})") from None

    unknown_tables = sorted(set(data) - {"target", "tokens"})
    if unknown_tables:
        raise TargetError(
            f"{where}: unknown table(s) {unknown_tables}; expected [target], [tokens]"
        )
    section = data.get("target")
    if not isinstance(section, dict):
        raise TargetError(f"{where}: missing [target] table with at least `url`")
    unknown = sorted(set(section) - _TARGET_KEYS)
    if unknown:
        raise TargetError(
            f"{where}: unknown key(s) {unknown} in [target]; expected {sorted(_TARGET_KEYS)}"
        )
    result: dict[str, Any] = {}
    if "url" not in section:
        raise TargetError(f"{where}: [target] has no `url`")
    result["url"] = normalise_url(
        _expect_str(section["url"], f"{where}: [target].url"), origin=where
    )
    if "server_version" in section:
        result["server_version"] = _expect_str(
            section["server_version"], f"{where}: [target].server_version"
        )
    if "edition" in section:
        if section["edition"] not in EDITIONS:
            raise TargetError(
                f"{where}: [target].edition must be one of {list(EDITIONS)}, "
                f"got {section['edition']!r}"
            )
        result["edition"] = section["edition"]
    if "licensed" in section:
        if not isinstance(section["licensed"], bool):
            raise TargetError(f"{where}: [target].licensed must be true or false")
        result["licensed"] = section["licensed"]
    if "local_socket" in section:
        result["local_socket"] = _expect_str(
            section["local_socket"], f"{where}: [target].local_socket"
        )
    if "license_file" in section:
        license_file = Path(_expect_str(section["license_file"], f"{where}: [target].license_file"))
        if not license_file.is_absolute():
            license_file = path.parent / license_file
        if not license_file.is_file():
            raise TargetError(f"{where}: [target].license_file {license_file}: no such file")
        result["license_file"] = license_file
    if "features" in section:
        features = section["features"]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise TargetError(f"{where}: [target].features must be a list of strings")
        result["features"] = frozenset(features)
    tokens = data.get("tokens", {})
    if not isinstance(tokens, dict):
        raise TargetError(f"{where}: [tokens] must be a table of role = token")
    parsed: dict[str, str] = {}
    for role, token in tokens.items():
        if role not in ROLES:
            raise TargetError(
                f"{where}: unknown role {role!r} in [tokens]; known roles: {list(ROLES)}"
            )
        parsed[role] = _expect_str(token, f"{where}: [tokens].{role}")
    result["tokens"] = parsed
    return result


def resolve_target(
    *,
    target_file: Path | None,
    target_url: str | None,
    environ: Mapping[str, str] | None = None,
) -> Target | None:
    """Combine file, environment and option into one target; ``None`` means "embedded stub".

    Precedence, lowest first: target file, environment variables, ``--target-url``.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {"tokens": {}}
    sources: dict[str, str] = {}
    if target_file is not None:
        values.update(read_target_file(target_file))
        for key in values:
            sources[key] = f"file {target_file}"
        sources.update({f"token:{role}": f"file {target_file}" for role in values["tokens"]})

    if env.get(ENV_URL):
        values["url"] = normalise_url(env[ENV_URL], origin=f"environment variable {ENV_URL}")
        sources["url"] = f"env {ENV_URL}"
    tokens = dict(values["tokens"])
    for name, value in env.items():
        if not name.startswith(ENV_TOKEN_PREFIX) or not value:
            continue
        role = name[len(ENV_TOKEN_PREFIX) :].lower()
        if role not in ROLES:
            raise TargetError(
                f"environment variable {name}: unknown role {role!r}; known roles: "
                + ", ".join(ENV_TOKEN_PREFIX + r.upper() for r in ROLES)
            )
        tokens[role] = value
        sources[f"token:{role}"] = f"env {name}"
    values["tokens"] = tokens
    if env.get(ENV_LOCAL_SOCKET):
        values["local_socket"] = env[ENV_LOCAL_SOCKET]
        sources["local_socket"] = f"env {ENV_LOCAL_SOCKET}"
    if env.get(ENV_SERVER_VERSION):
        values["server_version"] = env[ENV_SERVER_VERSION]
        sources["server_version"] = f"env {ENV_SERVER_VERSION}"
    if env.get(ENV_EDITION):
        if env[ENV_EDITION] not in EDITIONS:
            raise TargetError(
                f"environment variable {ENV_EDITION}: expected one of {list(EDITIONS)}, "
                f"got {env[ENV_EDITION]!r}"
            )
        values["edition"] = env[ENV_EDITION]
        sources["edition"] = f"env {ENV_EDITION}"
    if env.get(ENV_FEATURES):
        values["features"] = frozenset(f.strip() for f in env[ENV_FEATURES].split(",") if f.strip())
        sources["features"] = f"env {ENV_FEATURES}"

    if target_url:
        values["url"] = normalise_url(target_url, origin="--target-url")
        sources["url"] = "option --target-url"

    if "url" not in values:
        if tokens or target_file is not None:
            raise TargetError(
                "tokens or a target file were given but no URL: set [target].url, "
                f"{ENV_URL} or --target-url"
            )
        return None
    return Target(
        url=values["url"],
        tokens=MappingProxyType({role: Secret(token, role) for role, token in tokens.items()}),
        local_socket=values.get("local_socket"),
        server_version=values.get("server_version"),
        edition=values.get("edition"),
        licensed=values.get("licensed"),
        features=values.get("features", frozenset()),
        license_file=values.get("license_file"),
        embedded=False,
        sources=MappingProxyType(sources),
    )
