"""What each conformance test was about and how it ended reaches the reports, in one process
and across xdist workers alike; the permission matrix is written as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._inprocess import clean_environment, run_inprocess
from tests.plugin.test_plugin_fixtures import CONFTEST, SUITES_CONFTEST

MATRIX_SUITE = """
import pytest
from mmconform.harness import CellResult, record_cell

CELLS = [
    ("GetLogs", "system_user", "denied", (403,), 403),
    ("GetLogs", "system_manager", "allowed", (200,), 200),
    ("GetLogs", "system_read_only_admin", "allowed", (200,), 403),
]

@pytest.mark.parametrize("operation, role, expected, statuses, observed", CELLS)
@pytest.mark.mm_requirement("auth.session-required")
def test_cell(request, operation, role, expected, statuses, observed):
    record_cell(request.node, CellResult(operation, role, expected, statuses, observed))
    assert observed in statuses
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project, run in this process (``run_inprocess``)."""
    clean_environment(monkeypatch)
    tmp_path = Path(pytester.path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    suites = tmp_path / "suites"
    (suites / "permissions").mkdir(parents=True)
    (suites / "conftest.py").write_text(SUITES_CONFTEST, encoding="utf-8")
    (suites / "permissions" / "test_matrix.py").write_text(MATRIX_SUITE, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_cells_and_their_verdicts_are_written(
    project: Path, workers: list[str], pytester: pytest.Pytester
) -> None:
    result = run_inprocess(pytester, "suites", *workers)
    assert result.returncode == 1, result.stdout
    matrix = json.loads((project / "reports" / "latest" / "permission-matrix.json").read_text())
    cells = {(c["operation"], c["role"]): c for c in matrix["cells"]}
    assert cells[("GetLogs", "system_user")]["verdict"] == "passed"
    assert cells[("GetLogs", "system_manager")]["expected"] == "allowed"
    failed = cells[("GetLogs", "system_read_only_admin")]
    assert (failed["verdict"], failed["observed"], failed["expected_statuses"]) == (
        "failed",
        403,
        [200],
    )
    junit = (project / "reports" / "latest" / "junit.xml").read_text(encoding="utf-8")
    assert 'name="mm_category" value="permissions"' in junit
    assert 'name="mm_requirements" value="auth.session-required"' in junit
