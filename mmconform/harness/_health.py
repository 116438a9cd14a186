"""Bounded runs against targets that stall, die or crawl.

Every request the run sends passes one :class:`TargetHealth`:

* a **circuit breaker**: after ``threshold`` consecutive transport failures (refused, reset,
  truncated, timed out) it asks the target once more whether it is alive (GET /system/ping);
  if it is not, the run stops sending requests and ends with exit 10, the remaining tests not
  run. A target that is alive but fails some requests (a real defect) keeps being tested;
* a **budget** for the whole run: no request starts after it is used up, and no request may
  wait longer than what is left of it;
* **progress notes** while the run is slow, so that a person watching knows what it waits for.

When the breaker trips or the budget runs out, the test in progress ends as skipped (the
target, not the test, is at fault) and pytest stops after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

__all__ = ["DEFAULT_BUDGET", "DEFAULT_THRESHOLD", "TargetHealth", "TargetStopped"]

#: Consecutive transport failures after which the target is asked whether it is still alive.
DEFAULT_THRESHOLD = 3
#: Seconds a whole run may take (0: no limit).
DEFAULT_BUDGET = 1800.0
#: Seconds between progress notes.
NOTE_EVERY = 60.0


class TargetStopped(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The run stops talking to the target; the test in progress is reported as not run."""

    def __init__(self) -> None:
        super().__init__(
            "not run: the run stopped talking to the target (the mmconform summary says why)"
        )


@dataclass
class TargetHealth:
    """Counts, times and judges the run's requests (thread-safe)."""

    threshold: int = DEFAULT_THRESHOLD
    #: seconds for the whole run; None for no limit
    budget: float | None = DEFAULT_BUDGET
    #: asks the target whether it is alive (True when it answers GET /system/ping)
    alive: Callable[[], bool] = lambda: True
    #: called once with the reason when the run must stop
    on_stop: Callable[[str], None] = lambda reason: None
    #: progress notes for the terminal
    notify: Callable[[str], None] = lambda line: None
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    requests: int = 0
    failures: int = 0
    consecutive: int = 0
    slowest: float = 0.0
    stopped: str | None = None
    _last_note: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probing: bool = False

    def __post_init__(self) -> None:
        self.started = self.started or self.clock()
        self._last_note = self.started

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float | None:
        """Seconds left of the budget (None: no budget)."""
        return None if self.budget is None else self.budget - self.elapsed

    def before(self, what: str, timeout: float) -> float:
        """Called before a request: raises :class:`TargetStopped` when the run must not send
        it; otherwise returns the timeout it may use (capped by the budget left)."""
        if self._probing:
            return timeout
        if self.stopped is not None:
            raise TargetStopped()
        left = self.remaining()
        if left is not None and left <= 0:
            self._stop(
                f"the run's time budget of {self.budget:.0f} s is used up, at {what}, after "
                f"{self.requests} requests (slowest answer {self.slowest:.1f} s): the target "
                "is too slow for this budget (--mm-budget)"
            )
        self._maybe_note()
        return timeout if left is None else max(0.1, min(timeout, left))

    def answered(self, seconds: float) -> None:
        with self._lock:
            self.requests += 1
            self.consecutive = 0
            self.slowest = max(self.slowest, seconds)

    def failed(self, what: str, problem: str) -> None:
        """Called after a transport failure; stops the run when the target is gone."""
        if self._probing:
            return
        with self._lock:
            self.requests += 1
            self.failures += 1
            self.consecutive += 1
            in_a_row = self.consecutive
        if in_a_row >= self.threshold and not self._still_alive():
            self._stop(
                f"the target stopped answering after {self.requests} requests, at {what} "
                f"({in_a_row} failures in a row, and GET /api/v4/system/ping got no answer "
                f"either; the last failure: {problem})"
            )

    def _still_alive(self) -> bool:
        self._probing = True
        try:
            return self.alive()
        except Exception:
            return False
        finally:
            self._probing = False
            with self._lock:
                self.consecutive = 0

    def _stop(self, reason: str) -> None:
        with self._lock:
            first = self.stopped is None
            if first:
                self.stopped = reason
        if first:
            self.on_stop(reason)
        raise TargetStopped()

    def _maybe_note(self) -> None:
        now = self.clock()
        if now - self._last_note < NOTE_EVERY:
            return
        self._last_note = now
        left = self.remaining()
        budget = "no budget" if left is None else f"{max(left, 0):.0f} s of budget left"
        self.notify(
            f"mmconform: {self.elapsed:.0f} s in, {self.requests} requests answered "
            f"({self.failures} failed; slowest {self.slowest:.1f} s); {budget}"
        )
