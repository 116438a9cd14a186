"""A pytest plugin for benchmarks: per test, its time, its HTTP requests and the contract suite's
generated cases (by schemathesis phase); one JSON file per process.

Loaded by ``benchmarks/gate.py`` with ``-p benchmarks._gate_probe`` and switched on by the
environment variable ``MMCONFORM_GATE_PROBE_DIR`` (the folder the files go to). Every process
of the run (the xdist controller and each worker) writes ``<worker id or "main">.json``:

    {"worker": "gw0", "started": <epoch s>, "finished": <epoch s>,
     "outside_tests": {"http": N},
     "tests": {nodeid: {"seconds": s, "http": N, "generated": N, "phases": {phase: N},
                        "group": "mm-state-config" | null, "outcome": "passed"}}}

HTTP requests are counted where they leave the process (``httpx.HTTPTransport`` and the
``requests`` adapter), so a check's own follow-up requests count too; "generated" counts the
cases the contract runner sent (what the run's ``generated requests sent`` line adds up).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests.adapters

ENV = "MMCONFORM_GATE_PROBE_DIR"

_current: dict[str, Any] | None = None
_outside = {"http": 0}
_tests: dict[str, dict[str, Any]] = {}
_started = time.time()


def _record(kind: str, amount: int = 1) -> None:
    target = _current if _current is not None else _outside
    target[kind] = target.get(kind, 0) + amount


def _patch() -> None:
    original_httpx = httpx.HTTPTransport.handle_request
    original_requests = requests.adapters.HTTPAdapter.send

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        _record("http")
        return original_httpx(self, request)

    def send(self: requests.adapters.HTTPAdapter, *args: Any, **kwargs: Any) -> Any:
        _record("http")
        return original_requests(self, *args, **kwargs)

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]

    from mmconform.harness._schemathesis import CaseRunner

    original_check = CaseRunner.check

    def check(self: CaseRunner, case: Any, response: Any, **kwargs: Any) -> None:
        _record("generated")
        meta = getattr(case, "meta", None)
        phase = str(getattr(getattr(meta, "phase", None), "name", "unknown"))
        if _current is not None:
            phases = _current.setdefault("phases", {})
            phases[phase] = phases.get(phase, 0) + 1
        original_check(self, case, response, **kwargs)

    CaseRunner.check = check  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(ENV):
        _patch()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    global _current
    if not os.environ.get(ENV):
        yield
        return
    group = item.get_closest_marker("xdist_group")
    entry = _tests.setdefault(
        item.nodeid,
        {
            "seconds": 0.0,
            "http": 0,
            "generated": 0,
            "group": str(group.args[0]) if group and group.args else None,
            "outcome": "passed",
        },
    )
    _current = entry
    try:
        yield
    finally:
        _current = None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _tests.get(report.nodeid)
    if entry is None:
        return
    entry["seconds"] += report.duration
    if report.outcome != "passed" and entry["outcome"] == "passed":
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else report.outcome


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = os.environ.get(ENV)
    if not folder:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    document = {
        "worker": worker,
        "started": _started,
        "finished": time.time(),
        "outside_tests": _outside,
        "tests": _tests,
    }
    Path(folder, f"{worker}.json").write_text(json.dumps(document), encoding="utf-8")
