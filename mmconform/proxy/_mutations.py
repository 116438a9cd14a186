"""The catalogue of mutations: what each one promises to change, and the code that changes it.

A mutation is a **fault** (it breaks one promise of the contract: a correct suite must fail) or a
**benign** variant (it changes nothing the contract promises: a correct suite must still pass).
``Mutation`` is the public description; ``Effect`` is the behaviour, kept apart so that the
description stays a plain frozen value. Cell faults (``grant:Op:caller``, ``deny:Op:caller``)
are built on demand by ``parse_mutation``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from mmconform._wire import (
    ANONYMOUS,
    CONFIG_MASK,
    MUTANT_AREAS,
    PERMISSION_ERROR_ID,
    ROLES,
    CellSpec,
)
from mmconform.contract import load_contract
from mmconform.proxy._exchange import NOT_JSON, Answer, Exchange, new_request_id

__all__ = [
    "AREAS",
    "MUTATIONS",
    "PERMISSION_ERROR_ID",
    "Effect",
    "Mutation",
    "effect_of",
    "parse_mutation",
]

#: every area a mutation may belong to: the fault areas, and benign
AREAS: Final = MUTANT_AREAS
#: what CONFIG_SECRET_UNMASKED shows instead of the mask
MADE_UP_SECRET: Final = "mmconform-proxy-made-up-secret"
#: the zone TIMEZONE_NOT_IANA appends
NOT_A_ZONE: Final = "Mars/Olympus_Mons"
#: the field extra-fields adds, and the header extra-headers adds
EXTRA_FIELD: Final = "mmconform_proxy_extra"
EXTRA_HEADERS: Final = (("X-Mmconform-Proxy", "benign"), ("X-Cluster-Id", "mmconform-proxy"))
LATENCY_SECONDS: Final = 0.05

_NAME_FAULT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_NAME_BENIGN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Mutation:
    """One named change the proxy can apply."""

    name: str
    kind: Literal["fault", "benign"]
    area: str
    #: operationIds whose answers change; () = every operation
    operations: tuple[str, ...]
    #: one line, Markdown
    description: str

    def applies_to(self, operation_id: str | None) -> bool:
        if not self.operations:
            return True
        return operation_id in self.operations


class Effect:
    """What a mutation does. ``before`` may change the request or answer it in the proxy's
    place (return an Answer: nothing is forwarded); ``after`` changes the upstream answer."""

    async def before(self, ex: Exchange) -> Answer | None:
        return None

    async def after(self, ex: Exchange, answer: Answer) -> None:
        return None


# --------------------------------------------------------------------------------------------
# Building blocks

_UNCHANGED: Any = object()


class _JsonEffect(Effect):
    """Rewrites the JSON body of answers with one of ``statuses`` (``None``: any status)."""

    def __init__(
        self,
        transform: Callable[[Exchange, Any], Any],
        statuses: tuple[int, ...] | None = (200,),
    ) -> None:
        self._transform = transform
        self._statuses = statuses

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if self._statuses is not None and answer.status not in self._statuses:
            return
        data = answer.json()
        if data is NOT_JSON:
            return
        changed = self._transform(ex, data)
        if changed is not _UNCHANGED:
            answer.set_json(changed)


def _rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    return []


def _drop(key: str) -> Callable[[Exchange, Any], Any]:
    def transform(ex: Exchange, data: Any) -> Any:
        rows = [row for row in _rows(data) if key in row]
        if not rows:
            return _UNCHANGED
        for row in rows:
            del row[key]
        return data

    return transform


def _map_field(key: str, change: Callable[[Any], Any]) -> Callable[[Exchange, Any], Any]:
    def transform(ex: Exchange, data: Any) -> Any:
        rows = [row for row in _rows(data) if key in row]
        if not rows:
            return _UNCHANGED
        for row in rows:
            row[key] = change(row[key])
        return data

    return transform


class _AppErrorEffect(Effect):
    """Rewrites AppError answers (any error status)."""

    def __init__(self, change: Callable[[Answer, dict[str, Any]], None]) -> None:
        self._change = change

    async def after(self, ex: Exchange, answer: Answer) -> None:
        error = answer.app_error()
        if error is not None:
            self._change(answer, error)


class _SendAsAdmin(Effect):
    """Sends the request with the system_admin token when ``who(ex)`` says so."""

    def __init__(self, who: Callable[[Exchange], bool]) -> None:
        self._who = who

    async def before(self, ex: Exchange) -> Answer | None:
        admin = ex.tokens.get("system_admin")
        if admin is not None and self._who(ex):
            ex.use_token(admin)
        return None


async def _ok(ex: Exchange) -> Answer:
    assert ex.synthetic is not None
    return await ex.synthetic(200, b'{"status":"OK"}', "application/json")


class _ErrorsAsOk(Effect):
    """Answers ``{"status":"OK"}`` instead of the AppError of ``statuses``."""

    def __init__(self, statuses: tuple[int, ...]) -> None:
        self._statuses = statuses

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status in self._statuses and answer.app_error() is not None:
            answer.status = 200
            answer.set_json({"status": "OK"})


# --------------------------------------------------------------------------------------------
# Effects with more to them


def _plain_text(answer: Answer, error: dict[str, Any]) -> None:
    answer.body = str(error.get("message") or error.get("id") or "error").encode("utf-8")
    answer.set_header("Content-Type", "text/plain; charset=utf-8")


def _bad_request_as_500(answer: Answer, error: dict[str, Any]) -> None:
    if answer.status == 400:
        answer.status = 500
        error["status_code"] = 500
        answer.set_json(error)


def _status_code_mismatch(answer: Answer, error: dict[str, Any]) -> None:
    error["status_code"] = 500 if answer.status != 500 else 400
    answer.set_json(error)


def _id_emptied(answer: Answer, error: dict[str, Any]) -> None:
    error["id"] = ""
    answer.set_json(error)


def _request_id_mismatch(answer: Answer, error: dict[str, Any]) -> None:
    if "request_id" not in error:
        return
    header = answer.header("x-request-id")
    replacement = new_request_id()
    while replacement in (header, error["request_id"]):  # pragma: no cover - 32^26 odds
        replacement = new_request_id()
    error["request_id"] = replacement
    answer.set_json(error)


class _VersionHeaderWrong(Effect):
    """``X-Version-Id`` claims the next major version (11.1.0.… becomes 12.1.0.…)."""

    async def after(self, ex: Exchange, answer: Answer) -> None:
        value = answer.header("x-version-id")
        if value is None:
            return
        match = re.match(r"^(\d+)(\.\d+\.\d+)", value)
        if match is None:
            return
        answer.set_header("X-Version-Id", f"{int(match.group(1)) + 1}{value[match.end(1) :]}")


class _RemoveHeader(Effect):
    def __init__(self, name: str) -> None:
        self._name = name

    async def after(self, ex: Exchange, answer: Answer) -> None:
        answer.remove_header(self._name)


def _root_status_leaked(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, dict) or "root_status" in data:
        return _UNCHANGED
    data["root_status"] = False
    return data


def _expires_in_ms(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("expires"), int):
        return _UNCHANGED
    data["expires"] = data["expires"] * 1000
    return data


def _unmask(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        return (MADE_UP_SECRET, True) if value == CONFIG_MASK else (value, False)
    if isinstance(value, dict):
        changed = False
        for key, item in value.items():
            value[key], hit = _unmask(item)
            changed = changed or hit
        return value, changed
    if isinstance(value, list):
        changed = False
        for index, item in enumerate(value):
            value[index], hit = _unmask(item)
            changed = changed or hit
        return value, changed
    return value, False


def _secret_unmasked(ex: Exchange, data: Any) -> Any:
    data, changed = _unmask(data)
    return data if changed else _UNCHANGED


def _page_size(ex: Exchange, param: str, default: int, cap: int) -> int | None:
    raw = ex.param(param)
    if raw is None or raw == "":
        return default
    try:
        asked = int(raw)
    except ValueError:
        return None
    if asked <= 0:
        return None
    return min(asked, cap)


def _made_up_log_line(index: int) -> str:
    return json.dumps(
        {
            "timestamp": "2026-01-01 00:00:00.000 Z",
            "level": "info",
            "msg": f"made up by the mmconform proxy ({index})",
            "caller": "proxy/extra.go",
        },
        separators=(",", ":"),
    )


def _made_up_audit(template: dict[str, Any] | None) -> dict[str, Any]:
    audit = copy.deepcopy(template) if template is not None else {}
    audit.update(
        {
            "id": new_request_id(),
            "create_at": int(audit.get("create_at") or 1_700_000_000_000) - 1,
            "user_id": audit.get("user_id") or new_request_id(),
            "action": audit.get("action") or "/api/v4/system/ping",
            "extra_info": audit.get("extra_info") or "made up by the mmconform proxy",
            "ip_address": audit.get("ip_address") or "127.0.0.1",
            "session_id": audit.get("session_id") or new_request_id(),
        }
    )
    return audit


def _pad_page(
    param: str, default: int, cap: int, make: Callable[[list[Any], int], Any]
) -> Callable[[Exchange, Any], Any]:
    """Appends made-up items until the page holds one more than the page size allows."""

    def transform(ex: Exchange, data: Any) -> Any:
        if data is not None and not isinstance(data, list):
            return _UNCHANGED
        limit = _page_size(ex, param, default, cap)
        if limit is None:
            return _UNCHANGED
        items = list(data or [])
        while len(items) <= limit:
            items.append(make(items, len(items)))
        return items

    return transform


def _next_audit(items: list[Any], index: int) -> Any:
    template = items[-1] if items and isinstance(items[-1], dict) else None
    return _made_up_audit(template)


def _timezone_appended(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, list):
        return _UNCHANGED
    return [*data, NOT_A_ZONE]


class _ClientLicenseUntrimmed(Effect):
    """Every caller gets what system_admin gets (the whole client license)."""

    async def after(self, ex: Exchange, answer: Answer) -> None:
        admin = ex.tokens.get("system_admin")
        if answer.status != 200 or admin is None or ex.token == admin or ex.refetch is None:
            return
        full = await ex.refetch(ex, admin)
        if full.status == 200 and full.json() is not NOT_JSON:
            answer.body = full.body


class _NoticeViewsIgnored(Effect):
    """The notice ids are replaced by an empty list before the request is forwarded."""

    async def before(self, ex: Exchange) -> Answer | None:
        try:
            ids = json.loads(ex.body)
        except ValueError:
            return None
        if isinstance(ids, list) and ids and all(isinstance(item, str) for item in ids):
            ex.body = b"[]"
        return None


def _rows_reversed(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, list) or len(data) < 2:
        return _UNCHANGED
    return list(reversed(data))


class _IntegrityOverTcp(Effect):
    async def before(self, ex: Exchange) -> Answer | None:
        assert ex.synthetic is not None
        return await ex.synthetic(200, b"[]", "application/json")


# The smallest valid PNG: one transparent pixel.
_PIXEL_PNG: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class _ImageBadUrlAccepted(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 400:
            answer.status = 200
            answer.body = _PIXEL_PNG
            answer.set_header("Content-Type", "image/png")


class _UpgradeAllowedOnEnterprise(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        error = answer.app_error()
        if answer.status == 403 and error is not None and error.get("id") != PERMISSION_ERROR_ID:
            answer.status = 200
            answer.set_json({"status": "OK"})


class _Truncated(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 200 and len(answer.body) > 1:
            answer.body = answer.body[: len(answer.body) // 2]


class _JsonCharset(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.media_type == "application/json":
            answer.set_header("Content-Type", "application/json; charset=utf-8")


class _PostedLogLowered(Effect):
    """The line is posted at DEBUG level (never kept at the default INFO file level); the
    answer shows the level the client sent."""

    async def before(self, ex: Exchange) -> Answer | None:
        try:
            data = json.loads(ex.body)
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("level"), str):
            ex.notes["level"] = data["level"]
            data["level"] = "DEBUG"
            ex.body = json.dumps(data).encode("utf-8")
        return None

    async def after(self, ex: Exchange, answer: Answer) -> None:
        sent = ex.notes.get("level")
        data = answer.json()
        if sent is not None and answer.status == 200 and isinstance(data, dict) and "level" in data:
            data["level"] = sent
            answer.set_json(data)


class _JsonBody(Effect):
    """Replaces a JSON 200 body (by bytes)."""

    def __init__(self, body: bytes, media_type: str | None = None) -> None:
        self._body = body
        self._media_type = media_type

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 200 and answer.is_json:
            answer.body = self._body
            if self._media_type is not None:
                answer.set_header("Content-Type", self._media_type)


class _MediaType(Effect):
    def __init__(self, media_type: str) -> None:
        self._media_type = media_type

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 200 and answer.is_json:
            answer.set_header("Content-Type", self._media_type)


# --------------------------------------------------------------------------------------------
# Benign effects


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(item) for item in value]
    return value


def _add_field(value: Any) -> Any:
    if isinstance(value, dict):
        out = {key: _add_field(item) for key, item in value.items()}
        out.setdefault(EXTRA_FIELD, "benign")
        return out
    if isinstance(value, list):
        return [_add_field(item) for item in value]
    return value


class _ExtraHeaders(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        answer.headers.extend(EXTRA_HEADERS)


def upper_case_header(name: str) -> str:
    """``x-request-id`` -> ``X-REQUEST-ID``: a spelling no server of the contract uses."""
    return name.upper()


class _Wire(Effect):
    def __init__(self, setting: str) -> None:
        self._setting = setting

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if self._setting == "chunked":
            answer.chunked = True
        elif self._setting == "gzip":
            if _accepts_gzip(ex.accept_encoding):
                answer.gzip = True
        elif self._setting == "header-case":
            answer.header_case = upper_case_header
        elif self._setting == "latency":
            answer.delay = max(answer.delay, LATENCY_SECONDS)


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().lower()
            if quality.startswith("q="):
                try:
                    return float(quality[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


# --------------------------------------------------------------------------------------------
# Cell faults


class _Grant(Effect):
    def __init__(self, caller: str) -> None:
        self._caller = caller

    async def before(self, ex: Exchange) -> Answer | None:
        admin = ex.tokens.get("system_admin")
        if ex.caller == self._caller and admin is not None:
            ex.use_token(admin)
        return None


class _Deny(Effect):
    def __init__(self, caller: str) -> None:
        self._caller = caller

    async def before(self, ex: Exchange) -> Answer | None:
        if ex.caller != self._caller:
            return None
        assert ex.synthetic is not None
        request_id = new_request_id()
        body = json.dumps(
            {
                "id": PERMISSION_ERROR_ID,
                "message": "You do not have the appropriate permissions.",
                "detailed_error": "",
                "request_id": request_id,
                "status_code": 403,
            },
            separators=(",", ":"),
        ).encode("utf-8")
        answer = await ex.synthetic(403, body, "application/json")
        answer.set_header("X-Request-Id", request_id)
        return answer


# --------------------------------------------------------------------------------------------
# The catalogue

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


_ENTRIES: tuple[tuple[Mutation, Effect], ...] = (
    # schema ------------------------------------------------------------------------------
    (
        Mutation(
            "PING_STATUS_DROPPED",
            "fault",
            "schema",
            ("GetPing",),
            "GET /system/ping leaves out the required `status`",
        ),
        _JsonEffect(_drop("status")),
    ),
    (
        Mutation(
            "BUSY_FLAG_DROPPED",
            "fault",
            "schema",
            ("GetServerBusyExpires",),
            "GET /server_busy leaves out the required `busy`",
        ),
        _JsonEffect(_drop("busy")),
    ),
    (
        Mutation(
            "ANALYTICS_ROW_NAME_DROPPED",
            "fault",
            "schema",
            ("GetAnalyticsOld",),
            "GET /analytics/old rows leave out the required `name`",
        ),
        _JsonEffect(_drop("name")),
    ),
    (
        Mutation(
            "AUDIT_CREATE_AT_DROPPED",
            "fault",
            "schema",
            ("GetAudits",),
            "GET /audits records leave out the required `create_at`",
        ),
        _JsonEffect(_drop("create_at")),
    ),
    (
        Mutation(
            "UPGRADE_PERCENTAGE_DROPPED",
            "fault",
            "schema",
            ("UpgradeToEnterpriseStatus",),
            "GET /upgrade_to_enterprise/status leaves out the required `percentage`",
        ),
        _JsonEffect(_drop("percentage")),
    ),
    (
        Mutation(
            "LOAD_METRIC_DROPPED",
            "fault",
            "schema",
            ("GetLicenseLoadMetric",),
            "GET /license/load_metric leaves out the required `load`",
        ),
        _JsonEffect(_drop("load")),
    ),
    (
        Mutation(
            "BUSY_EXPIRES_AS_STRING",
            "fault",
            "schema",
            ("GetServerBusyExpires",),
            "GET /server_busy gives `expires` as a string of digits, not a number",
        ),
        _JsonEffect(_map_field("expires", str)),
    ),
    (
        Mutation(
            "ANALYTICS_VALUE_AS_STRING",
            "fault",
            "schema",
            ("GetAnalyticsOld",),
            "GET /analytics/old gives each row's `value` as a string, not a number",
        ),
        _JsonEffect(_map_field("value", str)),
    ),
    (
        Mutation(
            "TIMEZONES_AS_OBJECT",
            "fault",
            "schema",
            ("GetSupportedTimezone",),
            "GET /system/timezones gives an object (index to zone), not a list",
        ),
        _JsonEffect(
            lambda ex, data: (
                {str(i): z for i, z in enumerate(data)} if isinstance(data, list) else _UNCHANGED
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
        _MediaType("text/html; charset=utf-8"),
    ),
    (
        Mutation(
            "NOTICES_EMPTY_BODY",
            "fault",
            "schema",
            ("GetNotices",),
            "GET /system/notices/{teamId} answers 200 with an empty body",
        ),
        _JsonBody(b""),
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
        _SendAsAdmin(_session_anonymous),
    ),
    (
        Mutation(
            "AUTH_IGNORED_FOR_LOGS",
            "fault",
            "auth",
            ("GetLogs", "GetAudits"),
            "GET /logs and GET /audits without credentials are sent on with the system_admin token",
        ),
        _SendAsAdmin(_session_anonymous),
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
        _SendAsAdmin(_any_role),
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
        _AppErrorEffect(_plain_text),
    ),
    (
        Mutation(
            "BAD_REQUEST_AS_500",
            "fault",
            "errors",
            (),
            "400 answers become 500 (the AppError's `status_code` follows)",
        ),
        _AppErrorEffect(_bad_request_as_500),
    ),
    (
        Mutation(
            "ERROR_STATUS_CODE_MISMATCH",
            "fault",
            "errors",
            (),
            "AppError `status_code` differs from the HTTP status",
        ),
        _AppErrorEffect(_status_code_mismatch),
    ),
    (
        Mutation(
            "ERROR_ID_EMPTIED",
            "fault",
            "errors",
            (),
            "AppError `id` is empty",
        ),
        _AppErrorEffect(_id_emptied),
    ),
    (
        Mutation(
            "ERROR_REQUEST_ID_MISMATCH",
            "fault",
            "errors",
            (),
            "AppError `request_id` differs from the `X-Request-Id` header",
        ),
        _AppErrorEffect(_request_id_mismatch),
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
        _VersionHeaderWrong(),
    ),
    (
        Mutation(
            "REQUEST_ID_HEADER_REMOVED",
            "fault",
            "headers",
            (),
            "answers lack `X-Request-Id`",
        ),
        _RemoveHeader("X-Request-Id"),
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
        _JsonEffect(_root_status_leaked),
    ),
    (
        Mutation(
            "BUSY_EXPIRES_IN_MILLISECONDS",
            "fault",
            "busy",
            ("GetServerBusyExpires",),
            "GET /server_busy gives `expires` in milliseconds, not seconds",
        ),
        _JsonEffect(_expires_in_ms),
    ),
    (
        Mutation(
            "CONFIG_SECRET_UNMASKED",
            "fault",
            "config",
            ("GetConfig",),
            "GET /config shows a made-up value where a secret's mask belongs",
        ),
        _JsonEffect(_secret_unmasked),
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
        _JsonEffect(
            _pad_page("logs_per_page", 10000, 10000, lambda items, i: _made_up_log_line(i))
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
        _JsonEffect(_pad_page("per_page", 60, 200, _next_audit)),
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
        _JsonEffect(_timezone_appended),
    ),
    (
        Mutation(
            "CLIENT_LICENSE_UNTRIMMED",
            "fault",
            "license",
            ("GetClientLicense",),
            "GET /license/client gives every caller the system admin's (untrimmed) map",
        ),
        _ClientLicenseUntrimmed(),
    ),
    (
        Mutation(
            "NOTICE_VIEWS_IGNORED",
            "fault",
            "notices",
            ("MarkNoticesViewed",),
            "PUT /system/notices/view answers OK but marks nothing viewed",
        ),
        _NoticeViewsIgnored(),
    ),
    (
        Mutation(
            "ANALYTICS_ROWS_OUT_OF_ORDER",
            "fault",
            "analytics",
            ("GetAnalyticsOld",),
            "GET /analytics/old gives its rows in reverse order",
        ),
        _JsonEffect(_rows_reversed),
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
        _IntegrityOverTcp(),
    ),
    (
        Mutation(
            "IMAGE_BAD_URL_ACCEPTED",
            "fault",
            "image",
            ("GetImageByUrl",),
            "GET /image answers a URL it cannot use with 200 and a PNG, not 400",
        ),
        _ImageBadUrlAccepted(),
    ),
    (
        Mutation(
            "UPGRADE_ALLOWED_ON_ENTERPRISE",
            "fault",
            "upgrade",
            ("IsAllowedToUpgradeToEnterprise",),
            "GET /upgrade_to_enterprise/allowed says OK where the server refuses the upgrade",
        ),
        _UpgradeAllowedOnEnterprise(),
    ),
    (
        Mutation(
            "SUPPORT_PACKET_TRUNCATED",
            "fault",
            "support-packet",
            ("GenerateSupportPacket",),
            "GET /system/support_packet sends the first half of the zip",
        ),
        _Truncated(),
    ),
    (
        Mutation(
            "EMAIL_TEST_ALWAYS_OK",
            "fault",
            "email",
            ("TestEmail",),
            "POST /email/test answers OK where it should answer 400 or 500",
        ),
        _ErrorsAsOk((400, 500)),
    ),
    (
        Mutation(
            "PUSH_ACK_ERRORS_HIDDEN",
            "fault",
            "notifications",
            ("AcknowledgeNotification",),
            "POST /notifications/ack answers OK to an acknowledgement it refuses with 400",
        ),
        _ErrorsAsOk((400,)),
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
        _JsonCharset(),
    ),
    (
        Mutation(
            "POSTED_LOG_NEVER_APPEARS",
            "fault",
            "logs",
            ("PostLog",),
            "POST /logs is sent on at DEBUG level, so the line never reaches GET /logs",
        ),
        _PostedLogLowered(),
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
        _JsonEffect(lambda ex, data: _reverse_keys(data), statuses=None),
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
        _JsonEffect(lambda ex, data: _add_field(data), statuses=None),
    ),
    (
        Mutation(
            "extra-headers",
            "benign",
            "benign",
            (),
            "unknown response headers (`X-Mmconform-Proxy`, `X-Cluster-Id`)",
        ),
        _ExtraHeaders(),
    ),
    (
        Mutation(
            "header-case",
            "benign",
            "benign",
            (),
            "response header names in upper case on the wire (`X-REQUEST-ID`)",
        ),
        _Wire("header-case"),
    ),
    (
        Mutation(
            "chunked",
            "benign",
            "benign",
            (),
            "no `Content-Length`: bodies sent with chunked transfer encoding",
        ),
        _Wire("chunked"),
    ),
    (
        Mutation(
            "gzip",
            "benign",
            "benign",
            (),
            "bodies gzip-compressed when the client accepts gzip",
        ),
        _Wire("gzip"),
    ),
    (
        Mutation(
            "latency",
            "benign",
            "benign",
            (),
            f"{int(LATENCY_SECONDS * 1000)} ms before each answer",
        ),
        _Wire("latency"),
    ),
)

MUTATIONS: Mapping[str, Mutation] = MappingProxyType({m.name: m for m, _ in _ENTRIES})
_EFFECTS: Mapping[str, Effect] = MappingProxyType({m.name: e for m, e in _ENTRIES})


def _check_catalogue() -> None:
    if len(MUTATIONS) != len(_ENTRIES):
        raise RuntimeError("two mutations share a name")
    known = {op.operation_id for op in load_contract().operations}
    for mutation in MUTATIONS.values():
        pattern = _NAME_FAULT if mutation.kind == "fault" else _NAME_BENIGN
        if not pattern.match(mutation.name):
            raise RuntimeError(f"mutation name {mutation.name!r} breaks the naming rule")
        if mutation.area not in AREAS or (mutation.kind == "benign") != (mutation.area == "benign"):
            raise RuntimeError(f"mutation {mutation.name}: bad area {mutation.area!r}")
        unknown = set(mutation.operations) - known
        if unknown:
            raise RuntimeError(f"mutation {mutation.name}: unknown operations {sorted(unknown)}")


_check_catalogue()


def _parse_cell(text: str) -> Mutation:
    known = {op.operation_id for op in load_contract().operations}
    if text.strip().split(":")[-1] == "local":
        raise ValueError(
            f"cell fault {text!r}: the proxy never sees the local socket (its target file "
            "keeps the server's own); callers: " + ", ".join((*ROLES, ANONYMOUS))
        )
    cell = CellSpec.parse(text, operations=known, callers=(*ROLES, ANONYMOUS))
    if cell.kind == "grant":
        if cell.caller == "system_admin":
            raise ValueError(f"cell fault {text!r}: system_admin cannot be granted more")
        description = f"{cell.operation} from {cell.caller} is sent on with the system_admin token"
    else:
        description = (
            f"{cell.operation} from {cell.caller} is refused with 403 `{PERMISSION_ERROR_ID}`, "
            "without being sent on"
        )
    return Mutation(str(cell), "fault", "permissions", (cell.operation,), description)


def parse_mutation(text: str) -> Mutation:
    """A catalogue name, or a cell fault ``grant:Op:caller`` / ``deny:Op:caller``."""
    name = text.strip()
    if name in MUTATIONS:
        return MUTATIONS[name]
    if name.startswith(("grant:", "deny:")):
        return _parse_cell(name)
    raise ValueError(
        f"unknown mutation {text!r}; known: {', '.join(MUTATIONS)}; or a cell fault "
        "grant:OPERATION:CALLER / deny:OPERATION:CALLER"
    )


def effect_of(mutation: Mutation) -> Effect:
    if mutation.name in _EFFECTS and MUTATIONS.get(mutation.name) == mutation:
        return _EFFECTS[mutation.name]
    kind, _, rest = mutation.name.partition(":")
    _, _, caller = rest.partition(":")
    if kind == "grant":
        return _Grant(caller)
    if kind == "deny":
        return _Deny(caller)
    raise ValueError(f"no behaviour for mutation {mutation.name!r}")
