"""Time the gate run (contract, permissions and scenario suites against the embedded stub)
serially and with ``-n 2 --dist loadgroup``, in one sitting, and break each run down by part.

    .venv/bin/python benchmarks/gate.py [--workers 2] [--repeat 1] [--profile gate]
                                        [--baseline DIR] [--with-cli] [--keep DIR]

Each run is a child ``python -m pytest suites/contract suites/permissions suites/scenarios``
(reports written to a temporary folder) with the probe plugin ``benchmarks/_gate_probe.py``,
which counts every HTTP request and every generated contract case per test. Printed per run:
wall time, exit code, and per part the tests, the seconds spent in them (setup + call +
teardown, summed over workers), HTTP requests, generated cases and requests per second; for the
parallel run each worker's busy time (the load balance) and the slowest xdist groups; finally
the parallel/serial wall-time ratio. ``--baseline DIR`` (another checkout of the project, e.g.
``git worktree add /tmp/base main``) runs the same pair there too, alternating with this one,
and prints this checkout's times as a ratio of the baseline's. ``--with-cli`` then runs
``benchmarks/schemathesis_cli.py`` (the schemathesis command line next to the contract suite on
one stub, and the stub's ceiling).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GATE_PATHS = ("suites/contract", "suites/permissions", "suites/scenarios")
PARTS = tuple(path.rsplit("/", 1)[1] for path in GATE_PATHS)
PROBE_ENV = "MMCONFORM_GATE_PROBE_DIR"


@dataclass
class PartFigures:
    tests: int = 0
    seconds: float = 0.0
    http: int = 0
    generated: int = 0

    @property
    def rate(self) -> float:
        return self.http / self.seconds if self.seconds else 0.0


@dataclass
class GateRun:
    label: str
    wall: float
    returncode: int
    summary: str
    parts: dict[str, PartFigures]
    outside_http: int
    workers: dict[str, float] = field(default_factory=dict)
    groups: dict[str, float] = field(default_factory=dict)
    phases: dict[str, int] = field(default_factory=dict)

    @property
    def tests(self) -> int:
        return sum(part.tests for part in self.parts.values())

    @property
    def http(self) -> int:
        return sum(part.http for part in self.parts.values()) + self.outside_http


def part_of(nodeid: str) -> str:
    for path, part in zip(GATE_PATHS, PARTS, strict=True):
        if nodeid.startswith(path + "/"):
            return part
    return "other"


def run_gate(workers: int, profile: str, keep: Path | None = None, root: Path = ROOT) -> GateRun:
    """One child pytest run of the gate in the checkout ``root``; ``workers`` > 1 runs it with
    xdist ``--dist loadgroup``."""
    with tempfile.TemporaryDirectory(prefix="mmconform-gate-") as scratch:
        probe = Path(scratch, "probe")
        probe.mkdir()
        args = [
            sys.executable,
            "-m",
            "pytest",
            *GATE_PATHS,
            "-p",
            "benchmarks._gate_probe",
            "-p",
            "no:cacheprovider",
            "-q",
            "--mm-profile",
            profile,
            "--reports-dir",
            str(keep / f"{root.name}-n{workers}" if keep else Path(scratch, "reports")),
        ]
        if workers > 1:
            args += ["-n", str(workers), "--dist", "loadgroup"]
        env = dict(os.environ)
        env[PROBE_ENV] = str(probe)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        started = time.monotonic()
        # The checkout's own package comes first (the working directory); the probe plugin
        # is found in this checkout's benchmarks folder.
        result = subprocess.run(
            args, cwd=root, env=env, capture_output=True, text=True, check=False
        )
        wall = time.monotonic() - started
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        summary = lines[-1].strip("= ") if lines else "(no output)"
        if result.returncode not in (0, 1):
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        documents = [json.loads(path.read_text()) for path in sorted(probe.glob("*.json"))]
    label = f"-n {workers}" if workers > 1 else "serial"
    if root != ROOT:
        label += f" ({root})"
    return _figures(label, wall, result.returncode, summary, documents)


def _figures(
    label: str, wall: float, returncode: int, summary: str, documents: list[dict[str, Any]]
) -> GateRun:
    parts = {part: PartFigures() for part in (*PARTS, "other")}
    run = GateRun(label, wall, returncode, summary, parts, outside_http=0)
    for document in documents:
        run.outside_http += int(document["outside_tests"].get("http", 0))
        busy = 0.0
        for nodeid, test in document["tests"].items():
            figures = parts[part_of(nodeid)]
            figures.tests += 1
            figures.seconds += test["seconds"]
            figures.http += test["http"]
            figures.generated += test["generated"]
            busy += test["seconds"]
            group = test["group"] or "(no group)"
            run.groups[group] = run.groups.get(group, 0.0) + test["seconds"]
            for phase, count in test.get("phases", {}).items():
                run.phases[phase] = run.phases.get(phase, 0) + count
        if document["tests"]:
            run.workers[document["worker"]] = busy
    if not parts["other"].tests:
        del parts["other"]
    return run


def print_run(run: GateRun) -> None:
    print(f"\n{run.label}: {run.wall:.1f} s wall, exit {run.returncode} ({run.summary})")
    print(f"  {'part':<12}{'tests':>6}{'test s':>9}{'HTTP':>8}{'generated':>11}{'HTTP/s':>9}")
    for name, part in run.parts.items():
        print(
            f"  {name:<12}{part.tests:>6}{part.seconds:>9.1f}{part.http:>8}"
            f"{part.generated:>11}{part.rate:>9.0f}"
        )
    total_s = sum(p.seconds for p in run.parts.values())
    print(
        f"  {'all':<12}{run.tests:>6}{total_s:>9.1f}{run.http:>8}"
        f"{sum(p.generated for p in run.parts.values()):>11}"
        f"{run.http / run.wall if run.wall else 0:>9.0f}  (HTTP/s over the wall time; "
        f"{run.outside_http} requests outside tests)"
    )
    if run.phases:
        print(
            "  generated cases by phase: "
            + ", ".join(f"{k} {v}" for k, v in sorted(run.phases.items()))
        )
    if len(run.workers) > 1:
        print(
            "  busy seconds per worker: "
            + ", ".join(f"{w} {s:.1f}" for w, s in sorted(run.workers.items()))
        )
        heaviest = sorted(run.groups.items(), key=lambda kv: -kv[1])[:4]
        print("  heaviest xdist groups: " + ", ".join(f"{g} {s:.1f} s" for g, s in heaviest))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workers", type=int, default=2, help="xdist workers (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="serial/parallel pairs to run")
    parser.add_argument("--profile", default="gate", help="--mm-profile (default gate)")
    parser.add_argument(
        "--with-cli",
        action="store_true",
        help="then compare with the schemathesis command line (benchmarks/schemathesis_cli.py)",
    )
    parser.add_argument("--keep", type=Path, help="keep the runs' reports under this folder")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout to run alternately and compare with"
    )
    args = parser.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "suites" / "contract").is_dir():
        parser.error(f"--baseline {args.baseline}: not a checkout of this project")
    if args.workers < 2:
        parser.error("--workers must be at least 2 (the serial run is always made)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    load = os.getloadavg()[0]
    print(f"gate run, profile {args.profile}, {os.cpu_count()} cores, load {load:.2f} at start")
    ratios = []
    against: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        if args.baseline is not None:
            base_serial = run_gate(1, args.profile, args.keep, args.baseline.resolve())
            print_run(base_serial)
        serial = run_gate(1, args.profile, args.keep)
        print_run(serial)
        if args.baseline is not None:
            base_parallel = run_gate(args.workers, args.profile, args.keep, args.baseline.resolve())
            print_run(base_parallel)
        parallel = run_gate(args.workers, args.profile, args.keep)
        print_run(parallel)
        ratios.append(serial.wall / parallel.wall)
        print(
            f"\nspeed-up with -n {args.workers}: {serial.wall / parallel.wall:.2f}x "
            f"(serial {serial.wall:.1f} s, parallel {parallel.wall:.1f} s); "
            f"same test count: {'yes' if serial.tests == parallel.tests else 'NO'}"
        )
        if args.baseline is not None:
            against.append((serial.wall / base_serial.wall, parallel.wall / base_parallel.wall))
            print(
                f"against the baseline: serial {against[-1][0]:.2f}x its time "
                f"({base_serial.wall:.1f} s), -n {args.workers} {against[-1][1]:.2f}x its time "
                f"({base_parallel.wall:.1f} s; its speed-up "
                f"{base_serial.wall / base_parallel.wall:.2f}x)"
            )
    if args.repeat > 1:
        print("speed-ups: " + ", ".join(f"{r:.2f}x" for r in ratios))
        if against:
            print(
                "time against the baseline (serial, parallel): "
                + ", ".join(f"{a:.2f}x/{b:.2f}x" for a, b in against)
            )
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    if args.with_cli:
        print(flush=True)
        script = ROOT / "benchmarks" / "schemathesis_cli.py"
        return subprocess.run(
            [sys.executable, str(script), "--profile", args.profile], check=False
        ).returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
