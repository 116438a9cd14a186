"""The requirements catalogue and the suites point at each other: every requirement is proved
by at least one test, and every scenario test cites at least one requirement.

The map is read from a collection of the real suites (against the embedded stub, whose newest
version has every operation), so deselection by version does not hide a test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform.contract import load_contract
from tests._pytest_run import run_pytest
from tests.suite_validation._requirement_map import PREFIX

ROOT = Path(__file__).resolve().parents[2]
#: Suites whose every test must cite a requirement (the contract suite's generated tests prove
#: the contract as a whole and cite it too, but are not required to).
MUST_CITE = {"scenarios", "permissions", "clients"}


@pytest.fixture(scope="module")
def cited() -> list[tuple[str, str, tuple[str, ...]]]:
    result = run_pytest(
        ROOT,
        "suites",
        "--collect-only",
        "-q",
        "--no-reports",
        "-p",
        "tests.suite_validation._requirement_map",
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = []
    for line in result.stdout.splitlines():
        if line.startswith(PREFIX):
            nodeid, suite, ids = line[len(PREFIX) :].split("\t")
            rows.append((nodeid, suite, tuple(filter(None, ids.split(",")))))
    assert rows, result.stdout[-3000:]
    return rows


def test_every_requirement_is_proved_by_a_test(
    cited: list[tuple[str, str, tuple[str, ...]]],
) -> None:
    proved = {req for _, _, ids in cited for req in ids}
    missing = [r.id for r in load_contract().requirements if r.id not in proved]
    assert not missing, f"requirements no test cites: {missing}"


def test_every_scenario_cites_a_requirement(
    cited: list[tuple[str, str, tuple[str, ...]]],
) -> None:
    silent = [nodeid for nodeid, suite, ids in cited if suite in MUST_CITE and not ids]
    assert not silent, f"tests that cite no requirement: {silent}"
