"""The catalogue of deliberate defects the stub can be started with: one record per fault.

Each member breaks exactly one promise of the contract, so that the project's own tests can prove
that a suite notices the defect. Start a faulty stub with
``StubOptions(faults=frozenset({Fault.BUSY_MISSING_EXPIRES}))`` or ``--fault BUSY_MISSING_EXPIRES``.

Everything about a fault is in its record (:class:`FaultRecord`): its area (one of ``AREAS``),
the operations whose answers it changes (the stub's operation names, ``handlers.OPERATIONS``;
``()`` for every operation), its description, the tests that must catch it and, for the few
faults whose operations the default version lacks, the version to imitate. The stub README's
table, the selftest's catalogue and the project's suite validations are derived from these
records; adding a fault means its record here and the branch in the handler that misbehaves.

``caught_by`` names suite tests by their pytest node ids: plain data, so the stub still imports
nothing of the suites.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from mmconform._wire import FAULT_AREAS

__all__ = ["AREAS", "PREFLIGHT", "Catch", "Fault", "FaultRecord", "fault_table"]

#: The areas a fault can belong to, as the mutation-score report groups them.
AREAS: Final = FAULT_AREAS
#: A catch by the run's start: the session refuses the target before any test runs.
PREFLIGHT: Final = "preflight"

SCENARIOS: Final = "suites/scenarios/"
CONTRACT: Final = "suites/contract/test_contract.py::"
MATRIX: Final = "suites/permissions/test_matrix.py::"
VISIBILITY: Final = "suites/permissions/test_visibility.py::"
GATES: Final = "suites/permissions/test_gates.py::"
TYPESCRIPT: Final = "suites/clients/test_typescript_client.py::"
PYTHON: Final = "suites/clients/test_python_driver.py::"


@dataclass(frozen=True)
class Catch:
    """A test that must fail against the fault (a node id, or ``PREFLIGHT``), and what its
    failure must say: the requirement a scenario names first, and words it contains (a check's
    name, a value)."""

    test: str
    requirement: str = ""
    says: str = ""


@dataclass(frozen=True)
class FaultRecord:
    """Everything about one fault."""

    area: str
    #: operations whose answers the fault changes; () for every operation
    operations: tuple[str, ...]
    #: the one promise it breaks (Markdown, one line)
    description: str
    #: the tests that must notice it
    caught_by: tuple[Catch, ...]
    #: the version the stub must imitate for the fault to show (None: the default one)
    server_version: str | None = None


_BUSY_READ = ("GetServerBusyExpires",)
_CONFIG_ANSWERS = ("GetConfig", "UpdateConfig", "PatchConfig")
#: the operations ``ExperimentalSettings.RestrictSystemAdmin`` guards
_RESTRICTED = (
    "DatabaseRecycle",
    "InvalidateCaches",
    "GenerateSupportPacket",
    "UpdateConfig",
    "PatchConfig",
    "ReloadConfig",
    "UploadLicenseFile",
    "RemoveLicenseFile",
    "RequestLicenseRenewalLink",
    "RequestTrialLicense",
    "GetLogs",
    "TestEmail",
    "TestSiteURL",
    "TestS3Connection",
)


@enum.unique
class Fault(enum.Enum):
    """A deliberate defect; its value is its record."""

    BUSY_MISSING_EXPIRES = FaultRecord(
        area="busy",
        operations=_BUSY_READ,
        description="GET /server_busy omits `expires`",
        caught_by=(
            Catch(
                CONTRACT + "test_operation[GET /api/v4/server_busy]",
                says="response_schema_conformance",
            ),
        ),
    )
    BUSY_EXPIRES_AS_STRING = FaultRecord(
        area="busy",
        operations=_BUSY_READ,
        description="GET /server_busy returns `expires` as a string",
        caught_by=(
            Catch(
                CONTRACT + "test_operation[GET /api/v4/server_busy]",
                says="response_schema_conformance",
            ),
        ),
    )
    BUSY_NEVER_EXPIRES = FaultRecord(
        area="busy",
        operations=_BUSY_READ,
        description="the busy state never expires on its own",
        caught_by=(
            Catch(
                SCENARIOS + "test_busy.py::test_busy_ends_by_itself_when_it_expires",
                requirement="busy.expires",
            ),
        ),
    )
    BUSY_ACCEPTS_ZERO_SECONDS = FaultRecord(
        area="busy",
        operations=("SetServerBusy",),
        description="POST /server_busy?seconds=0 is accepted",
        caught_by=(
            Catch(
                CONTRACT + "test_operation[POST /api/v4/server_busy]",
                says="negative_data_rejection",
            ),
        ),
    )
    TIMEZONES_AS_TEXT = FaultRecord(
        area="timezones",
        operations=("GetSupportedTimezone",),
        description="GET /system/timezones is served as text/plain",
        caught_by=(
            Catch(
                CONTRACT + "test_operation[GET /api/v4/system/timezones]",
                says="content_type_conformance",
            ),
        ),
    )
    TIMEZONES_IGNORE_AUTH = FaultRecord(
        area="auth",
        operations=("GetSupportedTimezone",),
        description="GET /system/timezones answers 200 without a session",
        caught_by=(
            Catch(CONTRACT + "test_operation[GET /api/v4/system/timezones]", says="ignored_auth"),
            Catch(CONTRACT + "test_session_required[GetSupportedTimezone]", says="expected 401"),
        ),
    )
    AUDITS_500_ON_BAD_PAGING = FaultRecord(
        area="paging",
        operations=("GetAudits",),
        description="GET /audits answers 500 on non-integer paging values",
        caught_by=(
            Catch(CONTRACT + "test_operation[GET /api/v4/audits]", says="not_a_server_error"),
        ),
    )
    PING_IGNORES_REST_SEMANTICS = FaultRecord(
        area="ping",
        operations=("GetPing",),
        description="an unhealthy ping is 500 even with use_rest_semantics=true",
        caught_by=(
            Catch(
                SCENARIOS + "test_ping.py::test_rest_semantics_answer_200_when_unhealthy",
                requirement="ping.rest-semantics",
            ),
        ),
    )
    CONFIG_LEAKS_SECRETS = FaultRecord(
        area="visibility",
        operations=_CONFIG_ANSWERS,
        description="GET /config does not mask secrets",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_secrets_come_back_masked[system_admin]",
                requirement="config.secrets-masked",
            ),
            Catch(VISIBILITY + "test_config_secrets_are_masked[system_admin]"),
        ),
    )
    CONFIG_PUT_DROPS_SECRETS = FaultRecord(
        area="config",
        operations=("UpdateConfig", "PatchConfig"),
        description="a masked secret sent back overwrites the stored secret",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_a_masked_value_sent_back_keeps_the_stored_secret",
                requirement="config.masked-value-keeps-secret",
            ),
        ),
    )
    PERMISSIONS_IGNORED_FOR_LOGS = FaultRecord(
        area="permissions",
        operations=("GetLogs",),
        description="any logged-in user may GET /logs",
        caught_by=(Catch(PREFLIGHT, says="token for system_user"),),
    )
    READ_ONLY_ADMIN_CAN_WRITE_CONFIG = FaultRecord(
        area="permissions",
        operations=("UpdateConfig", "PatchConfig"),
        description="system_read_only_admin may write the config",
        caught_by=(
            Catch(
                VISIBILITY
                + "test_a_refused_config_write_does_not_land[UpdateConfig-system_read_only_admin]"
            ),
            Catch(
                VISIBILITY
                + "test_a_refused_config_write_does_not_land[PatchConfig-system_read_only_admin]"
            ),
        ),
    )
    ERROR_BODY_PLAIN_TEXT = FaultRecord(
        area="errors",
        operations=(),
        description="errors are plain text, not AppError JSON",
        caught_by=(
            Catch(CONTRACT + "test_operation[GET /api/v4/audits]", says="content_type_conformance"),
        ),
    )
    LOGS_PAGING_IGNORED = FaultRecord(
        area="paging",
        operations=("GetLogs",),
        description="GET /logs ignores page and logs_per_page",
        caught_by=(
            Catch(
                SCENARIOS + "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
                requirement="logs.paging",
            ),
        ),
    )
    LICENSE_UPLOAD_ACCEPTS_INVALID = FaultRecord(
        area="license",
        operations=("UploadLicenseFile",),
        description="POST /license accepts an invalid license",
        caught_by=(
            Catch(
                SCENARIOS + "test_license.py::test_invalid_licenses_are_refused",
                requirement="license.upload-rejects-invalid",
            ),
        ),
    )
    MISSING_REQUEST_ID_HEADER = FaultRecord(
        area="headers",
        operations=(),
        description="responses lack X-Request-Id",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_errors.py::test_errors_are_app_errors_that_agree_with_their_answer[no-session]",
                requirement="errors.app-error-shape",
                says="X-Request-Id",
            ),
            Catch(
                CONTRACT + "test_operation[GET /api/v4/system/timezones]",
                says="response_headers_conformance",
            ),
        ),
    )
    RESTRICT_SYSTEM_ADMIN_IGNORED = FaultRecord(
        area="permissions",
        operations=_RESTRICTED,
        description="RestrictSystemAdmin blocks nothing",
        caught_by=(
            Catch(
                GATES + "test_restrict_system_admin_refuses_as_the_version_does[DatabaseRecycle]"
            ),
        ),
    )
    CLIENT_CONFIG_FULL_WITHOUT_SESSION = FaultRecord(
        area="visibility",
        operations=("GetClientConfig",),
        description="anonymous callers get the full client config",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_config.py::test_client_config_without_a_session_is_the_limited_set",
                requirement="config.client-limited-without-session",
            ),
            Catch(VISIBILITY + "test_client_config_without_a_session_is_the_limited_one"),
        ),
    )
    PUT_CONFIG_KEEPS_MISSING = FaultRecord(
        area="config",
        operations=("UpdateConfig",),
        description="PUT /config keeps missing fields instead of resetting them",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_put_resets_what_it_omits",
                requirement="config.put-resets-omitted",
            ),
        ),
    )
    JSON_CONTENT_TYPE_WITH_CHARSET = FaultRecord(
        area="clients",
        operations=(),
        description="JSON answers are labelled `application/json; charset=utf-8`, a type the official clients do not decode",
        caught_by=(
            Catch(
                TYPESCRIPT
                + "test_client4_method_answers_as_the_contract_predicts[ping-system_admin]",
                says="value is string",
            ),
            Catch(
                TYPESCRIPT
                + "test_client4_method_answers_as_the_contract_predicts[getAudits-system_user]",
                says="ClientError status_code=None server_error_id=None",
            ),
            Catch(
                PYTHON
                + "test_driver_method_answers_as_the_contract_predicts[get_ping-system_admin]",
                says="the driver did not decode the body",
            ),
        ),
    )
    CONFIG_UNFILTERED_FOR_READERS = FaultRecord(
        area="visibility",
        operations=_CONFIG_ANSWERS,
        description="GET /config shows every setting to any sysconsole reader, unfiltered by permission",
        caught_by=(
            Catch(
                VISIBILITY + "test_config_is_filtered_by_the_readers_permissions[system_manager]"
            ),
        ),
    )
    CLIENT_LICENSE_UNTRIMMED = FaultRecord(
        area="visibility",
        operations=("GetClientLicense",),
        description="GET /license/client gives the full map to callers without read_license_information",
        caught_by=(
            Catch(
                SCENARIOS + "test_license.py::test_license_upload_read_and_removal",
                requirement="license.client-trimmed",
            ),
            Catch(
                VISIBILITY
                + "test_client_license_is_trimmed_without_read_license_information[anonymous]"
            ),
        ),
    )
    BUSY_SECONDS_IGNORED = FaultRecord(
        area="busy",
        operations=("SetServerBusy", *_BUSY_READ),
        description="POST /server_busy ignores `seconds` and is always busy for 3600 s",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_busy.py::test_setting_busy_reports_the_expiry_on_the_targets_clock",
                requirement="busy.set-reports-expiry",
            ),
            Catch(
                SCENARIOS + "test_busy.py::test_setting_busy_again_restarts_the_timer",
                requirement="busy.set-again-restarts",
            ),
        ),
    )
    BUSY_EXPIRES_IN_MILLISECONDS = FaultRecord(
        area="busy",
        operations=_BUSY_READ,
        description="GET /server_busy reports `expires` in milliseconds",
        caught_by=(
            Catch(
                SCENARIOS + "test_busy.py::test_expires_is_unix_seconds_and_agrees_with_expires_ts",
                requirement="busy.expires-unix-seconds",
            ),
        ),
    )
    BUSY_CLEAR_IGNORED = FaultRecord(
        area="busy",
        operations=("ClearServerBusy", *_BUSY_READ),
        description="DELETE /server_busy answers OK but the server stays busy",
        caught_by=(
            Catch(SCENARIOS + "test_busy.py::test_delete_clears_busy", requirement="busy.clear"),
        ),
    )
    PATCH_CONFIG_ACTS_AS_PUT = FaultRecord(
        area="config",
        operations=("PatchConfig",),
        description="PUT /config/patch resets the settings the patch leaves out",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_patch_changes_only_what_it_names",
                requirement="config.patch-changes-only-named",
                says="TeamSettings.MaxUsersPerTeam",
            ),
        ),
    )
    AUDITS_PER_PAGE_CAP_IGNORED = FaultRecord(
        area="paging",
        operations=("GetAudits",),
        description="GET /audits gives more than 200 audits when asked to",
        caught_by=(
            Catch(
                SCENARIOS + "test_logs_audits.py::test_audit_pages_default_to_60_and_stop_at_200",
                requirement="audits.paging-limits",
            ),
        ),
    )
    PING_ROOT_STATUS_LEAKED = FaultRecord(
        area="visibility",
        operations=("GetPing",),
        description="ping shows `root_status` to callers without manage_system",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_ping.py::test_root_status_is_hidden_without_manage_system[system_user]",
                requirement="ping.root-status-admin-only",
            ),
            Catch(
                VISIBILITY
                + "test_ping_hides_root_status_from_callers_without_manage_system[system_user]"
            ),
        ),
    )
    TIMEZONES_INVALID_ZONE = FaultRecord(
        area="timezones",
        operations=("GetSupportedTimezone",),
        description="GET /system/timezones lists a name that is no IANA zone",
        caught_by=(
            Catch(
                SCENARIOS + "test_timezones.py::test_timezones_are_iana_zone_names",
                requirement="timezones.iana-names",
                says="Mars/Olympus_Mons",
            ),
        ),
    )
    APP_ERROR_STATUS_CODE_MISMATCH = FaultRecord(
        area="errors",
        operations=(),
        description="AppError `status_code` differs from the HTTP status",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_errors.py::test_errors_are_app_errors_that_agree_with_their_answer[no-permission]",
                requirement="errors.app-error-shape",
                says="status_code 403",
            ),
        ),
    )
    POSTED_LOG_NEVER_APPEARS = FaultRecord(
        area="logs",
        operations=("PostLog", "GetLogs"),
        description="POST /logs answers 200 but its line never reaches GET /logs",
        caught_by=(
            Catch(
                SCENARIOS + "test_logs_audits.py::test_posted_line_appears_where_its_level_says",
                requirement="logs.posted-line-appears",
            ),
        ),
    )
    PING_MISSING_STATUS = FaultRecord(
        area="schema",
        operations=("GetPing",),
        description="the ping body lacks `status`",
        caught_by=(Catch(PREFLIGHT, says="does not look like a Mattermost server"),),
    )
    PING_SERVER_STATUS_IGNORED = FaultRecord(
        area="ping",
        operations=("GetPing",),
        description="ping ignores `get_server_status=true` (no `database_status` or `filestore_status`)",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_ping.py::test_server_status_adds_database_and_filestore[system_admin]",
                requirement="ping.server-status",
            ),
        ),
    )
    PING_DEVICE_ID_IGNORED = FaultRecord(
        area="ping",
        operations=("GetPing",),
        description="ping ignores `device_id` (no `CanReceiveNotifications`)",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_ping.py::test_device_id_says_whether_the_device_can_receive_notifications[android_rn:mmconform-device]",
                requirement="ping.device-id",
            ),
        ),
    )
    INTEGRITY_OVER_TCP = FaultRecord(
        area="integrity",
        operations=("CheckIntegrity",),
        description="POST /integrity is answered over TCP, to any caller, instead of only on the local socket",
        caught_by=(Catch(MATRIX + "test_permission[CheckIntegrity-anonymous]"),),
    )
    CACHES_INVALIDATED_WITHOUT_STATUS = FaultRecord(
        area="schema",
        operations=("InvalidateCaches",),
        description='POST /caches/invalidate answers 200 with an empty body instead of `{"status": "OK"}`',
        caught_by=(Catch(CONTRACT + "test_operation[POST /api/v4/caches/invalidate]"),),
    )
    DATABASE_RECYCLE_WITHOUT_SESSION = FaultRecord(
        area="auth",
        operations=("DatabaseRecycle",),
        description="POST /database/recycle answers 200 to a request without credentials",
        caught_by=(Catch(CONTRACT + "test_session_required[DatabaseRecycle]"),),
    )
    RESTART_ALLOWED_FOR_READ_ONLY_ADMIN = FaultRecord(
        area="permissions",
        operations=("RestartServer",),
        description="system_read_only_admin may restart the server (POST /restart)",
        caught_by=(Catch(MATRIX + "test_permission[RestartServer-system_read_only_admin]"),),
    )
    SUPPORT_PACKET_NOT_A_ZIP = FaultRecord(
        area="support-packet",
        operations=("GenerateSupportPacket",),
        description="the support packet is sent before its zip is finished (no central directory)",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_support_packet.py::test_support_packet_is_a_zip_with_the_sanitized_config",
                requirement="support.packet-zip",
            ),
        ),
    )
    UPGRADE_ALLOWED_ON_ENTERPRISE = FaultRecord(
        area="upgrade",
        operations=("IsAllowedToUpgradeToEnterprise",),
        description="GET /upgrade_to_enterprise/allowed answers OK on an Enterprise build",
        caught_by=(
            Catch(
                SCENARIOS + "test_upgrade.py::test_upgrade_is_allowed_only_for_team_edition",
                requirement="upgrade.allowed",
            ),
        ),
    )
    UPGRADE_STARTS_ON_ENTERPRISE = FaultRecord(
        area="upgrade",
        operations=("UpgradeToEnterprise",),
        description="POST /upgrade_to_enterprise starts an upgrade (202) on an Enterprise build",
        caught_by=(
            Catch(
                SCENARIOS + "test_upgrade.py::test_enterprise_build_refuses_to_upgrade",
                requirement="upgrade.enterprise-refuses",
            ),
        ),
    )
    UPGRADE_STATUS_UNGUARDED = FaultRecord(
        area="permissions",
        operations=("UpgradeToEnterpriseStatus",),
        description="any logged-in user may read GET /upgrade_to_enterprise/status",
        caught_by=(Catch(MATRIX + "test_permission[UpgradeToEnterpriseStatus-system_user]"),),
    )
    LICENSE_REMOVAL_KEEPS_LICENSE = FaultRecord(
        area="license",
        operations=("RemoveLicenseFile",),
        description="DELETE /license answers OK but keeps the license",
        caught_by=(
            Catch(
                SCENARIOS + "test_license.py::test_license_upload_read_and_removal",
                requirement="license.upload-and-remove",
            ),
        ),
    )
    LOAD_METRIC_AS_STRING = FaultRecord(
        area="schema",
        operations=("GetLicenseLoadMetric",),
        description="GET /license/load_metric returns `load` as a string",
        caught_by=(Catch(CONTRACT + "test_operation[GET /api/v4/license/load_metric]"),),
    )
    TRIAL_LICENSE_GRANTED_TWICE = FaultRecord(
        area="license",
        operations=("RequestTrialLicense",),
        description="POST /trial-license grants a second trial instead of refusing it",
        caught_by=(
            Catch(
                SCENARIOS + "test_license.py::test_a_second_trial_is_refused",
                requirement="license.trial-once",
            ),
        ),
    )
    PREV_TRIAL_LICENSE_NULL = FaultRecord(
        area="license",
        operations=("GetPrevTrialLicense",),
        description="GET /trial-license/prev answers `null` instead of the unlicensed map when there was no trial",
        caught_by=(
            Catch(
                SCENARIOS + "test_license.py::test_previous_trial_is_a_client_license_map",
                says="ContractViolation",
            ),
        ),
    )
    RENEWAL_LINK_WITHOUT_PERMISSION = FaultRecord(
        area="permissions",
        operations=("RequestLicenseRenewalLink",),
        description="GET /license/renewal gives a renewal link to callers without manage_license_information",
        caught_by=(Catch(MATRIX + "test_permission[RequestLicenseRenewalLink-system_user]"),),
        server_version="9.1.0",
    )
    CONFIG_RELOAD_RESTORES_STARTUP = FaultRecord(
        area="config",
        operations=("ReloadConfig",),
        description="POST /config/reload brings back the config the server started with, not the saved one",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_reload_keeps_what_was_saved",
                requirement="config.reload-keeps-saved",
            ),
        ),
    )
    ENVIRONMENT_CONFIG_LISTS_EVERYTHING = FaultRecord(
        area="config",
        operations=("GetEnvironmentConfig",),
        description="GET /config/environment lists every readable setting, not only those set by the environment",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_config.py::test_a_setting_the_api_changed_is_not_named_by_the_environment",
                requirement="config.environment-only-overridden",
            ),
        ),
    )
    CLIENT_CONFIG_FORMAT_REQUIRED = FaultRecord(
        area="clients",
        operations=("GetClientConfig",),
        description="GET /config/client still demands `format=old` (501 without it) on servers that ignore it",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_client_config_format_by_server_version[missing]",
                requirement="config.client-format",
            ),
        ),
    )
    CONFIG_PUT_MALFORMED_JSON_500 = FaultRecord(
        area="errors",
        operations=("UpdateConfig",),
        description="PUT /config answers 500 instead of 400 to malformed JSON",
        caught_by=(Catch(CONTRACT + "test_operation[PUT /api/v4/config]"),),
    )
    AUDITS_OLDEST_FIRST = FaultRecord(
        area="logs",
        operations=("GetAudits",),
        description="GET /audits lists the oldest audits first",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_logs_audits.py::test_audits_come_newest_first_and_pages_move_back_in_time",
                requirement="audits.newest-first",
            ),
        ),
    )
    LOGS_OLDEST_FIRST = FaultRecord(
        area="logs",
        operations=("GetLogs",),
        description="GET /logs pages count from the oldest line, not the newest",
        caught_by=(
            Catch(
                SCENARIOS + "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
                requirement="logs.paging",
            ),
        ),
    )
    ANALYTICS_UNKNOWN_NAME_ACCEPTED = FaultRecord(
        area="analytics",
        operations=("GetAnalyticsOld",),
        description="GET /analytics/old answers an unknown `name` with the standard rows instead of 400",
        caught_by=(
            Catch(
                SCENARIOS + "test_analytics.py::test_unknown_analytics_name_is_refused",
                requirement="analytics.unknown-name-refused",
            ),
        ),
    )
    NOTICES_MALFORMED_TEAM_ID_ACCEPTED = FaultRecord(
        area="notices",
        operations=("GetNotices",),
        description="GET /system/notices/{teamId} answers 200 for a team id that is not 26 characters long",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_notices.py::test_notices_need_a_known_client_and_a_team_id[short-team-id]",
                requirement="notices.input-validated",
            ),
        ),
    )
    NOTICE_VIEWED_SHOWN_AGAIN = FaultRecord(
        area="notices",
        operations=("MarkNoticesViewed", "GetNotices"),
        description="PUT /system/notices/view answers OK but the notice is shown again",
        caught_by=(
            Catch(
                SCENARIOS + "test_notices.py::test_a_notice_marked_viewed_is_not_shown_again",
                requirement="notices.viewed-hidden",
            ),
        ),
    )
    REDIRECT_WITHOUT_URL_ACCEPTED = FaultRecord(
        area="image",
        operations=("GetRedirectLocation",),
        description="GET /redirect_location without `url` answers 200 while link previews are on",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_redirect_image.py::test_redirect_location_needs_a_url_while_link_previews_are_on",
                requirement="redirect.url-checked",
            ),
        ),
    )
    IMAGE_OPAQUE_URL_ACCEPTED = FaultRecord(
        area="image",
        operations=("GetImageByUrl",),
        description="GET /image answers an opaque URL (`mailto:`) with 200 and an empty image instead of refusing it",
        caught_by=(
            Catch(
                SCENARIOS + "test_redirect_image.py::test_image_refuses_what_it_cannot_fetch",
                requirement="image.url-checked",
            ),
        ),
    )
    EMAIL_TEST_USES_POSTED_SETTINGS = FaultRecord(
        area="email",
        operations=("TestEmail",),
        description="POST /email/test sends through the posted settings instead of the stored ones",
        caught_by=(
            Catch(
                SCENARIOS + "test_email.py::test_email_test_sends_through_the_stored_settings",
                requirement="email.stored-settings-used",
            ),
        ),
    )
    S3_TEST_ALWAYS_OK = FaultRecord(
        area="config",
        operations=("TestS3Connection",),
        description="POST /file/s3_test answers OK without reaching the file store",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_s3_test_fails_for_a_store_it_cannot_reach",
                requirement="config.s3-test-tries-store",
            ),
        ),
    )
    SITE_URL_TEST_ACCEPTS_EMPTY = FaultRecord(
        area="config",
        operations=("TestSiteURL",),
        description="POST /site_url/test answers OK to an empty `site_url`",
        caught_by=(Catch(CONTRACT + "test_operation[POST /api/v4/site_url/test]"),),
    )
    PUSH_ACK_EMPTY_BODY_ACCEPTED = FaultRecord(
        area="notifications",
        operations=("AcknowledgeNotification",),
        description="POST /notifications/ack answers OK to an empty body instead of 400",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_notifications.py::test_push_acknowledgement_needs_an_ack_and_push_notifications",
                requirement="notifications.ack",
            ),
        ),
    )
    TEST_NOTIFICATION_REFUSED_TO_USERS = FaultRecord(
        area="notifications",
        operations=("TestNotification",),
        description="POST /notifications/test is refused (403) to users without manage_system",
        caught_by=(
            Catch(
                SCENARIOS + "test_notifications.py::test_notification_test_is_open_to_every_user",
                requirement="notifications.test-message",
            ),
        ),
    )
    VERSION_ID_LICENSE_FLAG_WRONG = FaultRecord(
        area="headers",
        operations=(),
        description="`X-Version-Id` says the opposite of whether the server is licensed",
        caught_by=(
            Catch(
                SCENARIOS + "test_headers.py::test_version_id_says_whether_the_server_is_licensed",
                requirement="headers.version-id-licensed",
            ),
        ),
    )
    REQUEST_ID_BODY_MISMATCH = FaultRecord(
        area="errors",
        operations=(),
        description="an AppError's `request_id` is not the answer's `X-Request-Id`",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_errors.py::test_errors_are_app_errors_that_agree_with_their_answer[no-permission]",
                requirement="errors.app-error-shape",
            ),
        ),
    )
    # Faults that break what a scenario's precondition relies on: against each, the scenario
    # must fail where it used to skip.
    AUDITS_PER_PAGE_CAPPED_AT_100 = FaultRecord(
        area="paging",
        operations=("GetAudits",),
        description="GET /audits gives at most 100 audits a page, not 200",
        caught_by=(
            Catch(
                SCENARIOS + "test_logs_audits.py::test_audit_pages_default_to_60_and_stop_at_200",
                requirement="audits.paging-limits",
                says="100 audits",
            ),
        ),
    )
    AUDITS_LATER_PAGES_EMPTY = FaultRecord(
        area="paging",
        operations=("GetAudits",),
        description="GET /audits answers every page after the first with nothing",
        caught_by=(
            Catch(
                SCENARIOS
                + "test_logs_audits.py::test_audits_come_newest_first_and_pages_move_back_in_time",
                requirement="audits.newest-first",
                says="page 1 not empty",
            ),
            Catch(
                SCENARIOS + "test_logs_audits.py::test_audit_pages_default_to_60_and_stop_at_200",
                requirement="audits.paging-limits",
                says="older audits they did not",
            ),
        ),
    )
    LOGS_CLAIM_FILE_LOGGING_OFF = FaultRecord(
        area="logs",
        operations=("GetLogs",),
        description=(
            'GET /logs answers `[""]`, as with file logging off, while LogSettings.EnableFile is on'
        ),
        caught_by=(
            Catch(
                SCENARIOS + "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
                requirement="logs.paging",
                says="LogSettings.EnableFile is on",
            ),
            Catch(
                SCENARIOS + "test_logs_audits.py::test_posted_line_appears_where_its_level_says",
                requirement="logs.posted-line-appears",
                says="LogSettings.EnableFile is on",
            ),
            Catch(
                SCENARIOS + "test_logs_audits.py::test_developer_mode_opens_post_log_to_everyone",
                requirement="logs.developer-mode",
                says="LogSettings.EnableFile is on",
            ),
        ),
    )
    LOGS_PAGE_ORDER_UNSTABLE = FaultRecord(
        area="paging",
        operations=("GetLogs",),
        description="GET /logs gives a page's lines in another order at each read",
        caught_by=(
            Catch(
                SCENARIOS + "test_logs_audits.py::test_log_pages_count_back_from_the_newest_line",
                requirement="logs.paging",
                says="differ only by lines written in between",
            ),
        ),
    )
    PING_HEALTH_THRESHOLD_IGNORED = FaultRecord(
        area="ping",
        operations=("GetPing",),
        description="ping says OK whatever ServiceSettings.GoroutineHealthThreshold says",
        caught_by=(
            Catch(
                SCENARIOS + "test_ping.py::test_unhealthy_server_answers_500_with_the_ping_body",
                requirement="ping.unhealthy-500",
                says="GoroutineHealthThreshold reads back 1",
            ),
            Catch(
                SCENARIOS + "test_ping.py::test_rest_semantics_answer_200_when_unhealthy",
                requirement="ping.rest-semantics",
                says="GoroutineHealthThreshold reads back 1",
            ),
        ),
    )
    CONFIG_EMPTY_SECRETS_MASKED = FaultRecord(
        area="config",
        operations=("GetConfig",),
        description="GET /config masks an empty secret as if it held one, instead of showing it empty",
        caught_by=(
            Catch(
                SCENARIOS + "test_config.py::test_a_secret_written_is_read_back_masked",
                requirement="config.secrets-masked",
                says="local-mode socket shows it empty",
            ),
            Catch(
                SCENARIOS + "test_config.py::test_a_masked_value_sent_back_keeps_the_stored_secret",
                requirement="config.masked-value-keeps-secret",
                says="local-mode socket shows it empty",
            ),
        ),
    )

    @classmethod
    def parse(cls, name: str) -> Fault:
        """Look a fault up by its name, case-insensitively (``ValueError`` when unknown)."""
        try:
            return cls[name.strip().upper().replace("-", "_")]
        except KeyError:
            known = ", ".join(f.name for f in cls)
            raise ValueError(f"unknown fault {name!r}; known faults: {known}") from None

    @property
    def record(self) -> FaultRecord:
        value: FaultRecord = self.value
        return value

    @property
    def description(self) -> str:
        """The one-line description of the promise this fault breaks (Markdown)."""
        return self.record.description

    @property
    def area(self) -> str:
        """The area of the API whose promise the fault breaks (one of ``AREAS``)."""
        return self.record.area

    @property
    def server_version(self) -> str | None:
        """The Mattermost version the stub must imitate (``--server-version``) for the fault to
        show, when the default version lacks the operations it concerns; None otherwise."""
        return self.record.server_version

    @property
    def operations(self) -> tuple[str, ...]:
        """The operations whose answers the fault changes; ``()`` means every operation."""
        return self.record.operations

    @property
    def caught_by(self) -> tuple[Catch, ...]:
        """The tests that must fail against this fault."""
        return self.record.caught_by


def fault_table() -> str:
    """The stub README's table of faults, rendered from the records."""
    rows = ["| fault | area | broken promise |", "|---|---|---|"]
    rows += [f"| `{fault.name}` | {fault.area} | {fault.description} |" for fault in Fault]
    return "\n".join(rows)
