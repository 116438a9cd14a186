"""The catalogue of deliberate defects the stub can be started with.

Each member breaks exactly one promise of the contract, so that the project's own tests can prove
that a suite notices the defect. Start a faulty stub with
``StubOptions(faults=frozenset({Fault.BUSY_MISSING_EXPIRES}))`` or ``--fault BUSY_MISSING_EXPIRES``.
Each fault is described once, in ``_DESCRIPTIONS``; the stub README's table repeats that text (a
test keeps the two equal).
"""

from __future__ import annotations

import enum


class Fault(enum.Enum):
    """A deliberate defect; ``description`` names the single promise it breaks."""

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
}

__all__ = ["Fault"]
