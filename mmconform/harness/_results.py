"""What each conformance test was about and how it ended, gathered for the reports.

A test describes itself through ``user_properties`` (set when it is selected): its category
(the suite directory it lives in: ``contract``, ``permissions``, ``scenarios``, ``clients``), the
operations, roles, requirements and features it concerns. A permission-matrix test also records
its cell (:func:`record_cell`). User properties travel with each test report, so the gathering
works the same in one process and across xdist workers, and JUnit XML shows them as properties.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from mmconform.report import UNSUPPORTED_PREFIX, CellResult, TestResult

__all__ = ["MESSAGE", "Results", "describe_item", "record_cell"]

#: user_properties keys
CATEGORY = "mm_category"
OPERATIONS = "mm_operations"
ROLES = "mm_roles"
REQUIREMENTS = "mm_requirements"
FEATURES = "mm_features"
CELL = "mm_cell"
#: the outcome in words (a failure's message, a skip's reason), redacted
MESSAGE = "mm_message"


def describe_item(
    item: pytest.Item,
    *,
    category: str,
    operations: Sequence[str],
    features: Sequence[str] = (),
) -> None:
    """Attach what a test is about to its reports (called once, when it is selected)."""
    roles = [str(role) for mark in item.iter_markers("mm_role") for role in mark.args]
    requirements = [str(r) for mark in item.iter_markers("mm_requirement") for r in mark.args]
    item.user_properties.append((CATEGORY, category))
    _label_for_allure(item, category, operations, roles, requirements)
    for key, values in (
        (OPERATIONS, operations),
        (ROLES, roles),
        (REQUIREMENTS, requirements),
        (FEATURES, features),
    ):
        if values:
            item.user_properties.append((key, ",".join(dict.fromkeys(values))))


#: Allure's severity per suite: who may call what is a security matter.
_SEVERITY = {"permissions": "critical", "contract": "normal", "scenarios": "normal"}


def _label_for_allure(
    item: pytest.Item,
    category: str,
    operations: Sequence[str],
    roles: Sequence[str],
    requirements: Sequence[str],
) -> None:
    """Allure groups results by feature (the suite) and story (the operation); roles and
    requirements become tags. Only when the Allure plugin is there to read the marks."""
    if not item.config.pluginmanager.hasplugin("allure_pytest"):
        return
    label = pytest.mark.allure_label
    item.add_marker(label(category, label_type="feature"))
    for operation in dict.fromkeys(operations):
        item.add_marker(label(operation, label_type="story"))
    item.add_marker(label(_SEVERITY.get(category, "normal"), label_type="severity"))
    tags = [*dict.fromkeys(roles), *dict.fromkeys(requirements)]
    if tags:
        item.add_marker(label(*tags, label_type="tag"))


def record_cell(node: pytest.Item, cell: CellResult) -> None:
    """Record the permission-matrix cell a test checks (its verdict comes from the outcome)."""
    node.user_properties.append((CELL, json.dumps(asdict(cell), sort_keys=True)))


def _split(value: object) -> tuple[str, ...]:
    return tuple(part for part in str(value or "").split(",") if part)


class Results:
    """Every conformance test's result, gathered from the reports as they come in."""

    def __init__(self) -> None:
        self.tests: dict[str, TestResult] = {}

    def add(self, report: pytest.TestReport) -> None:
        properties = {key: value for key, value in report.user_properties if key != CELL}
        if CATEGORY not in properties:
            return  # not a conformance test
        result = self.tests.get(report.nodeid)
        if result is None:
            result = self.tests[report.nodeid] = TestResult(
                nodeid=report.nodeid,
                outcome="passed",
                category=str(properties[CATEGORY]),
                operations=_split(properties.get(OPERATIONS)),
                roles=_split(properties.get(ROLES)),
                requirements=_split(properties.get(REQUIREMENTS)),
                features=_split(properties.get(FEATURES)),
            )
        result.duration += float(getattr(report, "duration", 0.0) or 0.0)
        outcome = _outcome(report)
        if _worse(outcome, result.outcome):
            result.outcome = outcome
            result.message = _message(report)
        cells = [
            CellResult(**_cell_fields(json.loads(str(v))))
            for k, v in report.user_properties
            if k == CELL
        ]
        if cells:
            result.cells = cells
        for cell_index, cell in enumerate(result.cells):
            result.cells[cell_index] = _with_verdict(cell, result.outcome)

    def cells(self) -> list[CellResult]:
        return [cell for result in self.tests.values() for cell in result.cells]

    def write_matrix(self, path: Path) -> Path:
        """The permission matrix as JSON: one entry per cell, with expected and observed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        cells = sorted(self.cells(), key=lambda c: (c.operation, c.role))
        document = {"cells": [asdict(cell) for cell in cells]}
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    def by_category(self) -> Mapping[str, list[TestResult]]:
        out: dict[str, list[TestResult]] = {}
        for result in self.tests.values():
            out.setdefault(result.category, []).append(result)
        return out


def _outcome(report: pytest.TestReport) -> str:
    if report.failed:
        return "failed" if report.when == "call" else "error"
    if report.skipped:
        return "unsupported" if _message(report).startswith(UNSUPPORTED_PREFIX) else "skipped"
    return "passed"


def _worse(new: str, old: str) -> bool:
    """Whether ``new`` says more about the test than ``old`` (passed setup, then a failure)."""
    rank = {"passed": 0, "unsupported": 1, "skipped": 1, "failed": 2, "error": 3}
    return rank[new] > rank[old]


def _message(report: pytest.TestReport) -> str:
    for key, value in report.user_properties:
        if key == MESSAGE:
            return str(value)
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "")


def _cell_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    fields = dict(raw)
    fields["expected_statuses"] = tuple(fields.get("expected_statuses", ()))
    return fields


def _with_verdict(cell: CellResult, outcome: str) -> CellResult:
    verdict = {"error": "failed"}.get(outcome, outcome)
    return CellResult(
        **{**asdict(cell), "expected_statuses": cell.expected_statuses, "verdict": verdict}
    )
