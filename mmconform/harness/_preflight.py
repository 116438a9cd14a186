"""Checks made once, before any test: the target answers, its tokens are what they claim to be,
and its version is known."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import httpx

from mmconform._version import Version
from mmconform.contract import ANONYMOUS, Contract
from mmconform.harness._clients import (
    Transport,
    describe_transport_error,
    is_certificate_error,
    make_client,
)
from mmconform.harness._exitcodes import (
    EXIT_TARGET_MISCONFIGURED,
    EXIT_TARGET_UNREACHABLE,
    TargetProblem,
)
from mmconform.harness._server_facts import ServerFacts, learn_server_facts
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
    facts: ServerFacts = field(default_factory=ServerFacts)
    notes: list[str] = field(default_factory=list)


def check_reachable(target: Target, transport: Transport) -> httpx.Response:
    """GET /system/ping, read closely: the target must answer it as a Mattermost server does
    (200, or 500 when unhealthy, with a JSON status), or the run stops with a message that
    says what the target is instead."""
    timeout = httpx.Timeout(transport.timeout, connect=min(CONNECT_TIMEOUT, transport.timeout))
    where = "GET /api/v4/system/ping"
    try:
        with make_client(target, ANONYMOUS, transport) as client:
            response = client.get("/system/ping", timeout=timeout)
    except httpx.TransportError as exc:
        raise _no_answer(target, where, exc, first=True) from None
    _require_api_answer(target, where, response)
    body = _json(response)
    if response.status_code not in (200, 500) or not (isinstance(body, dict) and "status" in body):
        raise TargetProblem(
            f"target {target.url} does not look like a Mattermost server: {where} answered "
            f"{_describe(response)}, not a JSON ping status",
            EXIT_TARGET_MISCONFIGURED,
        )
    return response


def _no_answer(target: Target, where: str, exc: Exception, *, first: bool) -> TargetProblem:
    if is_certificate_error(exc):
        return TargetProblem(
            f"target {target.url}: {describe_transport_error(exc)}", EXIT_TARGET_MISCONFIGURED
        )
    if first:
        return TargetProblem(
            f"target {target.url} is unreachable: {describe_transport_error(exc)}. Is the "
            "server running, and is the URL right "
            f"(from {target.sources.get('url', 'embedded stub')})?",
            EXIT_TARGET_UNREACHABLE,
        )
    return TargetProblem(
        f"target {target.url} stopped answering during preflight, at {where}: "
        f"{describe_transport_error(exc)}",
        EXIT_TARGET_UNREACHABLE,
    )


def _require_api_answer(target: Target, where: str, response: httpx.Response) -> None:
    """Stop on answers that come from something other than the API: redirects, gateway and
    availability errors, and web pages. (An API answer of the wrong shape is not stopped here:
    judging it is the suites' work.)"""
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("location", "(no Location header)")
        raise TargetProblem(
            f"target {target.url}: {where} answered {status}, a redirect to {location}. The "
            "suite does not follow redirects: give the server's own base URL",
            EXIT_TARGET_MISCONFIGURED,
        )
    if status > 500:
        raise TargetProblem(
            f"target {target.url} answered {where} with {status}: it is not ready to be "
            "tested (a proxy or load balancer without a server behind it?)",
            EXIT_TARGET_UNREACHABLE,
        )
    if _media_type(response) == "text/html":
        raise TargetProblem(
            f"target {target.url} does not look like a Mattermost server: {where} answered "
            f"{_describe(response)}, a web page",
            EXIT_TARGET_MISCONFIGURED,
        )


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _describe(response: httpx.Response) -> str:
    kind = response.headers.get("content-type") or "no content type"
    return f"{response.status_code} ({kind})"


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
            problems += _token_problems(client, role, source, contract)
    if problems:
        raise TargetProblem(
            "target tokens do not match their roles:\n  - " + "\n  - ".join(problems),
            EXIT_TARGET_MISCONFIGURED,
        )


def _token_problems(client: httpx.Client, role: str, source: str, contract: Contract) -> list[str]:
    """What is wrong with one role's token; a target that does not answer as an API does is a
    target problem, raised, never blamed on the token."""
    target_url = str(client.base_url).rstrip("/").removesuffix("/api/v4")
    method, path = TOKEN_CHECK
    response = _probe(client, target_url, method, path, {})
    if response.status_code == 401:
        return [f"token for {role} ({source}) is not accepted: 401 on {method} {path}"]
    if response.status_code != 200:
        raise _unexpected(target_url, f"{method} {path}", response, role)
    problems = []
    for probe in role_probes(contract, role):
        response = _probe(client, target_url, probe.method, probe.path, probe.params)
        status = response.status_code
        if status not in (200, 403):
            raise _unexpected(target_url, probe.label, response, role)
        if probe.granted and status == 403:
            problems.append(
                f"token for {role} ({source}) lacks {probe.permission}: 403 on {probe.label}"
            )
        elif not probe.granted and status == 200:
            problems.append(
                f"token for {role} ({source}) has {probe.permission}, which {role} does not: "
                f"{status} on {probe.label} (a more privileged user's token?)"
            )
    return problems


def _probe(
    client: httpx.Client, target_url: str, method: str, path: str, params: Mapping[str, str]
) -> httpx.Response:
    where = f"{method} /api/v4{path}"
    try:
        response = client.request(method, path, params=dict(params))
    except httpx.TransportError as exc:
        raise _no_answer(Target(url=target_url), where, exc, first=False) from None
    _require_api_answer(Target(url=target_url), where, response)
    return response


def _unexpected(target_url: str, where: str, response: httpx.Response, role: str) -> TargetProblem:
    return TargetProblem(
        f"target {target_url} answered {where} as {role} with {_describe(response)}, which a "
        "Mattermost server does not: is this the server's API?",
        EXIT_TARGET_MISCONFIGURED,
    )


def run_preflight(target: Target, transport: Transport, contract: Contract) -> PreflightResult:
    ping = check_reachable(target, transport)
    version, source, header_version = determine_version(target, ping)
    verify_tokens(target, transport, contract)
    facts, notes = learn_server_facts(target, transport, ping)
    if header_version and version and header_version != version:
        notes.append(
            f"server version {version} ({source}) differs from X-Version-Id {header_version}; "
            f"using {version}"
        )
    return PreflightResult(
        server_version=version,
        version_source=source,
        header_version=header_version,
        facts=facts,
        notes=notes,
    )
