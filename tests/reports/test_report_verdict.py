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
