"""Where the reports of each run live: a fresh directory per run, and a stable ``latest`` link.

A reports base (``reports/`` in the checkout, or the folder ``--reports-dir`` names) holds::

    runs/20261128T101500Z-3f9a1c/   one directory per run, made for it alone and never reused
    runs/20261128T103012Z-c04b7e/
    latest -> runs/20261128T103012Z-c04b7e   the run that finished last

A run directory is made with an exclusive ``mkdir`` (its name is the UTC start time and a
random suffix), so two runs started at the same moment in one checkout never share one. While
the run writes, the directory holds a marker (``.mmconform-running``: process id, host, start);
when it is done the marker goes and ``latest`` is replaced by a new link in one ``rename``, so a
reader of ``latest/conformance.md`` sees one whole run or the one before, never a mixture.

Nothing here deletes a run as a side effect. :func:`prune` is the one way to clean up, and it
is explicit (``python -m mmconform.report prune --keep N``): it never removes a run that is still
writing, nor the one ``latest`` points to.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

__all__ = [
    "LATEST",
    "RUNNING_MARKER",
    "RUNS",
    "RunDirectory",
    "describe_runs",
    "finish_run",
    "latest_run",
    "list_runs",
    "new_run_directory",
    "point_latest",
    "prune",
]

#: The folder of the run directories, inside a reports base.
RUNS: Final = "runs"
#: The link to the run that finished last, inside a reports base.
LATEST: Final = "latest"
#: The file a run directory holds while its run is writing.
RUNNING_MARKER: Final = ".mmconform-running"
_ATTEMPTS = 20


@dataclass(frozen=True)
class RunDirectory:
    """One run's directory under a reports base, as :func:`list_runs` finds it."""

    path: Path
    #: the run is still writing (its marker names a process alive on this host)
    running: bool
    #: the run never finished: its marker names a process that is gone, or another host
    abandoned: bool
    #: ``latest`` points here
    latest: bool

    @property
    def name(self) -> str:
        return self.path.name


def new_run_directory(base: Path, *, now: datetime | None = None) -> Path:
    """Make a fresh directory for one run under ``base/runs`` (exclusively: never one that
    exists) and mark it as being written; its path."""
    runs = base / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    started = now or datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for _ in range(_ATTEMPTS):
        path = runs / f"{stamp}-{secrets.token_hex(3)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        marker = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": started.isoformat(timespec="seconds"),
        }
        (path / RUNNING_MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
        return path
    raise FileExistsError(f"could not make a fresh run directory in {runs}")


def finish_run(run: Path) -> Path | None:
    """End a run's writing: without anything written, its directory goes (it was made for
    this run, so nobody else's); otherwise the marker goes and ``latest`` points to it. The
    ``latest`` link, or None when the run left nothing."""
    if not run.is_dir():
        return None
    if not _holds_files(run):
        shutil.rmtree(run, ignore_errors=True)
        return None
    (run / RUNNING_MARKER).unlink(missing_ok=True)
    return point_latest(run.parent.parent, run)


def point_latest(base: Path, run: Path) -> Path:
    """Replace ``base/latest`` by a link to ``run`` in one rename (readers see the old run or
    the new one, never a missing link); the link's path. Raises ``OSError`` where links cannot
    be made, or when ``latest`` is a real directory (which is never replaced)."""
    latest = base / LATEST
    if latest.is_dir() and not latest.is_symlink():
        raise IsADirectoryError(f"{latest} is a directory, not a link; it was left alone")
    relative = Path(os.path.relpath(run, base))
    temporary = base / f".{LATEST}-{secrets.token_hex(4)}"
    os.symlink(relative, temporary, target_is_directory=True)
    try:
        os.replace(temporary, latest)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return latest


def latest_run(base: Path) -> Path | None:
    """The run directory ``base/latest`` points to (None without one)."""
    latest = base / LATEST
    if not latest.is_symlink():
        return None
    target = latest.resolve()
    return target if target.is_dir() else None


def list_runs(base: Path) -> list[RunDirectory]:
    """The run directories under ``base``, oldest first."""
    runs = base / RUNS
    if not runs.is_dir():
        return []
    latest = latest_run(base)
    host = socket.gethostname()
    out = []
    for path in sorted(p for p in runs.iterdir() if p.is_dir() and not p.is_symlink()):
        running, abandoned = _state(path / RUNNING_MARKER, host)
        out.append(
            RunDirectory(
                path=path,
                running=running,
                abandoned=abandoned,
                latest=latest is not None and path.resolve() == latest,
            )
        )
    return out


def prune(base: Path, keep: int, *, dry_run: bool = False) -> list[Path]:
    """Remove the runs under ``base`` but the ``keep`` newest; the paths removed (with
    ``dry_run``: that would be). Whatever ``keep`` says, a run still writing and the run
    ``latest`` points to stay."""
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    runs = list_runs(base)
    older = runs[: max(0, len(runs) - keep)]
    removed = []
    for run in older:
        if run.running or run.latest:
            continue
        if not dry_run:
            shutil.rmtree(run.path)
        removed.append(run.path)
    return removed


def _state(marker: Path, host: str) -> tuple[bool, bool]:
    """(running, abandoned) from a run's marker."""
    if not marker.is_file():
        # a directory still empty is one being made right now (the marker comes next)
        return not any(marker.parent.iterdir()), False
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        pid, marker_host = int(data["pid"]), str(data["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return True, False  # being written right now, or unreadable: leave it alone
    if marker_host != host:
        return True, False  # another machine's run (a shared folder): not ours to judge
    alive = _process_alive(pid)
    return alive, not alive


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holds_files(folder: Path) -> bool:
    return any(path.is_file() and path.name != RUNNING_MARKER for path in folder.rglob("*"))


def describe_runs(runs: Sequence[RunDirectory]) -> list[str]:
    """One line per run, for ``python -m mmconform.report list``."""
    lines = []
    for run in runs:
        notes = [
            note
            for note, present in (
                ("latest", run.latest),
                ("running", run.running),
                ("abandoned", run.abandoned),
            )
            if present
        ]
        lines.append(run.name + (f"  ({', '.join(notes)})" if notes else ""))
    return lines
