"""diff.json (against its JSON Schema), diff.md and diff.html, from a comparison's result."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mmconform.contract import load_contract
from mmconform.diff._compare import Difference
from mmconform.diff._exitcodes import DiffProblem
from mmconform.diff._explain import Explanation, Instance
from mmconform.diff._groups import Found, SideAddress, group_instances
from mmconform.diff._model import RequestSpec
from mmconform.diff._pages import render_diff_html, render_diff_markdown
from mmconform.diff._report import (
    ALL_EXPLAINED,
    build_diff_report,
    fresh_reports_dir,
    schema_problems,
    write_diff_reports,
)
from mmconform.diff._run import DiffOptions, DiffResult
from mmconform.diff._sides import SideFacts
from mmconform.report import PAGE_STYLE

FACTS = SideFacts("10.11.0", "enterprise", False, ("system_admin", "anonymous"), "http://a")


def _result(explained: bool) -> DiffResult:
    request = RequestSpec("GetClientConfig", "GET", "/api/v4/config/client")
    difference = Difference("status", "", "501 → 200", "501 x", "200")
    instance = Instance(
        "GetClientConfig", "anonymous", "GET", request.target, difference, 501, "x", 200, None
    )
    why = Explanation("erratum client-config-format", "case format_missing") if explained else None
    groups = group_instances(
        [Found(instance, request, why)], (SideAddress("http://a"), SideAddress("http://b"))
    )
    return DiffResult(
        mode="targets",
        baseline=FACTS,
        candidate=SideFacts("11.0.0", "enterprise", False, FACTS.callers, "http://b"),
        baseline_label="http://a",
        candidate_label="http://b",
        callers=FACTS.callers,
        operations=("GetClientConfig",),
        skipped={"RestartServer": "destructive (x-mm-destructive): give --allow-destructive"},
        requests=1,
        exchanges=2,
        sent={"baseline": 2, "candidate": 2},
        groups=groups,
        seconds=1.25,
        generation_seconds=0.5,
        options=DiffOptions(),
    )


def test_a_report_fits_its_schema_and_the_schema_refuses_what_does_not() -> None:
    report = build_diff_report(_result(True), load_contract(), started_at=datetime.now(UTC))
    assert schema_problems(report) == []
    assert report["verdict"]["status"] == ALL_EXPLAINED
    assert report["verdict"]["exit_code"] == 0
    assert report["groups"][0]["explanations"][0]["source"] == "erratum client-config-format"
    broken = copy.deepcopy(report)
    broken["verdict"]["exit_code"] = 1
    broken["groups"][0]["kind"] = "colour"
    del broken["run"]["exchanges"]
    problems = schema_problems(broken)
    assert any(p.startswith("/verdict/exit_code") for p in problems)
    assert any(p.startswith("/groups/0/kind") for p in problems)
    assert any("exchanges" in p for p in problems)


def test_an_unexplained_group_sets_the_verdict_and_exit_code() -> None:
    report = build_diff_report(_result(False), load_contract())
    assert report["verdict"]["exit_code"] == 20
    assert report["totals"] == {"groups": 1, "explained": 0, "unexplained": 1, "differences": 1}


def test_the_pages_show_the_verdict_groups_explanations_and_what_was_left_out() -> None:
    report = build_diff_report(_result(True), load_contract())
    markdown = render_diff_markdown(report)
    assert markdown.startswith("## mmconform diff: ALL DIFFERENCES EXPLAINED")
    assert "| ✅ | GetClientConfig | status | `501 → 200` | anonymous | 1 |" in markdown
    assert "RestartServer: destructive" in markdown
    page = render_diff_html(report)
    assert PAGE_STYLE in page
    assert 'id="diff-verdict"' in page
    assert "erratum client-config-format" in page
    assert page.count("<details") == 2  # the reproduction and what was left out


def test_reports_go_to_a_new_folder_and_never_over_another_runs(tmp_path: Path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = fresh_reports_dir(None, tmp_path, now)
    second = fresh_reports_dir(None, tmp_path, now)
    assert (first.name, second.name) == ("diff-20260102-030405", "diff-20260102-030405-1")
    report = build_diff_report(_result(True), load_contract())
    write_diff_reports(report, first)
    with pytest.raises(FileExistsError):
        write_diff_reports(report, first)
    with pytest.raises(DiffProblem):
        fresh_reports_dir(first, tmp_path)
    assert fresh_reports_dir(tmp_path / "named", tmp_path) == tmp_path / "named"
