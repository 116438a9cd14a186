"""The scenario suites fail where they should, and only there.

Each batch starts the stub with a few deliberate defects that touch different areas, runs the
scenarios that must notice them in a separate pytest process (as a user would: ``pytest
--target-file``), and checks that each of those scenarios fails and that its failure names the
requirement the defect breaks. The faithful stub passes the whole scenario suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmconform.contract import load_contract
from mmconform.stub import Fault, StubOptions, start_stub
from tests._pytest_run import run_suites_against_stub

SCENARIOS = "suites/scenarios"


@dataclass(frozen=True)
class Caught:
    """A scenario that fails against ``fault``, naming ``requirement`` (and saying ``says``)."""

    fault: Fault
    test: str
    requirement: str
    says: str = ""

    @property
    def nodeid(self) -> str:
        return f"{SCENARIOS}/{self.test}"


# Faults of one batch touch different areas, so each scenario fails for its own fault only.
BATCHES: dict[str, list[Caught]] = {
    "busy-seconds+secrets+zones+logs+root+status-code": [
        Caught(
            Fault.BUSY_SECONDS_IGNORED,
            "test_busy.py::test_setting_busy_reports_the_expiry_on_the_targets_clock",
            "busy.set-reports-expiry",
        ),
        Caught(
            Fault.BUSY_SECONDS_IGNORED,
            "test_busy.py::test_setting_busy_again_restarts_the_timer",
            "busy.set-again-restarts",
        ),
        Caught(
            Fault.CONFIG_LEAKS_SECRETS,
            "test_config.py::test_secrets_come_back_masked[system_admin]",
            "config.secrets-masked",
        ),
        Caught(
            Fault.TIMEZONES_INVALID_ZONE,
            "test_timezones.py::test_timezones_are_iana_zone_names",
            "timezones.iana-names",
            "Mars/Olympus_Mons",
        ),
        Caught(
            Fault.POSTED_LOG_NEVER_APPEARS,
            "test_logs_audits.py::test_posted_line_appears_where_its_level_says",
            "logs.posted-line-appears",
        ),
        Caught(
            Fault.PING_ROOT_STATUS_LEAKED,
            "test_ping.py::test_root_status_is_hidden_without_manage_system[system_user]",
            "ping.root-status-admin-only",
        ),
        Caught(
            Fault.APP_ERROR_STATUS_CODE_MISMATCH,
            "test_errors.py::test_errors_are_app_errors_that_agree_with_their_answer[no-permission]",
            "errors.app-error-shape",
            "status_code 403",
        ),
    ],
    "busy-ms+patch+audits+rest+client-config+request-id": [
        Caught(
            Fault.BUSY_EXPIRES_IN_MILLISECONDS,
            "test_busy.py::test_expires_is_unix_seconds_and_agrees_with_expires_ts",
            "busy.expires-unix-seconds",
        ),
        Caught(
            Fault.PATCH_CONFIG_ACTS_AS_PUT,
            "test_config.py::test_patch_changes_only_what_it_names",
            "config.patch-changes-only-named",
            "TeamSettings.MaxUsersPerTeam",
        ),
        Caught(
            Fault.AUDITS_PER_PAGE_CAP_IGNORED,
            "test_logs_audits.py::test_audit_pages_default_to_60_and_stop_at_200",
            "audits.paging-limits",
        ),
        Caught(
            Fault.PING_IGNORES_REST_SEMANTICS,
            "test_ping.py::test_rest_semantics_answer_200_when_unhealthy",
            "ping.rest-semantics",
        ),
        Caught(
            Fault.CLIENT_CONFIG_FULL_WITHOUT_SESSION,
            "test_config.py::test_client_config_without_a_session_is_the_limited_set",
            "config.client-limited-without-session",
        ),
        Caught(
            Fault.MISSING_REQUEST_ID_HEADER,
            "test_errors.py::test_errors_are_app_errors_that_agree_with_their_answer[no-session]",
            "errors.app-error-shape",
            "X-Request-Id",
        ),
    ],
    "busy-forever+masked-secret+log-paging": [
        Caught(
            Fault.BUSY_NEVER_EXPIRES,
            "test_busy.py::test_busy_ends_by_itself_when_it_expires",
            "busy.expires",
        ),
        Caught(
            Fault.CONFIG_PUT_DROPS_SECRETS,
            "test_config.py::test_a_masked_value_sent_back_keeps_the_stored_secret",
            "config.masked-value-keeps-secret",
        ),
        Caught(
            Fault.LOGS_PAGING_IGNORED,
            "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
            "logs.paging",
        ),
    ],
    # What a scenario needs of the target, broken: each must fail, not skip (see
    # test_validation_preconditions.py for the inventory of the suites' skips).
    "preconditions: audit-cap+file-logging+health+empty-secret": [
        Caught(
            Fault.AUDITS_PER_PAGE_CAPPED_AT_100,
            "test_logs_audits.py::test_audit_pages_default_to_60_and_stop_at_200",
            "audits.paging-limits",
            "100 audits",
        ),
        Caught(
            Fault.LOGS_CLAIM_FILE_LOGGING_OFF,
            "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
            "logs.paging",
            "LogSettings.EnableFile is on",
        ),
        Caught(
            Fault.LOGS_CLAIM_FILE_LOGGING_OFF,
            "test_logs_audits.py::test_posted_line_appears_where_its_level_says",
            "logs.posted-line-appears",
            "LogSettings.EnableFile is on",
        ),
        Caught(
            Fault.LOGS_CLAIM_FILE_LOGGING_OFF,
            "test_logs_audits.py::test_developer_mode_opens_post_log_to_everyone",
            "logs.developer-mode",
            "LogSettings.EnableFile is on",
        ),
        Caught(
            Fault.PING_HEALTH_THRESHOLD_IGNORED,
            "test_ping.py::test_unhealthy_server_answers_500_with_the_ping_body",
            "ping.unhealthy-500",
            "GoroutineHealthThreshold reads back 1",
        ),
        Caught(
            Fault.PING_HEALTH_THRESHOLD_IGNORED,
            "test_ping.py::test_rest_semantics_answer_200_when_unhealthy",
            "ping.rest-semantics",
            "GoroutineHealthThreshold reads back 1",
        ),
        Caught(
            Fault.CONFIG_EMPTY_SECRETS_MASKED,
            "test_config.py::test_a_secret_written_is_read_back_masked",
            "config.secrets-masked",
            "local-mode socket shows it empty",
        ),
        Caught(
            Fault.CONFIG_EMPTY_SECRETS_MASKED,
            "test_config.py::test_a_masked_value_sent_back_keeps_the_stored_secret",
            "config.masked-value-keeps-secret",
            "local-mode socket shows it empty",
        ),
    ],
    "preconditions: later-audit-pages+log-order": [
        Caught(
            Fault.AUDITS_LATER_PAGES_EMPTY,
            "test_logs_audits.py::test_audits_come_newest_first_and_pages_move_back_in_time",
            "audits.newest-first",
            "page 1 not empty",
        ),
        Caught(
            Fault.AUDITS_LATER_PAGES_EMPTY,
            "test_logs_audits.py::test_audit_pages_default_to_60_and_stop_at_200",
            "audits.paging-limits",
            "older audits they did not",
        ),
        Caught(
            Fault.LOGS_PAGE_ORDER_UNSTABLE,
            "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
            "logs.paging",
            "differ only by lines written in between",
        ),
    ],
    "busy-stays+put+license": [
        Caught(Fault.BUSY_CLEAR_IGNORED, "test_busy.py::test_delete_clears_busy", "busy.clear"),
        Caught(
            Fault.PUT_CONFIG_KEEPS_MISSING,
            "test_config.py::test_put_resets_what_it_omits",
            "config.put-resets-omitted",
        ),
        Caught(
            Fault.CLIENT_LICENSE_UNTRIMMED,
            "test_license.py::test_license_upload_read_and_removal",
            "license.client-trimmed",
        ),
    ],
}

_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S+)")


@dataclass(frozen=True)
class Run:
    returncode: int
    outcomes: dict[str, str]
    output: str
    #: the stub's tokens and the secrets of its config, none of which output may show
    secrets: tuple[str, ...]


def run_scenarios(options: StubOptions, tmp_path: Path, *selection: str) -> Run:
    with start_stub(options) as stub:
        secrets = (
            *stub.tokens.values(),
            stub.state.config["SqlSettings"]["DataSource"],
            stub.state.config["SqlSettings"]["AtRestEncryptKey"],
        )
        result = run_suites_against_stub(stub, tmp_path, *selection)
    outcomes: dict[str, str] = {}
    for line in result.stdout.splitlines():
        match = _OUTCOME.match(line)
        if match:
            outcomes[match.group(2)] = match.group(1)
    return Run(result.returncode, outcomes, result.stdout + result.stderr, secrets)


def _section(output: str, nodeid: str) -> str:
    """The failure report of one test (its ``___ name ___`` section)."""
    name = nodeid.split("::", 1)[1]
    parts = re.split(r"^_{3,} (.+?) _{3,}$", output, flags=re.MULTILINE)
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        if title.strip() == name:
            return body
    return ""


@pytest.mark.parametrize("batch", list(BATCHES))
def test_each_scenario_fails_against_the_fault_it_is_made_for(batch: str, tmp_path: Path) -> None:
    caught = BATCHES[batch]
    faults = frozenset(c.fault for c in caught)
    run = run_scenarios(StubOptions(faults=faults), tmp_path, *[c.nodeid for c in caught])
    for case in caught:
        outcome = run.outcomes.get(case.nodeid, "NOT RUN")
        assert outcome == "FAILED", (
            f"{case.nodeid} {outcome} against {case.fault.name}\n{run.output[-6000:]}"
        )
        section = _section(run.output, case.nodeid)
        assert section.strip().startswith(f"requirement {case.requirement}:"), (
            case.nodeid,
            section[:2000],
        )
        assert "reproduce (credentials redacted):" in section, section
        assert "curl -X" in section, section
        assert case.says in section, (case.says, section)
    assert run.returncode != 0
    # The reproduction lines name the roles, never their tokens, and a secret the faulty
    # server leaked is not repeated in the failure.
    assert "<redacted:system_admin>" in run.output
    assert not [secret[:8] for secret in run.secrets if secret in run.output]


def test_every_area_has_its_faults() -> None:
    """Each scenario area is proved against at least one fault, and every fault made for the
    scenario suites is used."""
    faults = {c.fault for cases in BATCHES.values() for c in cases}
    made_for_scenarios = {
        Fault.BUSY_SECONDS_IGNORED,
        Fault.BUSY_EXPIRES_IN_MILLISECONDS,
        Fault.BUSY_CLEAR_IGNORED,
        Fault.PATCH_CONFIG_ACTS_AS_PUT,
        Fault.AUDITS_PER_PAGE_CAP_IGNORED,
        Fault.PING_ROOT_STATUS_LEAKED,
        Fault.TIMEZONES_INVALID_ZONE,
        Fault.APP_ERROR_STATUS_CODE_MISMATCH,
        Fault.POSTED_LOG_NEVER_APPEARS,
        Fault.CLIENT_LICENSE_UNTRIMMED,
    }
    assert made_for_scenarios <= faults
    requirements = {c.requirement for cases in BATCHES.values() for c in cases}
    catalogue = {r.id for r in load_contract().requirements}
    assert requirements <= catalogue
    areas = {r.split(".", 1)[0] for r in requirements}
    assert {"ping", "busy", "config", "license", "logs", "audits", "errors", "timezones"} <= areas


def test_the_faithful_stub_passes_every_scenario(tmp_path: Path) -> None:
    run = run_scenarios(StubOptions(), tmp_path, SCENARIOS)
    failed = {n: o for n, o in run.outcomes.items() if o in ("FAILED", "ERROR")}
    assert not failed, run.output[-8000:]
    assert run.returncode == 0, run.output[-8000:]
    assert sum(o == "PASSED" for o in run.outcomes.values()) > 80, run.output[-3000:]
