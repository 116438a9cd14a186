"""The catalogue of deliberate defects the stub can be started with.

Each member breaks exactly one promise of the contract, so that the project's own tests can prove
that a suite notices the defect. Start a faulty stub with
``StubOptions(faults=frozenset({Fault.BUSY_MISSING_EXPIRES}))`` or ``--fault BUSY_MISSING_EXPIRES``.
Each fault is described once, in ``_DESCRIPTIONS``; the stub README's table repeats that text (a
test keeps the two equal). ``_METADATA`` gives each fault its area (one of ``AREAS``) and the
operations whose answers it changes (the stub's operation names, ``handlers.OPERATIONS``; ``()``
for every operation), so that a mutation-score run can start the stub with one fault and run the
suites restricted to those operations; ``_SERVER_VERSIONS`` names the version to imitate for the
few faults whose operations the default version lacks.
"""

from __future__ import annotations

import enum
from typing import Final

from mmconform._wire import FAULT_AREAS

#: The areas a fault can belong to, as the mutation-score report groups them.
AREAS: Final = FAULT_AREAS


class Fault(enum.Enum):
    """A deliberate defect; ``description`` names the single promise it breaks, ``area`` and
    ``operations`` where it shows, ``server_version`` the version it needs (None: any)."""

    BUSY_MISSING_EXPIRES = "BUSY_MISSING_EXPIRES"
    BUSY_EXPIRES_AS_STRING = "BUSY_EXPIRES_AS_STRING"
    BUSY_NEVER_EXPIRES = "BUSY_NEVER_EXPIRES"
    BUSY_ACCEPTS_ZERO_SECONDS = "BUSY_ACCEPTS_ZERO_SECONDS"
    TIMEZONES_AS_TEXT = "TIMEZONES_AS_TEXT"
    TIMEZONES_IGNORE_AUTH = "TIMEZONES_IGNORE_AUTH"
    AUDITS_500_ON_BAD_PAGING = "AUDITS_500_ON_BAD_PAGING"
    PING_IGNORES_REST_SEMANTICS = "PING_IGNORES_REST_SEMANTICS"
    CONFIG_LEAKS_SECRETS = "CONFIG_LEAKS_SECRETS"
    CONFIG_PUT_DROPS_SECRETS = "CONFIG_PUT_DROPS_SECRETS"
    PERMISSIONS_IGNORED_FOR_LOGS = "PERMISSIONS_IGNORED_FOR_LOGS"
    READ_ONLY_ADMIN_CAN_WRITE_CONFIG = "READ_ONLY_ADMIN_CAN_WRITE_CONFIG"
    ERROR_BODY_PLAIN_TEXT = "ERROR_BODY_PLAIN_TEXT"
    LOGS_PAGING_IGNORED = "LOGS_PAGING_IGNORED"
    LICENSE_UPLOAD_ACCEPTS_INVALID = "LICENSE_UPLOAD_ACCEPTS_INVALID"
    MISSING_REQUEST_ID_HEADER = "MISSING_REQUEST_ID_HEADER"
    RESTRICT_SYSTEM_ADMIN_IGNORED = "RESTRICT_SYSTEM_ADMIN_IGNORED"
    CLIENT_CONFIG_FULL_WITHOUT_SESSION = "CLIENT_CONFIG_FULL_WITHOUT_SESSION"
    PUT_CONFIG_KEEPS_MISSING = "PUT_CONFIG_KEEPS_MISSING"
    JSON_CONTENT_TYPE_WITH_CHARSET = "JSON_CONTENT_TYPE_WITH_CHARSET"
    CONFIG_UNFILTERED_FOR_READERS = "CONFIG_UNFILTERED_FOR_READERS"
    CLIENT_LICENSE_UNTRIMMED = "CLIENT_LICENSE_UNTRIMMED"
    BUSY_SECONDS_IGNORED = "BUSY_SECONDS_IGNORED"
    BUSY_EXPIRES_IN_MILLISECONDS = "BUSY_EXPIRES_IN_MILLISECONDS"
    BUSY_CLEAR_IGNORED = "BUSY_CLEAR_IGNORED"
    PATCH_CONFIG_ACTS_AS_PUT = "PATCH_CONFIG_ACTS_AS_PUT"
    AUDITS_PER_PAGE_CAP_IGNORED = "AUDITS_PER_PAGE_CAP_IGNORED"
    PING_ROOT_STATUS_LEAKED = "PING_ROOT_STATUS_LEAKED"
    TIMEZONES_INVALID_ZONE = "TIMEZONES_INVALID_ZONE"
    APP_ERROR_STATUS_CODE_MISMATCH = "APP_ERROR_STATUS_CODE_MISMATCH"
    POSTED_LOG_NEVER_APPEARS = "POSTED_LOG_NEVER_APPEARS"
    PING_MISSING_STATUS = "PING_MISSING_STATUS"
    PING_SERVER_STATUS_IGNORED = "PING_SERVER_STATUS_IGNORED"
    PING_DEVICE_ID_IGNORED = "PING_DEVICE_ID_IGNORED"
    INTEGRITY_OVER_TCP = "INTEGRITY_OVER_TCP"
    CACHES_INVALIDATED_WITHOUT_STATUS = "CACHES_INVALIDATED_WITHOUT_STATUS"
    DATABASE_RECYCLE_WITHOUT_SESSION = "DATABASE_RECYCLE_WITHOUT_SESSION"
    RESTART_ALLOWED_FOR_READ_ONLY_ADMIN = "RESTART_ALLOWED_FOR_READ_ONLY_ADMIN"
    SUPPORT_PACKET_NOT_A_ZIP = "SUPPORT_PACKET_NOT_A_ZIP"
    UPGRADE_ALLOWED_ON_ENTERPRISE = "UPGRADE_ALLOWED_ON_ENTERPRISE"
    UPGRADE_STARTS_ON_ENTERPRISE = "UPGRADE_STARTS_ON_ENTERPRISE"
    UPGRADE_STATUS_UNGUARDED = "UPGRADE_STATUS_UNGUARDED"
    LICENSE_REMOVAL_KEEPS_LICENSE = "LICENSE_REMOVAL_KEEPS_LICENSE"
    LOAD_METRIC_AS_STRING = "LOAD_METRIC_AS_STRING"
    TRIAL_LICENSE_GRANTED_TWICE = "TRIAL_LICENSE_GRANTED_TWICE"
    PREV_TRIAL_LICENSE_NULL = "PREV_TRIAL_LICENSE_NULL"
    RENEWAL_LINK_WITHOUT_PERMISSION = "RENEWAL_LINK_WITHOUT_PERMISSION"
    CONFIG_RELOAD_RESTORES_STARTUP = "CONFIG_RELOAD_RESTORES_STARTUP"
    ENVIRONMENT_CONFIG_LISTS_EVERYTHING = "ENVIRONMENT_CONFIG_LISTS_EVERYTHING"
    CLIENT_CONFIG_FORMAT_REQUIRED = "CLIENT_CONFIG_FORMAT_REQUIRED"
    CONFIG_PUT_MALFORMED_JSON_500 = "CONFIG_PUT_MALFORMED_JSON_500"
    AUDITS_OLDEST_FIRST = "AUDITS_OLDEST_FIRST"
    LOGS_OLDEST_FIRST = "LOGS_OLDEST_FIRST"
    ANALYTICS_UNKNOWN_NAME_ACCEPTED = "ANALYTICS_UNKNOWN_NAME_ACCEPTED"
    NOTICES_MALFORMED_TEAM_ID_ACCEPTED = "NOTICES_MALFORMED_TEAM_ID_ACCEPTED"
    NOTICE_VIEWED_SHOWN_AGAIN = "NOTICE_VIEWED_SHOWN_AGAIN"
    REDIRECT_WITHOUT_URL_ACCEPTED = "REDIRECT_WITHOUT_URL_ACCEPTED"
    IMAGE_OPAQUE_URL_ACCEPTED = "IMAGE_OPAQUE_URL_ACCEPTED"
    EMAIL_TEST_USES_POSTED_SETTINGS = "EMAIL_TEST_USES_POSTED_SETTINGS"
    S3_TEST_ALWAYS_OK = "S3_TEST_ALWAYS_OK"
    SITE_URL_TEST_ACCEPTS_EMPTY = "SITE_URL_TEST_ACCEPTS_EMPTY"
    PUSH_ACK_EMPTY_BODY_ACCEPTED = "PUSH_ACK_EMPTY_BODY_ACCEPTED"
    TEST_NOTIFICATION_REFUSED_TO_USERS = "TEST_NOTIFICATION_REFUSED_TO_USERS"
    VERSION_ID_LICENSE_FLAG_WRONG = "VERSION_ID_LICENSE_FLAG_WRONG"
    REQUEST_ID_BODY_MISMATCH = "REQUEST_ID_BODY_MISMATCH"
    AUDITS_PER_PAGE_CAPPED_AT_100 = "AUDITS_PER_PAGE_CAPPED_AT_100"
    AUDITS_LATER_PAGES_EMPTY = "AUDITS_LATER_PAGES_EMPTY"
    LOGS_CLAIM_FILE_LOGGING_OFF = "LOGS_CLAIM_FILE_LOGGING_OFF"
    LOGS_PAGE_ORDER_UNSTABLE = "LOGS_PAGE_ORDER_UNSTABLE"
    PING_HEALTH_THRESHOLD_IGNORED = "PING_HEALTH_THRESHOLD_IGNORED"
    CONFIG_EMPTY_SECRETS_MASKED = "CONFIG_EMPTY_SECRETS_MASKED"

    @classmethod
    def parse(cls, name: str) -> Fault:
        """Look a fault up by its name, case-insensitively (``ValueError`` when unknown)."""
        try:
            return cls[name.strip().upper().replace("-", "_")]
        except KeyError:
            known = ", ".join(f.name for f in cls)
            raise ValueError(f"unknown fault {name!r}; known faults: {known}") from None

    @property
    def description(self) -> str:
        """The one-line description of the promise this fault breaks (Markdown)."""
        return _DESCRIPTIONS[self]

    @property
    def area(self) -> str:
        """The area of the API whose promise the fault breaks (one of ``AREAS``)."""
        return _AREAS[self]

    @property
    def server_version(self) -> str | None:
        """The Mattermost version the stub must imitate (``--server-version``) for the fault to
        show, when the default version lacks the operations it concerns; None otherwise."""
        return _SERVER_VERSIONS.get(self)

    @property
    def operations(self) -> tuple[str, ...]:
        """The operations (the stub's operation names, ``handlers.OPERATIONS``) whose answers
        the fault changes; ``()`` means every operation."""
        return _OPERATIONS[self]


