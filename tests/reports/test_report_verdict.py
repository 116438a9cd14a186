"""The status ladder and the verdict, from raw test results alone."""

from __future__ import annotations

from typing import Any

import pytest

from mmconform.report import (
    CONFORMANT,
    CONFORMANT_WITH_UNSUPPORTED,
    INCOMPLETE,
    LADDER,
    NOT_CONFORMANT,
    highest,
    unavailable_role_reason,
    verdict_of,
)


def result(outcome: str, *requirements: str) -> dict[str, Any]:
    return {"nodeid": f"t::{outcome}", "outcome": outcome, "requirements": list(requirements)}


REQUIREMENTS = {"busy.expires": (), "email.sends": ("smtp",)}


@pytest.mark.parametrize(
    ("tests", "kwargs", "status"),
    [
        ([result("passed", "busy.expires")], {}, CONFORMANT),
        ([result("passed", "busy.expires"), result("failed")], {}, NOT_CONFORMANT),
        # a failure is definite even when the run is incomplete
        ([result("failed"), result("error")], {"missing_roles": ("system_user",)}, NOT_CONFORMANT),
        ([result("passed", "busy.expires"), result("error")], {}, INCOMPLETE),
        ([result("skipped", "busy.expires")], {}, INCOMPLETE),
        ([result("passed", "busy.expires")], {"missing_roles": ("system_user",)}, INCOMPLETE),
        ([result("passed", "busy.expires")], {"stopped": "target stopped answering"}, INCOMPLETE),
        (
            [result("passed", "busy.expires"), result("unsupported", "email.sends")],
            {},
            CONFORMANT_WITH_UNSUPPORTED,
        ),
        # a claimed feature must be proved
        ([result("passed", "busy.expires")], {"claimed": ("smtp",)}, INCOMPLETE),
    ],
)
def test_verdicts(tests: list[dict[str, Any]], kwargs: dict[str, Any], status: str) -> None:
    claimed = kwargs.pop("claimed", ())
    verdict = verdict_of(tests, requirements=REQUIREMENTS, claimed_features=claimed, **kwargs)
    assert verdict.status == status, verdict.reasons
    assert verdict.reasons


def test_the_ladder_only_escalates() -> None:
    assert LADDER == ("unsupported", "skipped", "passed", "failed", "error")
    assert highest(["passed", "skipped"]) == "passed"
    assert highest(["passed", "failed", "skipped"]) == "failed"
    assert highest(["failed", "error"]) == "error"
    assert highest([], default="skipped") == "skipped"


def skipped(requirement: str, reason: str) -> dict[str, Any]:
    return {
        "nodeid": f"t::{requirement}",
        "outcome": "skipped",
        "requirements": [requirement],
        "message": f"Skipped: {reason}\nmore detail",
    }


def test_an_incomplete_verdict_says_what_is_missing_and_what_would_complete_it() -> None:
    tests = [
        result("passed", "busy.expires"),
        skipped("audits.paging-limits", "the target holds 12 audits; more than 200 are needed"),
    ]
    requirements = {"busy.expires": (), "audits.paging-limits": (), "logs.paging": ()}
    verdict = verdict_of(
        tests,
        requirements=requirements,
        claimed_features=(),
        missing_roles=("system_manager",),
        stopped="the target stopped answering after 12 requests",
    )
    assert verdict.status == INCOMPLETE
    roles, stopped, unproved = (
        next(r for r in verdict.reasons if r.startswith(start))
        for start in ("roles not given", "the run stopped early", "2 requirement(s) not proved")
    )
    assert "system_manager" in roles
    assert "MMCONFORM_TOKEN_<ROLE>" in roles
    assert "run again when the target answers" in stopped
    assert (
        "audits.paging-limits (skipped: the target holds 12 audits; more than 200 are needed)"
        in unproved
    )
    assert "logs.paging (no test of it ran" in unproved
    assert "busy.expires" not in unproved


def test_a_narrowed_run_names_what_it_left_out() -> None:
    verdict = verdict_of(
        [result("passed", "busy.expires")],
        requirements={"busy.expires": (), "logs.paging": ()},
        claimed_features=(),
        narrowed=("-k 'busy'",),
    )
    assert verdict.status == INCOMPLETE
    (reason,) = verdict.reasons
    assert "logs.paging (no test of it ran: the run was narrowed (-k 'busy'))" in reason


def test_unsupported_roles_are_named_with_the_rule_that_makes_them_so() -> None:
    why = "upstream assigns them only under a license with CustomPermissionsSchemes"
    tests = [
        result("passed", "busy.expires"),
        *(
            {
                "nodeid": f"t::{role}",
                "outcome": "unsupported",
                "requirements": [],
                "message": unavailable_role_reason(role, why),
            }
            for role in ("system_read_only_admin", "system_manager", "system_manager")
        ),
        {**result("unsupported", "email.sends"), "message": "unsupported: no smtp"},
    ]
    verdict = verdict_of(tests, requirements=REQUIREMENTS, claimed_features=())
    assert verdict.status == CONFORMANT_WITH_UNSUPPORTED
    assert verdict.reasons == (
        "3 test(s) need roles this target cannot hold (system_manager, system_read_only_admin): "
        + why,
        "1 test(s) of features the target does not claim",
    )


def test_a_role_that_could_be_held_but_was_not_given_leaves_the_run_incomplete() -> None:
    verdict = verdict_of(
        [result("passed", "busy.expires")],
        requirements=REQUIREMENTS,
        claimed_features=(),
        missing_roles=("system_manager",),
    )
    assert verdict.status == INCOMPLETE
    (reason,) = verdict.reasons
    assert reason.startswith("roles not given: system_manager")
