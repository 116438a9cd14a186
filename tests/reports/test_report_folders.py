"""The reports folder: one fresh directory per run, a ``latest`` link replaced in one rename,
and old runs removed only when asked (``python -m mmconform.report prune``), never a run that
is still writing nor the one ``latest`` points to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mmconform.report import (
    LATEST,
    RUNS,
    finish_run,
    latest_run,
    list_runs,
    new_run_directory,
    point_latest,
    prune,
)
from mmconform.report import _runs
from mmconform.report.__main__ import main

MOMENT = datetime(2026, 11, 28, 10, 15, 0, tzinfo=UTC)


def finished_run(base: Path, when: datetime = MOMENT, text: str = "report") -> Path:
    run = new_run_directory(base, now=when)
    (run / "conformance.md").write_text(text, encoding="utf-8")
    finish_run(run)
    return run


def test_each_run_gets_a_fresh_directory_even_in_the_same_second(tmp_path: Path) -> None:
    runs = [new_run_directory(tmp_path, now=MOMENT) for _ in range(20)]
    assert len(set(runs)) == 20
    assert all(run.parent == tmp_path / RUNS for run in runs)
    assert all(run.name.startswith("20261128T101500Z-") for run in runs)


def test_a_run_directory_that_exists_is_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = new_run_directory(tmp_path, now=MOMENT)
    (taken / "junit.xml").write_text("<theirs/>", encoding="utf-8")
    suffixes = iter([taken.name.rsplit("-", 1)[1], "0a0b0c"])
    monkeypatch.setattr("mmconform.report._runs.secrets.token_hex", lambda _n: next(suffixes))
    mine = new_run_directory(tmp_path, now=MOMENT)
    assert mine != taken
    assert mine.name.endswith("-0a0b0c")
    assert (taken / "junit.xml").read_text(encoding="utf-8") == "<theirs/>"


def test_a_run_is_marked_while_it_writes_and_latest_follows_it_when_done(
    tmp_path: Path,
) -> None:
    first = finished_run(tmp_path, text="first")
    second = new_run_directory(tmp_path)
    marker = json.loads((second / _runs.RUNNING_MARKER).read_text(encoding="utf-8"))
    assert marker["pid"] == os.getpid()
    # while the second run writes, latest still shows the first, whole
    assert (tmp_path / LATEST / "conformance.md").read_text(encoding="utf-8") == "first"
    (second / "conformance.md").write_text("second", encoding="utf-8")
    assert finish_run(second) == tmp_path / LATEST
    assert not (second / _runs.RUNNING_MARKER).exists()
    assert (tmp_path / LATEST / "conformance.md").read_text(encoding="utf-8") == "second"
    assert os.readlink(tmp_path / LATEST) == f"{RUNS}/{second.name}"  # relative: movable
    assert latest_run(tmp_path) == second.resolve()
    assert (first / "conformance.md").read_text(encoding="utf-8") == "first"


def test_a_run_that_wrote_nothing_leaves_nothing(tmp_path: Path) -> None:
    kept = finished_run(tmp_path)
    empty = new_run_directory(tmp_path)
    (empty / "allure-results").mkdir()
    assert finish_run(empty) is None
    assert not empty.exists()
    assert latest_run(tmp_path) == kept.resolve()


def test_latest_that_is_a_real_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / LATEST).mkdir()
    (tmp_path / LATEST / "mine.txt").write_text("kept", encoding="utf-8")
    run = new_run_directory(tmp_path)
    with pytest.raises(IsADirectoryError):
        point_latest(tmp_path, run)
    assert (tmp_path / LATEST / "mine.txt").read_text(encoding="utf-8") == "kept"
    assert not list(tmp_path.glob(".latest-*"))


def _days(n: int) -> datetime:
    return MOMENT.replace(day=n)


def test_prune_keeps_the_newest_and_never_a_running_or_the_latest_run(tmp_path: Path) -> None:
    old = [finished_run(tmp_path, _days(day)) for day in (1, 2, 3, 4)]
    point_latest(tmp_path, old[0])  # someone pointed latest at an old run
    running = new_run_directory(tmp_path, now=_days(5))  # this process: alive
    assert prune(tmp_path, keep=1, dry_run=True) == [old[1], old[2], old[3]]
    assert all(run.exists() for run in old)
    assert prune(tmp_path, keep=1) == [old[1], old[2], old[3]]
    assert [run.path for run in list_runs(tmp_path)] == [old[0], running]


def test_prune_removes_a_run_whose_process_is_gone(tmp_path: Path) -> None:
    abandoned = new_run_directory(tmp_path, now=_days(1))
    (abandoned / "junit.xml").write_text("<partial/>", encoding="utf-8")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    marker = abandoned / _runs.RUNNING_MARKER
    data = json.loads(marker.read_text(encoding="utf-8"))
    marker.write_text(json.dumps({**data, "pid": int(gone.stdout)}), encoding="utf-8")
    newest = finished_run(tmp_path, _days(2))
    (entry,) = [run for run in list_runs(tmp_path) if run.path == abandoned]
    assert (entry.running, entry.abandoned) == (False, True)
    assert prune(tmp_path, keep=1) == [abandoned]
    assert [run.path for run in list_runs(tmp_path)] == [newest]


def test_the_command_lists_and_prunes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [finished_run(tmp_path, _days(day)) for day in (1, 2, 3)]
    assert main(["list", "--reports-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed == [runs[0].name, runs[1].name, f"{runs[2].name}  (latest)"]
    assert main(["prune", "--keep", "2", "--reports-dir", str(tmp_path)]) == 0
    assert f"removed {runs[0]}" in capsys.readouterr().out
    assert [run.path for run in list_runs(tmp_path)] == runs[1:]
    with pytest.raises(SystemExit) as usage:
        main(["prune", "--keep", "-1", "--reports-dir", str(tmp_path)])
    assert usage.value.code == 2
    with pytest.raises(SystemExit):
        main(["prune", "--reports-dir", str(tmp_path)])  # --keep is required: nothing by default
    assert [run.path for run in list_runs(tmp_path)] == runs[1:]
