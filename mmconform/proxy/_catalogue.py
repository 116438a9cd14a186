"""The catalogue of mutations: every named fault and benign variant, each with its effect.

Nothing is built when this module is imported: the catalogue is made, and checked, the first
time it is read (one operation list comes from the contract).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Final

from mmconform._wire import ANONYMOUS, MUTANT_AREAS, ROLES
from mmconform.contract import load_contract
from mmconform.proxy._cells import cell_effect, cell_mutation
from mmconform.proxy._effects import (
    EXTRA_FIELD,
    LATENCY_SECONDS,
    NOT_A_ZONE,
    UNCHANGED,
    AppErrorEffect,
    ClientLicenseUntrimmed,
    ErrorsAsOk,
    ExtraHeaders,
    ImageBadUrlAccepted,
    IntegrityOverTcp,
    JsonBody,
    JsonCharset,
    JsonEffect,
    MediaType,
    NoticeViewsIgnored,
    PostedLogLowered,
    RemoveHeader,
    SendAsAdmin,
    Truncated,
    UpgradeAllowedOnEnterprise,
    VersionHeaderWrong,
    Wire,
    add_field,
    bad_request_as_500,
    drop,
    expires_in_ms,
    id_emptied,
    made_up_log_line,
    map_field,
    next_audit,
    pad_page,
    plain_text,
    request_id_mismatch,
    reverse_keys,
    root_status_leaked,
    rows_reversed,
    secret_unmasked,
    status_code_mismatch,
    timezone_appended,
)
from mmconform.proxy._exchange import Exchange
from mmconform.proxy._mutation import Effect, Mutation

__all__ = ["AREAS", "MUTATIONS", "check_catalogue", "effect_of", "parse_mutation"]

#: every area a mutation may belong to: the fault areas, and benign
AREAS: Final = MUTANT_AREAS
_NAME_FAULT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_NAME_BENIGN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


_SESSION_READ_ONLY_EXCLUDED: Final = (
    # A key set that is itself the promise: adding a key would say something false.
    "GetClientLicense",  # the trimmed client license is exactly the keys a caller may see
    "GetPrevTrialLicense",  # the same license map
    "GetClientConfig",  # the limited client config of a caller without a session
    "GetConfig",  # a config the caller may only partly see (sections and settings)
    "UpdateConfig",
    "PatchConfig",
    "GetEnvironmentConfig",  # each key claims an environment override
)


def _operations(*excluded: str) -> tuple[str, ...]:
    return tuple(
        op.operation_id for op in load_contract().operations if op.operation_id not in excluded
    )


def _session_anonymous(ex: Exchange) -> bool:
    return ex.caller == ANONYMOUS and ex.operation is not None and ex.operation.auth == "session"


def _any_role(ex: Exchange) -> bool:
    return ex.caller in ROLES


@functools.cache
def _entries() -> tuple[tuple[Mutation, Effect], ...]:
    """Every named mutation with its effect, made once, when first needed."""
    entries = (
        # schema ------------------------------------------------------------------------------
        (
            Mutation(
                "PING_STATUS_DROPPED",
                "fault",
                "schema",
                ("GetPing",),
                "GET /system/ping leaves out the required `status`",
            ),
            JsonEffect(drop("status")),
        ),
        (
            Mutation(
                "BUSY_FLAG_DROPPED",
                "fault",
                "schema",
                ("GetServerBusyExpires",),
                "GET /server_busy leaves out the required `busy`",
            ),
            JsonEffect(drop("busy")),
        ),
        (
            Mutation(
                "ANALYTICS_ROW_NAME_DROPPED",
                "fault",
                "schema",
                ("GetAnalyticsOld",),
                "GET /analytics/old rows leave out the required `name`",
            ),
            JsonEffect(drop("name")),
        ),
        (
            Mutation(
                "AUDIT_CREATE_AT_DROPPED",
                "fault",
                "schema",
                ("GetAudits",),
                "GET /audits records leave out the required `create_at`",
            ),
            JsonEffect(drop("create_at")),
        ),
        (
            Mutation(
                "UPGRADE_PERCENTAGE_DROPPED",
                "fault",
                "schema",
                ("UpgradeToEnterpriseStatus",),
                "GET /upgrade_to_enterprise/status leaves out the required `percentage`",
            ),
            JsonEffect(drop("percentage")),
        ),
        (
            Mutation(
                "LOAD_METRIC_DROPPED",
                "fault",
                "schema",
                ("GetLicenseLoadMetric",),
                "GET /license/load_metric leaves out the required `load`",
            ),
            JsonEffect(drop("load")),
        ),
        (
            Mutation(
                "BUSY_EXPIRES_AS_STRING",
                "fault",
                "schema",
                ("GetServerBusyExpires",),
                "GET /server_busy gives `expires` as a string of digits, not a number",
            ),
            JsonEffect(map_field("expires", str)),
        ),
        (
            Mutation(
                "ANALYTICS_VALUE_AS_STRING",
                "fault",
                "schema",
                ("GetAnalyticsOld",),
                "GET /analytics/old gives each row's `value` as a string, not a number",
            ),
            JsonEffect(map_field("value", str)),
        ),
        (
            Mutation(
                "TIMEZONES_AS_OBJECT",
                "fault",
                "schema",
                ("GetSupportedTimezone",),
                "GET /system/timezones gives an object (index to zone), not a list",
            ),
            JsonEffect(
                lambda ex, data: (
                    {str(i): z for i, z in enumerate(data)} if isinstance(data, list) else UNCHANGED
                )
            ),
        ),
        (
            Mutation(
                "TIMEZONES_AS_HTML",
                "fault",
                "schema",
                ("GetSupportedTimezone",),
                "GET /system/timezones labels its JSON `text/html`",
            ),
            MediaType("text/html; charset=utf-8"),
        ),
        (
            Mutation(
                "NOTICES_EMPTY_BODY",
                "fault",
                "schema",
                ("GetNotices",),
                "GET /system/notices/{teamId} answers 200 with an empty body",
            ),
            JsonBody(b""),
        ),
        # auth --------------------------------------------------------------------------------
        (
            Mutation(
                "AUTH_IGNORED",
                "fault",
                "auth",
                (),
                "requests without credentials to any session operation are sent on with the "
                "system_admin token",
            ),
            SendAsAdmin(_session_anonymous),
        ),
        (
            Mutation(
                "AUTH_IGNORED_FOR_LOGS",
                "fault",
                "auth",
                ("GetLogs", "GetAudits"),
                "GET /logs and GET /audits without credentials are sent on with the system_admin "
                "token",
            ),
            SendAsAdmin(_session_anonymous),
        ),
        # permissions -------------------------------------------------------------------------
        (
            Mutation(
                "LOGS_FOR_EVERY_USER",
                "fault",
                "permissions",
                ("GetLogs",),
                "GET /logs from any role is sent on with the system_admin token",
            ),
            SendAsAdmin(_any_role),
        ),
        # errors ------------------------------------------------------------------------------
        (
            Mutation(
                "ERRORS_PLAIN_TEXT",
                "fault",
                "errors",
                (),
                "AppError answers become their message as `text/plain`",
            ),
            AppErrorEffect(plain_text),
        ),
        (
            Mutation(
                "BAD_REQUEST_AS_500",
                "fault",
                "errors",
                (),
                "400 answers become 500 (the AppError's `status_code` follows)",
            ),
            AppErrorEffect(bad_request_as_500),
        ),
        (
            Mutation(
                "ERROR_STATUS_CODE_MISMATCH",
                "fault",
                "errors",
                (),
                "AppError `status_code` differs from the HTTP status",
            ),
            AppErrorEffect(status_code_mismatch),
        ),
        (
            Mutation(
                "ERROR_ID_EMPTIED",
                "fault",
                "errors",
                (),
                "AppError `id` is empty",
            ),
            AppErrorEffect(id_emptied),
        ),
        (
            Mutation(
                "ERROR_REQUEST_ID_MISMATCH",
                "fault",
                "errors",
                (),
                "AppError `request_id` differs from the `X-Request-Id` header",
            ),
            AppErrorEffect(request_id_mismatch),
        ),
        # headers -----------------------------------------------------------------------------
        (
            Mutation(
                "VERSION_HEADER_WRONG",
                "fault",
                "headers",
                (),
                "`X-Version-Id` claims the next major version (11.1.0 becomes 12.1.0)",
            ),
            VersionHeaderWrong(),
        ),
        (
            Mutation(
                "REQUEST_ID_HEADER_REMOVED",
                "fault",
                "headers",
                (),
                "answers lack `X-Request-Id`",
            ),
            RemoveHeader("X-Request-Id"),
        ),
        # ping, busy, config ------------------------------------------------------------------
        (
            Mutation(
                "PING_ROOT_STATUS_LEAKED",
                "fault",
                "ping",
                ("GetPing",),
                "ping shows `root_status` to every caller",
            ),
            JsonEffect(root_status_leaked),
        ),
        (
            Mutation(
                "BUSY_EXPIRES_IN_MILLISECONDS",
                "fault",
                "busy",
                ("GetServerBusyExpires",),
                "GET /server_busy gives `expires` in milliseconds, not seconds",
            ),
            JsonEffect(expires_in_ms),
        ),
        (
            Mutation(
                "CONFIG_SECRET_UNMASKED",
                "fault",
                "config",
                ("GetConfig",),
                "GET /config shows a made-up value where a secret's mask belongs",
            ),
            JsonEffect(secret_unmasked),
        ),
        # paging ------------------------------------------------------------------------------
        (
            Mutation(
                "LOGS_PER_PAGE_EXCEEDED",
                "fault",
                "paging",
                ("GetLogs",),
                "GET /logs appends made-up lines beyond `logs_per_page` (default 10000)",
            ),
            JsonEffect(
                pad_page("logs_per_page", 10000, 10000, lambda items, i: made_up_log_line(i))
            ),
        ),
        (
            Mutation(
                "AUDITS_PER_PAGE_EXCEEDED",
                "fault",
                "paging",
                ("GetAudits",),
                "GET /audits appends made-up audits beyond `per_page` (default 60, at most 200)",
            ),
            JsonEffect(pad_page("per_page", 60, 200, next_audit)),
        ),
        # timezones, license, notices, analytics ----------------------------------------------
        (
            Mutation(
                "TIMEZONE_NOT_IANA",
                "fault",
                "timezones",
                ("GetSupportedTimezone",),
                f"GET /system/timezones lists `{NOT_A_ZONE}`, which is no IANA zone",
            ),
            JsonEffect(timezone_appended),
        ),
        (
            Mutation(
                "CLIENT_LICENSE_UNTRIMMED",
                "fault",
                "license",
                ("GetClientLicense",),
                "GET /license/client gives every caller the system admin's (untrimmed) map",
            ),
            ClientLicenseUntrimmed(),
        ),
        (
            Mutation(
                "NOTICE_VIEWS_IGNORED",
                "fault",
                "notices",
                ("MarkNoticesViewed",),
                "PUT /system/notices/view answers OK but marks nothing viewed",
            ),
            NoticeViewsIgnored(),
        ),
        (
            Mutation(
                "ANALYTICS_ROWS_OUT_OF_ORDER",
                "fault",
                "analytics",
                ("GetAnalyticsOld",),
                "GET /analytics/old gives its rows in reverse order",
            ),
            JsonEffect(rows_reversed),
        ),
        # integrity, image, upgrade, support packet, email, notifications, clients, logs -------
        (
            Mutation(
                "INTEGRITY_SERVED_OVER_TCP",
                "fault",
                "integrity",
                ("CheckIntegrity",),
                "POST /integrity over TCP answers 200 `[]` (it exists only on the local socket)",
            ),
            IntegrityOverTcp(),
        ),
        (
            Mutation(
                "IMAGE_BAD_URL_ACCEPTED",
                "fault",
                "image",
                ("GetImageByUrl",),
                "GET /image answers a URL it cannot use with 200 and a PNG, not 400",
            ),
            ImageBadUrlAccepted(),
        ),
        (
            Mutation(
                "UPGRADE_ALLOWED_ON_ENTERPRISE",
                "fault",
                "upgrade",
                ("IsAllowedToUpgradeToEnterprise",),
                "GET /upgrade_to_enterprise/allowed says OK where the server refuses the upgrade",
            ),
            UpgradeAllowedOnEnterprise(),
        ),
        (
            Mutation(
                "SUPPORT_PACKET_TRUNCATED",
                "fault",
                "support-packet",
                ("GenerateSupportPacket",),
                "GET /system/support_packet sends the first half of the zip",
            ),
            Truncated(),
        ),
        (
            Mutation(
                "EMAIL_TEST_ALWAYS_OK",
                "fault",
                "email",
                ("TestEmail",),
                "POST /email/test answers OK where it should answer 400 or 500",
            ),
            ErrorsAsOk((400, 500)),
        ),
        (
            Mutation(
                "PUSH_ACK_ERRORS_HIDDEN",
                "fault",
                "notifications",
                ("AcknowledgeNotification",),
                "POST /notifications/ack answers OK to an acknowledgement it refuses with 400",
            ),
            ErrorsAsOk((400,)),
        ),
        (
            Mutation(
                "JSON_CONTENT_TYPE_WITH_CHARSET",
                "fault",
                "clients",
                (),
                "JSON answers are labelled `application/json; charset=utf-8`, which the official "
                "clients do not decode",
            ),
            JsonCharset(),
        ),
        (
            Mutation(
                "POSTED_LOG_NEVER_APPEARS",
                "fault",
                "logs",
                ("PostLog",),
                "POST /logs is sent on at DEBUG level, so the line never reaches GET /logs",
            ),
            PostedLogLowered(),
        ),
        # benign ------------------------------------------------------------------------------
        (
            Mutation(
                "reorder-keys",
                "benign",
                "benign",
                (),
                "the keys of every JSON object in reverse order",
            ),
            JsonEffect(lambda ex, data: reverse_keys(data), statuses=None),
        ),
        (
            Mutation(
                "extra-fields",
                "benign",
                "benign",
                _operations(*_SESSION_READ_ONLY_EXCLUDED),
                f"an unknown field `{EXTRA_FIELD}` in every JSON object, except where the key set "
                "is the promise (client license, configs)",
            ),
            JsonEffect(lambda ex, data: add_field(data), statuses=None),
        ),
        (
            Mutation(
                "extra-headers",
                "benign",
                "benign",
                (),
                "unknown response headers (`X-Mmconform-Proxy`, `X-Cluster-Id`)",
            ),
            ExtraHeaders(),
        ),
        (
            Mutation(
                "header-case",
                "benign",
                "benign",
                (),
                "response header names in upper case on the wire (`X-REQUEST-ID`)",
            ),
            Wire("header-case"),
        ),
        (
            Mutation(
                "chunked",
                "benign",
                "benign",
                (),
                "no `Content-Length`: bodies sent with chunked transfer encoding",
            ),
            Wire("chunked"),
        ),
        (
            Mutation(
                "gzip",
                "benign",
                "benign",
                (),
                "bodies gzip-compressed when the client accepts gzip",
            ),
            Wire("gzip"),
        ),
        (
            Mutation(
                "latency",
                "benign",
                "benign",
                (),
                f"{int(LATENCY_SECONDS * 1000)} ms before each answer",
                holds_answers=True,
            ),
            Wire("latency"),
        ),
    )
    _check(entries)
    return entries


def _check(entries: tuple[tuple[Mutation, Effect], ...]) -> None:
    names = [mutation.name for mutation, _ in entries]
    if len(names) != len(set(names)):
        raise RuntimeError("two mutations share a name")
    known = {op.operation_id for op in load_contract().operations}
    for mutation, _ in entries:
        pattern = _NAME_FAULT if mutation.kind == "fault" else _NAME_BENIGN
        if not pattern.match(mutation.name):
            raise RuntimeError(f"mutation name {mutation.name!r} breaks the naming rule")
        if mutation.area not in AREAS or (mutation.kind == "benign") != (mutation.area == "benign"):
            raise RuntimeError(f"mutation {mutation.name}: bad area {mutation.area!r}")
        unknown = set(mutation.operations) - known
        if unknown:
            raise RuntimeError(f"mutation {mutation.name}: unknown operations {sorted(unknown)}")


def check_catalogue() -> None:
    """Build the catalogue now, checking every name, area and operation (``RuntimeError``)."""
    _entries()


class _Catalogue(Mapping[str, Mutation]):
    """name -> Mutation, in catalogue order; built when first read."""

    def _mutations(self) -> dict[str, Mutation]:
        return {mutation.name: mutation for mutation, _ in _entries()}

    def __getitem__(self, name: str) -> Mutation:
        return self._mutations()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mutations())

    def __len__(self) -> int:
        return len(_entries())

    def __repr__(self) -> str:
        return f"<mutation catalogue of {len(self)}>"


#: Every named mutation (cell faults are made on demand by ``parse_mutation``).
MUTATIONS: Mapping[str, Mutation] = _Catalogue()


def parse_mutation(text: str) -> Mutation:
    """A catalogue name, or a cell fault ``grant:Op:caller`` / ``deny:Op:caller``."""
    name = text.strip()
    if name in MUTATIONS:
        return MUTATIONS[name]
    if name.startswith(("grant:", "deny:")):
        return cell_mutation(name)
    raise ValueError(
        f"unknown mutation {text!r}; known: {', '.join(MUTATIONS)}; or a cell fault "
        "grant:OPERATION:CALLER / deny:OPERATION:CALLER"
    )


def effect_of(mutation: Mutation) -> Effect:
    effects: dict[str, tuple[Mutation, Effect]] = {m.name: (m, e) for m, e in _entries()}
    if mutation.name in effects and effects[mutation.name][0] == mutation:
        return effects[mutation.name][1]
    if mutation.name.startswith(("grant:", "deny:")):
        return cell_effect(mutation)
    raise ValueError(f"no behaviour for mutation {mutation.name!r}")