_DESCRIPTIONS: dict[Fault, str] = {
    Fault.BUSY_MISSING_EXPIRES: "GET /server_busy omits `expires`",
    Fault.BUSY_EXPIRES_AS_STRING: "GET /server_busy returns `expires` as a string",
    Fault.BUSY_NEVER_EXPIRES: "the busy state never expires on its own",
    Fault.BUSY_ACCEPTS_ZERO_SECONDS: "POST /server_busy?seconds=0 is accepted",
    Fault.TIMEZONES_AS_TEXT: "GET /system/timezones is served as text/plain",
    Fault.TIMEZONES_IGNORE_AUTH: "GET /system/timezones answers 200 without a session",
    Fault.AUDITS_500_ON_BAD_PAGING: "GET /audits answers 500 on non-integer paging values",
    Fault.PING_IGNORES_REST_SEMANTICS: "an unhealthy ping is 500 even with use_rest_semantics=true",
    Fault.CONFIG_LEAKS_SECRETS: "GET /config does not mask secrets",
    Fault.CONFIG_PUT_DROPS_SECRETS: "a masked secret sent back overwrites the stored secret",
    Fault.PERMISSIONS_IGNORED_FOR_LOGS: "any logged-in user may GET /logs",
    Fault.READ_ONLY_ADMIN_CAN_WRITE_CONFIG: "system_read_only_admin may write the config",
    Fault.ERROR_BODY_PLAIN_TEXT: "errors are plain text, not AppError JSON",
    Fault.LOGS_PAGING_IGNORED: "GET /logs ignores page and logs_per_page",
    Fault.LICENSE_UPLOAD_ACCEPTS_INVALID: "POST /license accepts an invalid license",
    Fault.MISSING_REQUEST_ID_HEADER: "responses lack X-Request-Id",
    Fault.RESTRICT_SYSTEM_ADMIN_IGNORED: "RestrictSystemAdmin blocks nothing",
    Fault.CLIENT_CONFIG_FULL_WITHOUT_SESSION: "anonymous callers get the full client config",
    Fault.PUT_CONFIG_KEEPS_MISSING: "PUT /config keeps missing fields instead of resetting them",
    Fault.JSON_CONTENT_TYPE_WITH_CHARSET: (
        "JSON answers are labelled `application/json; charset=utf-8`, a type the official clients "
        "do not decode"
    ),
    Fault.CONFIG_UNFILTERED_FOR_READERS: (
        "GET /config shows every setting to any sysconsole reader, unfiltered by permission"
    ),
    Fault.BUSY_SECONDS_IGNORED: "POST /server_busy ignores `seconds` and is always busy for 3600 s",
    Fault.BUSY_EXPIRES_IN_MILLISECONDS: "GET /server_busy reports `expires` in milliseconds",
    Fault.BUSY_CLEAR_IGNORED: "DELETE /server_busy answers OK but the server stays busy",
    Fault.PATCH_CONFIG_ACTS_AS_PUT: "PUT /config/patch resets the settings the patch leaves out",
    Fault.AUDITS_PER_PAGE_CAP_IGNORED: "GET /audits gives more than 200 audits when asked to",
    Fault.PING_ROOT_STATUS_LEAKED: "ping shows `root_status` to callers without manage_system",
    Fault.TIMEZONES_INVALID_ZONE: "GET /system/timezones lists a name that is no IANA zone",
    Fault.APP_ERROR_STATUS_CODE_MISMATCH: "AppError `status_code` differs from the HTTP status",
    Fault.POSTED_LOG_NEVER_APPEARS: "POST /logs answers 200 but its line never reaches GET /logs",
    Fault.CLIENT_LICENSE_UNTRIMMED: (
        "GET /license/client gives the full map to callers without read_license_information"
    ),
    Fault.PING_MISSING_STATUS: "the ping body lacks `status`",
    Fault.PING_SERVER_STATUS_IGNORED: (
        "ping ignores `get_server_status=true` (no `database_status` or `filestore_status`)"
    ),
    Fault.PING_DEVICE_ID_IGNORED: "ping ignores `device_id` (no `CanReceiveNotifications`)",
    Fault.INTEGRITY_OVER_TCP: (
        "POST /integrity is answered over TCP, to any caller, instead of only on the local socket"
    ),
    Fault.CACHES_INVALIDATED_WITHOUT_STATUS: (
        'POST /caches/invalidate answers 200 with an empty body instead of `{"status": "OK"}`'
    ),
    Fault.DATABASE_RECYCLE_WITHOUT_SESSION: (
        "POST /database/recycle answers 200 to a request without credentials"
    ),
    Fault.RESTART_ALLOWED_FOR_READ_ONLY_ADMIN: (
        "system_read_only_admin may restart the server (POST /restart)"
    ),
    Fault.SUPPORT_PACKET_NOT_A_ZIP: (
        "the support packet is sent before its zip is finished (no central directory)"
    ),
    Fault.UPGRADE_ALLOWED_ON_ENTERPRISE: (
        "GET /upgrade_to_enterprise/allowed answers OK on an Enterprise build"
    ),
    Fault.UPGRADE_STARTS_ON_ENTERPRISE: (
        "POST /upgrade_to_enterprise starts an upgrade (202) on an Enterprise build"
    ),
    Fault.UPGRADE_STATUS_UNGUARDED: (
        "any logged-in user may read GET /upgrade_to_enterprise/status"
    ),
    Fault.LICENSE_REMOVAL_KEEPS_LICENSE: "DELETE /license answers OK but keeps the license",
    Fault.LOAD_METRIC_AS_STRING: "GET /license/load_metric returns `load` as a string",
    Fault.TRIAL_LICENSE_GRANTED_TWICE: (
        "POST /trial-license grants a second trial instead of refusing it"
    ),
    Fault.PREV_TRIAL_LICENSE_NULL: (
        "GET /trial-license/prev answers `null` instead of the unlicensed map when there was no "
        "trial"
    ),
    Fault.RENEWAL_LINK_WITHOUT_PERMISSION: (
        "GET /license/renewal gives a renewal link to callers without manage_license_information"
    ),
    Fault.CONFIG_RELOAD_RESTORES_STARTUP: (
        "POST /config/reload brings back the config the server started with, not the saved one"
    ),
    Fault.ENVIRONMENT_CONFIG_LISTS_EVERYTHING: (
        "GET /config/environment lists every readable setting, not only those set by the "
        "environment"
    ),
    Fault.CLIENT_CONFIG_FORMAT_REQUIRED: (
        "GET /config/client still demands `format=old` (501 without it) on servers that ignore it"
    ),
    Fault.CONFIG_PUT_MALFORMED_JSON_500: "PUT /config answers 500 instead of 400 to malformed JSON",
    Fault.AUDITS_OLDEST_FIRST: "GET /audits lists the oldest audits first",
    Fault.LOGS_OLDEST_FIRST: "GET /logs pages count from the oldest line, not the newest",
    Fault.ANALYTICS_UNKNOWN_NAME_ACCEPTED: (
        "GET /analytics/old answers an unknown `name` with the standard rows instead of 400"
    ),
    Fault.NOTICES_MALFORMED_TEAM_ID_ACCEPTED: (
        "GET /system/notices/{teamId} answers 200 for a team id that is not 26 characters long"
    ),
    Fault.NOTICE_VIEWED_SHOWN_AGAIN: (
        "PUT /system/notices/view answers OK but the notice is shown again"
    ),
    Fault.REDIRECT_WITHOUT_URL_ACCEPTED: (
        "GET /redirect_location without `url` answers 200 while link previews are on"
    ),
    Fault.IMAGE_OPAQUE_URL_ACCEPTED: (
        "GET /image answers an opaque URL (`mailto:`) with 200 and an empty image instead of "
        "refusing it"
    ),
    Fault.EMAIL_TEST_USES_POSTED_SETTINGS: (
        "POST /email/test sends through the posted settings instead of the stored ones"
    ),
    Fault.S3_TEST_ALWAYS_OK: ("POST /file/s3_test answers OK without reaching the file store"),
    Fault.SITE_URL_TEST_ACCEPTS_EMPTY: "POST /site_url/test answers OK to an empty `site_url`",
    Fault.PUSH_ACK_EMPTY_BODY_ACCEPTED: (
        "POST /notifications/ack answers OK to an empty body instead of 400"
    ),
    Fault.TEST_NOTIFICATION_REFUSED_TO_USERS: (
        "POST /notifications/test is refused (403) to users without manage_system"
    ),
    Fault.VERSION_ID_LICENSE_FLAG_WRONG: (
        "`X-Version-Id` says the opposite of whether the server is licensed"
    ),
    Fault.REQUEST_ID_BODY_MISMATCH: (
        "an AppError's `request_id` is not the answer's `X-Request-Id`"
    ),
    Fault.AUDITS_PER_PAGE_CAPPED_AT_100: "GET /audits gives at most 100 audits a page, not 200",
    Fault.AUDITS_LATER_PAGES_EMPTY: "GET /audits answers every page after the first with nothing",
    Fault.LOGS_CLAIM_FILE_LOGGING_OFF: (
        'GET /logs answers `[""]`, as with file logging off, while LogSettings.EnableFile is on'
    ),
    Fault.LOGS_PAGE_ORDER_UNSTABLE: "GET /logs gives a page's lines in another order at each read",
    Fault.PING_HEALTH_THRESHOLD_IGNORED: (
        "ping says OK whatever ServiceSettings.GoroutineHealthThreshold says"
    ),
    Fault.CONFIG_EMPTY_SECRETS_MASKED: (
        "GET /config masks an empty secret as if it held one, instead of showing it empty"
    ),
}

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

