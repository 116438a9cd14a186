"""Whole pytest sessions with the plugin, in a scratch project: when it activates, what it
deselects and skips (with reasons), its exit codes, and its session-end state check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmconform.harness import EXIT_STATE_NOT_RESTORED, EXIT_TARGET_MISCONFIGURED
from mmconform.stub import StubOptions, start_stub
from mmconform.stub._license import fixture_dir
from tests._inprocess import InProcessRun, clean_environment, run_inprocess
from tests._pytest_run import run_pytest

#: A license the stub accepts, granting CustomPermissionsSchemes: every role can be held.
LICENSE = fixture_dir() / "valid.mattermost-license"

SAMPLE_SUITE = """
import pytest

@pytest.mark.mm_operation("RestartServer")
def test_restart():
    pass

@pytest.mark.mm_operation("GetLicenseLoadMetric")
def test_load_metric():
    pass

@pytest.mark.mm_role("system_manager")
def test_needs_manager():
    pass

def test_plain():
    pass
"""


# What makes a directory a conformance suites directory (as suites/conftest.py does).
SUITES_CONFTEST = """
import pytest
from mmconform.harness import CONFORMANCE_MARK, session_of

MMCONFORM_SUITES = True

def pytest_collectstart(collector):
    if isinstance(collector, pytest.Module):
        session_of(collector.config).activate()

def pytest_itemcollected(item):
    item.add_marker(getattr(pytest.mark, CONFORMANCE_MARK))
"""


#: the scratch projects of this module's tests, each run in this process
_SCRATCH: dict[Path, pytest.Pytester] = {}


def run(project: Path, *args: str) -> InProcessRun | subprocess.CompletedProcess[str]:
    """``pytest ARGS`` in ``project``: in this process for a scratch project, as a child
    process for this checkout (whose whole gate a fresh interpreter runs)."""
    # The scratch suites prove none of the contract's requirements, so each run of them is
    # INCOMPLETE; these tests are about other things (tests/plugin/test_plugin_incomplete.py
    # is about that one).
    if project in _SCRATCH:
        return run_inprocess(_SCRATCH[project], "-rs", "--mm-incomplete=pass", *args)
    return run_pytest(project, "-rs", "--mm-incomplete=pass", *args)


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    clean_environment(monkeypatch)
    tmp_path = Path(pytester.path)
    _SCRATCH[tmp_path] = pytester
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "conftest.py").write_text(SUITES_CONFTEST, encoding="utf-8")
    (suites / "test_sample.py").write_text(SAMPLE_SUITE, encoding="utf-8")
    other = tmp_path / "tests"
    other.mkdir()
    (other / "test_own.py").write_text("def test_own():\n    pass\n", encoding="utf-8")
    yield tmp_path
    del _SCRATCH[tmp_path]


@pytest.fixture
def stub_target(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A licensed stub (where every role can be held) and its target file."""
    with start_stub(StubOptions(license_file=LICENSE)) as stub:
        path = tmp_path / "target.toml"
        stub.write_target(path)
        yield path, dict(stub.tokens)


