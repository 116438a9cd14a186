"""The two sides of a comparison: a live target (a target file, or a URL with tokens from the
environment) and what it is (version, edition, license), stated or asked of the server once,
before anything else is sent."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mmconform._version import Version
from mmconform._wire import (
    ANONYMOUS,
    LOCAL,
    ROLES,
    Secret,
    TargetFileError,
    normalise_url,
    read_target_file,
)
from mmconform.diff._exitcodes import EXIT_SIDE_MISCONFIGURED, EXIT_SIDE_UNREACHABLE, DiffProblem
from mmconform.diff._model import RequestSpec
from mmconform.diff._send import Connection

__all__ = [
    "BASELINE",
    "CANDIDATE",
    "LiveTarget",
    "SideFacts",
    "callers_of",
    "environment_names",
    "learn_facts",
    "live_target",
]

BASELINE = "baseline"
CANDIDATE = "candidate"
_PING = RequestSpec("GetPing", "GET", "/api/v4/system/ping")
_TOKEN_CHECK = RequestSpec("GetSupportedTimezone", "GET", "/api/v4/system/timezones")
_CLIENT_CONFIG = RequestSpec("GetClientConfig", "GET", "/api/v4/config/client?format=old")
_CLIENT_LICENSE = RequestSpec("GetClientLicense", "GET", "/api/v4/license/client?format=old")


def environment_names(side: str) -> dict[str, str]:
    """Where a URL target's credentials come from: role (or ``local``) -> variable name."""
    prefix = f"MMCONFORM_{side.upper()}"
    names = {role: f"{prefix}_TOKEN_{role.upper()}" for role in ROLES}
    names[LOCAL] = f"{prefix}_LOCAL_SOCKET"
    return names


@dataclass(frozen=True)
class LiveTarget:
    """A server to send requests to, as the user described it."""

    name: str
    url: str
    tokens: Mapping[str, Secret] = field(default_factory=lambda: MappingProxyType({}))
    local_socket: str | None = None
    server_version: str | None = None
    edition: str | None = None
    licensed: bool | None = None
    #: where the description came from ("target file X" or "URL and environment")
    origin: str = ""


def live_target(text: str, name: str, environ: Mapping[str, str] | None = None) -> LiveTarget:
    """A target given on the command line: an http(s) URL (credentials from the environment,
    :func:`environment_names`) or a target file."""
    env = os.environ if environ is None else environ
    try:
        if text.startswith(("http://", "https://")):
            names = environment_names(name)
            tokens = {
                role: Secret(env[names[role]], role)
                for role in ROLES
                if env.get(names[role], "").strip()
            }
            return LiveTarget(
                name=name,
                url=normalise_url(text, origin=f"the {name} URL"),
                tokens=MappingProxyType(tokens),
                local_socket=env.get(names[LOCAL]) or None,
                origin="URL, credentials from MMCONFORM_" + name.upper() + "_*",
            )
        described = read_target_file(Path(text))
    except TargetFileError as exc:
        raise DiffProblem(f"the {name}: {exc}", EXIT_SIDE_MISCONFIGURED) from None
    return LiveTarget(
        name=name,
        url=described.url,
        tokens=described.tokens,
        local_socket=described.local_socket,
        server_version=described.server_version,
        edition=described.edition,
        licensed=described.licensed,
        origin=f"target file {described.source or text}",
    )


@dataclass(frozen=True)
class SideFacts:
    """What a side is, as far as the contract's explanations are concerned."""

    server_version: str | None
    edition: str | None
    licensed: bool | None
    #: the callers this side can be asked as: roles with a token, anonymous, local
    callers: tuple[str, ...]
    url: str = ""

    @property
    def version(self) -> Version | None:
        return Version.lenient(self.server_version)

    def describe(self) -> str:
        licensed = {True: "licensed", False: "unlicensed", None: "license unknown"}[self.licensed]
        return (
            f"{self.server_version or 'version unknown'}, {self.edition or 'edition unknown'}, "
            f"{licensed}"
        )

    def as_record(self) -> dict[str, Any]:
        return {
            "server_version": self.server_version,
            "edition": self.edition,
            "licensed": self.licensed,
            "callers": list(self.callers),
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any], url: str = "") -> SideFacts:
        return cls(
            server_version=data.get("server_version"),
            edition=data.get("edition"),
            licensed=data.get("licensed"),
            callers=tuple(str(c) for c in data.get("callers", ())),
            url=url,
        )


def callers_of(target: LiveTarget) -> tuple[str, ...]:
    """Every caller a target can be asked as, most privileged first."""
    callers = [role for role in ROLES if role in target.tokens]
    callers.append(ANONYMOUS)
    if target.local_socket:
        callers.append(LOCAL)
    return tuple(callers)


def _string_map(connection: Connection, request: RequestSpec) -> dict[str, str]:
    answer = connection.send(request, ANONYMOUS)
    data = answer.json_body() if answer.status == 200 else None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def learn_facts(target: LiveTarget, connection: Connection) -> SideFacts:
    """Check that the side answers and its tokens are accepted, and learn what it is."""
    where = f"the {target.name} ({target.url})"
    ping = connection.send(_PING, ANONYMOUS)
    if ping.error is not None:
        raise DiffProblem(f"{where} is unreachable: {ping.error}", EXIT_SIDE_UNREACHABLE)
    if ping.status in (502, 503, 504):
        raise DiffProblem(
            f"{where} answered {ping.status} to GET /api/v4/system/ping: it is not ready",
            EXIT_SIDE_UNREACHABLE,
        )
    if 300 <= ping.status < 400:
        raise DiffProblem(
            f"{where} answered {ping.status}, a redirect to {ping.headers.get('location')!r}: "
            "give the URL it redirects to",
            EXIT_SIDE_MISCONFIGURED,
        )
    if not isinstance(ping.json_body(), dict):
        raise DiffProblem(
            f"{where} does not look like a Mattermost server: GET /api/v4/system/ping answered "
            f"{ping.status} ({ping.content_type or 'no content type'}), not a JSON object",
            EXIT_SIDE_MISCONFIGURED,
        )
    for role in target.tokens:
        answer = connection.send(_TOKEN_CHECK, role)
        if answer.status == 401:
            raise DiffProblem(
                f"{where}: the token for {role} ({target.origin}) is not accepted: 401 to "
                "GET /api/v4/system/timezones",
                EXIT_SIDE_MISCONFIGURED,
            )
    if target.local_socket:
        answer = connection.send(_PING, LOCAL)
        if answer.error is not None:
            raise DiffProblem(
                f"{where}: the local-mode socket {target.local_socket} does not answer: "
                f"{answer.error}",
                EXIT_SIDE_MISCONFIGURED,
            )
    version = target.server_version
    if version is None:
        header = ping.headers.get("x-version-id", "")
        parsed = Version.lenient(header)
        version = str(parsed) if parsed is not None else None
    edition = target.edition
    if edition is None:
        ready = _string_map(connection, _CLIENT_CONFIG).get("BuildEnterpriseReady")
        edition = {"true": "enterprise", "false": "team"}.get(str(ready).lower())
    licensed = target.licensed
    if licensed is None:
        flag = _string_map(connection, _CLIENT_LICENSE).get("IsLicensed")
        licensed = {"true": True, "false": False}.get(str(flag).lower())
    return SideFacts(
        server_version=version,
        edition=edition,
        licensed=licensed,
        callers=callers_of(target),
        url=target.url,
    )
