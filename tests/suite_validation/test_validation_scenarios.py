"""The faithful stub passes the whole scenario suite (that each scenario fails against the faults
made for it is proved from the fault records: ``test_validation_catalogue.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mmconform.stub import StubOptions, start_stub
from tests._pytest_run import run_suites_against_stub

SCENARIOS = "suites/scenarios"


_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S+)")


@dataclass(frozen=True)
class Run:
    returncode: int
    outcomes: dict[str, str]
    output: str
    #: the stub's tokens and the secrets of its config, none of which output may show
    secrets: tuple[str, ...]


def run_scenarios(options: StubOptions, tmp_path: Path, *selection: str) -> Run:
    with start_stub(options) as stub:
        secrets = (
            *stub.tokens.values(),
            stub.state.config["SqlSettings"]["DataSource"],
            stub.state.config["SqlSettings"]["AtRestEncryptKey"],
        )
        result = run_suites_against_stub(stub, tmp_path, *selection)
    outcomes: dict[str, str] = {}
    for line in result.stdout.splitlines():
        match = _OUTCOME.match(line)
        if match:
            outcomes[match.group(2)] = match.group(1)
    return Run(result.returncode, outcomes, result.stdout + result.stderr, secrets)


def test_the_faithful_stub_passes_every_scenario(tmp_path: Path) -> None:
    run = run_scenarios(StubOptions(), tmp_path, SCENARIOS)
    failed = {n: o for n, o in run.outcomes.items() if o in ("FAILED", "ERROR")}
    assert not failed, run.output[-8000:]
    assert run.returncode == 0, run.output[-8000:]
    assert sum(o == "PASSED" for o in run.outcomes.values()) > 80, run.output[-3000:]
