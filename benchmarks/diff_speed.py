"""How long a whole comparison takes: ``python -m mmconform.diff`` against two stubs.

Starts two stubs as separate processes (``python -m mmconform.stub --port 0 --write-target``,
as a user would), then runs the comparison as a separate process with every caller (five roles,
anonymous, the local socket) and prints, per run: the wall time of the command, the comparison's
own time (``run.seconds`` of diff.json: from the first request to the report, Python's start
and imports left out), the time it spent generating cases (overlapping the sending; near 0
when an earlier run kept the same cases), the operations compared, the distinct requests, the
answers compared per side, the request sequences played and their steps compared, the HTTP
requests sent to both sides, the groups of differences, and the HTTP requests per second over
the wall time. The runs share one case cache in a
temporary folder: the first generates (cold), the next ones reuse (warm).

    .venv/bin/python benchmarks/diff_speed.py --repeat 3           # cold, then warm twice
    .venv/bin/python benchmarks/diff_speed.py --allow-destructive  # every operation
    .venv/bin/python benchmarks/diff_speed.py --candidate-version 11.0.0 --values
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmconform._wire import child_server  # noqa: E402


def _stub(stack: ExitStack, folder: Path, name: str, version: str) -> Path:
    target = folder / f"{name}.toml"
    command = [
        sys.executable,
        "-m",
        "mmconform.stub",
        "--port",
        "0",
        "--server-version",
        version,
        "--write-target",
        str(target),
    ]
    stack.enter_context(child_server(command, target, log=folder / f"{name}.log"))
    return target


def run_once(args: argparse.Namespace, folder: Path, index: int) -> dict[str, object]:
    with ExitStack() as stack:
        baseline = _stub(stack, folder, f"baseline-{index}", args.baseline_version)
        candidate = _stub(stack, folder, f"candidate-{index}", args.candidate_version)
        reports = folder / f"reports-{index}"
        command = [
            sys.executable,
            "-m",
            "mmconform.diff",
            str(baseline),
            str(candidate),
            "--reports-dir",
            str(reports),
            "--quiet",
        ]
        if args.allow_destructive:
            command.append("--allow-destructive")
        if args.values:
            command.append("--values")
        env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache")}
        started = time.monotonic()
        finished = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, check=False, env=env
        )
        wall = time.monotonic() - started
    report = json.loads((reports / "diff.json").read_text(encoding="utf-8"))
    run = report["run"]
    sent = sum(run["sent"].values())
    return {
        "exit": finished.returncode,
        "wall": wall,
        "seconds": run["seconds"],
        "generation": run["generation_seconds"],
        "operations": len(report["operations"]["compared"]),
        "requests": run["requests"],
        "exchanges": run["exchanges"],
        "sequences": len(report["sequences"]["played"]),
        "steps": report["sequences"]["steps_compared"],
        "sent": sent,
        "groups": report["totals"]["groups"],
        "unexplained": report["totals"]["unexplained"],
        "rate": sent / wall if wall else 0.0,
        "last": finished.stdout.strip().splitlines()[-1:] or finished.stderr[-300:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline-version", default="11.1.0")
    parser.add_argument("--candidate-version", default="11.1.0")
    parser.add_argument("--allow-destructive", action="store_true")
    parser.add_argument("--values", action="store_true")
    args = parser.parse_args()
    print(
        f"load average at start: {os.getloadavg()[0]:.1f} (this machine has {os.cpu_count()} cores)"
    )
    print(
        f"{'run':>3} {'exit':>4} {'wall s':>7} {'diff s':>6} {'gen s':>6} {'ops':>4} "
        f"{'requests':>8} {'answers/side':>12} {'seqs':>4} {'steps':>5} {'HTTP sent':>9} "
        f"{'groups':>6} {'unexpl':>6} "
        f"{'HTTP/s':>7}"
    )
    failed = False
    with tempfile.TemporaryDirectory(prefix="mmconform-diff-bench-") as tmp:
        for index in range(args.repeat):
            row = run_once(args, Path(tmp), index)
            failed |= row["exit"] not in (0, 20)
            print(
                f"{index + 1:>3} {row['exit']:>4} {row['wall']:>7.1f} {row['seconds']:>6.1f} "
                f"{row['generation']:>6.1f} "
                f"{row['operations']:>4} {row['requests']:>8} {row['exchanges']:>12} "
                f"{row['sequences']:>4} {row['steps']:>5} {row['sent']:>9} {row['groups']:>6} "
                f"{row['unexplained']:>6} "
                f"{row['rate']:>7.0f}"
            )
            print(f"    {row['last']}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
