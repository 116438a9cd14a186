"""The run's breaker and budget, on a clock the test controls."""

from __future__ import annotations

import pytest

from mmconform.harness._health import NOTE_EVERY, TargetHealth, TargetStopped


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def health(alive: bool = False, **kwargs: object) -> tuple[TargetHealth, list[str], list[str]]:
    stops: list[str] = []
    notes: list[str] = []
    clock = kwargs.pop("clock", Clock())
    checker = TargetHealth(
        alive=lambda: alive,
        on_stop=stops.append,
        notify=notes.append,
        clock=clock,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return checker, stops, notes


def test_failures_in_a_row_stop_the_run_when_the_target_is_gone() -> None:
    checker, stops, _ = health(threshold=3)
    checker.failed("GET /a", "reset")
    checker.failed("GET /b", "reset")
    with pytest.raises(TargetStopped):
        checker.failed("GET /c", "reset")
    assert len(stops) == 1
    assert "after 3 requests, at GET /c (3 failures in a row" in stops[0]
    # Nothing more is sent.
    with pytest.raises(TargetStopped):
        checker.before("GET /d", 10)
    assert len(stops) == 1


def test_a_target_that_is_alive_keeps_being_tested() -> None:
    checker, stops, _ = health(alive=True, threshold=2)
    for _ in range(10):
        checker.failed("GET /crashes", "reset")
    assert stops == []
    assert checker.before("GET /next", 10) == 10


def test_an_answer_breaks_the_series() -> None:
    checker, stops, _ = health(threshold=2)
    checker.failed("GET /a", "reset")
    checker.answered(0.1)
    checker.failed("GET /b", "reset")
    assert stops == []


def test_the_budget_caps_each_request_and_then_stops_the_run() -> None:
    clock = Clock()
    checker, stops, _ = health(budget=30.0, clock=clock)
    assert checker.before("GET /a", 10) == 10
    clock.now += 25
    assert checker.before("GET /b", 10) == pytest.approx(5)
    clock.now += 6
    with pytest.raises(TargetStopped):
        checker.before("GET /c", 10)
    assert "time budget of 30 s is used up, at GET /c" in stops[0]


def test_no_budget_means_no_limit() -> None:
    clock = Clock()
    checker, stops, _ = health(budget=None, clock=clock)
    clock.now += 10**6
    assert checker.before("GET /a", 10) == 10
    assert stops == []


def test_progress_is_noted_while_the_run_is_long() -> None:
    clock = Clock()
    checker, _, notes = health(budget=600.0, clock=clock)
    checker.answered(2.5)
    checker.before("GET /a", 10)
    assert notes == []
    clock.now += NOTE_EVERY + 1
    checker.before("GET /b", 10)
    assert len(notes) == 1
    assert "1 requests answered" in notes[0]
    assert "slowest 2.5 s" in notes[0]
    assert "s of budget left" in notes[0]
