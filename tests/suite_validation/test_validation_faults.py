"""The suites notice every fault of the stub's catalogue that the other validations do not
already prove (those of the scenario batches, the contract suite, the permission matrix and the
client suites).

Each batch starts the stub with a few faults on different operations, runs in one child pytest
(as a user would: ``pytest --target-file``) the tests that must notice them, and checks that
each of those tests fails; a scenario's failure must name the requirement the fault breaks. Two
faults are noticed before any test runs: the session refuses the target. The catalogue test
keeps every fault proved somewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmconform.stub import DEFAULT_SERVER_VERSION, Fault, StubOptions, start_stub
from tests._pytest_run import run_suites_against_stub

SCENARIOS = "suites/scenarios"
CONTRACT = "suites/contract/test_contract.py"
MATRIX = "suites/permissions/test_matrix.py"


@dataclass(frozen=True)
class Caught:
    """``nodeid`` fails against ``fault``; a scenario names ``requirement`` in its failure."""

    fault: Fault
    nodeid: str
    requirement: str = ""
    #: what the failure says instead, where it is not a requirement's
    says: str = ""


def scenario(fault: Fault, test: str, requirement: str) -> Caught:
    return Caught(fault, f"{SCENARIOS}/{test}", requirement)


def contract(fault: Fault, test: str) -> Caught:
    return Caught(fault, f"{CONTRACT}::{test}")


def matrix(fault: Fault, operation: str, caller: str) -> Caught:
    return Caught(fault, f"{MATRIX}::test_permission[{operation}-{caller}]")


# Faults of one batch concern different operations and states, so each test fails for its own
# fault only.
BATCHES: dict[str, list[Caught]] = {
    "ping+caches+restart+upgrade-allowed+load-metric+trial+ack+analytics+site-url": [
        scenario(
            Fault.PING_SERVER_STATUS_IGNORED,
            "test_ping.py::test_server_status_adds_database_and_filestore[system_admin]",
            "ping.server-status",
        ),
        contract(
            Fault.CACHES_INVALIDATED_WITHOUT_STATUS,
            "test_operation[POST /api/v4/caches/invalidate]",
        ),
        matrix(
            Fault.RESTART_ALLOWED_FOR_READ_ONLY_ADMIN, "RestartServer", "system_read_only_admin"
        ),
        scenario(
            Fault.UPGRADE_ALLOWED_ON_ENTERPRISE,
            "test_upgrade.py::test_upgrade_is_allowed_only_for_team_edition",
            "upgrade.allowed",
        ),
        contract(Fault.LOAD_METRIC_AS_STRING, "test_operation[GET /api/v4/license/load_metric]"),
        scenario(
            Fault.TRIAL_LICENSE_GRANTED_TWICE,
            "test_license.py::test_a_second_trial_is_refused",
            "license.trial-once",
        ),
        scenario(
            Fault.PUSH_ACK_EMPTY_BODY_ACCEPTED,
            "test_notifications.py::test_push_acknowledgement_needs_an_ack_and_push_notifications",
            "notifications.ack",
        ),
        scenario(
            Fault.ANALYTICS_UNKNOWN_NAME_ACCEPTED,
            "test_analytics.py::test_unknown_analytics_name_is_refused",
            "analytics.unknown-name-refused",
        ),
        contract(Fault.SITE_URL_TEST_ACCEPTS_EMPTY, "test_operation[POST /api/v4/site_url/test]"),
    ],
    "device+integrity+recycle+upgrade+prev-trial+environment+format+audits+team-id": [
        scenario(
            Fault.PING_DEVICE_ID_IGNORED,
            "test_ping.py::test_device_id_says_whether_the_device_can_receive_notifications"
            "[android_rn:mmconform-device]",
            "ping.device-id",
        ),
        matrix(Fault.INTEGRITY_OVER_TCP, "CheckIntegrity", "anonymous"),
        contract(Fault.DATABASE_RECYCLE_WITHOUT_SESSION, "test_session_required[DatabaseRecycle]"),
        scenario(
            Fault.UPGRADE_STARTS_ON_ENTERPRISE,
            "test_upgrade.py::test_enterprise_build_refuses_to_upgrade",
            "upgrade.enterprise-refuses",
        ),
        # the harness's contract check of every answer speaks first
        Caught(
            Fault.PREV_TRIAL_LICENSE_NULL,
            f"{SCENARIOS}/test_license.py::test_previous_trial_is_a_client_license_map",
            says="ContractViolation",
        ),
        scenario(
            Fault.ENVIRONMENT_CONFIG_LISTS_EVERYTHING,
            "test_config.py::test_a_setting_the_api_changed_is_not_named_by_the_environment",
            "config.environment-only-overridden",
        ),
        scenario(
            Fault.CLIENT_CONFIG_FORMAT_REQUIRED,
            "test_config.py::test_client_config_format_by_server_version[missing]",
            "config.client-format",
        ),
        scenario(
            Fault.AUDITS_OLDEST_FIRST,
            "test_logs_audits.py::test_audits_come_newest_first_and_pages_move_back_in_time",
            "audits.newest-first",
        ),
        scenario(
            Fault.NOTICES_MALFORMED_TEAM_ID_ACCEPTED,
            "test_notices.py::test_notices_need_a_known_client_and_a_team_id[short-team-id]",
            "notices.input-validated",
        ),
    ],
    "status+removal+reload+put-json+logs+viewed+redirect+email+s3+notification": [
        matrix(Fault.UPGRADE_STATUS_UNGUARDED, "UpgradeToEnterpriseStatus", "system_user"),
        scenario(
            Fault.LICENSE_REMOVAL_KEEPS_LICENSE,
            "test_license.py::test_license_upload_read_and_removal",
            "license.upload-and-remove",
        ),
        scenario(
            Fault.CONFIG_RELOAD_RESTORES_STARTUP,
            "test_config.py::test_reload_keeps_what_was_saved",
            "config.reload-keeps-saved",
        ),
        contract(Fault.CONFIG_PUT_MALFORMED_JSON_500, "test_operation[PUT /api/v4/config]"),
        scenario(
            Fault.LOGS_OLDEST_FIRST,
            "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
            "logs.paging",
        ),
        scenario(
            Fault.NOTICE_VIEWED_SHOWN_AGAIN,
            "test_notices.py::test_a_notice_marked_viewed_is_not_shown_again",
            "notices.viewed-hidden",
        ),
        scenario(
            Fault.REDIRECT_WITHOUT_URL_ACCEPTED,
            "test_redirect_image.py::test_redirect_location_needs_a_url_while_link_previews_are_on",
            "redirect.url-checked",
        ),
        scenario(
            Fault.EMAIL_TEST_USES_POSTED_SETTINGS,
            "test_email.py::test_email_test_sends_through_the_stored_settings",
            "email.stored-settings-used",
        ),
        scenario(
            Fault.S3_TEST_ALWAYS_OK,
            "test_config.py::test_s3_test_fails_for_a_store_it_cannot_reach",
            "config.s3-test-tries-store",
        ),
        scenario(
            Fault.TEST_NOTIFICATION_REFUSED_TO_USERS,
            "test_notifications.py::test_notification_test_is_open_to_every_user",
            "notifications.test-message",
        ),
    ],
    "packet+image+invalid-license": [
        scenario(
            Fault.SUPPORT_PACKET_NOT_A_ZIP,
            "test_support_packet.py::test_support_packet_is_a_zip_with_the_sanitized_config",
            "support.packet-zip",
        ),
        scenario(
            Fault.IMAGE_OPAQUE_URL_ACCEPTED,
            "test_redirect_image.py::test_image_refuses_what_it_cannot_fetch",
            "image.url-checked",
        ),
        scenario(
            Fault.LICENSE_UPLOAD_ACCEPTS_INVALID,
            "test_license.py::test_invalid_licenses_are_refused",
            "license.upload-rejects-invalid",
        ),
    ],
    # faults that concern every operation, or many, run alone
    "restrict": [
        Caught(
            Fault.RESTRICT_SYSTEM_ADMIN_IGNORED,
            "suites/permissions/test_gates.py::"
            "test_restrict_system_admin_refuses_as_the_version_does[DatabaseRecycle]",
        ),
    ],
    "version-id": [
        scenario(
            Fault.VERSION_ID_LICENSE_FLAG_WRONG,
            "test_headers.py::test_version_id_says_whether_the_server_is_licensed",
            "headers.version-id-licensed",
        ),
    ],
    "request-id": [
        scenario(
            Fault.REQUEST_ID_BODY_MISMATCH,
            "test_errors.py::test_errors_are_app_errors_that_agree_with_their_answer[no-permission]",
            "errors.app-error-shape",
        ),
    ],
    # GET /license/renewal exists only on servers before 9.2
    "renewal": [
        matrix(Fault.RENEWAL_LINK_WITHOUT_PERMISSION, "RequestLicenseRenewalLink", "system_user"),
    ],
}

#: Faults the session notices before any test runs: it refuses the target, saying why.
REFUSED_AT_START: dict[Fault, str] = {
    Fault.PING_MISSING_STATUS: "does not look like a Mattermost server",
    Fault.PERMISSIONS_IGNORED_FOR_LOGS: "token for system_user",
}

_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S.*?)(?: - .*)?$")


def _outcomes(stdout: str) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for line in stdout.splitlines():
        match = _OUTCOME.match(line)
        if match:
            outcomes[match.group(2)] = match.group(1)
    return outcomes


def _section(output: str, nodeid: str) -> str:
    """The failure report of one test (its ``___ name ___`` section)."""
    name = nodeid.split("::", 1)[1]
    parts = re.split(r"^_{3,} (.+?) _{3,}$", output, flags=re.MULTILINE)
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        if title.strip() == name:
            return body
    return ""


def _run(options: StubOptions, tmp_path: Path, *selection: str) -> tuple[int, str, str]:
    with start_stub(options) as stub:
        # wide enough that a long test name still gets its ``___ name ___`` title
        result = run_suites_against_stub(stub, tmp_path, *selection, env={"COLUMNS": "400"})
    return result.returncode, result.stdout, result.stdout + result.stderr


def _version(caught: list[Caught]) -> str:
    versions = {c.fault.server_version or DEFAULT_SERVER_VERSION for c in caught}
    assert len(versions) == 1, versions
    return versions.pop()


@pytest.mark.parametrize("batch", list(BATCHES))
def test_each_fault_fails_the_test_made_to_notice_it(batch: str, tmp_path: Path) -> None:
    caught = BATCHES[batch]
    faults = frozenset(c.fault for c in caught)
    options = StubOptions(server_version=_version(caught), faults=faults)
    returncode, stdout, output = _run(options, tmp_path, *[c.nodeid for c in caught])
    outcomes = _outcomes(stdout)
    for case in caught:
        outcome = outcomes.get(case.nodeid, "NOT RUN")
        assert outcome == "FAILED", (
            f"{case.nodeid} {outcome} against {case.fault.name}\n{output[-6000:]}"
        )
        if case.requirement:
            section = _section(output, case.nodeid)
            assert section.strip().startswith(f"requirement {case.requirement}:"), (
                case.nodeid,
                section[:2000],
            )
            assert "curl -X" in section, section
        if case.says:
            assert case.says in _section(output, case.nodeid), (case.nodeid, case.says)
    assert returncode != 0


def test_the_faithful_stub_passes_every_test_named_here(tmp_path: Path) -> None:
    """Run alone against a fresh faithful stub, each test of the batches passes (in the whole
    suite the trial scenario finds the trial already spent and skips)."""
    for version in sorted({_version(cases) for cases in BATCHES.values()}):
        nodeids = sorted(
            {c.nodeid for cases in BATCHES.values() if _version(cases) == version for c in cases}
        )
        returncode, stdout, output = _run(StubOptions(server_version=version), tmp_path, *nodeids)
        outcomes = _outcomes(stdout)
        not_passed = {n: outcomes.get(n, "NOT RUN") for n in nodeids if outcomes.get(n) != "PASSED"}
        assert not not_passed, f"{not_passed}\n{output[-6000:]}"
        assert returncode == 0, output[-3000:]


@pytest.mark.parametrize("fault", list(REFUSED_AT_START), ids=lambda f: f.name)
def test_the_session_refuses_a_target_with_the_fault(fault: Fault, tmp_path: Path) -> None:
    returncode, _, output = _run(
        StubOptions(faults=frozenset({fault})), tmp_path, f"{SCENARIOS}/test_ping.py"
    )
    assert returncode not in (0, 1), output[-3000:]
    assert REFUSED_AT_START[fault] in output, output[-3000:]


def test_every_fault_is_proved_caught_somewhere() -> None:
    """The faults proved here, with those the other validations prove, are the catalogue; and
    each batch's faults concern different operations."""
    from tests.suite_validation.test_validation_scenarios import BATCHES as SCENARIO_BATCHES

    here = {c.fault for cases in BATCHES.values() for c in cases} | set(REFUSED_AT_START)
    elsewhere = {c.fault for cases in SCENARIO_BATCHES.values() for c in cases}
    validations = Path(__file__).parent
    named = {
        Fault[name]
        for path in validations.glob("test_validation_*.py")
        if path.name not in ("test_validation_faults.py", "test_validation_scenarios.py")
        for name in re.findall(r"Fault\.([A-Z0-9_]+)", path.read_text(encoding="utf-8"))
    }
    missing = set(Fault) - here - elsewhere - named
    assert not missing, sorted(f.name for f in missing)
    for name, cases in BATCHES.items():
        operations = [op for fault in {c.fault for c in cases} for op in fault.operations]
        assert len(operations) == len(set(operations)), (name, operations)
        assert all(c.fault.operations for c in cases) or len({c.fault for c in cases}) == 1, name
