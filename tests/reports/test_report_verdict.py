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
    assert verdict.reasons == ("roles not given: system_manager",)
