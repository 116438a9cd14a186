"""The server under test: where it is, which credentials it was given, which version it runs.

A target comes from (lowest precedence first) the TOML target file, environment variables, and
the ``--target-url`` option. When none of them names a URL, the plugin starts the embedded stub.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mmconform._wire import (
    EDITIONS,
    ROLES,
    Secret,
    TargetFileError,
    normalise_url,
    read_target_file,
)

__all__ = ["Target", "TargetError", "resolve_target"]

ENV_URL = "MMCONFORM_TARGET_URL"
ENV_TOKEN_PREFIX = "MMCONFORM_TOKEN_"
ENV_LOCAL_SOCKET = "MMCONFORM_LOCAL_SOCKET"
ENV_SERVER_VERSION = "MMCONFORM_SERVER_VERSION"
ENV_FEATURES = "MMCONFORM_FEATURES"

ENV_EDITION = "MMCONFORM_EDITION"


class TargetError(Exception):
    """The target description is unusable (bad file, environment or option: a bad URL, an
    unknown role...)."""


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
    #: role -> why the target cannot hold it (the target file's [unavailable], then what the
    #: preflight learnt: an edition or license state upstream assigns no such role under)
    unavailable_roles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
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
        """Roles without a token that the target could hold: a run without them is incomplete."""
        return tuple(
            role for role in ROLES if role not in self.tokens and role not in self.unavailable_roles
        )

    def with_unavailable_roles(self, reasons: Mapping[str, str]) -> Target:
        """The same target, knowing which roles it cannot hold (roles with a token are held)."""
        kept = {role: why for role, why in reasons.items() if role not in self.tokens}
        return replace(self, unavailable_roles=MappingProxyType(kept))

    @property
    def most_privileged_role(self) -> str | None:
        roles = self.roles
        return roles[0] if roles else None

    def with_version(self, version: str | None, source: str) -> Target:
        sources = dict(self.sources)
        sources["server_version"] = source
        return replace(self, server_version=version, sources=MappingProxyType(sources))


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
    try:
        return _resolve(target_file, target_url, env)
    except TargetFileError as exc:
        raise TargetError(str(exc)) from None


def _resolve(
    target_file: Path | None, target_url: str | None, env: Mapping[str, str]
) -> Target | None:
    values: dict[str, Any] = {"tokens": {}}
    sources: dict[str, str] = {}
    if target_file is not None:
        described = read_target_file(target_file)
        values.update(
            (key, getattr(described, key))
            for key in (
                "url",
                "server_version",
                "edition",
                "licensed",
                "local_socket",
                "features",
                "license_file",
            )
            if getattr(described, key) not in (None, frozenset())
        )
        values["tokens"] = {role: secret.reveal() for role, secret in described.tokens.items()}
        if described.unavailable:
            values["unavailable_roles"] = {
                role: f"the target file marks it unavailable ({answer})"
                for role, answer in described.unavailable.items()
            }
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
    ).with_unavailable_roles(values.get("unavailable_roles", {}))
