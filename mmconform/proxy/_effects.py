"""What mutations do: the building blocks of the catalogue's effects, and the effects.

A **fault** breaks one promise of the contract (a correct suite must fail); a **benign** variant
changes nothing the contract promises (a correct suite must still pass)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any, Final

from mmconform._wire import CONFIG_MASK, PERMISSION_ERROR_ID
from mmconform.proxy._exchange import NOT_JSON, Answer, Exchange, new_request_id
from mmconform.proxy._mutation import Effect

#: what CONFIG_SECRET_UNMASKED shows instead of the mask
MADE_UP_SECRET: Final = "mmconform-proxy-made-up-secret"
#: the zone TIMEZONE_NOT_IANA appends
NOT_A_ZONE: Final = "Mars/Olympus_Mons"
#: the field extra-fields adds, and the header extra-headers adds
EXTRA_FIELD: Final = "mmconform_proxy_extra"
EXTRA_HEADERS: Final = (("X-Mmconform-Proxy", "benign"), ("X-Cluster-Id", "mmconform-proxy"))
LATENCY_SECONDS: Final = 0.05


# --------------------------------------------------------------------------------------------
# Building blocks

UNCHANGED: Any = object()


class JsonEffect(Effect):
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
        if changed is not UNCHANGED:
            answer.set_json(changed)


def _rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    return []


def drop(key: str) -> Callable[[Exchange, Any], Any]:
    def transform(ex: Exchange, data: Any) -> Any:
        rows = [row for row in _rows(data) if key in row]
        if not rows:
            return UNCHANGED
        for row in rows:
            del row[key]
        return data

    return transform


def map_field(key: str, change: Callable[[Any], Any]) -> Callable[[Exchange, Any], Any]:
    def transform(ex: Exchange, data: Any) -> Any:
        rows = [row for row in _rows(data) if key in row]
        if not rows:
            return UNCHANGED
        for row in rows:
            row[key] = change(row[key])
        return data

    return transform


class AppErrorEffect(Effect):
    """Rewrites AppError answers (any error status)."""

    def __init__(self, change: Callable[[Answer, dict[str, Any]], None]) -> None:
        self._change = change

    async def after(self, ex: Exchange, answer: Answer) -> None:
        error = answer.app_error()
        if error is not None:
            self._change(answer, error)


class SendAsAdmin(Effect):
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


class ErrorsAsOk(Effect):
    """Answers ``{"status":"OK"}`` instead of the AppError of ``statuses``."""

    def __init__(self, statuses: tuple[int, ...]) -> None:
        self._statuses = statuses

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status in self._statuses and answer.app_error() is not None:
            answer.status = 200
            answer.set_json({"status": "OK"})


# --------------------------------------------------------------------------------------------
# Effects with more to them


def plain_text(answer: Answer, error: dict[str, Any]) -> None:
    answer.body = str(error.get("message") or error.get("id") or "error").encode("utf-8")
    answer.set_header("Content-Type", "text/plain; charset=utf-8")


def bad_request_as_500(answer: Answer, error: dict[str, Any]) -> None:
    if answer.status == 400:
        answer.status = 500
        error["status_code"] = 500
        answer.set_json(error)


def status_code_mismatch(answer: Answer, error: dict[str, Any]) -> None:
    error["status_code"] = 500 if answer.status != 500 else 400
    answer.set_json(error)


def id_emptied(answer: Answer, error: dict[str, Any]) -> None:
    error["id"] = ""
    answer.set_json(error)


def request_id_mismatch(answer: Answer, error: dict[str, Any]) -> None:
    if "request_id" not in error:
        return
    header = answer.header("x-request-id")
    replacement = new_request_id()
    while replacement in (header, error["request_id"]):  # pragma: no cover - 32^26 odds
        replacement = new_request_id()
    error["request_id"] = replacement
    answer.set_json(error)


class VersionHeaderWrong(Effect):
    """``X-Version-Id`` claims the next major version (11.1.0.… becomes 12.1.0.…)."""

    async def after(self, ex: Exchange, answer: Answer) -> None:
        value = answer.header("x-version-id")
        if value is None:
            return
        match = re.match(r"^(\d+)(\.\d+\.\d+)", value)
        if match is None:
            return
        answer.set_header("X-Version-Id", f"{int(match.group(1)) + 1}{value[match.end(1) :]}")


class RemoveHeader(Effect):
    def __init__(self, name: str) -> None:
        self._name = name

    async def after(self, ex: Exchange, answer: Answer) -> None:
        answer.remove_header(self._name)


def root_status_leaked(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, dict) or "root_status" in data:
        return UNCHANGED
    data["root_status"] = False
    return data


def expires_in_ms(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("expires"), int):
        return UNCHANGED
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


def secret_unmasked(ex: Exchange, data: Any) -> Any:
    data, changed = _unmask(data)
    return data if changed else UNCHANGED


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


def made_up_log_line(index: int) -> str:
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


def pad_page(
    param: str, default: int, cap: int, make: Callable[[list[Any], int], Any]
) -> Callable[[Exchange, Any], Any]:
    """Appends made-up items until the page holds one more than the page size allows."""

    def transform(ex: Exchange, data: Any) -> Any:
        if data is not None and not isinstance(data, list):
            return UNCHANGED
        limit = _page_size(ex, param, default, cap)
        if limit is None:
            return UNCHANGED
        items = list(data or [])
        while len(items) <= limit:
            items.append(make(items, len(items)))
        return items

    return transform


def next_audit(items: list[Any], index: int) -> Any:
    template = items[-1] if items and isinstance(items[-1], dict) else None
    return _made_up_audit(template)


def timezone_appended(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, list):
        return UNCHANGED
    return [*data, NOT_A_ZONE]


class ClientLicenseUntrimmed(Effect):
    """Every caller gets what system_admin gets (the whole client license)."""

    async def after(self, ex: Exchange, answer: Answer) -> None:
        admin = ex.tokens.get("system_admin")
        if answer.status != 200 or admin is None or ex.token == admin or ex.refetch is None:
            return
        full = await ex.refetch(ex, admin)
        if full.status == 200 and full.json() is not NOT_JSON:
            answer.body = full.body


class NoticeViewsIgnored(Effect):
    """The notice ids are replaced by an empty list before the request is forwarded."""

    async def before(self, ex: Exchange) -> Answer | None:
        try:
            ids = json.loads(ex.body)
        except ValueError:
            return None
        if isinstance(ids, list) and ids and all(isinstance(item, str) for item in ids):
            ex.body = b"[]"
        return None


def rows_reversed(ex: Exchange, data: Any) -> Any:
    if not isinstance(data, list) or len(data) < 2:
        return UNCHANGED
    return list(reversed(data))


class IntegrityOverTcp(Effect):
    async def before(self, ex: Exchange) -> Answer | None:
        assert ex.synthetic is not None
        return await ex.synthetic(200, b"[]", "application/json")


# The smallest valid PNG: one transparent pixel.
_PIXEL_PNG: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class ImageBadUrlAccepted(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 400:
            answer.status = 200
            answer.body = _PIXEL_PNG
            answer.set_header("Content-Type", "image/png")


class UpgradeAllowedOnEnterprise(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        error = answer.app_error()
        if answer.status == 403 and error is not None and error.get("id") != PERMISSION_ERROR_ID:
            answer.status = 200
            answer.set_json({"status": "OK"})


class Truncated(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 200 and len(answer.body) > 1:
            answer.body = answer.body[: len(answer.body) // 2]


class JsonCharset(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.media_type == "application/json":
            answer.set_header("Content-Type", "application/json; charset=utf-8")


class PostedLogLowered(Effect):
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


class JsonBody(Effect):
    """Replaces a JSON 200 body (by bytes)."""

    def __init__(self, body: bytes, media_type: str | None = None) -> None:
        self._body = body
        self._media_type = media_type

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 200 and answer.is_json:
            answer.body = self._body
            if self._media_type is not None:
                answer.set_header("Content-Type", self._media_type)


class MediaType(Effect):
    def __init__(self, media_type: str) -> None:
        self._media_type = media_type

    async def after(self, ex: Exchange, answer: Answer) -> None:
        if answer.status == 200 and answer.is_json:
            answer.set_header("Content-Type", self._media_type)


# --------------------------------------------------------------------------------------------
# Benign effects


def reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reverse_keys(item) for item in value]
    return value


def add_field(value: Any) -> Any:
    if isinstance(value, dict):
        out = {key: add_field(item) for key, item in value.items()}
        out.setdefault(EXTRA_FIELD, "benign")
        return out
    if isinstance(value, list):
        return [add_field(item) for item in value]
    return value


class ExtraHeaders(Effect):
    async def after(self, ex: Exchange, answer: Answer) -> None:
        answer.headers.extend(EXTRA_HEADERS)


def upper_case_header(name: str) -> str:
    """``x-request-id`` -> ``X-REQUEST-ID``: a spelling no server of the contract uses."""
    return name.upper()


class Wire(Effect):
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
