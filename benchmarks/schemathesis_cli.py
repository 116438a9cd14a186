"""The contract suite next to the schemathesis command line on the same spec and the same stub,
with the stub's raw request rate as the ceiling.

    .venv/bin/python benchmarks/schemathesis_cli.py [--profile gate] [--repeat 1]
                                                    [--ceiling-requests 3000]

One embedded stub (``python -m mmconform.stub``) per round serves, in this order:

1. the ceiling: a plain ``httpx`` keep-alive loop of ``GET /system/ping`` and ``GET /config`` as
   system_admin (what one client gets from the stub when it spends nothing on generating or
   checking);
2. the contract suite: ``python -m pytest suites/contract --target-file <the stub's>
   --allow-destructive`` with the profile's examples and seed;
3. the command line: ``schemathesis run spec/openapi.yaml --url <stub> --max-examples <the
   profile's> --seed <the profile's seed> --generation-deterministic --continue-on-failure
   --workers 1 -H "Authorization: Bearer <system_admin token>"`` (all phases and checks, its
   defaults), with its JSON report for the number of cases.

The command line goes last because its generated configurations are not put back. Printed per
tool: cases (the suite's generated requests; the command line's generated test cases), the
wall time of the child process (start-up and case generation included) and the time inside
the run (the suite's tests; the command line's own ``running_time``), the HTTP requests each
sent (counted at the ``requests`` adapter in both), cases and requests per second over each
time, and the ratios suite/command line. Follow-up requests some checks send (``ignored_auth``
sends a successful request again without credentials and with invalid ones) are HTTP requests
but not cases, in either tool; the suite's HTTP requests also include its hand-written contract
tests (no credentials, undeclared methods).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmconform.harness._embedded import embedded_stub  # noqa: E402
from mmconform.harness._profiles import PROFILES  # noqa: E402

PROBE_ENV = "MMCONFORM_GATE_PROBE_DIR"
COUNT_ENV = "MMCONFORM_CLI_HTTP_COUNT"

#: Runs the schemathesis command line in a Python that counts the HTTP requests it sends (the
#: ``requests`` adapter, as the suite's probe does) and writes the count to a file at exit.
_COUNTING_CLI = """
import atexit, os, sys, threading
import requests.adapters
count, lock, original = [0], threading.Lock(), requests.adapters.HTTPAdapter.send
def send(self, *args, **kwargs):
    with lock:
        count[0] += 1
    return original(self, *args, **kwargs)
