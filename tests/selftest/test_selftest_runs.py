"""The selftest judges runs rightly: a caught fault is killed (by the test that failed first), a
fault no test notices survives, a benign variant the suites fail is a false alarm; and the
command line writes the score the conformance report shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mmconform.selftest import Mutant, MutantRunOptions, run_mutant, run_mutants
from mmconform.selftest._runner import _judge
from tests._pytest_run import preloaded, run_pytest

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = MutantRunOptions(project_dir=ROOT, timeout=300)


def _mutant(kind: str, source: str, name: str, operations: tuple[str, ...]) -> Mutant:
    return Mutant(f"{source}:{name}", kind, source, name, "paging", operations, "for a test")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "returncode", "verdict", "caught_by"),
    [
        ("fault", 1, "killed", "suites/x.py::test_y"),
        ("fault", 0, "survived", ""),
        ("fault", 11, "killed", "the preflight refused the target"),
        (
            "fault",
            12,
            "killed",
            "the state guard: the run could not put the server back as it found it",
        ),
        ("fault", 5, "error", ""),
        ("fault", 4, "error", ""),
        ("fault", 77, "error", ""),
        ("benign", 0, "passed", ""),
        ("benign", 1, "false alarm", "suites/x.py::test_y"),
        ("benign", 3, "error", ""),
    ],
)
def test_exit_codes_are_judged_by_what_they_mean(
    kind: str, returncode: int, verdict: str, caught_by: str
) -> None:
    outcome = _judge(_mutant(kind, "stub", "X", ()), returncode, 1.0, "suites/x.py::test_y", "out")
    assert (outcome.verdict, outcome.caught_by) == (verdict, caught_by)


def test_caught_fault_is_killed_by_the_test_that_noticed_it_and_a_non_fault_survives() -> None:
    caught = _mutant("fault", "stub", "LOGS_PAGING_IGNORED", ("GetLogs",))
    # A stricter correct server presented as a fault: nothing may fail, so it must survive.
    harmless = _mutant("fault", "variant", "strict-postlog", ("PostLog",))
    killed, survived = run_mutants([caught, harmless], OPTIONS, jobs=2, start=preloaded())
    assert killed.verdict == "killed", killed
    assert killed.caught_by.startswith("suites/"), killed
    assert "::test_" in killed.caught_by
    assert survived.verdict == "survived", survived


def test_a_fault_that_shows_only_before_a_state_change_is_killed_in_its_operations_run() -> None:
    """Answering ``null`` for "no previous trial" shows only before any trial is granted. The
    catalogue validation runs the catching scenario alone; the selftest runs every test of the
    operation, the trial scenario among them, and the fault must still be caught: the scenario
    reading the previous trial comes first."""
    mutant = _mutant("fault", "stub", "PREV_TRIAL_LICENSE_NULL", ("GetPrevTrialLicense",))
    outcome = run_mutant(mutant, OPTIONS, start=preloaded())
    assert outcome.verdict == "killed", outcome
    assert outcome.caught_by.endswith("::test_previous_trial_is_a_client_license_map"), outcome


def test_benign_variant_that_the_suites_fail_is_a_false_alarm() -> None:
    wrongly_benign = _mutant("benign", "stub", "TIMEZONES_INVALID_ZONE", ())
    outcome = run_mutant(
        wrongly_benign,
        MutantRunOptions(ROOT, timeout=300, benign_operations=("GetSupportedTimezone",)),
        start=preloaded(),
    )
    assert outcome.verdict == "false alarm", outcome
    assert "timezone" in outcome.caught_by.lower()


def test_a_refused_target_is_killed_with_what_the_run_said() -> None:
    output = (
        "mmconform: roles verified: system_admin\n"
        "! _pytest.outcomes.Exit: mmconform: http://127.0.0.1:1 does not look like a Mattermost "
        "server: GET /api/v4/system/ping answered 200 without status !\n"
    )
    outcome = _judge(_mutant("fault", "stub", "X", ()), 11, 1.0, "", output)
    assert outcome.verdict == "killed"
    assert outcome.caught_by == (
        "the preflight refused the target (http://127.0.0.1:1 does not look like a Mattermost "
        "server: GET /api/v4/system/ping answered 200 without status)"
    )


def test_target_that_cannot_start_is_an_error_with_the_reason() -> None:
    outcome = run_mutant(
        _mutant("fault", "stub", "NO_SUCH_FAULT", ("GetPing",)), OPTIONS, start=preloaded()
    )
    assert outcome.verdict == "error"
    assert "NO_SUCH_FAULT" in outcome.detail


def _selftest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mmconform.selftest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_list_shows_the_selected_mutants_with_their_operations() -> None:
    listed = _selftest("--list", "--area", "busy")
    assert listed.returncode == 0, listed.stderr
    assert "stub:BUSY_NEVER_EXPIRES" in listed.stdout
    assert "cell:" not in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--area", "weather"], "invalid choice: 'weather'"),
        (["-k", "nothing-is-called-this"], "no mutant matches"),
        (["--jobs", "0"], "must be at least 1"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str) -> None:
    refused = _selftest(*args)
    assert refused.returncode == 2
    assert message in refused.stderr


def test_outside_a_checkout_the_command_says_where_the_suites_are_missing(tmp_path: Path) -> None:
    refused = _selftest("--list", cwd=tmp_path)
    assert refused.returncode == 2
    assert "has no suites/ folder" in refused.stderr


#: One mutant of every source, from the sample (benign ones on two operations): the command
#: line judges each source rightly. That every stub fault, matrix cell, proxy mutation
#: and stricter variant is caught or passed is proved by the suite validations, each on its own.
EVERY_SOURCE = (
    "stub:CONFIG_PUT_DROPS_SECRETS",
    "cell:grant:GetSupportedTimezone:anonymous",
    "cell:deny:GetSupportedTimezone:system_user",
    "proxy:PING_STATUS_DROPPED",
    "variant:strict-postlog",
    "proxy:reorder-keys",
)


@pytest.mark.xdist_group("selftest-sample")
def test_the_command_kills_faults_of_every_source_passes_benign_ones_and_feeds_the_report(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    keys = [arg for key in EVERY_SOURCE for arg in ("-k", key)]
    benign = ["--benign-operation", "GetPing", "--benign-operation", "PostLog"]
    ran = _selftest("--sample", *keys, *benign, "--reports-dir", str(reports))
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert "mutation score:" in ran.stdout
    document = json.loads((reports / "selftest.json").read_text())
    summary = document["summary"]
    assert summary["killed"] == summary["total"] == 4
    assert (summary["benign_failures"], summary["errors"], summary["sample"]) == (0, 0, True)
    assert {entry["key"] for entry in document["mutants"]} == set(EVERY_SOURCE)
    assert {entry["source"] for entry in document["mutants"]} == {
        "stub",
        "cell",
        "proxy",
        "variant",
    }
    assert all(entry["caught_by"] for entry in document["mutants"] if entry["kind"] == "fault")
    assert "| killed |" in (reports / "selftest.md").read_text()

    # A conformance run writing to the same folder shows the suite's own score.
    run = run_pytest(
        ROOT, "--operation", "GetPing", "--reports-dir", str(reports), "-q", timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:]
    latest = reports / "latest"
    report = json.loads((latest / "conformance.json").read_text())
    assert report["selftest"]["killed"] == summary["killed"]
    assert "mutation score" in (latest / "conformance.html").read_text()
