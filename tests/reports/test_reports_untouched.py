"""The project's tests leave the checkout's reports/ as they found it, byte for byte: the guard
``tests/conftest.py`` registers fails a session that changed it, and says what changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests._pytest_run import run_pytest
from tests._reports_guard import differences, snapshot
from tests.conftest import CHECKOUT_REPORTS

ROOT = Path(__file__).resolve().parents[2]


def test_a_snapshot_sees_every_byte_link_and_folder(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "runs" / "one").mkdir(parents=True)
    (reports / "runs" / "one" / "junit.xml").write_text('<testsuite tests="905"/>')
    (reports / "conformance.schema.json").write_text("{}")
    os.symlink("runs/one", reports / "latest")
    before = snapshot(reports)
    assert differences(before, snapshot(reports)) == []

    (reports / "runs" / "one" / "junit.xml").write_text('<testsuite tests="0"/>')
    (reports / "runs" / "two").mkdir()
    (reports / "latest").unlink()
    os.symlink("runs/two", reports / "latest")
    (reports / "conformance.schema.json").unlink()
    assert differences(before, snapshot(reports)) == [
        "added: runs/two",
        "removed: conformance.schema.json",
        "changed: latest",
        "changed: runs/one/junit.xml",
    ]
    assert snapshot(tmp_path / "absent") == {}


def test_the_guard_watches_the_checkouts_reports_folder(request: pytest.FixtureRequest) -> None:
    guard = request.config.pluginmanager.get_plugin("mmconform-tests-reports-guard")
    assert guard is not None
    assert guard.folder == CHECKOUT_REPORTS == ROOT / "reports"


GUARDED_CONFTEST = """
from pathlib import Path
from tests._reports_guard import ReportsGuard

def pytest_configure(config):
    config.pluginmanager.register(ReportsGuard(Path(__file__).parent / "reports"), "guard")
"""

TESTS = """
from pathlib import Path

def test_reads_the_reports():
    assert (Path(__file__).parent / "reports" / "kept.txt").read_text() == "mine"

def test_writes_the_reports():
    (Path(__file__).parent / "reports" / "{name}").write_text("{text}")
"""


# Only pytest itself (and xdist, for the controller's part) in the children: fast to start.
@pytest.mark.parametrize(
    "workers", [[], ["-p", "xdist.plugin", "-n", "1"]], ids=["serial", "xdist"]
)
def test_a_session_that_changes_the_folder_fails_and_says_what_changed(
    tmp_path: Path, workers: list[str]
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(GUARDED_CONFTEST, encoding="utf-8")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "kept.txt").write_text("mine", encoding="utf-8")
    env = {"PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

    (tmp_path / "test_it.py").write_text(TESTS.format(name="kept.txt", text="mine"), "utf-8")
    same = run_pytest(tmp_path, "-p", "no:randomly", *workers, env=env)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "was changed by the tests" not in same.stdout

    (tmp_path / "test_it.py").write_text(TESTS.format(name="junit.xml", text="<x/>"), "utf-8")
    changed = run_pytest(tmp_path, "-p", "no:randomly", *workers, env=env)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "2 passed" in changed.stdout  # every test passed: the guard failed the run
    assert "reports was changed by the tests" in changed.stdout
    assert "added: junit.xml" in changed.stdout
