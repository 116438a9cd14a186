"""The report's vocabulary: what a test result is, the status ladder, and the verdict.

Statuses only escalate, from least to most telling:
``unsupported`` (the target does not claim the feature, cannot hold the role, or does not have
the operation) <
``skipped`` < ``passed`` < ``failed`` < ``error`` (the suite itself broke). A requirement,
an operation or a category takes the highest status of its tests.

The verdict of a run: NOT CONFORMANT when any test failed; otherwise INCOMPLETE when the suite
broke, the run stopped early, a role was missing, or a requirement that applies (and whose
features the target claims) was not proved, each reason saying what was missing and what would
complete the run (the role's token, the data or setting a skipped test lacked, the tests a
narrowed run left out); otherwise CONFORMANT WITH UNSUPPORTED FEATURES when something was
unsupported (the reasons name the roles the target cannot hold and why, and count the tests of
features it does not claim); otherwise CONFORMANT. A role the target could hold but was not given
is missing, not unsupported. It is computed from the raw test results alone,
so anyone can recompute it from a report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from mmconform.contract import ROLES

__all__ = [
    "CONFORMANT",
    "CONFORMANT_WITH_UNSUPPORTED",
    "INCOMPLETE",
    "LADDER",
    "NOT_CONFORMANT",
    "UNSUPPORTED_PREFIX",
    "CellResult",
    "TestResult",
    "Verdict",
    "highest",
    "unavailable_role_reason",
    "verdict_of",
]

LADDER: Final = ("unsupported", "skipped", "passed", "failed", "error")
CONFORMANT: Final = "CONFORMANT"
CONFORMANT_WITH_UNSUPPORTED: Final = "CONFORMANT WITH UNSUPPORTED FEATURES"
NOT_CONFORMANT: Final = "NOT CONFORMANT"
INCOMPLETE: Final = "INCOMPLETE"
#: A skip whose reason starts with this is "unsupported", not "skipped".
UNSUPPORTED_PREFIX: Final = "unsupported: "
_UNAVAILABLE_ROLE = re.compile(
    re.escape(UNSUPPORTED_PREFIX) + r"role (\S+) cannot be held on this target: (.+)"
)


def unavailable_role_reason(role: str, why: str) -> str:
    """The skip reason of a test needing a role the target cannot hold: unsupported, and the
    verdict names the role and ``why`` (read back from the raw results)."""
    return f"{UNSUPPORTED_PREFIX}role {role} cannot be held on this target: {why}"


@dataclass(frozen=True)
class CellResult:
    """One cell of the permission matrix: what the contract expects a role to get for an
    operation, and what the target answered."""

    operation: str
    role: str
    #: what the caller should get (mmconform.contract.ACCESS_KINDS): "allowed", "denied",
    #: "unauthenticated", "refused", "not_served" or "either" (where a condition is unknown)
    expected: str
    #: the statuses the expectation accepts
    expected_statuses: tuple[int, ...]
    #: the status the target answered (None when the test did not get that far)
    observed: int | None
    #: the AppError id the target answered, if any
    observed_error_id: str | None = None
    #: "passed", "failed", "skipped" (filled in from the test's outcome)
    verdict: str = "not run"
    note: str = ""


@dataclass
class TestResult:
    """One conformance test's outcome and what it was about."""

    nodeid: str
    #: a status of the ladder
    outcome: str
    category: str
    operations: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    duration: float = 0.0
    #: the failure or skip text (already redacted)
    message: str = ""
    cells: list[CellResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "category": self.category,
            "operations": list(self.operations),
            "roles": list(self.roles),
            "requirements": list(self.requirements),
            "features": list(self.features),
            "duration": round(self.duration, 4),
            "message": self.message,
        }


def highest(statuses: Iterable[str], default: str = "unsupported") -> str:
    """The highest status of the ladder among ``statuses``."""
    ranked = [LADDER.index(status) for status in statuses]
    return LADDER[max(ranked)] if ranked else default


@dataclass(frozen=True)
class Verdict:
    status: str
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": list(self.reasons)}


