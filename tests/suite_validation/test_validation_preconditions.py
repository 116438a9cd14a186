"""No skip is decided by the behaviour under test.

Every skip in ``suites/`` and ``fixtures/`` is listed here with what it waits for and how that is
established. Where a scenario needs something of the target (data, a setting), the need is read
another way than through what the scenario judges, the suite makes the data where it may, and
where the target's own answers contradict each other the scenario fails. For each such skip a
stub fault breaks what the precondition relies on, and its record names the scenario, which the
catalogue validation (``test_validation_catalogue.py``) runs against it: it must fail, not skip.

A new skip fails ``test_every_skip_is_listed`` until it is listed here, with its reason.
(``suites/clients/`` keeps its own skips: a missing Node.js or driver, never the target's data.)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from mmconform.stub import Fault, StubOptions, start_stub
from tests._pytest_run import run_suites_against_stub
from tests.suite_validation.test_validation_scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
_SKIPS = ("pytest.skip", "pytest.xfail", "pytest.importorskip")
_MARKS = ("skipif", "xfail")


@dataclass(frozen=True)
class Skip:
    """A skip: what it waits for (``kind``) and how that is established now."""

    #: data (something the target holds), setting (its configuration), state (license...),
    #: environment (outside the target), role (a token not given), run (the run's options)
    kind: str
    established: str
    #: (fault, scenario under suites/scenarios/) that fail, not skip, where the precondition
    #: is broken
    proved_by: tuple[tuple[Fault, str], ...] = ()
    #: how many skips that function holds
    count: int = 1


LOGS = "test_logs_audits.py::"
SKIPS: dict[str, Skip] = {
    # --- what the target holds or is set to, read independently of what is judged -----------
    "suites/scenarios/test_logs_audits.py::_audits_made": Skip(
        "data",
        "enough audits: counted in pages of 50 (a size no scenario judges) until one comes back "
        "short, cross-checked against one page of 150; too few are made with audited requests "
        "(GET /audits). A full page showing nothing new, or an older audit no page showed, "
        "fails the scenario; it skips only when the audited requests leave no audits behind",
        (
            (
                Fault.AUDITS_PER_PAGE_CAPPED_AT_100,
                LOGS + "test_audit_pages_default_to_60_and_stop_at_200",
            ),
            (
                Fault.AUDITS_LATER_PAGES_EMPTY,
                LOGS + "test_audit_pages_default_to_60_and_stop_at_200",
            ),
            (
                Fault.AUDITS_LATER_PAGES_EMPTY,
                LOGS + "test_audits_come_newest_first_and_pages_move_back_in_time",
            ),
        ),
    ),
    "suites/scenarios/test_logs_audits.py::_require_file_logging": Skip(
        "setting",
        "a log file: LogSettings.EnableFile read from GET /config, not from GET /logs; on and "
        'GET /logs answering [""] fails the scenario',
        (
            (
                Fault.LOGS_CLAIM_FILE_LOGGING_OFF,
                LOGS + "test_log_pages_count_back_from_the_newest_line",
            ),
            (
                Fault.LOGS_CLAIM_FILE_LOGGING_OFF,
                LOGS + "test_posted_line_appears_where_its_level_says",
            ),
            (
                Fault.LOGS_CLAIM_FILE_LOGGING_OFF,
                LOGS + "test_developer_mode_opens_post_log_to_everyone",
            ),
        ),
    ),
    "suites/scenarios/test_logs_audits.py::test_log_pages_count_back_from_the_newest_line": Skip(
        "data",
        "a log that stands still while its pages are read: two reads of the newest lines that "
        "differ must differ as new lines make them (older ones out, new ones in last), or the "
        "scenario fails; it skips only when the log grew that way at every attempt",
        (
            (
                Fault.LOGS_PAGE_ORDER_UNSTABLE,
                LOGS + "test_log_pages_count_back_from_the_newest_line",
            ),
        ),
    ),
    "suites/scenarios/test_config.py::_empty_secret": Skip(
        "data",
        "a secret stored empty: empty in GET /config, or, where every secret reads masked, empty "
        "in the config in clear over the local-mode socket; an empty secret shown masked fails "
        "the scenario. Where every secret holds a value, a single sign-on secret is emptied for "
        "the scenario with --allow-destructive (the config guard's copy in clear puts it back); "
        "it skips without that option, or when nothing shows the config in clear",
        (
            (
                Fault.CONFIG_EMPTY_SECRETS_MASKED,
                "test_config.py::test_a_secret_written_is_read_back_masked",
            ),
            (
                Fault.CONFIG_EMPTY_SECRETS_MASKED,
                "test_config.py::test_a_masked_value_sent_back_keeps_the_stored_secret",
            ),
        ),
        count=2,
    ),
    "suites/scenarios/test_ping.py::made_unhealthy": Skip(
        "setting",
        "an unhealthy target: GoroutineHealthThreshold=1 read back from GET /config, not from "
        "the ping; held and the ping still OK fails the scenario; it skips only when an "
        "environment variable holds the setting (GET /config/environment)",
        (
            (
                Fault.PING_HEALTH_THRESHOLD_IGNORED,
                "test_ping.py::test_unhealthy_server_answers_500_with_the_ping_body",
            ),
            (
                Fault.PING_HEALTH_THRESHOLD_IGNORED,
                "test_ping.py::test_rest_semantics_answer_200_when_unhealthy",
            ),
        ),
    ),
    "suites/scenarios/test_license.py::"
    "test_load_metric_is_monthly_active_users_per_thousand_licensed_seats": Skip(
        "data",
        "the monthly active users, read from GET /analytics/old (not from the load metric it "
        "judges); a server whose standard analytics lack the row fails test_analytics "
        "(analytics.row-names)",
    ),
    "suites/scenarios/test_notices.py::test_a_notice_marked_viewed_is_not_shown_again": Skip(
        "data",
        "a notice for the user, from the server's notice feed, which no API call fills; read "
        "before anything is marked viewed, so the behaviour judged (a viewed notice stays "
        "hidden) cannot decide it",
    ),
    "suites/scenarios/test_config.py::"
    "test_a_setting_the_api_changed_is_not_named_by_the_environment": Skip(
        "setting",
        "a setting the API can change, read through PUT /config/patch and GET /config, not "
        "through GET /config/environment, which it judges",
    ),
    "suites/scenarios/test_config.py::test_plugin_uploads_cannot_be_switched_through_the_api": Skip(
        "setting",
        "PluginSettings.EnableUploads as a boolean; GET /config is held to the schema (boolean) "
        "before, so a server answering otherwise fails there",
    ),
    "suites/scenarios/test_errors.py::test_detailed_error_is_empty_outside_developer_mode": Skip(
        "setting", "developer mode off, read from GET /config"
    ),
    # --- state, environment, roles and the run's options: nothing a target's data decides -------
    "suites/permissions/test_visibility.py::licensed_server": Skip(
        "state",
        "a license: as found, or installed for the test with --allow-destructive and "
        "[target].license_file (the suite makes it where it may)",
    ),
    "suites/scenarios/test_support_packet.py::test_support_packet_needs_a_license": Skip(
        "state",
        "an unlicensed target, as found (the client license); on a licensed one the license "
        "gate scenario removes the license and installs [target].license_file again",
    ),
    "suites/scenarios/test_license.py::test_a_second_trial_is_refused": Skip(
        "environment",
        "a licence server that grants trials (the target's own, outside the API)",
        count=2,
    ),
    "suites/scenarios/test_email.py::smtp_sink": Skip(
        "environment", "a target on this machine, able to reach the test mail server"
    ),
    "suites/scenarios/test_upgrade.py::_edition": Skip(
        "environment", "a known edition (BuildEnterpriseReady, or stated in the target file)"
    ),
    "suites/scenarios/support_test.py::server_time": Skip(
        "environment", "the target's clock: a Date header"
    ),
    "suites/scenarios/test_ping.py::unhealthy": Skip(
        "run", "a serial run: an unhealthy target would fail the ping tests beside it"
    ),
    "suites/permissions/test_matrix.py::test_permission": Skip(
        "run", "--allow-destructive for a cell the target's settings let through"
    ),
    "suites/permissions/conftest.py::read": Skip(
        "role", "system_admin or the local-mode socket, to build the request"
    ),
    "fixtures/roles.py::require_role": Skip("role", "the role's token"),
    "fixtures/roles.py::privileged_role": Skip("role", "any token"),
    "fixtures/clients.py::get": Skip("role", "the local-mode socket, for the local caller"),
    "fixtures/data.py::accepted_license": Skip("state", "[target].license_file"),
    "fixtures/target.py::mm_session": Skip("run", "an active conformance session"),
}


def _skips_in(folder: Path) -> dict[str, int]:
    """``path::function`` -> how many skip calls or skip marks the function holds."""
    found: dict[str, int] = {}
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[:2] == ("suites", "clients"):
            continue

        def visit(node: ast.AST, function: str, relative: Path = relative) -> None:
            for child in ast.iter_child_nodes(node):
                inner = (
                    child.name
                    if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                    else function
                )
                if isinstance(child, ast.Call):
                    called = ast.unparse(child.func)
                    if called in _SKIPS or called.rsplit(".", 1)[-1] in _MARKS:
                        key = f"{relative.as_posix()}::{inner}"
                        found[key] = found.get(key, 0) + 1
                visit(child, inner)

        visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_every_skip_is_listed() -> None:
    found = {**_skips_in(ROOT / "suites"), **_skips_in(ROOT / "fixtures")}
    listed = {where: skip.count for where, skip in SKIPS.items()}
    assert found == listed, (
        "skips in suites/ and fixtures/ differ from the list here; a new skip must say what it "
        "waits for and how that is established without the behaviour its test judges"
    )


def test_a_target_breaking_a_precondition_fails_the_scenario() -> None:
    """Each data or setting precondition that a target could break through the API has its
    fault, whose record names the scenario in ``caught_by`` (so the catalogue validation runs
    the scenario against it, where it must fail)."""
    caught = {
        (fault, catch.test.removeprefix(f"{SCENARIOS}/"))
        for fault in Fault
        for catch in fault.caught_by
    }
    for where, skip in SKIPS.items():
        for proof in skip.proved_by:
            assert proof in caught, (where, proof)
    proved = {where for where, skip in SKIPS.items() if skip.proved_by}
    assert proved == {
        "suites/scenarios/test_logs_audits.py::_audits_made",
        "suites/scenarios/test_logs_audits.py::_require_file_logging",
        "suites/scenarios/test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
        "suites/scenarios/test_config.py::_empty_secret",
        "suites/scenarios/test_ping.py::made_unhealthy",
    }
    assert {skip.kind for skip in SKIPS.values()} <= {
        "data",
        "setting",
        "state",
        "environment",
        "role",
        "run",
    }


#: Every secret the stub keeps, set: a target on which no secret is empty.
_ALL_SECRETS_SET = {
    "LdapSettings": {"BindPassword": "held-ldap"},
    "FileSettings": {
        "AmazonS3SecretAccessKey": "held-s3",
        "ExportAmazonS3SecretAccessKey": "held-export-s3",
    },
    "EmailSettings": {"SMTPPassword": "held-smtp"},
    "GitLabSettings": {"Secret": "held-gitlab"},
    "GoogleSettings": {"Secret": "held-google"},
    "Office365Settings": {"Secret": "held-office365"},
    "OpenIdSettings": {"Secret": "held-openid"},
    "MessageExportSettings": {"GlobalRelaySettings": {"SMTPPassword": "held-relay"}},
}

MADE = (
    f"{SCENARIOS}/test_logs_audits.py::test_audit_pages_default_to_60_and_stop_at_200",
    f"{SCENARIOS}/test_config.py::test_a_secret_written_is_read_back_masked",
    f"{SCENARIOS}/test_config.py::test_a_masked_value_sent_back_keeps_the_stored_secret",
)


def test_what_a_target_lacks_the_run_makes_where_it_may(tmp_path: Path) -> None:
    """A fresh target with a handful of audits and no empty secret: with --allow-destructive
    the scenarios make more than 200 audits (audited requests) and empty a single sign-on secret
    for their duration, judge, and leave every secret as it was."""
    with start_stub(StubOptions(config_overrides=_ALL_SECRETS_SET)) as stub:
        assert len(stub.state.audits) < 50
        result = run_suites_against_stub(stub, tmp_path, *MADE)
        secrets = {
            section: stub.state.config[section] for section in ("OpenIdSettings", "GitLabSettings")
        }
        audits = len(stub.state.audits)
    outcomes = {
        line.split()[1]: line.split()[0]
        for line in result.stdout.splitlines()
        if line.startswith(("PASSED ", "FAILED ", "SKIPPED ", "ERROR "))
    }
    assert outcomes == dict.fromkeys(MADE, "PASSED"), result.stdout[-6000:]
    assert audits > 200
    assert secrets["OpenIdSettings"]["Secret"] == "held-openid"  # emptied, then put back
    assert secrets["GitLabSettings"]["Secret"] == "held-gitlab"
