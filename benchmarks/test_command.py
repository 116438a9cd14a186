"""Time the project's test command: ``python -m pytest tests -n auto --dist loadgroup``.

    .venv/bin/python benchmarks/test_command.py                  # this checkout
    .venv/bin/python benchmarks/test_command.py --baseline DIR   # DIR first, then this one
    .venv/bin/python benchmarks/test_command.py --workers 2      # -n 2 instead of -n auto

For each run it prints the wall time, the CPU time of the run and every process it started
(user + system), the CPU use as a share of the machine's cores, pytest's last line, and the
test files that took longest (setup, call and teardown summed over the workers, from
``--durations=0``). With ``--baseline`` the two runs go one after the other in one sitting,
the baseline first, and the ratios are printed.

The baseline is another checkout of the project (``git worktree add /tmp/base <commit>``); it
runs with this virtualenv.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_DURATION = re.compile(r"^\s*([\d.]+)s (?:call|setup|teardown)\s+(\S+?)::", re.MULTILINE)
_LAST = re.compile(r"^=* ?(\d+ passed.*?) =*$", re.MULTILINE)


@dataclass
class Run:
    label: str
    wall: float
    cpu: float
    returncode: int
    summary: str
    failures: list[str]
    by_file: dict[str, float] = field(default_factory=dict)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(label: str, checkout: Path, workers: str) -> Run:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "-n",
        workers,
        "--dist",
        "loadgroup",
        "-q",
        "-p",
        "no:cacheprovider",
        "--durations=0",
    ]
    cpu_before = _children_cpu()
    started = time.monotonic()
    done = subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    cpu = _children_cpu() - cpu_before
    by_file: dict[str, float] = collections.defaultdict(float)
    for seconds, path in _DURATION.findall(done.stdout):
        by_file[path] += float(seconds)
    last = _LAST.findall(done.stdout)
    lines = done.stdout.strip().splitlines()
    summary = last[-1] if last else lines[-1] if lines else "(no output)"
    failures = re.findall(r"^(?:FAILED|ERROR) .*$", done.stdout, re.MULTILINE)
    return Run(label, wall, cpu, done.returncode, summary, failures, dict(by_file))


def show(run: Run, cores: int, top: int) -> None:
    print(f"{run.label}: exit {run.returncode}, {run.summary}")
    for line in run.failures:
        print(f"  {line}")
    print(
        f"  wall {run.wall:.0f} s ({run.wall / 60:.1f} min), CPU {run.cpu:.0f} s "
        f"({run.cpu / 60:.1f} min), cores busy {run.cpu / run.wall / cores:.0%} of {cores}"
    )
    total = sum(run.by_file.values())
    print(f"  test seconds (all workers) {total:.0f} s; the {top} heaviest files:")
    for path, seconds in sorted(run.by_file.items(), key=lambda item: -item[1])[:top]:
        print(f"    {seconds:7.1f} s  {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to time first")
    parser.add_argument("--workers", default="auto", help="the -n value (default auto)")
    parser.add_argument("--top", type=int, default=12, help="files listed per run")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    print(f"{cores} cores, load average {os.getloadavg()[0]:.2f} at start")
    runs: list[Run] = []
    if args.baseline is not None:
        runs.append(measure("baseline", args.baseline.resolve(), args.workers))
        show(runs[-1], cores, args.top)
    runs.append(measure("this checkout", ROOT, args.workers))
    show(runs[-1], cores, args.top)
    if len(runs) == 2:
        before, after = runs
        print(
            f"after/before: wall {after.wall / before.wall:.2f}x, CPU {after.cpu / before.cpu:.2f}x"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0 if all(run.returncode == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
