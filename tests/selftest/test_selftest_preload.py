"""Children forked from the preloaded interpreter behave as fresh ones: the same exit status,
the same output, the same verdicts; they can be waited for with a timeout and stopped."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmconform.selftest import Mutant, MutantRunOptions, run_mutant
from mmconform.selftest._preload import Launcher, fork_supported, fresh, launcher
from mmconform.selftest._runner import child_environment
from tests._pytest_run import preloaded

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not fork_supported(), reason="forking needs Linux")


@pytest.fixture
def start() -> Launcher:
    """The test process's preloaded interpreter (the one its child runs of the suites use)."""
    forked = preloaded()
    assert forked is not fresh
    return forked


def test_without_preloading_every_child_starts_fresh() -> None:
    with launcher(ROOT, child_environment(), ("suites",), preload=False) as start:
        assert start is fresh


def test_a_forked_child_gives_its_exit_status_and_output(start: Launcher, tmp_path: Path) -> None:
    ok = start([sys.executable, "-m", "platform"], tmp_path / "ok.log", {}, ROOT)
    usage = start(
        [sys.executable, "-m", "pytest", "--no-such-option"],
        tmp_path / "usage.log",
        child_environment(),
        ROOT,
    )
    assert ok.wait(timeout=60) == 0
    assert usage.wait(timeout=60) == 4
    assert "Linux" in (tmp_path / "ok.log").read_text()
    assert "--no-such-option" in (tmp_path / "usage.log").read_text()


def test_a_forked_pytest_imports_nothing_pytest_could_not_rewrite(
    start: Launcher, tmp_path: Path
) -> None:
    """The warm-up imports pytest's plugins through pytest itself: a forked run warns about
    no module imported before assertion rewriting, and collects the whole gate."""
    output = tmp_path / "collect.log"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "-rw"]
    command += ["--mm-no-reports", "-W", "error::pytest.PytestAssertRewriteWarning", "suites"]
    returncode = start(command, output, child_environment(), ROOT).wait(timeout=120)
    text = output.read_text()
    assert returncode == 0, text[-2000:]
    assert "rewritten" not in text
    assert "tests collected" in text


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "fresh"])
def test_a_server_can_be_timed_out_and_stops_cleanly_on_sigterm(
    forked: bool, start: Launcher, tmp_path: Path
) -> None:
    """A forked stub is waited for with a timeout and stopped as a fresh one is: SIGTERM
    reaches its own handler (not the preloaded interpreter's), and it exits 0."""
    target = tmp_path / "stub.toml"
    command = [sys.executable, "-m", "mmconform.stub", "--port", "0", "--write-target"]
    launch = start if forked else fresh
    server = launch([*command, str(target)], tmp_path / "stub.log", child_environment(), ROOT)
    with pytest.raises(subprocess.TimeoutExpired):
        server.wait(timeout=0.5)
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:  # serving, its handlers set
        time.sleep(0.05)
    assert server.poll() is None, (tmp_path / "stub.log").read_text()
    server.terminate()
    assert server.wait(timeout=30) == 0, (tmp_path / "stub.log").read_text()
    assert server.returncode == 0


def test_preloaded_and_fresh_children_give_the_same_verdicts(start: Launcher) -> None:
    """A stub fault and a proxy fault (a forked stub and a forked proxy), judged with forked
    children and with fresh interpreters: the same verdict, caught by the same test. (The
    whole catalogue was compared so once: 386 identical verdicts.)"""
    mutants = [
        Mutant(
            "stub:LOGS_PAGING_IGNORED",
            "fault",
            "stub",
            "LOGS_PAGING_IGNORED",
            "paging",
            ("GetLogs",),
            "x",
        ),
        Mutant(
            "proxy:BUSY_FLAG_DROPPED",
            "fault",
            "proxy",
            "BUSY_FLAG_DROPPED",
            "schema",
            ("GetServerBusyExpires",),
            "x",
        ),
    ]
    options = MutantRunOptions(ROOT, timeout=300)
    judged = {
        launcher_name: [
            (outcome.verdict, outcome.caught_by)
            for outcome in (run_mutant(mutant, options, start=launch) for mutant in mutants)
        ]
        for launcher_name, launch in (("forked", start), ("fresh", fresh))
    }
    assert judged["forked"] == judged["fresh"]
    assert [verdict for verdict, _ in judged["forked"]] == ["killed", "killed"]
    assert all(caught_by.startswith("suites/") for _, caught_by in judged["forked"])
