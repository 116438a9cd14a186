"""What the client tests share: the context a call is built from, the parametrisation (one
item per client method and role, with the marks the plugin selects on), the state guards and
the failure text."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mmconform.contract import ANONYMOUS, ROLES, Contract, Version
from mmconform.harness import ServerFacts, ServerState, Target
from suites.clients._expect import Expected, Granted, expected_answer

#: every role the suite calls as: the built-in ones and no credentials
CALLERS: tuple[str, ...] = (*ROLES, ANONYMOUS)
#: a well-formed team id (notices are asked for a team, which need not exist)
TEAM_ID = "abcdefghijklmnopqrstuvwxyz"
#: the client version the notices are asked for
CLIENT_VERSION = "11.9.0"

#: requirements every client test proves
JSON_MEDIA_TYPE = "clients.json-media-type"


@dataclass
class CallContext:
    """What a call may need, fetched only when a case asks for it."""

    request: pytest.FixtureRequest
    target: Target
    contract: Contract
    version: Version | None
    facts: ServerFacts
    role: str
    granted: bool

    def config(self) -> dict[str, Any]:
        """The config as system_admin reads it now (the config guard's snapshot)."""
        config: dict[str, Any] = self.request.getfixturevalue("config_guard")
        return config

    def accepted_license(self) -> bytes:
        data: bytes = self.request.getfixturevalue("accepted_license")
        return data

    def invalid_license(self) -> bytes:
        licenses: dict[str, bytes] = self.request.getfixturevalue("invalid_licenses")
        return licenses["garbage"]


@dataclass(frozen=True)
class Case:
    """One client method: the operation it calls, its arguments, what a caller that passes the
    access check may get, and the server-wide state it may change."""

    method: str
    operation: str
    args: Callable[[CallContext], Sequence[Any]] = lambda ctx: ()
    granted: Callable[[CallContext], Granted] = lambda ctx: Granted()
    #: "config", "server_busy" or "license": put back after a caller that passes
    guard: str | None = None
    requirements: tuple[str, ...] = ()
    #: roles to call as (default: every role and anonymous)
    roles: tuple[str, ...] = CALLERS
    #: for a Python driver method: how to call it, given the driver and the context
    call: Callable[[Any, CallContext], Any] | None = None


def parametrize(cases: Sequence[Case], requirement: str) -> pytest.MarkDecorator:
    """``@pytest.mark.parametrize`` over (case, role), one item each, marked with the
    operation (version and destructive deselection, xdist group, --operation), the role (skip
    when not given) and the requirements it proves."""
    params = []
    for case in cases:
        for role in case.roles:
            marks = [
                pytest.mark.mm_operation(case.operation),
                pytest.mark.mm_requirement(requirement, JSON_MEDIA_TYPE, *case.requirements),
            ]
            if role in ROLES:
                marks.append(pytest.mark.mm_role(role))
            params.append(pytest.param(case, role, marks=marks, id=f"{case.method}-{role}"))
    return pytest.mark.parametrize(("case", "role"), params)


def expectation(ctx: CallContext, case: Case, settings: Any) -> Expected:
    """The contract's verdict for this case and role on this target."""
    return expected_answer(
        ctx.contract,
        case.operation,
        ctx.role,
        facts=ctx.facts,
        settings=settings,
        granted=case.granted(ctx),
    )


@contextlib.contextmanager
def guarded(ctx: CallContext, case: Case) -> Iterator[None]:
    """Puts back what a caller that passes may change: the config and server busy through the
    harness's guards; a license installed on an unlicensed server is removed, and a license a
    licensed server lost is uploaded again when the target names one."""
    if case.guard is None or not ctx.granted:
        yield
        return
    if case.guard == "config":
        ctx.request.getfixturevalue("config_guard")
        yield
        return
    if case.guard == "server_busy":
        ctx.request.getfixturevalue("busy_guard")
        yield
        return
    state: ServerState = ctx.request.getfixturevalue("server_state")
    licensed = state.licensed()
    with state.guard({"license"}):
        try:
            yield
        finally:
            if licensed and state.licensed() is False and ctx.target.license_file is not None:
                _upload(state.client, ctx.target.license_file.read_bytes())


def _upload(client: httpx.Client, data: bytes) -> None:
    client.post("/license", files={"license": ("restore.mattermost-license", data)})


def failure(
    client: str, case: Case, role: str, expected: Expected, got: str, problems: Sequence[str]
) -> str:
    lines = [
        f"{client}: {case.method} ({case.operation}) as {role}",
        f"  expected: {expected.describe()}",
        f"  got: {got}",
    ]
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)
