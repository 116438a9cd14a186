"""Every fault of the stub's catalogue fails the tests its record names, saying what the record
says, and those tests pass against the faithful stub.

The batches are derived from the records (``mmconform/stub/faults.py``): faults that imitate
the same version, whose operations, areas and server-wide states do not overlap, share one stub
and one child pytest (as a user runs the suites: ``pytest --target-file``, destructive
operations allowed). A fault that changes every operation runs alone; a fault the session must
refuse at its start runs alone against one ping scenario.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmconform.contract import load_contract
from mmconform.stub import DEFAULT_SERVER_VERSION, Fault, StubOptions, start_stub
from mmconform.stub.faults import PREFLIGHT, Catch
from tests._faithful import GROUP, GateRun
from tests._faithful import VERSION as SHARED_VERSION
from tests._pytest_run import run_suites_against_stub

#: the most faults one child run carries
BATCH_SIZE = 10
HAS_NODE = shutil.which("node") is not None and shutil.which("npm") is not None
PING_SCENARIOS = "suites/scenarios/test_ping.py"
ERRATA_NOTE = "Errata applied to this operation (spec/errata.yaml):"


def runs_here(catch: Catch) -> bool:
    """Whether this machine can run the catching test (the TypeScript client needs Node.js)."""
    return HAS_NODE or "test_typescript_client" not in catch.test


def _keys(fault: Fault) -> frozenset[str]:
    """What a fault touches: its operations, its area and the server-wide state they change."""
    contract = load_contract()
    states = {state for op in fault.operations for state in contract.operation(op).grouping_states}
    return frozenset(
        {*fault.operations, f"area:{fault.area}", *(f"state:{state}" for state in states)}
    )


@dataclass
class Batch:
    server_version: str
    faults: list[Fault]

    @property
    def name(self) -> str:
        return "+".join(fault.name.lower() for fault in self.faults)

    @property
    def catches(self) -> list[tuple[Fault, Catch]]:
        return [(f, c) for f in self.faults for c in f.caught_by if runs_here(c)]


def batches() -> list[Batch]:
    """Faults packed first-fit, in catalogue order, into runs whose faults touch nothing in
    common; a fault of every operation alone; preflight catches apart."""
    packed: list[Batch] = []
    for fault in Fault:
        if all(c.test == PREFLIGHT for c in fault.caught_by):
            continue
        version = fault.server_version or DEFAULT_SERVER_VERSION
        if fault.operations:
            for batch in packed:
                if (
                    batch.server_version == version
                    and batch.faults[0].operations
                    and len(batch.faults) < BATCH_SIZE
                    and not any(_keys(fault) & _keys(other) for other in batch.faults)
                ):
                    batch.faults.append(fault)
                    break
            else:
                packed.append(Batch(version, [fault]))
        else:
            packed.append(Batch(version, [fault]))
    return packed


BATCHES = batches()
_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S.*?)(?: - .*)?$")


def _outcomes(stdout: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        match = _OUTCOME.match(line)
        if match:
            found[match.group(2)] = match.group(1)
    return found


def _section(output: str, nodeid: str) -> str:
    """The failure report of one test (its ``___ name ___`` section)."""
    name = nodeid.split("::", 1)[1]
    parts = re.split(r"^_{3,} (.+?) _{3,}$", output, flags=re.MULTILINE)
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        if title.strip() == name:
            return body
    return ""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    output: str
    secrets: tuple[str, ...]


def _run(options: StubOptions, tmp_path: Path, *selection: str) -> Run:
    with start_stub(options) as stub:
        secrets = (
            *stub.tokens.values(),
            stub.state.config["SqlSettings"]["DataSource"],
            stub.state.config["SqlSettings"]["AtRestEncryptKey"],
        )
        # wide enough that a long test name still gets its ``___ name ___`` title
        result = run_suites_against_stub(stub, tmp_path, *selection, env={"COLUMNS": "400"})
    return Run(result.returncode, result.stdout, result.stdout + result.stderr, secrets)


def _problems(fault: Fault, catch: Catch, run: Run, outcomes: dict[str, str]) -> list[str]:
    where = f"{catch.test} against {fault.name}"
    outcome = outcomes.get(catch.test, "NOT RUN")
    if outcome != "FAILED":
        return [f"{where}: {outcome}"]
    section = _section(run.output, catch.test)
    problems = []
    if catch.requirement and not section.strip().startswith(f"requirement {catch.requirement}:"):
        problems.append(f"{where}: does not name requirement {catch.requirement}")
    if catch.says and catch.says not in section:
        problems.append(f"{where}: does not say {catch.says!r}")
    if catch.requirement and "reproduce (credentials redacted):" not in section:
        problems.append(f"{where}: no reproduction")
    if "::test_operation[" in catch.test:
        if not ("as role" in section and "--mm-seed" in section):
            problems.append(f"{where}: the contract failure names no role or seed")
        label = catch.test.split("::test_operation[", 1)[1].rstrip("]")
        method, path = label.split(" ", 1)
        contract = load_contract()
        operation = contract.find(method, path)
        if contract.errata_for(operation.operation_id) and ERRATA_NOTE not in section:
            problems.append(f"{where}: the failure does not say which errata shaped its checks")
    return problems


@pytest.mark.parametrize("batch", BATCHES, ids=lambda batch: batch.name)
def test_each_fault_fails_the_tests_its_record_names(batch: Batch, tmp_path: Path) -> None:
    catches = batch.catches
    if not catches:
        pytest.skip("every test catching these faults needs Node.js and npm")
    options = StubOptions(server_version=batch.server_version, faults=frozenset(batch.faults))
    run = _run(options, tmp_path, *dict.fromkeys(c.test for _, c in catches))
    outcomes = _outcomes(run.stdout)
    problems = [p for fault, catch in catches for p in _problems(fault, catch, run, outcomes)]
    assert not problems, "\n".join(problems) + "\n" + run.output[-6000:]
    # 12: a fault that breaks how state is put back leaves the server changed, and says so.
    assert run.returncode in (1, 12), run.output[-3000:]
    # Failures name roles, never their tokens, and repeat no secret a faulty server leaked.
    assert not [secret[:8] for secret in run.secrets if secret in run.output]


PREFLIGHT_CATCHES = [
    pytest.param(fault, catch, id=fault.name)
    for fault in Fault
    for catch in fault.caught_by
    if catch.test == PREFLIGHT
]


@pytest.mark.parametrize(("fault", "catch"), PREFLIGHT_CATCHES)
def test_the_session_refuses_a_target_with_the_fault(
    fault: Fault, catch: Catch, tmp_path: Path
) -> None:
    run = _run(StubOptions(faults=frozenset({fault})), tmp_path, PING_SCENARIOS)
    assert run.returncode not in (0, 1), run.output[-3000:]
    assert catch.says in run.output, run.output[-3000:]


def _catching(version: str) -> list[str]:
    return sorted(
        {
            catch.test
            for batch in BATCHES
            if batch.server_version == version
            for _, catch in batch.catches
        }
    )


@pytest.mark.xdist_group(GROUP)
def test_the_faithful_stub_passes_every_test_the_records_name(
    tmp_path: Path, faithful_gate: GateRun
) -> None:
    """Each catching test passes against a faithful stub: the shared run of the whole gate for
    the newest version, a run of its own for an older version a record names."""
    for version in sorted({batch.server_version for batch in BATCHES}):
        nodeids = _catching(version)
        if version == SHARED_VERSION:
            outcomes, output = faithful_gate.outcomes, faithful_gate.output
        else:
            run = _run(StubOptions(server_version=version), tmp_path, *nodeids)
            outcomes, output = _outcomes(run.stdout), run.output
            assert run.returncode == 0, run.output[-3000:]
        not_passed = {n: outcomes.get(n, "NOT RUN") for n in nodeids if outcomes.get(n) != "PASSED"}
        assert not not_passed, f"{version}: {not_passed}\n{output[-6000:]}"


def test_every_fault_is_caught_somewhere_and_batches_keep_faults_apart() -> None:
    batched = [fault for batch in BATCHES for fault in batch.faults]
    preflight = {fault for fault, _ in (p.values for p in PREFLIGHT_CATCHES)}
    assert set(batched) | preflight == set(Fault)
    assert len(batched) == len(set(batched))
    for batch in BATCHES:
        keys = [key for fault in batch.faults for key in _keys(fault)]
        assert len(keys) == len(set(keys)), batch.name
        assert len(batch.faults) == 1 or all(f.operations for f in batch.faults), batch.name
    for fault in Fault:
        assert fault.caught_by, fault.name


def test_every_requirement_named_by_a_catch_exists() -> None:
    catalogue = {requirement.id for requirement in load_contract().requirements}
    named = {c.requirement for f in Fault for c in f.caught_by if c.requirement}
    assert named <= catalogue, sorted(named - catalogue)
    areas = {requirement.split(".", 1)[0] for requirement in named}
    assert {"ping", "busy", "config", "license", "logs", "audits", "errors", "timezones"} <= areas
