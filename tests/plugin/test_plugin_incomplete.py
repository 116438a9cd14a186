"""INCOMPLETE can fail a gate: the whole gate exits 14 on an INCOMPLETE verdict, a run narrowed
with -k (or -m, --operation, node ids, paths...) follows --mm-incomplete's default and passes,
and the verdict line says why the run is incomplete and what would complete it.

The runs use a scratch suites directory against a stub: its two tests prove one requirement
and skip another for want of data, and prove none of the others, so a run of the whole
directory is a complete gate run with an INCOMPLETE verdict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from mmconform.harness import EXIT_INCOMPLETE
from mmconform.harness._completeness import incomplete_fails, narrowing
from mmconform.stub import RunningStub, StubOptions, start_stub
from tests._inprocess import InProcessRun, clean_environment, run_inprocess
from tests.plugin.test_plugin_fixtures import CONFTEST, SUITES_CONFTEST

SUITE = """
import pytest

@pytest.mark.mm_requirement("busy.expires")
def test_proved():
    pass

@pytest.mark.mm_requirement("audits.paging-limits")
def test_lacks_data():
    pytest.skip("the target holds 12 audits; more than 200 are needed")
"""


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningStub]:
    with start_stub(StubOptions()) as running:
        yield running


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, stub: RunningStub) -> Path:
    """A scratch project (run in this process) whose target file names the module's stub."""
    clean_environment(monkeypatch)
    root = Path(pytester.path)
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:randomly\n", encoding="utf-8")
    (root / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "suites").mkdir()
    (root / "suites" / "conftest.py").write_text(SUITES_CONFTEST, encoding="utf-8")
    (root / "suites" / "test_data.py").write_text(SUITE, encoding="utf-8")
    stub.write_target(root / "target.toml")
    _SCRATCH[root] = pytester
    return root


#: each scratch project's pytester (its runs happen in this process)
_SCRATCH: dict[Path, pytest.Pytester] = {}


def run_pytest(project: Path, *args: str) -> InProcessRun:
    return run_inprocess(_SCRATCH[project], *args)


def _report(project: Path, reports: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reports / "latest" / "conformance.json").read_text())
    return data


def test_the_whole_gate_exits_14_and_says_what_would_complete_it(
    project: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    result = run_pytest(project, "suites", "--target-file=target.toml", f"--reports-dir={reports}")
    assert result.returncode == EXIT_INCOMPLETE == 14, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    verdict = next(line for line in result.stdout.splitlines() if "mmconform: INCOMPLETE" in line)
    # the requirement, and the data its test lacked
    assert "audits.paging-limits (skipped: the target holds 12 audits" in verdict
    assert "busy.expires" not in verdict  # proved
    assert "mmconform: the run is incomplete: exit 14" in result.stdout
    report = _report(project, reports)
    assert report["verdict"]["status"] == "INCOMPLETE"
    assert (report["run"]["exit_status"], report["run"]["narrowed"]) == (14, [])


def test_a_run_narrowed_with_k_passes_by_default_and_says_why(
    project: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    result = run_pytest(
        project, "suites", "-k", "lacks", "--target-file=target.toml", f"--reports-dir={reports}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mmconform: INCOMPLETE" in result.stdout
    assert (
        "the run is incomplete, which does not fail it: it was narrowed (-k 'lacks')"
        in result.stdout
    )
    report = _report(project, reports)
    assert (report["run"]["exit_status"], report["run"]["narrowed"]) == (0, ["-k 'lacks'"])
    assert "the run was narrowed (-k 'lacks')" in " ".join(report["verdict"]["reasons"])
    summary = (reports / "latest" / "conformance.md").read_text(encoding="utf-8")
    assert "**Partial run**: narrowed with -k 'lacks'" in summary


def test_incomplete_fail_fails_a_narrowed_run_even_without_reports(project: Path) -> None:
    result = run_pytest(
        project,
        "suites",
        "-k",
        "lacks",
        "--mm-incomplete=fail",
        "--no-reports",
        "--target-file=target.toml",
    )
    assert result.returncode == EXIT_INCOMPLETE, result.stdout + result.stderr
    assert "(--mm-incomplete=fail)" in result.stdout
    assert not (project / "reports").exists()


@pytest.mark.parametrize(
    ("policy", "narrowed", "fails"),
    [
        ("auto", [], True),
        ("auto", ["-k 'x'"], False),
        ("fail", ["-k 'x'"], True),
        ("pass", [], False),
    ],
)
def test_the_policy(policy: str, narrowed: list[str], fails: bool) -> None:
    assert incomplete_fails(policy, narrowed) is fails


@pytest.mark.parametrize(("policy", "fails"), [("auto", False), ("fail", True), ("pass", False)])
def test_the_embedded_stub_judges_no_server_so_auto_reports_incomplete_without_failing(
    policy: str, fails: bool
) -> None:
    assert incomplete_fails(policy, [], embedded=True) is fails


def test_a_whole_run_against_the_embedded_stub_reports_incomplete_and_exits_0(
    project: Path, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    result = run_pytest(project, "suites", f"--reports-dir={reports}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mmconform: INCOMPLETE" in result.stdout
    assert "it ran against the embedded stub, which judges no server" in result.stdout


def _config(tmp_path: Path, *args: str, **options: Any) -> Any:
    """What narrowing() reads of a pytest config, for a checkout with one suites directory."""
    suites = tmp_path / "suites"
    module = ModuleType("suites.conftest")
    module.__file__ = str(suites / "conftest.py")
    module.MMCONFORM_SUITES = True  # type: ignore[attr-defined]
    values = {"mm_operations": options.pop("operations", None)}
    return SimpleNamespace(
        option=SimpleNamespace(**{"keyword": "", "markexpr": "", **options}),
        args=list(args),
        invocation_params=SimpleNamespace(dir=tmp_path),
        getoption=values.get,
        pluginmanager=SimpleNamespace(get_plugins=lambda: [module]),
    )


@pytest.mark.parametrize(
    ("args", "options", "narrowed"),
    [
        (("suites",), {}, []),
        ((".",), {}, []),
        (("suites", "tests"), {}, []),
        (("suites/permissions",), {}, ["only suites/permissions"]),
        (("suites/x.py::test_a",), {}, ["node id suites/x.py::test_a"]),
        (("suites",), {"keyword": "GetLogs-"}, ["-k 'GetLogs-'"]),
        (("suites",), {"markexpr": "not smtp"}, ["-m 'not smtp'"]),
        (("suites",), {"operations": ["GetPing", "GetLogs"]}, ["--operation GetPing GetLogs"]),
        (("suites",), {"deselect": ["suites/a.py::t"]}, ["--deselect suites/a.py::t"]),
        (("suites",), {"ignore": ["suites/clients"]}, ["--ignore suites/clients"]),
        (("suites",), {"lf": True}, ["--lf"]),
    ],
)
def test_what_narrows_a_run(
    tmp_path: Path, args: tuple[str, ...], options: dict[str, Any], narrowed: list[str]
) -> None:
    assert narrowing(_config(tmp_path, *args, **options)) == narrowed
