"""The project's own tests: their rules for the whole session.

The checkout's ``reports/`` belongs to the person's own runs of the suites: the tests never
write there (``tests/_reports_guard.py``), so ``pytest`` then ``pytest tests`` leaves the first
run's reports as they were, byte for byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests._faithful import faithful_gate
from tests._reports_guard import ReportsGuard

CHECKOUT_REPORTS = Path(__file__).resolve().parents[1] / "reports"

# pytest's own harness for running pytest in this process (tests/_inprocess.py)
pytest_plugins = ["pytester"]

__all__ = ["faithful_gate"]


#: xdist workers beyond one per core under ``-n auto``. Many of these tests wait: for a child
#: run they started, for a hostile target's timeout, for a server to come up. With one worker
#: per core a quarter of the machine stood idle (11.1 CPU minutes in 7.8 minutes on 2 cores);
#: one more worker fills most of it (6.1 minutes; two more: 5.9).
EXTRA_WORKERS = 1


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` for the project's tests: the cores, plus :data:`EXTRA_WORKERS`.

    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when it is set (xdist's own rule). An
    optional hook: a run without pytest-xdist never calls it."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) + EXTRA_WORKERS


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ReportsGuard(CHECKOUT_REPORTS), "mmconform-tests-reports-guard")