#: fault -> (area, operations whose answers it changes; () for every operation)
_METADATA: dict[Fault, tuple[str, tuple[str, ...]]] = {
    Fault.BUSY_MISSING_EXPIRES: ("busy", _BUSY_READ),
    Fault.BUSY_EXPIRES_AS_STRING: ("busy", _BUSY_READ),
    Fault.BUSY_NEVER_EXPIRES: ("busy", _BUSY_READ),
    Fault.BUSY_ACCEPTS_ZERO_SECONDS: ("busy", ("SetServerBusy",)),
    Fault.TIMEZONES_AS_TEXT: ("timezones", ("GetSupportedTimezone",)),
    Fault.TIMEZONES_IGNORE_AUTH: ("auth", ("GetSupportedTimezone",)),
    Fault.AUDITS_500_ON_BAD_PAGING: ("paging", ("GetAudits",)),
    Fault.PING_IGNORES_REST_SEMANTICS: ("ping", ("GetPing",)),
    Fault.CONFIG_LEAKS_SECRETS: ("visibility", _CONFIG_ANSWERS),
    Fault.CONFIG_PUT_DROPS_SECRETS: ("config", ("UpdateConfig", "PatchConfig")),
    Fault.PERMISSIONS_IGNORED_FOR_LOGS: ("permissions", ("GetLogs",)),
    Fault.READ_ONLY_ADMIN_CAN_WRITE_CONFIG: ("permissions", ("UpdateConfig", "PatchConfig")),
    Fault.ERROR_BODY_PLAIN_TEXT: ("errors", ()),
    Fault.LOGS_PAGING_IGNORED: ("paging", ("GetLogs",)),
    Fault.LICENSE_UPLOAD_ACCEPTS_INVALID: ("license", ("UploadLicenseFile",)),
    Fault.MISSING_REQUEST_ID_HEADER: ("headers", ()),
    Fault.RESTRICT_SYSTEM_ADMIN_IGNORED: ("permissions", _RESTRICTED),
    Fault.CLIENT_CONFIG_FULL_WITHOUT_SESSION: ("visibility", ("GetClientConfig",)),
    Fault.PUT_CONFIG_KEEPS_MISSING: ("config", ("UpdateConfig",)),
    Fault.JSON_CONTENT_TYPE_WITH_CHARSET: ("clients", ()),
    Fault.CONFIG_UNFILTERED_FOR_READERS: ("visibility", _CONFIG_ANSWERS),
    Fault.CLIENT_LICENSE_UNTRIMMED: ("visibility", ("GetClientLicense",)),
    Fault.BUSY_SECONDS_IGNORED: ("busy", ("SetServerBusy", *_BUSY_READ)),
    Fault.BUSY_EXPIRES_IN_MILLISECONDS: ("busy", _BUSY_READ),
    Fault.BUSY_CLEAR_IGNORED: ("busy", ("ClearServerBusy", *_BUSY_READ)),
    Fault.PATCH_CONFIG_ACTS_AS_PUT: ("config", ("PatchConfig",)),
    Fault.AUDITS_PER_PAGE_CAP_IGNORED: ("paging", ("GetAudits",)),
    Fault.PING_ROOT_STATUS_LEAKED: ("visibility", ("GetPing",)),
    Fault.TIMEZONES_INVALID_ZONE: ("timezones", ("GetSupportedTimezone",)),
    Fault.APP_ERROR_STATUS_CODE_MISMATCH: ("errors", ()),
    Fault.POSTED_LOG_NEVER_APPEARS: ("logs", ("PostLog", "GetLogs")),
    Fault.PING_MISSING_STATUS: ("schema", ("GetPing",)),
    Fault.PING_SERVER_STATUS_IGNORED: ("ping", ("GetPing",)),
    Fault.PING_DEVICE_ID_IGNORED: ("ping", ("GetPing",)),
    Fault.INTEGRITY_OVER_TCP: ("integrity", ("CheckIntegrity",)),
    Fault.CACHES_INVALIDATED_WITHOUT_STATUS: ("schema", ("InvalidateCaches",)),
    Fault.DATABASE_RECYCLE_WITHOUT_SESSION: ("auth", ("DatabaseRecycle",)),
    Fault.RESTART_ALLOWED_FOR_READ_ONLY_ADMIN: ("permissions", ("RestartServer",)),
    Fault.SUPPORT_PACKET_NOT_A_ZIP: ("support-packet", ("GenerateSupportPacket",)),
    Fault.UPGRADE_ALLOWED_ON_ENTERPRISE: ("upgrade", ("IsAllowedToUpgradeToEnterprise",)),
    Fault.UPGRADE_STARTS_ON_ENTERPRISE: ("upgrade", ("UpgradeToEnterprise",)),
    Fault.UPGRADE_STATUS_UNGUARDED: ("permissions", ("UpgradeToEnterpriseStatus",)),
    Fault.LICENSE_REMOVAL_KEEPS_LICENSE: ("license", ("RemoveLicenseFile",)),
    Fault.LOAD_METRIC_AS_STRING: ("schema", ("GetLicenseLoadMetric",)),
    Fault.TRIAL_LICENSE_GRANTED_TWICE: ("license", ("RequestTrialLicense",)),
    Fault.PREV_TRIAL_LICENSE_NULL: ("license", ("GetPrevTrialLicense",)),
    Fault.RENEWAL_LINK_WITHOUT_PERMISSION: ("permissions", ("RequestLicenseRenewalLink",)),
    Fault.CONFIG_RELOAD_RESTORES_STARTUP: ("config", ("ReloadConfig",)),
    Fault.ENVIRONMENT_CONFIG_LISTS_EVERYTHING: ("config", ("GetEnvironmentConfig",)),
    Fault.CLIENT_CONFIG_FORMAT_REQUIRED: ("clients", ("GetClientConfig",)),
    Fault.CONFIG_PUT_MALFORMED_JSON_500: ("errors", ("UpdateConfig",)),
    Fault.AUDITS_OLDEST_FIRST: ("logs", ("GetAudits",)),
    Fault.LOGS_OLDEST_FIRST: ("logs", ("GetLogs",)),
    Fault.ANALYTICS_UNKNOWN_NAME_ACCEPTED: ("analytics", ("GetAnalyticsOld",)),
    Fault.NOTICES_MALFORMED_TEAM_ID_ACCEPTED: ("notices", ("GetNotices",)),
    Fault.NOTICE_VIEWED_SHOWN_AGAIN: ("notices", ("MarkNoticesViewed", "GetNotices")),
    Fault.REDIRECT_WITHOUT_URL_ACCEPTED: ("image", ("GetRedirectLocation",)),
    Fault.IMAGE_OPAQUE_URL_ACCEPTED: ("image", ("GetImageByUrl",)),
    Fault.EMAIL_TEST_USES_POSTED_SETTINGS: ("email", ("TestEmail",)),
    Fault.S3_TEST_ALWAYS_OK: ("config", ("TestS3Connection",)),
    Fault.SITE_URL_TEST_ACCEPTS_EMPTY: ("config", ("TestSiteURL",)),
    Fault.PUSH_ACK_EMPTY_BODY_ACCEPTED: ("notifications", ("AcknowledgeNotification",)),
    Fault.TEST_NOTIFICATION_REFUSED_TO_USERS: ("notifications", ("TestNotification",)),
    Fault.VERSION_ID_LICENSE_FLAG_WRONG: ("headers", ()),
    Fault.REQUEST_ID_BODY_MISMATCH: ("errors", ()),
    Fault.AUDITS_PER_PAGE_CAPPED_AT_100: ("paging", ("GetAudits",)),
    Fault.AUDITS_LATER_PAGES_EMPTY: ("paging", ("GetAudits",)),
    Fault.LOGS_CLAIM_FILE_LOGGING_OFF: ("logs", ("GetLogs",)),
    Fault.LOGS_PAGE_ORDER_UNSTABLE: ("paging", ("GetLogs",)),
    Fault.PING_HEALTH_THRESHOLD_IGNORED: ("ping", ("GetPing",)),
    Fault.CONFIG_EMPTY_SECRETS_MASKED: ("config", ("GetConfig",)),
}
#: faults whose operations the stub's default version does not have
_SERVER_VERSIONS: dict[Fault, str] = {
    # GET /license/renewal is gone from 9.2 (spec/openapi.yaml x-mm-removed-in)
    Fault.RENEWAL_LINK_WITHOUT_PERMISSION: "9.1.0",
}
_AREAS: dict[Fault, str] = {fault: area for fault, (area, _) in _METADATA.items()}
_OPERATIONS: dict[Fault, tuple[str, ...]] = {fault: ops for fault, (_, ops) in _METADATA.items()}

__all__ = ["AREAS", "Fault"]
