"""What the comparison's tests share: stubs in threads, their target files, one comparison
with the options a test wants, and the faults' operations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from mmconform.contract import load_contract
from mmconform.diff import DiffOptions, DiffResult, compare_targets, live_target
from mmconform.diff._cases import Generation
from mmconform.diff._groups import Group
from mmconform.diff._sides import BASELINE, CANDIDATE
from mmconform.stub import DEFAULT_SERVER_VERSION, Fault, RunningStub, StubOptions, start_stub

ROOT = Path(__file__).resolve().parents[2]
LICENSE = ROOT / "fixtures" / "licenses" / "valid.mattermost-license"
NEWEST = DEFAULT_SERVER_VERSION
#: The versions of tests/suite_validation/test_validation_versions.py, oldest first.
VERSIONS = ("7.0.0", "8.1.0", "9.5.0", "10.3.0", "10.11.0", "11.0.0", NEWEST, "11.10.0")
#: Operations every fault that changes every operation shows on (an error, a success, a body).
EVERY_OPERATION_SAMPLE = ("GetPing", "GetServerBusyExpires", "SetServerBusy")


def options(**changes: object) -> DiffOptions:
    """Comparison options for tests: two fuzzing cases per operation, the given changes."""
    generation = changes.pop("generation", Generation(max_examples=2))
    return replace(DiffOptions(generation=generation), **changes)  # type: ignore[arg-type]


@contextmanager
def stubs(
    folder: Path, baseline: StubOptions, candidate: StubOptions
) -> Iterator[tuple[RunningStub, RunningStub]]:
    """Two stubs in threads, with their target files written in ``folder``."""
    with start_stub(baseline) as first, start_stub(candidate) as second:
        first.write_target(folder / "baseline.toml")
        second.write_target(folder / "candidate.toml")
        yield first, second


def compare(folder: Path, diff_options: DiffOptions, **kwargs: object) -> DiffResult:
    """Compare the two stubs whose target files are in ``folder``."""
    return compare_targets(
        load_contract(),
        live_target(str(folder / "baseline.toml"), BASELINE),
        live_target(str(folder / "candidate.toml"), CANDIDATE),
        diff_options,
        **kwargs,  # type: ignore[arg-type]
    )


def describe(groups: Sequence[Group]) -> str:
    """Groups in a few lines, for an assertion message."""
    return "\n".join(
        f"{'explained' if g.explained else 'UNEXPLAINED'} {g.operation} {g.kind} {g.signature} "
        f"[{', '.join(g.sorted_callers())}] x{g.count} "
        + "; ".join(e.source for e in g.explanations.values())
        for g in groups
    )


def fault_operations(fault: Fault) -> tuple[str, ...]:
    """The operations a comparison sends to show ``fault``: those it changes (a sample for a
    fault of every operation) and the operations linked to them in the contract (server busy
    set, read and cleared together)."""
    wanted = set(fault.operations or EVERY_OPERATION_SAMPLE)
    for family in load_contract().link_families():
        if wanted & set(family):
            wanted |= set(family)
    return tuple(sorted(wanted))


def fault_stubs(fault: Fault) -> tuple[StubOptions, StubOptions]:
    """A correct stub and the same stub with ``fault`` (licensed Enterprise, at the version
    the fault needs)."""
    version = fault.server_version or NEWEST
    correct = StubOptions(server_version=version, license_file=LICENSE)
    return correct, replace(correct, faults=frozenset({fault}))


def caught(result: DiffResult, fault: Fault) -> list[Group]:
    """The unexplained groups that name an operation ``fault`` changes."""
    wanted = set(fault.operations)
    return [g for g in result.unexplained if not wanted or g.operation in wanted]
