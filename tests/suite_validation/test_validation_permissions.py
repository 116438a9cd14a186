"""The permission suite fails exactly where a server gets a cell wrong, and nowhere else.

Every cell of the matrix is flipped once by the stub's generic cell fault: ``grant`` where the
contract refuses the caller, ``deny`` where it lets it through. Flipping one cell at a time would
mean hundreds of runs, so the cells are flipped in batches of independent ones: each operation
gets the callers of column ``(operation index + shift) mod 7`` flipped, for every shift, and the
seven shifts are spread over four runs (at most two callers per operation in a run, a different
pair each run). Each run of the matrix, a separate pytest process against the stub as a user
would start it, must fail exactly the flipped cells and pass every other one, as its
reports/permission-matrix.json and its summary say.

The cells the run's preflight itself probes (the token checks: timezones, server busy, config,
audits and logs for every role, ping without credentials) cannot reach the matrix: a server that
gets them wrong is refused before any test runs, naming the role and the request. That refusal is
what is checked for them, in-process.

Then the data-visibility faults: each makes the visibility test it concerns fail. And the
faithful stub passes the whole permission suite.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmconform.contract import (
    ALLOWED,
    ANONYMOUS,
    LOCAL,
    MATRIX_COLUMNS,
    REFUSED,
    ROLES,
    CellExpectation,
    Contract,
    MatrixConditions,
    load_contract,
    permission_matrix,
)
from mmconform.harness import Transport
from mmconform.harness._exitcodes import TargetProblem
from mmconform.harness._preflight import PROBE_OPERATIONS, TOKEN_CHECK, run_preflight
from mmconform.harness._target import resolve_target
from mmconform.stub import CellSpec, RunningStub, StubOptions, start_stub
from tests._faithful import GROUP, GateRun
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
MATRIX = "suites/permissions/test_matrix.py"
VISIBILITY = "suites/permissions/test_visibility.py"
CONTRACT: Contract = load_contract()
COLUMNS = (*MATRIX_COLUMNS, LOCAL)
#: a newest Enterprise stub without a license, as StubOptions() starts it
STUB_EDITION, STUB_LICENSED = "enterprise", False

Key = tuple[str, str]


def _expected_matrix(*, licensed: bool = False) -> dict[Key, CellExpectation]:
    stub_version = StubOptions().version
    conditions = MatrixConditions.default_install(
        CONTRACT, version=stub_version, edition="enterprise", licensed=licensed
    )
    return permission_matrix(CONTRACT, conditions, COLUMNS)


EXPECTED = _expected_matrix()
OPERATIONS = list(dict.fromkeys(op for op, _ in EXPECTED))


def _preflight_probes() -> set[Key]:
    """Cells the preflight sends for every role before any test: they never reach the matrix."""
    token_check = CONTRACT.find(TOKEN_CHECK[0], "/api/v4" + TOKEN_CHECK[1]).operation_id
    probed = {op for op, _ in PROBE_OPERATIONS} | {token_check}
    return {(op, role) for op in probed for role in ROLES} | {("GetPing", ANONYMOUS)}


PROBED = _preflight_probes()
#: a flipped cell -> operations whose cells cannot run beside it (their guards need that cell)
CONFLICTS: dict[Key, frozenset[str]] = {
    ("ClearServerBusy", "system_admin"): frozenset({"SetServerBusy"}),
}


def flip_of(key: Key) -> CellSpec:
    """The fault that makes a cell wrong: deny what passes (or is refused only after the
    permission check), grant what is refused by the session, the permission or the route."""
    expectation = EXPECTED[key]
    if expectation.access in (ALLOWED, REFUSED):
        return CellSpec("deny", key[0], key[1])
    return CellSpec("grant", key[0], key[1])


@dataclass(frozen=True)
class FlipRun:
    flips: frozenset[Key]
    excluded_operations: frozenset[str]


#: how many child runs the flips are spread over
RUN_COUNT = 4


def flip_runs() -> list[FlipRun]:
    """Every cell the matrix runs, flipped in exactly one run; at most two callers per operation
    per run (shifts s and s + 4 of the column), except where a conflict moves a flip to another
    run (to the run with the fewest flips of that operation)."""
    runs: list[set[Key]] = [set() for _ in range(RUN_COUNT)]
    for index, op_id in enumerate(OPERATIONS):
        for shift, _ in enumerate(COLUMNS):
            key = (op_id, COLUMNS[(index + shift) % len(COLUMNS)])
            if key in EXPECTED and key not in PROBED:
                runs[shift % RUN_COUNT].add(key)
    excluded: list[set[str]] = [set() for _ in runs]
    for cell, operations in CONFLICTS.items():
        at = next(i for i, flips in enumerate(runs) if cell in flips)
        excluded[at] |= operations
        for key in [k for k in runs[at] if k[0] in operations]:
            runs[at].discard(key)
            others = [i for i in range(len(runs)) if i != at]
            fewest = min(others, key=lambda i: sum(1 for op, _ in runs[i] if op == key[0]))
            runs[fewest].add(key)
    return [FlipRun(frozenset(f), frozenset(e)) for f, e in zip(runs, excluded, strict=True)]


RUNS = flip_runs()


def test_every_cell_is_flipped_once_or_probed_by_the_preflight() -> None:
    flipped = [key for run in RUNS for key in run.flips]
    assert len(flipped) == len(set(flipped))
    assert set(flipped) | (PROBED & set(EXPECTED)) == set(EXPECTED)
    assert not set(flipped) & PROBED
    for run in RUNS:
        assert not {op for op, _ in run.flips} & run.excluded_operations
    # most cells of each operation stay unflipped in every run, to show they still pass
    for run in RUNS:
        for op_id in OPERATIONS:
            flipped_here = sum(1 for op, _ in run.flips if op == op_id)
            assert flipped_here <= 3, (op_id, flipped_here)


# --- running the suite against a stub -------------------------------------------------------------


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningStub]:
    with start_stub(StubOptions()) as running:
        yield running


def _target_file(stub: RunningStub, folder: Path) -> Path:
    """The stub's target file, stating its edition and license so that no answer of the stub
    (flipped or not) changes what the run believes about them."""
    return dataclasses.replace(
        stub.target_file(), edition=STUB_EDITION, licensed=STUB_LICENSED
    ).write(folder / "target.toml")


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    output: str
    failed: frozenset[str]
    cells: dict[Key, str]


_FAILED = re.compile(r"^(?:FAILED|ERROR) (suites/\S+?(?:\[[^\]]*\])?)(?: |$)", re.MULTILINE)


def run_suite(stub: RunningStub, folder: Path, *args: str) -> SuiteRun:
    reports = folder / "reports"
    result = run_pytest(
        ROOT,
        "-p",
        "no:randomly",
        "-q",
        "--no-header",
        "-rfE",
        "--tb=line",
        f"--target-file={_target_file(stub, folder)}",
        "--allow-destructive",
        f"--reports-dir={reports}",
        *args,
        timeout=300,
    )
    output = result.stdout + result.stderr
    matrix_file = reports / "latest" / "permission-matrix.json"
    cells: dict[Key, str] = {}
    if matrix_file.is_file():
        for cell in json.loads(matrix_file.read_text(encoding="utf-8"))["cells"]:
            cells[(cell["operation"], cell["role"])] = cell["verdict"]
    return SuiteRun(result.returncode, output, frozenset(_FAILED.findall(output)), cells)


def cell_id(key: Key) -> str:
    return f"{MATRIX}::test_permission[{key[0]}-{key[1]}]"


@pytest.mark.parametrize("run", RUNS, ids=[f"run{i}" for i in range(len(RUNS))])
def test_each_flipped_cell_fails_and_no_other(
    run: FlipRun, stub: RunningStub, tmp_path: Path
) -> None:
    stub.state.cell_faults = frozenset(flip_of(key) for key in run.flips)
    try:
        args = [MATRIX]
        if run.excluded_operations:
            args += ["-k", " and ".join(f"not {op}-" for op in sorted(run.excluded_operations))]
        result = run_suite(stub, tmp_path, *args)
    finally:
        stub.state.cell_faults = frozenset()
    ran = {key for key in EXPECTED if key[0] not in run.excluded_operations}
    assert set(result.cells) == ran, (
        f"cells not recorded: {sorted(ran - set(result.cells))[:10]}\n{result.output[-3000:]}"
    )
    failed_cells = {key for key, verdict in result.cells.items() if verdict == "failed"}
    assert failed_cells == set(run.flips), (
        f"flipped but passing: {sorted(set(run.flips) - failed_cells)}\n"
        f"failing but not flipped: {sorted(failed_cells - set(run.flips))}\n"
        + result.output[-4000:]
    )
    assert result.failed == {cell_id(key) for key in run.flips}, result.output[-4000:]
    assert result.returncode == 1, result.output[-3000:]


@pytest.mark.parametrize("key", sorted(PROBED & set(EXPECTED)), ids="-".join)
def test_flipped_preflight_probes_stop_the_run(key: Key, stub: RunningStub, tmp_path: Path) -> None:
    """A server that gets a probed cell wrong is refused before any test, with the role named."""
    target = resolve_target(target_file=_target_file(stub, tmp_path), target_url=None, environ={})
    assert target is not None
    stub.state.cell_faults = frozenset({flip_of(key)})
    try:
        with pytest.raises(TargetProblem) as refused:
            run_preflight(target, Transport(timeout=5.0), CONTRACT)
    finally:
        stub.state.cell_faults = frozenset()
    problem = refused.value
    assert problem.returncode in (10, 11), problem.message
    operation = CONTRACT.operation(key[0])
    assert operation.client_path() in problem.message, problem.message
    if key[1] != ANONYMOUS:
        assert key[1] in problem.message, problem.message


@pytest.mark.xdist_group(GROUP)
def test_the_faithful_stub_passes_the_permission_suite(faithful_gate: GateRun) -> None:
    """Read from the shared run of the whole gate against the faithful (licensed) stub: every
    cell of the matrix ran and passed, and so did visibility and the gates."""
    assert faithful_gate.returncode == 0, faithful_gate.output[-6000:]
    assert set(faithful_gate.cells) == set(_expected_matrix(licensed=True))
    assert set(faithful_gate.cells.values()) == {"passed"}
    permissions = faithful_gate.of("suites/permissions/")
    assert permissions, faithful_gate.output[-3000:]
    assert not {n: o for n, o in permissions.items() if o in ("FAILED", "ERROR")}
