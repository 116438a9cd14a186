"""What a correct server answers a client call, for one role, computed from the contract.

Who passes the access check comes from the contract (``roles_granted``, with the config gates
read from the target when its config can be read); what the others get, from the errata that
document it (401 without a session, 403 without the permission); what a caller that passes gets
on this server, from the edition, the license state and the errata rules for the target's
version. A case adds only what depends on the call itself (the shape of its value, or the
answers the target's own state decides, such as an SMTP test against the stored settings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mmconform.contract import (
    ANONYMOUS,
    LOCAL,
    ConfigGate,
    Contract,
    Expectation,
    Operation,
    Version,
)
from mmconform.harness import ServerFacts

__all__ = [
    "NO_LICENSE",
    "PERMISSION_DENIED",
    "SESSION_REQUIRED",
    "UPGRADE_NEEDED",
    "Answer",
    "Expected",
    "Granted",
    "expected_answer",
    "granted_from_erratum",
]

#: erratum session-401-everywhere: no valid session.
SESSION_REQUIRED = "api.context.session_expired.app_error"
#: erratum permission-403-documented: the caller lacks the permission (config gates answer it too).
PERMISSION_DENIED = "api.context.permissions.app_error"
#: erratum team-edition-trial-operations: a Team Edition build has no license manager.
UPGRADE_NEEDED = "api.license.upgrade_needed.app_error"
#: x-mm-license required: the operation needs a license the server lacks.
NO_LICENSE = "api.no_license"
TEAM_EDITION_ERRATUM = "team-edition-trial-operations"


@dataclass(frozen=True)
class Answer:
    """One acceptable answer that is not a value: a status and (when it matters) an error id."""

    status: int
    error_id: str | None = None
    why: str = ""

    def matches(self, status: int | None, error_id: str | None) -> bool:
        return status == self.status and (self.error_id is None or self.error_id == error_id)

    def __str__(self) -> str:
        text = f"{self.status} {self.error_id or '(any error id)'}"
        return f"{text} ({self.why})" if self.why else text


@dataclass(frozen=True)
class Granted:
    """What a caller that passes the access check may get: a value (unless ``value`` is False)
    or one of ``answers``, which the target's own state decides between."""

    value: bool = True
    answers: tuple[Answer, ...] = ()
    #: answers a server stricter than upstream may give any caller with a session, because it
    #: refuses the call's input before it checks the permission (spec/README.md, "Tolerance
    #: policy"): a call that sends input the seed calls invalid, as some client methods must
    strict: tuple[Answer, ...] = ()


@dataclass(frozen=True)
class Expected:
    """The verdict for one call: a value is right when ``value`` is set, an error when it
    matches one of ``answers``. ``reason`` says how the expectation was reached."""

    value: bool
    answers: tuple[Answer, ...]
    reason: str
    #: whether the caller passes the access check (and so may change what the call changes)
    passes: bool = True

    def allows_error(self, status: int | None, error_id: str | None) -> bool:
        return any(answer.matches(status, error_id) for answer in self.answers)

    def describe(self) -> str:
        options = ["a value of the declared shape"] if self.value else []
        options += [f"an error {answer}" for answer in self.answers]
        return " or ".join(options) + f" [{self.reason}]"


def granted_from_erratum(
    contract: Contract, erratum_id: str, case: str, version: Version | None
) -> Granted:
    """The answers an erratum's rule for ``version`` gives for ``case``: a 2xx is a value."""
    expectation = contract.erratum(erratum_id).expectation(case, version)
    if expectation is None:
        raise LookupError(f"erratum {erratum_id} has no rule for {case!r} at {version}")
    options: Iterable[Expectation] = (expectation, *expectation.also)
    value = False
    answers: list[Answer] = []
    for option in options:
        if 200 <= option.status < 400 and option.status != 302:
            value = True
        else:
            answers.append(Answer(option.status, option.error_id, f"erratum {erratum_id}"))
    return Granted(value=value, answers=tuple(answers))


def _gate_active(gate: ConfigGate, settings: Mapping[str, Any]) -> bool:
    """Whether a config gate denies on the target (its default when the setting is unknown)."""
    current = settings.get(gate.setting, gate.default)
    return bool(current == gate.value)


def granted_roles(
    contract: Contract, operation: Operation, settings: Mapping[str, Any]
) -> frozenset[str]:
    """The contract's roles for a default install, with the gates as the target has them."""
    roles = set(contract.roles_granted(operation.operation_id))
    for gate in operation.config_gates:
        if gate.active_by_default and not _gate_active(gate, settings):
            roles |= set(gate.denies)
        elif not gate.active_by_default and _gate_active(gate, settings):
            roles -= set(gate.denies)
    return frozenset(roles)


def expected_answer(
    contract: Contract,
    operation_id: str,
    role: str,
    *,
    facts: ServerFacts,
    settings: Mapping[str, Any],
    granted: Granted,
) -> Expected:
    """What a correct server answers ``role`` for this call."""
    operation = contract.operation(operation_id)
    if role == LOCAL:
        # Local mode is a transport with an unrestricted session: no permission check.
        if operation.auth == "local-only" or operation.local_mode:
            return Expected(granted.value, granted.answers, "local mode")
        return Expected(
            False, (Answer(404, None, "not served on the local socket"),), "local mode", False
        )
    if role == ANONYMOUS and operation.auth == "session":
        return Expected(False, (Answer(401, SESSION_REQUIRED),), "no session", False)
    expected = _with_session(contract, operation, role, facts, settings, granted)
    if not granted.strict:
        return expected
    return Expected(
        expected.value,
        (*expected.answers, *granted.strict),
        expected.reason + "; or a stricter server's refusal of the input",
        expected.passes,
    )


def _with_session(
    contract: Contract,
    operation: Operation,
    role: str,
    facts: ServerFacts,
    settings: Mapping[str, Any],
    granted: Granted,
) -> Expected:
    """What a correct server answers a caller with a session (or to an operation that needs
    none)."""
    operation_id = operation.operation_id
    if role not in granted_roles(contract, operation, settings):
        for gate in operation.config_gates:
            if role in gate.denies and _gate_active(gate, settings):
                why = f"{gate.setting} is {gate.value!r}"
                return Expected(False, (Answer(gate.status, PERMISSION_DENIED),), why, False)
        needed = " or ".join(operation.permissions) or "a session"
        return Expected(False, (Answer(403, PERMISSION_DENIED),), f"{role} lacks {needed}", False)
    if (
        facts.edition == "team"
        and operation_id in contract.erratum(TEAM_EDITION_ERRATUM).operations
    ):
        return Expected(
            False, (Answer(403, UPGRADE_NEEDED),), f"Team Edition (erratum {TEAM_EDITION_ERRATUM})"
        )
    answers = granted.answers
    value = granted.value
    reason = f"{role} may call {operation_id}"
    if operation.license == "required":
        refused = Answer(403, NO_LICENSE, "x-mm-license: required")
        if facts.licensed is False:
            return Expected(False, (refused,), "the server holds no license")
        if facts.licensed is None:
            answers = (*answers, refused)
            reason += "; license state unknown"
    return Expected(value, answers, reason)