requests.adapters.HTTPAdapter.send = send
atexit.register(lambda: open(os.environ[COUNT_ENV], "w").write(str(count[0])))
from schemathesis.cli import schemathesis
sys.argv[0] = "schemathesis"
sys.exit(schemathesis())
""".replace("COUNT_ENV", repr(COUNT_ENV))


@dataclass(frozen=True)
class ToolRun:
    name: str
    cases: int
    http: int
    wall: float
    inside: float
    returncode: int

    @property
    def rate_wall(self) -> float:
        return self.cases / self.wall if self.wall else 0.0

    @property
    def rate_inside(self) -> float:
        return self.cases / self.inside if self.inside else 0.0


def ceiling(url: str, token: str, requests: int) -> dict[str, float]:
    """Requests per second one keep-alive httpx client gets for two simple GETs."""
    rates: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url + "/api/v4", headers=headers, trust_env=False) as client:
        for path, count in (("/system/ping", requests), ("/config", max(1, requests // 3))):
            for _ in range(20):  # warm-up
                client.get(path).raise_for_status()
            started = time.perf_counter()
            for _ in range(count):
                client.get(path).raise_for_status()
            rates[f"GET {path}"] = count / (time.perf_counter() - started)
    return rates


def run_suite(target_file: Path, profile: str) -> ToolRun:
    """The contract suite against the stub described by ``target_file``."""
    with tempfile.TemporaryDirectory(prefix="mmconform-suite-") as scratch:
        probe = Path(scratch, "probe")
        probe.mkdir()
        env = dict(os.environ)
        env[PROBE_ENV] = str(probe)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        args = [
            sys.executable,
            "-m",
            "pytest",
            "suites/contract",
            "--target-file",
            str(target_file),
            "--allow-destructive",
            "--mm-profile",
            profile,
            "-p",
            "benchmarks._gate_probe",
            "-p",
            "no:cacheprovider",
            "-q",
            "--reports-dir",
            str(Path(scratch, "reports")),
        ]
        started = time.monotonic()
        result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        if result.returncode not in (0, 1):
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        tests = json.loads(Path(probe, "main.json").read_text())["tests"]
    cases = sum(int(test["generated"]) for test in tests.values())
    http = sum(int(test["http"]) for test in tests.values())
    inside = sum(float(test["seconds"]) for test in tests.values())
    return ToolRun("contract suite", cases, http, wall, inside, result.returncode)


def run_cli(url: str, token: str, profile: str) -> ToolRun:
    """``schemathesis run`` over spec/openapi.yaml against ``url``."""
    chosen = PROFILES[profile]
    with tempfile.TemporaryDirectory(prefix="mmconform-cli-") as scratch:
        report = Path(scratch, "run.json")
        counted = Path(scratch, "http-count")
        args = [
            sys.executable,
            "-c",
            _COUNTING_CLI,
            "run",
            "spec/openapi.yaml",
            "--url",
            url,
            "--max-examples",
            str(chosen.max_examples),
            "--continue-on-failure",
            "--workers",
            "1",
            "--header",
            f"Authorization: Bearer {token}",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        if chosen.deterministic:
            args.append("--generation-deterministic")
        if chosen.fixed_seed is not None:
            args += ["--seed", str(chosen.fixed_seed)]
        env = dict(os.environ)
        env[COUNT_ENV] = str(counted)
        started = time.monotonic()
        result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        if not report.exists():
            raise RuntimeError(
                f"schemathesis run wrote no report (exit {result.returncode}):\n"
                + (result.stdout[-2000:] + result.stderr[-2000:]).replace(token, "[token]")
            )
        document = json.loads(report.read_text())
        http = int(counted.read_text()) if counted.exists() else 0
    return ToolRun(
        "schemathesis CLI",
        int(document["test_cases"]["generated"]),
        http,
        wall,
        float(document["running_time"]),
        result.returncode,
    )


def one_round(profile: str, ceiling_requests: int) -> tuple[dict[str, float], ToolRun, ToolRun]:
    with embedded_stub() as target_file:
        document = tomllib.loads(target_file.read_text())
        url = str(document["target"]["url"])
        token = str(document["tokens"]["system_admin"])
        rates = ceiling(url, token, ceiling_requests)
        suite = run_suite(target_file, profile)
        cli = run_cli(url, token, profile)
    return rates, suite, cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", default="gate", choices=sorted(PROFILES))
    parser.add_argument("--repeat", type=int, default=1, help="rounds, each on a fresh stub")
    parser.add_argument(
        "--ceiling-requests", type=int, default=3000, help="GET /system/ping requests (ceiling)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.ceiling_requests < 1:
        parser.error("--repeat and --ceiling-requests must be at least 1")
    print(
        f"contract suite and schemathesis CLI, profile {args.profile}, "
        f"load {os.getloadavg()[0]:.2f} at start"
    )
    for _ in range(args.repeat):
        rates, suite, cli = one_round(args.profile, args.ceiling_requests)
        print(
            "ceiling (one httpx keep-alive client): "
            + ", ".join(f"{name} {rate:.0f}/s" for name, rate in rates.items())
        )
        print(
            f"  {'tool':<18}{'cases':>7}{'HTTP':>7}{'wall s':>8}{'in-run s':>10}"
            f"{'cases/s':>9}{'HTTP/s':>8}{'cases/s in-run':>16}{'HTTP/s in-run':>15}{'exit':>6}"
        )
        for run in (suite, cli):
            print(
                f"  {run.name:<18}{run.cases:>7}{run.http:>7}{run.wall:>8.1f}{run.inside:>10.1f}"
                f"{run.rate_wall:>9.0f}{run.http / run.wall:>8.0f}{run.rate_inside:>16.0f}"
                f"{run.http / run.inside:>15.0f}{run.returncode:>6}"
            )
        http_wall = (suite.http / suite.wall) / (cli.http / cli.wall) if cli.http else 0.0
        http_inside = (suite.http / suite.inside) / (cli.http / cli.inside) if cli.http else 0.0
        print(
            "  suite/CLI per second over the wall time: "
            f"cases {suite.rate_wall / cli.rate_wall:.2f}x, HTTP {http_wall:.2f}x; "
            f"inside the runs: cases {suite.rate_inside / cli.rate_inside:.2f}x, "
            f"HTTP {http_inside:.2f}x"
        )
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
