"""Checks made once, before any test: the target answers, its tokens are what they claim to be,
and its version is known."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from mmconform._version import Version
from mmconform.harness._clients import Transport, make_client
from mmconform.harness._target import ANONYMOUS, Target

#: Exit codes of a session that could not start (pytest's own codes are 0-5).
EXIT_TARGET_UNREACHABLE = 10
EXIT_TARGET_MISCONFIGURED = 11
EXIT_STATE_NOT_RESTORED = 12

CONNECT_TIMEOUT = 3.0


class PreflightError(Exception):
    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode


def parse_version(raw: str | None) -> Version | None:
    """``11.1.0`` / ``v10.5`` / an ``X-Version-Id`` header → Version; anything else → None."""
    if not raw:
        return None
    for parse in (Version.parse, Version.from_header):
        try:
            return parse(raw)
        except ValueError:
            continue
    return None


def format_version(version: Version) -> str:
    return str(version)


@dataclass(frozen=True)
class Probe:
    """One request whose answer tells something about a token's role."""

    method: str
    path: str
    #: permission the request needs, for the message
    permission: str


TOKEN_VALID = Probe("GET", "/system/timezones", "a valid session")
MANAGE_SYSTEM = Probe("GET", "/server_busy", "manage_system")
SYSCONSOLE_READ = Probe("GET", "/config", "a sysconsole_read_* permission")
READ_AUDITS = Probe("GET", "/audits?page=0&per_page=1", "read_audits")
GET_LOGS = Probe("GET", "/logs?page=0&logs_per_page=1", "get_logs")

#: For each role, the probes it must pass (True) and must fail with 403 (False), per the
#: default-install permission matrix. Only read-only, side-effect-free requests are used.
ROLE_PROBES: dict[str, tuple[tuple[Probe, bool], ...]] = {
    "system_admin": ((MANAGE_SYSTEM, True), (SYSCONSOLE_READ, True)),
    "system_manager": (
        (MANAGE_SYSTEM, False),
        (SYSCONSOLE_READ, True),
        (GET_LOGS, True),
        (READ_AUDITS, False),
    ),
    "system_user_manager": ((MANAGE_SYSTEM, False), (SYSCONSOLE_READ, True), (GET_LOGS, False)),
    "system_read_only_admin": (
        (MANAGE_SYSTEM, False),
        (SYSCONSOLE_READ, True),
        (READ_AUDITS, True),
    ),
    "system_user": ((MANAGE_SYSTEM, False), (SYSCONSOLE_READ, False)),
}


@dataclass
class PreflightResult:
    server_version: str | None
    version_source: str
    header_version: str | None
    verified_roles: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def check_reachable(target: Target, transport: Transport) -> httpx.Response:
    """GET /system/ping; any transport failure becomes an 'unreachable' PreflightError."""
    timeout = httpx.Timeout(transport.timeout, connect=min(CONNECT_TIMEOUT, transport.timeout))
    try:
        with make_client(target, ANONYMOUS, transport) as client:
            response = client.get("/system/ping", timeout=timeout)
    except httpx.TransportError as exc:
        raise PreflightError(
            f"target {target.url} is unreachable: {type(exc).__name__}: {exc or 'no detail'}. "
            "Is the server running, and is the URL right "
            f"(from {target.sources.get('url', 'embedded stub')})?",
            EXIT_TARGET_UNREACHABLE,
        ) from None
    if response.status_code >= 500 and response.status_code != 500:
        raise PreflightError(
            f"target {target.url} answers GET /api/v4/system/ping with "
            f"{response.status_code}: it is not ready to be tested",
            EXIT_TARGET_UNREACHABLE,
        )
    if "X-Version-Id" not in response.headers and "application/json" not in response.headers.get(
        "content-type", ""
    ):
        raise PreflightError(
            f"target {target.url} does not look like a Mattermost server: GET /api/v4/system/ping "
            f"answered {response.status_code} {response.headers.get('content-type', '')!r} "
            "without an X-Version-Id header",
            EXIT_TARGET_MISCONFIGURED,
        )
    return response


def determine_version(target: Target, ping: httpx.Response) -> tuple[str | None, str, str | None]:
    """(version, where it came from, version in the X-Version-Id header).

    An explicit version (target file or environment) wins over the header, so that a tester can
    state what a build claims to be; both are reported.
    """
    header = ping.headers.get("X-Version-Id")
    parsed = parse_version(header)
    header_version = format_version(parsed) if parsed else None
    if target.server_version:
        explicit = parse_version(target.server_version)
        if explicit is None:
            raise PreflightError(
                f"server version {target.server_version!r} "
                f"(from {target.sources.get('server_version', 'target')}) is not a version "
                "such as 11.1.0",
                EXIT_TARGET_MISCONFIGURED,
            )
        return (
            format_version(explicit),
            target.sources.get("server_version", "target"),
            header_version,
        )
    if header_version:
        return header_version, "X-Version-Id header", header_version
    return None, "unknown (no X-Version-Id header, no server_version given)", None


def verify_tokens(
    target: Target,
    transport: Transport,
    *,
    client_factory: Callable[[Target, str, Transport], httpx.Client] = make_client,
) -> tuple[str, ...]:
    """Each token given must be valid and hold exactly its role's key permissions.

    Raises a 'misconfigured' PreflightError listing every problem found.
    """
    problems: list[str] = []
    for role in target.roles:
        source = target.sources.get(f"token:{role}", "target")
        with client_factory(target, role, transport) as client:
            try:
                response = client.request(TOKEN_VALID.method, TOKEN_VALID.path)
            except httpx.TransportError as exc:
                raise PreflightError(
                    f"target {target.url} stopped answering during preflight: {exc}",
                    EXIT_TARGET_UNREACHABLE,
                ) from None
            if response.status_code == 401:
                problems.append(
                    f"token for {role} ({source}) is not accepted: 401 on GET /system/timezones"
                )
                continue
            for probe, granted in ROLE_PROBES[role]:
                response = client.request(probe.method, probe.path)
                if granted and response.status_code == 403:
                    problems.append(
                        f"token for {role} ({source}) lacks {probe.permission}: "
                        f"403 on {probe.method} {probe.path}"
                    )
                elif not granted and 200 <= response.status_code < 300:
                    problems.append(
                        f"token for {role} ({source}) has {probe.permission}, "
                        f"which {role} does not: {response.status_code} on "
                        f"{probe.method} {probe.path} (a more privileged user's token?)"
                    )
    if problems:
        raise PreflightError(
            "target tokens do not match their roles:\n  - " + "\n  - ".join(problems),
            EXIT_TARGET_MISCONFIGURED,
        )
    return target.roles


def run_preflight(target: Target, transport: Transport) -> PreflightResult:
    ping = check_reachable(target, transport)
    version, source, header_version = determine_version(target, ping)
    roles = verify_tokens(target, transport)
    notes: list[str] = []
    if header_version and version and header_version != version:
        notes.append(
            f"server version {version} ({source}) differs from X-Version-Id {header_version}; "
            f"using {version}"
        )
    return PreflightResult(
        server_version=version,
        version_source=source,
        header_version=header_version,
        verified_roles=roles,
        notes=notes,
    )
