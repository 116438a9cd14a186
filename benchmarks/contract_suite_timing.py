"""Print the contract suite's figures for one profile: generated requests, wall time serial and
with ``-n 2 --dist loadgroup``, and whether both runs reach the same verdict.

    .venv/bin/python benchmarks/contract_suite_timing.py [--profile gate] [--workers 2]

Runs against the embedded stub (``pytest suites`` with no target).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S+(?: [^ ]+)*?)(?: - .*)?$")
_REQUESTS = re.compile(r"mmconform: (\d+) generated requests sent")


def run(profile: str, workers: int) -> tuple[float, int, dict[str, str], int]:
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rA",
        "--mm-profile",
        profile,
    ]
    if workers > 1:
        args += ["-n", str(workers), "--dist", "loadgroup"]
    started = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    outcomes: dict[str, str] = {}
    for line in result.stdout.splitlines():
        match = _OUTCOME.match(line)
        if match:
            # xdist --dist loadgroup appends "@<group>" to node ids.
            outcomes[match.group(2).split("@", 1)[0]] = match.group(1)
    found = _REQUESTS.search(result.stdout)
    return elapsed, int(found.group(1)) if found else 0, outcomes, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="gate")
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    serial = run(options.profile, 1)
    parallel = run(options.profile, options.workers)
    for name, (elapsed, requests, outcomes, code) in (
        ("serial", serial),
        (f"-n {options.workers}", parallel),
    ):
        counts: dict[str, int] = {}
        for outcome in outcomes.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        print(
            f"{name:>6}: {elapsed:6.1f} s wall, {requests} generated requests, exit {code}, "
            + ", ".join(f"{n} {k.lower()}" for k, n in sorted(counts.items()))
        )
    same = serial[2] == parallel[2]
    print(f"same tests and verdicts: {'yes' if same else 'NO'}")
    if not same:
        for nodeid in sorted(set(serial[2]) | set(parallel[2])):
            a, b = serial[2].get(nodeid), parallel[2].get(nodeid)
            if a != b:
                print(f"  {nodeid}: serial {a}, parallel {b}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
