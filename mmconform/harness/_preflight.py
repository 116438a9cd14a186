"""Checks made once, before any test: the target answers, its tokens are what they claim to be,
and its version is known."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import httpx

from mmconform._version import Version
from mmconform.contract import ANONYMOUS, Contract
from mmconform.harness._clients import Transport, make_client
from mmconform.harness._exitcodes import (
    EXIT_TARGET_MISCONFIGURED,
    EXIT_TARGET_UNREACHABLE,
    TargetProblem,
)
from mmconform.harness._target import Target

__all__ = [
    "PreflightResult",
    "Probe",
    "check_reachable",
    "determine_version",
    "role_probes",
    "run_preflight",
    "verify_tokens",
]

CONNECT_TIMEOUT = 3.0

#: Read-only operations whose permission checks tell the built-in roles apart, with the query
#: that keeps each answer small. Who passes which one comes from the contract (x-mm-roles).
PROBE_OPERATIONS: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("GetServerBusyExpires", MappingProxyType({})),
    ("GetConfig", MappingProxyType({})),
    ("GetAudits", MappingProxyType({"page": "0", "per_page": "1"})),
    ("GetLogs", MappingProxyType({"page": "0", "logs_per_page": "1"})),
)
#: The request that tells a valid token from an invalid one: any logged-in user passes it.
TOKEN_CHECK = ("GET", "/system/timezones")


@dataclass(frozen=True)
class Probe:
    """One request whose answer tells something about a token's role."""

    method: str
    path: str
    params: Mapping[str, str]
    #: the permission(s) it needs, for the message
    permission: str
    #: whether the role the token claims passes it
    granted: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def role_probes(contract: Contract, role: str) -> tuple[Probe, ...]:
    """The probes a token of ``role`` is held to, with what the contract says it must get."""
    probes = []
    for operation_id, params in PROBE_OPERATIONS:
        operation = contract.operation(operation_id)
        probes.append(
            Probe(
                method=operation.method,
                path=operation.client_path(),
                params=params,
                permission=" or ".join(operation.permissions),
                granted=role in contract.roles_granted(operation_id),
            )
        )
    return tuple(probes)


@dataclass
class PreflightResult:
    server_version: Version | None
    version_source: str
    header_version: Version | None
    notes: list[str] = field(default_factory=list)


def check_reachable(target: Target, transport: Transport) -> httpx.Response:
    """GET /system/ping; any transport failure becomes an 'unreachable' TargetProblem."""
    timeout = httpx.Timeout(transport.timeout, connect=min(CONNECT_TIMEOUT, transport.timeout))
    try:
        with make_client(target, ANONYMOUS, transport) as client:
            response = client.get("/system/ping", timeout=timeout)
    except httpx.TransportError as exc:
        raise TargetProblem(
            f"target {target.url} is unreachable: {type(exc).__name__}: {exc or 'no detail'}. "
            "Is the server running, and is the URL right "
            f"(from {target.sources.get('url', 'embedded stub')})?",
            EXIT_TARGET_UNREACHABLE,
        ) from None
    if response.status_code > 500:
        raise TargetProblem(
            f"target {target.url} answers GET /api/v4/system/ping with "
            f"{response.status_code}: it is not ready to be tested",
            EXIT_TARGET_UNREACHABLE,
        )
    if "X-Version-Id" not in response.headers and "application/json" not in response.headers.get(
        "content-type", ""
    ):
        raise TargetProblem(
            f"target {target.url} does not look like a Mattermost server: GET /api/v4/system/ping "
            f"answered {response.status_code} {response.headers.get('content-type', '')!r} "
            "without an X-Version-Id header",
            EXIT_TARGET_MISCONFIGURED,
        )
    return response


def determine_version(
    target: Target, ping: httpx.Response
) -> tuple[Version | None, str, Version | None]:
    """(version, where it came from, version in the X-Version-Id header).

    An explicit version (target file or environment) wins over the header, so that a tester can
    state what a build claims to be; both are reported.
    """
    header_version = Version.lenient(ping.headers.get("X-Version-Id"))
    if target.server_version:
        explicit = Version.lenient(target.server_version)
        if explicit is None:
            raise TargetProblem(
                f"server version {target.server_version!r} "
                f"(from {target.sources.get('server_version', 'target')}) is not a version "
                "such as 11.1.0",
                EXIT_TARGET_MISCONFIGURED,
            )
        return explicit, target.sources.get("server_version", "target"), header_version
    if header_version:
        return header_version, "X-Version-Id header", header_version
    return None, "unknown (no X-Version-Id header, no server_version given)", None


def verify_tokens(
    target: Target,
    transport: Transport,
    contract: Contract,
    *,
    client_factory: Callable[[Target, str, Transport], httpx.Client] = make_client,
) -> None:
    """Each token given must be valid and hold exactly its role's key permissions.

    Raises a 'misconfigured' TargetProblem listing every problem found.
    """
    problems: list[str] = []
    for role in target.roles:
        source = target.sources.get(f"token:{role}", "target")
        with client_factory(target, role, transport) as client:
            try:
                problems += _token_problems(client, role, source, contract)
            except httpx.TransportError as exc:
                raise TargetProblem(
                    f"target {target.url} stopped answering during preflight: {exc}",
                    EXIT_TARGET_UNREACHABLE,
                ) from None
    if problems:
        raise TargetProblem(
            "target tokens do not match their roles:\n  - " + "\n  - ".join(problems),
            EXIT_TARGET_MISCONFIGURED,
        )


def _token_problems(client: httpx.Client, role: str, source: str, contract: Contract) -> list[str]:
    method, path = TOKEN_CHECK
    if client.request(method, path).status_code == 401:
        return [f"token for {role} ({source}) is not accepted: 401 on {method} {path}"]
    problems = []
    for probe in role_probes(contract, role):
        status = client.request(probe.method, probe.path, params=dict(probe.params)).status_code
        if probe.granted and status == 403:
            problems.append(
                f"token for {role} ({source}) lacks {probe.permission}: 403 on {probe.label}"
            )
        elif not probe.granted and 200 <= status < 300:
            problems.append(
                f"token for {role} ({source}) has {probe.permission}, which {role} does not: "
                f"{status} on {probe.label} (a more privileged user's token?)"
            )
    return problems


def run_preflight(target: Target, transport: Transport, contract: Contract) -> PreflightResult:
    ping = check_reachable(target, transport)
    version, source, header_version = determine_version(target, ping)
    verify_tokens(target, transport, contract)
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
        notes=notes,
    )
