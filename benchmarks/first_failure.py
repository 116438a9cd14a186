"""Time from start to the first failure, with ``pytest -x``, over the stub's fault catalogue.

    .venv/bin/python benchmarks/first_failure.py [--fault NAME ...] [--jobs 1] [--root DIR]

For each fault, the stub starts with it (at the version its record names) and the whole gate
runs against it as a user runs it (``pytest -x --target-file T --allow-destructive``); the
figure is the child's wall time until it stops, interpreter start-up, collection and preflight
included. Printed: one row per fault (seconds, exit code, the test that failed first), then the
median, the 90th percentile and the slowest. ``--root`` runs another checkout's suites (e.g. a
baseline made with ``git worktree add``) against the same stubs. Faults the session refuses at
its start (exit 10/11) count with the time the refusal took.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmconform.selftest import child_environment  # noqa: E402
from mmconform.stub import DEFAULT_SERVER_VERSION, Fault, StubOptions, start_stub  # noqa: E402

_FIRST = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def measure(fault: Fault, root: Path) -> tuple[float, int, str]:
    options = StubOptions(
        server_version=fault.server_version or DEFAULT_SERVER_VERSION, faults=frozenset({fault})
    )
    with tempfile.TemporaryDirectory() as tmp, start_stub(options) as stub:
        target = stub.write_target(Path(tmp) / "target.toml")
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                f"--target-file={target}",
                "--allow-destructive",
                f"--reports-dir={tmp}/reports",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=900,
            env=child_environment(),
        )
        seconds = time.monotonic() - started
    first = _FIRST.search(done.stdout)
    if first is not None:
        caught = first.group(1)
    elif done.returncode in (10, 11, 12):
        caught = f"(the session: exit {done.returncode})"
    else:
        caught = "(nothing failed)"
    return seconds, done.returncode, caught


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--fault", action="append", help="only these faults (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="faults measured at once (default 1)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose suites run")
    args = parser.parse_args()
    faults = [Fault.parse(name) for name in args.fault] if args.fault else list(Fault)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda f: (f, *measure(f, args.root.resolve())), faults))
    for fault, seconds, code, caught in results:
        print(f"{seconds:6.1f} s  exit {code:>2}  {fault.name:<40} {caught}")
    times = sorted(seconds for _, seconds, _, _ in results)
    missed = [fault.name for fault, _, code, _ in results if code == 0]
    p90 = times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]
    print(
        f"\n{len(times)} faults: median {statistics.median(times):.1f} s, "
        f"90th percentile {p90:.1f} s, slowest {times[-1]:.1f} s"
    )
    if missed:
        print(f"not caught by the whole gate: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