def verdict_of(
    tests: Sequence[Mapping[str, Any]],
    *,
    requirements: Mapping[str, Sequence[str]],
    claimed_features: Iterable[str],
    missing_roles: Sequence[str] = (),
    stopped: str | None = None,
    narrowed: Sequence[str] = (),
) -> Verdict:
    """The run's verdict from its raw test results.

    ``tests`` are :meth:`TestResult.as_dict` records; ``requirements`` maps every requirement
    that applies to the target to the features it needs; ``narrowed`` says how the person
    running it left tests out (``-k ...``), which only changes the words of an INCOMPLETE
    verdict. Each reason of an INCOMPLETE verdict says what is missing and what would complete
    the run.
    """
    outcomes = [str(test["outcome"]) for test in tests]
    reasons: list[str] = []
    failed = outcomes.count("failed")
    if failed:
        return Verdict(NOT_CONFORMANT, (f"{failed} test(s) failed",))
    errors = outcomes.count("error")
    if errors:
        reasons.append(
            f"{errors} test(s) could not run (suite errors): their errors say why; "
            "run again once that is mended"
        )
    if stopped:
        reasons.append(f"the run stopped early: {stopped}; run again when the target answers")
    if missing_roles:
        reasons.append(
            f"roles not given: {', '.join(missing_roles)}; give a token for each "
            "([tokens] in the target file, or MMCONFORM_TOKEN_<ROLE>)"
        )
    claimed = set(claimed_features)
    by_requirement: dict[str, list[Mapping[str, Any]]] = {}
    for test in tests:
        for req in test.get("requirements", ()):
            by_requirement.setdefault(str(req), []).append(test)
    unproved = sorted(
        req
        for req, needs in requirements.items()
        if set(needs) <= claimed
        and not _proved_or_unsupported([str(t["outcome"]) for t in by_requirement.get(req, [])])
    )
    if unproved:
        reasons.append(_unproved_reason(unproved, by_requirement, narrowed))
    if reasons:
        return Verdict(INCOMPLETE, tuple(reasons))
    unsupported = _unsupported_reasons(tests)
    if unsupported:
        return Verdict(CONFORMANT_WITH_UNSUPPORTED, unsupported)
    return Verdict(CONFORMANT, (f"{outcomes.count('passed')} test(s) passed",))


#: How many groups of unproved requirements, and ids per group, a reason names.
_GROUPS_SHOWN = 4
_IDS_SHOWN = 6
_WHY_LENGTH = 160


def _unproved_reason(
    unproved: Sequence[str],
    by_requirement: Mapping[str, Sequence[Mapping[str, Any]]],
    narrowed: Sequence[str],
) -> str:
    """``N requirement(s) not proved``, grouped by why: the skip reason of their tests (the
    data, role or feature the target lacked), or that no test of them ran."""
    groups: dict[str, list[str]] = {}
    for req in unproved:
        groups.setdefault(_why_unproved(by_requirement.get(req, ()), narrowed), []).append(req)
    parts = []
    for why, ids in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        shown = ", ".join(ids[:_IDS_SHOWN]) + (" ..." if len(ids) > _IDS_SHOWN else "")
        parts.append(f"{shown} ({why})")
    if len(parts) > _GROUPS_SHOWN:
        rest = sum(len(ids) for ids in list(groups.values())[_GROUPS_SHOWN:])
        parts = [*parts[:_GROUPS_SHOWN], f"{rest} more"]
    return f"{len(unproved)} requirement(s) not proved: " + "; ".join(parts)


def _why_unproved(tests: Sequence[Mapping[str, Any]], narrowed: Sequence[str]) -> str:
    if not tests:
        if narrowed:
            return f"no test of it ran: the run was narrowed ({', '.join(narrowed)})"
        return "no test of it ran: see the deselected tests and why"
    if any(t["outcome"] == "error" for t in tests):
        return "its tests could not run"
    skipped = [t for t in tests if t["outcome"] == "skipped"]
    message = next(
        (line.strip() for t in skipped for line in str(t.get("message", "")).splitlines() if line),
        "",
    )
    message = message.removeprefix("Skipped: ")
    if not message:
        return "skipped, with no reason given"
    if len(message) > _WHY_LENGTH:
        message = message[: _WHY_LENGTH - 1] + "…"
    return f"skipped: {message}"


def _unsupported_reasons(tests: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Why tests were unsupported: roles the target cannot hold (named, with the rule that
    says so), and features it does not claim."""
    roles_by_why: dict[str, set[str]] = {}
    tests_by_why: dict[str, int] = {}
    features = 0
    for test in tests:
        if test["outcome"] != "unsupported":
            continue
        found = _UNAVAILABLE_ROLE.match(str(test.get("message", "")).strip().split("\n", 1)[0])
        if found is None:
            features += 1
            continue
        role, why = found.groups()
        roles_by_why.setdefault(why, set()).add(role)
        tests_by_why[why] = tests_by_why.get(why, 0) + 1
    reasons = [
        f"{tests_by_why[why]} test(s) need roles this target cannot hold ({_ordered(roles)}): {why}"
        for why, roles in roles_by_why.items()
    ]
    if features:
        reasons.append(f"{features} test(s) of features the target does not claim")
    return tuple(reasons)


def _ordered(roles: set[str]) -> str:
    known = [role for role in ROLES if role in roles]
    return ", ".join([*known, *sorted(roles - set(known))])


def _proved_or_unsupported(outcomes: Sequence[str]) -> bool:
    """A requirement is settled when a test of it passed, or when every test of it is about a
    feature the target does not claim."""
    return "passed" in outcomes or (bool(outcomes) and set(outcomes) == {"unsupported"})