@pytest.fixture
def unlicensed_target(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """An unlicensed stub: nobody can be given the three newer system roles there."""
    with start_stub(StubOptions()) as stub:
        path = tmp_path / "unlicensed.toml"
        stub.write_target(path)
        yield path, dict(stub.tokens)


def test_project_tests_alone_never_start_a_target(project: Path) -> None:
    result = run(project, "tests")
    assert result.returncode == 0, result.stdout
    assert "mmconform:" not in result.stdout


def test_embedded_stub_allows_destructive_operations(project: Path) -> None:
    result = run(project, "suites")
    assert result.returncode == 0, result.stdout
    assert "(embedded stub)" in result.stdout
    assert "destructive operations: allowed" in result.stdout
    assert "4 passed" in result.stdout


def test_each_suite_run_writes_its_reports_into_a_directory_of_its_own(project: Path) -> None:
    reports = project / "reports"
    first = run(project, "suites")
    assert first.returncode == 0, first.stdout
    (run_one,) = sorted((reports / "runs").iterdir())
    before = {p: p.read_bytes() for p in run_one.rglob("*") if p.is_file()}
    second = run(project, "suites")
    assert second.returncode == 0, second.stdout
    run_one_again, run_two = sorted((reports / "runs").iterdir())
    assert run_one_again == run_one
    # the first run's reports are untouched, byte for byte, and complete
    assert {p: p.read_bytes() for p in run_one.rglob("*") if p.is_file()} == before
    for run_dir in (run_one, run_two):
        junit = (run_dir / "junit.xml").read_text(encoding="utf-8")
        assert 'tests="4"' in junit
        results = list((run_dir / "allure-results").glob("*-result.json"))
        assert len(results) == 4, results  # one per test, this run's own
        assert (run_dir / "conformance.json").is_file()
        assert not (run_dir / ".mmconform-running").exists()
    # latest is the run that finished last, and the run says where its reports are
    assert (reports / "latest").resolve() == run_two.resolve()
    assert f"reports in {run_two}" in second.stdout


def test_explicit_report_options_and_project_tests_are_left_alone(project: Path) -> None:
    result = run(project, "suites", "--junitxml=elsewhere.xml", "--no-reports")
    assert result.returncode == 0, result.stdout
    assert (project / "elsewhere.xml").is_file()
    assert not (project / "reports").exists()
    result = run(project, "tests")
    assert result.returncode == 0, result.stdout
    assert not (project / "reports").exists()


def test_no_destructive_deselects_with_reason(project: Path) -> None:
    result = run(project, "suites", "--no-destructive")
    assert result.returncode == 0, result.stdout
    assert "3 passed, 1 deselected" in result.stdout
    assert "test_restart: RestartServer is destructive" in result.stdout


def test_operations_newer_than_the_target_are_deselected(project: Path) -> None:
    result = run(project, "suites", "--stub-version", "10.5.0")
    assert result.returncode == 0, result.stdout
    assert "test_load_metric: GetLicenseLoadMetric needs server 10.8.0+" in result.stdout
    assert "target is 10.5.0" in result.stdout


def test_real_target_missing_roles_and_destructive_default(
    project: Path, stub_target: tuple[Path, dict[str, str]]
) -> None:
    path, tokens = stub_target
    path.write_text(
        f'[target]\nurl = "{_url(path)}"\n[tokens]\nsystem_admin = "{tokens["system_admin"]}"\n',
        encoding="utf-8",
    )
    result = run(project, "suites", f"--target-file={path}")
    assert result.returncode == 0, result.stdout
    assert "roles not given (tests needing them are skipped): system_manager" in result.stdout
    assert "SKIPPED" in result.stdout
    assert "MMCONFORM_TOKEN_SYSTEM_MANAGER" in result.stdout
    # Not the embedded stub: destructive operations are off unless asked for.
    assert "test_restart: RestartServer is destructive" in result.stdout


def _admin_and_user(path: Path, tokens: dict[str, str], extra: str = "") -> None:
    path.write_text(
        f'[target]\nurl = "{_url(path)}"\n[tokens]\nsystem_admin = "{tokens["system_admin"]}"\n'
        f'system_user = "{tokens["system_user"]}"\n{extra}',
        encoding="utf-8",
    )


def test_a_role_an_unlicensed_target_cannot_hold_is_unsupported_not_missing(
    project: Path, unlicensed_target: tuple[Path, dict[str, str]]
) -> None:
    path, tokens = unlicensed_target
    _admin_and_user(path, tokens)
    result = run(project, "suites", f"--target-file={path}", "--reports-dir=reports")
    assert result.returncode == 0, result.stdout
    assert "roles not given" not in result.stdout
    assert (
        "roles this target cannot hold (tests needing them are unsupported): system_manager, "
        "system_user_manager, system_read_only_admin: upstream assigns" in result.stdout
    )
    skipped = next(line for line in result.stdout.splitlines() if "SKIPPED" in line)
    assert "unsupported: role system_manager cannot be held on this target" in skipped
    assert "CustomPermissionsSchemes" in skipped
    assert "this target holds no license" in skipped
    report = json.loads(
        (project / "reports" / "latest" / "conformance.json").read_text(encoding="utf-8")
    )
    assert report["target"]["missing_roles"] == []
    needs_manager = next(t for t in report["tests"] if t["nodeid"].endswith("test_needs_manager"))
    assert needs_manager["outcome"] == "unsupported"
    assert "roles not given" not in " ".join(report["verdict"]["reasons"])


def test_a_role_the_target_file_marks_unavailable_is_unsupported_with_the_servers_answer(
    project: Path, stub_target: tuple[Path, dict[str, str]]
) -> None:
    path, tokens = stub_target
    answer = "PUT /api/v4/users/{user_id}/roles answered 400 some.error"
    _admin_and_user(path, tokens, f"[unavailable]\nsystem_manager = '{answer}'\n")
    result = run(project, "suites", f"--target-file={path}")
    assert result.returncode == 0, result.stdout
    assert "roles not given (tests needing them are skipped): system_user_manager" in result.stdout
    skipped = next(line for line in result.stdout.splitlines() if "SKIPPED" in line)
    assert "unsupported: role system_manager cannot be held" in skipped
    assert f"the target file marks it unavailable ({answer})" in skipped


def test_certify_accepts_roles_the_target_cannot_hold_and_refuses_missing_ones(
    project: Path,
    unlicensed_target: tuple[Path, dict[str, str]],
    stub_target: tuple[Path, dict[str, str]],
) -> None:
    path, tokens = unlicensed_target
    _admin_and_user(path, tokens)
    result = run(project, "suites", f"--target-file={path}", "--certify")
    assert "--certify needs a token" not in result.stdout + result.stderr
    assert result.returncode != EXIT_TARGET_MISCONFIGURED, result.stdout
    licensed, licensed_tokens = stub_target
    _admin_and_user(licensed, licensed_tokens)
    refused = run(project, "suites", f"--target-file={licensed}", "--certify")
    assert refused.returncode == EXIT_TARGET_MISCONFIGURED, refused.stdout
    assert (
        "--certify needs a token for every role the target can hold; missing: system_manager, "
        "system_user_manager, system_read_only_admin" in refused.stdout + refused.stderr
    )


def test_token_of_the_wrong_role_stops_the_run(
    project: Path, stub_target: tuple[Path, dict[str, str]]
) -> None:
    path, tokens = stub_target
    path.write_text(
        f'[target]\nurl = "{_url(path)}"\n[tokens]\nsystem_admin = "{tokens["system_manager"]}"\n',
        encoding="utf-8",
    )
    result = run(project, "suites", f"--target-file={path}")
    assert result.returncode == EXIT_TARGET_MISCONFIGURED, result.stdout
    assert "token for system_admin" in result.stdout + result.stderr
    assert "lacks manage_system" in result.stdout + result.stderr


def test_bad_target_file_stops_the_run(project: Path) -> None:
    bad = project / "bad.toml"
    bad.write_text("[target]\nurl = 'nope'\n", encoding="utf-8")
    result = run(project, "suites", f"--target-file={bad}")
    assert result.returncode == EXIT_TARGET_MISCONFIGURED
    assert "not an http(s) base URL" in result.stdout + result.stderr


def test_environment_overrides_the_target_file(
    project: Path, stub_target: tuple[Path, dict[str, str]]
) -> None:
    path, tokens = stub_target
    env_url = _url(path)
    path.write_text('[target]\nurl = "http://127.0.0.1:9"\n', encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "suites",
            "--mm-incomplete=pass",
            f"--target-file={path}",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("MMCONFORM_")},
            "MMCONFORM_TARGET_URL": env_url,
            "MMCONFORM_TOKEN_SYSTEM_ADMIN": tokens["system_admin"],
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"mmconform: target {env_url} (env MMCONFORM_TARGET_URL)" in result.stdout


def test_space_separated_target_file_outside_the_project_works(
    project: Path,
    stub_target: tuple[Path, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # pytest picks its rootdir before plugin options are known and would take the file's folder;
    # the plugin puts the project's rootdir and configuration back.
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "target.toml"
    elsewhere.write_bytes(stub_target[0].read_bytes())
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = suites\n", encoding="utf-8")
    result = run(project, "--target-file", str(elsewhere))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"rootdir: {project}" in result.stdout
    # testpaths from the project's configuration: the suites only (destructive is off for a file)
    assert "3 passed, 1 deselected" in result.stdout
    assert "test_own" not in result.stdout


def test_space_separated_reports_dir_outside_the_project_works(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The same for the reports folder (here with the embedded stub): its path must not become a
    # test path or the rootdir.
    reports = tmp_path_factory.mktemp("elsewhere-reports")
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = suites\n", encoding="utf-8")
    result = run(project, "--reports-dir", str(reports))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"rootdir: {project}" in result.stdout
    assert "test_own" not in result.stdout
    assert (reports / "latest" / "conformance.json").is_file()


def test_profile_and_seed_are_printed(project: Path) -> None:
    result = run(project, "suites", "--mm-profile", "dev", "--mm-seed", "7")
    assert "mmconform: profile dev" in result.stdout
    assert "--mm-profile dev --mm-seed 7" in result.stdout
    result = run(project, "suites", "--hypothesis-profile", "deep")
    assert "mmconform: profile deep" in result.stdout


LEAKY_SUITE = """
import httpx
from mmconform.harness import session_of

def _admin(request):
    target = session_of(request.config).require_target()
    return httpx.Client(
        base_url=target.api_url,
        headers={"Authorization": "Bearer " + target.token("system_admin")},
    )

def test_leaves_server_busy(request):
    assert _admin(request).post("/server_busy", params={"seconds": 600}).status_code == 200

def test_changes_config_without_restoring(request):
    body = {"ServiceSettings": {"EnableDeveloper": True}}
    assert _admin(request).put("/config/patch", json=body).status_code == 200
"""


def test_state_left_changed_is_a_suite_error(project: Path) -> None:
    (project / "suites" / "test_sample.py").write_text(LEAKY_SUITE, encoding="utf-8")
    result = run(project, "suites")
    assert result.returncode == EXIT_STATE_NOT_RESTORED, result.stdout
    assert "2 passed" in result.stdout
    assert "server state not restored" in result.stdout
    assert "still busy at session end" in result.stdout
    assert "ServiceSettings.EnableDeveloper: False -> True" in result.stdout


def _url(target_file: Path) -> str:
    import tomllib

    return str(tomllib.loads(target_file.read_text(encoding="utf-8"))["target"]["url"])


def test_one_generated_contract_test_can_be_selected_by_node_id() -> None:
    # The node id a failure prints is the one a user pastes back to rerun just that test.
    root = Path(__file__).resolve().parents[2]
    nodeid = "suites/contract/test_contract.py::test_operation[GET /api/v4/system/ping]"
    result = run(root, nodeid, "--no-reports", "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{nodeid} PASSED" in result.stdout
    assert "1 passed" in result.stdout


def test_the_root_conftest_loads_the_plugin_when_autoload_is_off() -> None:
    # With plugin autoloading off, entry points are not read: the project's conftest.py loads
    # the plugin itself (and the user names the other plugins the suites need).
    root = Path(__file__).resolve().parents[2]
    result = run_pytest(
        root,
        "-p",
        "schemathesis.pytest.plugin",
        "-p",
        "_hypothesis_pytestplugin",
        "--operation",
        "GetPing",
        "--no-reports",
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mmconform: target" in result.stdout
    # Every suite's GetPing tests ran (the contract suite's among them) and none failed.
    assert " passed" in result.stdout
    assert "failed" not in result.stdout


def test_operation_selection_applies_to_every_suite(project: Path) -> None:
    result = run(project, "suites", "--operation", "RestartServer")
    assert result.returncode == 0, result.stdout
    assert "1 passed, 3 deselected" in result.stdout
