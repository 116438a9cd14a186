"""The project's own tests: their rules for the whole session.

The checkout's ``reports/`` belongs to the person's own runs of the suites: the tests never
write there (``tests/_reports_guard.py``), so ``pytest`` then ``pytest tests`` leaves the first
run's reports as they were, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._faithful import faithful_gate
from tests._reports_guard import ReportsGuard

CHECKOUT_REPORTS = Path(__file__).resolve().parents[1] / "reports"

# pytest's own harness for running pytest in this process (tests/_inprocess.py)
pytest_plugins = ["pytester"]

__all__ = ["faithful_gate"]


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ReportsGuard(CHECKOUT_REPORTS), "mmconform-tests-reports-guard")
