"""The contract suite fails where it should.

Each case starts the stub with one deliberate defect, runs the relevant contract tests against it
in a separate pytest process (exactly as a user would: ``pytest suites/contract --target-file``),
and checks that the test covering the broken promise fails, naming the right check, while the same
tests pass against the faithful stub.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmconform.stub import Fault, StubOptions, start_stub
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "suites/contract/test_contract.py"


def operation_test(label: str) -> str:
    return f"{CONTRACT}::test_operation[{label}]"


def session_test(operation_id: str) -> str:
    return f"{CONTRACT}::test_session_required[{operation_id}]"


@dataclass(frozen=True)
class Run:
    returncode: int
    outcomes: dict[str, str]
    output: str

    def outcome(self, nodeid: str) -> str:
        return self.outcomes.get(nodeid, "NOT RUN")


def run_suite(target_file: Path, nodeids: list[str], operations: list[str], *extra: str) -> Run:
    result = run_pytest(
        ROOT,
        "-rA",
        "--tb=long",
        "--no-header",
        f"--target-file={target_file}",
        *extra,
        *[f"--operation={op}" for op in operations],
        *nodeids,
        timeout=300,
    )
    outcomes: dict[str, str] = {}
    # Parametrised ids can contain spaces; -rA prints them whole, so match by prefix.
    for line in result.stdout.splitlines():
        for nodeid in nodeids:
            for word in ("PASSED", "FAILED", "ERROR", "SKIPPED"):
                if line.startswith(f"{word} {nodeid}"):
                    outcomes[nodeid] = word
    return Run(result.returncode, outcomes, result.stdout + result.stderr)


@pytest.fixture
def stub_target(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    faults: frozenset[Fault] = frozenset(getattr(request, "param", ()))
    with start_stub(StubOptions(faults=faults)) as stub:
        path = tmp_path / "target.toml"
        stub.write_target(path)
        yield path


@dataclass(frozen=True)
class Defect:
    fault: Fault
    failing: str
    check: str
    operation_id: str


BUSY = operation_test("GET /api/v4/server_busy")
TIMEZONES = operation_test("GET /api/v4/system/timezones")
AUDITS = operation_test("GET /api/v4/audits")

DEFECTS = [
    # A missing required field.
    Defect(Fault.BUSY_MISSING_EXPIRES, BUSY, "response_schema_conformance", "GetServerBusyExpires"),
    # A wrong type.
    Defect(
        Fault.BUSY_EXPIRES_AS_STRING, BUSY, "response_schema_conformance", "GetServerBusyExpires"
    ),
    # A wrong content type.
    Defect(Fault.TIMEZONES_AS_TEXT, TIMEZONES, "content_type_conformance", "GetSupportedTimezone"),
    # Invalid input accepted (seconds=0 is below the documented minimum).
    Defect(
        Fault.BUSY_ACCEPTS_ZERO_SECONDS,
        operation_test("POST /api/v4/server_busy"),
        "negative_data_rejection",
        "SetServerBusy",
    ),
    # A 500 on bad input.
    Defect(Fault.AUDITS_500_ON_BAD_PAGING, AUDITS, "not_a_server_error", "GetAudits"),
    # Errors that are not AppError JSON.
    Defect(Fault.ERROR_BODY_PLAIN_TEXT, AUDITS, "content_type_conformance", "GetAudits"),
    # A required response header missing (every response carries X-Request-Id).
    Defect(
        Fault.MISSING_REQUEST_ID_HEADER,
        TIMEZONES,
        "response_headers_conformance",
        "GetSupportedTimezone",
    ),
    # Authentication ignored on an operation that needs a login.
    Defect(Fault.TIMEZONES_IGNORE_AUTH, TIMEZONES, "ignored_auth", "GetSupportedTimezone"),
    Defect(
        Fault.TIMEZONES_IGNORE_AUTH,
        session_test("GetSupportedTimezone"),
        "expected 401",
        "GetSupportedTimezone",
    ),
]


@pytest.mark.parametrize(
    ("stub_target", "defect"),
    [pytest.param({d.fault}, d, id=f"{d.fault.name}-{d.failing.split('::')[1]}") for d in DEFECTS],
    indirect=["stub_target"],
)
def test_relevant_contract_test_fails(stub_target: Path, defect: Defect) -> None:
    run = run_suite(stub_target, [defect.failing], [defect.operation_id])
    assert run.outcome(defect.failing) == "FAILED", run.output[-6000:]
    assert run.returncode == 1, run.output[-3000:]
    if "test_operation" in defect.failing:
        checks = [line for line in run.output.splitlines() if "failed check(s):" in line]
        assert any(defect.check in line for line in checks), run.output[-6000:]
    else:
        assert defect.check in run.output, run.output[-6000:]
    # Every failure report names the operation's role and how to replay it, with no token.
    if "test_operation" in defect.failing:
        assert "as role" in run.output
        assert "--mm-seed" in run.output
        # ... and which errata rules shaped the checks it ran.
        assert "Errata applied to this operation (spec/errata.yaml):" in run.output


def test_same_tests_pass_against_the_faithful_stub(stub_target: Path) -> None:
    nodeids = sorted({d.failing for d in DEFECTS})
    run = run_suite(stub_target, nodeids, sorted({d.operation_id for d in DEFECTS}))
    failed = {n: run.outcome(n) for n in nodeids if run.outcome(n) != "PASSED"}
    assert not failed, run.output[-8000:]


@pytest.mark.parametrize("stub_target", [{Fault.TIMEZONES_IGNORE_AUTH}], indirect=True)
def test_failure_output_never_contains_a_token(stub_target: Path) -> None:
    import tomllib

    tokens = tomllib.loads(stub_target.read_text())["tokens"]
    run = run_suite(stub_target, [TIMEZONES], ["GetSupportedTimezone"])
    assert run.outcome(TIMEZONES) == "FAILED"
    for token in tokens.values():
        assert token not in run.output
