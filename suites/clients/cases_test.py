"""What the client tests share: the context a call is built from, the parametrisation (one
item per client method and role, with the marks the plugin selects on), the answers both
clients' calls share, the state guards and the failure text.

(Named ``*_test.py`` like every helper module of the suites: pytest collects only ``test_*.py``,
and Hypothesis mines no constants from such modules for the contract suite's generated data.)"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mmconform.contract import ANONYMOUS, ROLES, Contract, MatrixConditions, Version
from mmconform.harness import ServerFacts, ServerState, Target
from suites.clients.expect_test import ErrorAnswer, Expected, Granted, expected_answer

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
    #: the target's conditions for the call's operation (the permission ladder's input)
    conditions: MatrixConditions
    role: str
    granted: bool = False

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


def expectation(ctx: CallContext, case: Case) -> Expected:
    """The contract's verdict for this case and role on this target."""
    return expected_answer(
        ctx.contract,
        case.operation,
        ctx.role,
        conditions=ctx.conditions,
        granted=case.granted(ctx),
    )


# --- answers the state of the target decides, shared by both clients' cases -----------------

#: The stored settings a connection test uses decide its answer.
STORED_SETTINGS = (
    ErrorAnswer(400, None, "the stored settings are incomplete"),
    ErrorAnswer(500, None, "the stored settings do not connect"),
)
#: a stricter server's answer to a connection test whose body is no configuration: it may
#: refuse it before the permission check (erratum lenient-body-parsing, the tolerance policy)
NO_CONFIG_REFUSED = (
    ErrorAnswer(400, None, "a stricter server refuses a body that is no configuration"),
)


def upgrade(ctx: CallContext) -> Granted:
    """The upgrade to Enterprise: an Enterprise build is already there."""
    if ctx.facts.edition == "enterprise":
        return Granted(
            value=False,
            answers=(ErrorAnswer(429, "api.upgrade_to_enterprise.already-enterprise.app_error"),),
        )
    return Granted(
        answers=(
            ErrorAnswer(429, "api.upgrade_to_enterprise.app_error", "an upgrade is under way"),
            ErrorAnswer(403, "api.upgrade_to_enterprise.system_not_supported.app_error"),
        )
    )


def upgrade_allowed(ctx: CallContext) -> Granted:
    """Whether the upgrade is possible: an Enterprise build answers with the upgrader's own
    error text as the id."""
    if ctx.facts.edition == "enterprise":
        return Granted(value=False, answers=(ErrorAnswer(403, None, "already Enterprise Edition"),))
    return Granted(
        answers=(ErrorAnswer(403, "api.upgrade_to_enterprise.system_not_supported.app_error"),)
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
