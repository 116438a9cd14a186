"""The rule that the project's own tests never write to the checkout's ``reports/``: the folder
is the same, byte for byte, after ``pytest tests`` as before it.

:class:`ReportsGuard` is a pytest plugin (``tests/conftest.py`` registers it for the checkout's
``reports/``): it takes a snapshot of the folder when the session starts and compares at its
end; a difference fails the run (exit 1) and is listed in the terminal summary. Under xdist only
the controller, which sees the whole session, compares.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ReportsGuard", "differences", "snapshot"]

#: relative path -> what it is: ("file", sha256), ("link", target) or ("dir", "")
Snapshot = dict[str, tuple[str, str]]


def snapshot(folder: Path) -> Snapshot:
    """Every entry under ``folder`` (links not followed) and its content."""
    if not folder.is_dir():
        return {}
    out: Snapshot = {}
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = Path(root) / name
            key = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[key] = ("link", os.readlink(path))
            elif path.is_dir():
                out[key] = ("dir", "")
            else:
                out[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed between two snapshots, one line per entry ([] when nothing did)."""
    lines = [f"added: {key}" for key in sorted(set(after) - set(before))]
    lines += [f"removed: {key}" for key in sorted(set(before) - set(after))]
    lines += [
        f"changed: {key}" for key in sorted(set(before) & set(after)) if before[key] != after[key]
    ]
    return lines


class ReportsGuard:
    """Fails a session that changed ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.before: Snapshot | None = None
        self.changes: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput"):
            self.before = snapshot(self.folder)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.before is None:
            return
        self.changes = differences(self.before, snapshot(self.folder))
        if self.changes and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.changes:
            return
        terminalreporter.write_sep("=", f"{self.folder} was changed by the tests", red=True)
        terminalreporter.write_line(
            "The project's tests must not write to the checkout's reports folder (a child run "
            "gets --reports-dir or --no-reports; see tests/_pytest_run.py). What changed:",
            red=True,
        )
        for line in self.changes[:50]:
            terminalreporter.write_line(f"  {line}", red=True)
        if len(self.changes) > 50:
            terminalreporter.write_line(f"  ... and {len(self.changes) - 50} more", red=True)
