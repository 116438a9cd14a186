"""Ping, timezones and notices."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from typing import Any

from starlette.responses import Response

from mmconform.stub import _godecode as go
from mmconform.stub import _probes
from mmconform.stub._context import BodyTooLarge, Ctx, Op
from mmconform.stub._errors import AppError, invalid_param, invalid_url_param
from mmconform.stub.faults import Fault
from mmconform.stub.handlers._util import qget
from mmconform.stub.variants import Variant

# --------------------------------------------------------------------------------------------
# ping
# --------------------------------------------------------------------------------------------
GOROUTINE_BASELINE = 50
PUSH_PLATFORMS = frozenset(
    {
        "apple",
        "android",
        "apple_rn",
        "android_rn",
        "apple_rnbeta",
        "android_rnbeta",
        "apple_rn-v2",
        "android_rn-v2",
        "apple_rnbeta-v2",
        "android_rnbeta-v2",
    }
)


def goroutine_count() -> int:
    """The stub's stand-in for Go's runtime.NumGoroutine(): baseline + threads + tasks."""
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:
        tasks = 0
    return GOROUTINE_BASELINE + threading.active_count() + tasks


def active_search_backend(ctx: Ctx) -> str:
    st = ctx.state
    lic = st.license
    es_on = st.setting("ElasticsearchSettings", "EnableSearching")
    if es_on and lic is not None and lic.features.elastic_search:
        return "elasticsearch"
    if st.setting("BleveSettings", "EnableSearching"):
        return "bleve"
    if st.setting("SqlSettings", "DisableDatabaseSearch"):
        return "none"
    return "database"


def can_receive_notifications(ctx: Ctx, device_id: str) -> str:
    st = ctx.state
    if not st.setting("EmailSettings", "SendPushNotifications") or not st.setting(
        "EmailSettings", "PushNotificationServer"
    ):
        return "false"
    platform, _, dev = device_id.partition(":")
    # The stub never contacts the push proxy: a well-formed device of a known platform is
    # taken as accepted, anything else is what a failed proxy call gives ("unknown").
    if platform in PUSH_PLATFORMS and dev:
        return "true"
    return "unknown"


async def get_ping(ctx: Ctx) -> Response:
    st = ctx.state
    b = ctx.behaviour
    raw_status = qget(ctx, "get_server_status")
    with_status = raw_status == "true" if b.ping_status_needs_exact_true else raw_status != ""
    if ctx.fault(Fault.PING_SERVER_STATUS_IGNORED):
        with_status = False
    status = "OK"
    threshold = st.setting("ServiceSettings", "GoroutineHealthThreshold")
    healthy_anyway = ctx.fault(Fault.PING_HEALTH_THRESHOLD_IGNORED)
    if isinstance(threshold, int) and 0 < threshold <= goroutine_count() and not healthy_anyway:
        status = "UNHEALTHY"
    body: dict[str, Any] = {
        "AndroidLatestVersion": st.setting("ClientRequirements", "AndroidLatestVersion") or "",
        "AndroidMinVersion": st.setting("ClientRequirements", "AndroidMinVersion") or "",
        "IosLatestVersion": st.setting("ClientRequirements", "IosLatestVersion") or "",
        "IosMinVersion": st.setting("ClientRequirements", "IosMinVersion") or "",
    }
    if b.ping_active_search_backend:
        body["ActiveSearchBackend"] = active_search_backend(ctx)
    feature = st.setting("FeatureFlags", "TestFeature")
    if isinstance(feature, str) and feature != "off":
        body["TestFeatureFlag"] = feature
    headers: dict[str, str] = {}
    if with_status:
        db_status = "OK"
        file_status = "OK"
        if st.setting("FileSettings", "DriverName") == "amazons3":
            failure = await asyncio.to_thread(
                _probes.test_s3, st.config["FileSettings"], timeout=2.0
            )
            file_status = "OK" if failure is None else "UNHEALTHY"
        if "UNHEALTHY" in (db_status, file_status):
            status = "UNHEALTHY"
        body["database_status"] = db_status
        body["filestore_status"] = file_status
        shown = ctx.has_permission("manage_system") or ctx.fault(Fault.PING_ROOT_STATUS_LEAKED)
        if b.ping_root_status and shown:
            body["root_status"] = hasattr(os, "geteuid") and os.geteuid() == 0
        headers = {"Status": status, "Database_status": db_status, "Filestore_status": file_status}
    device_id = qget(ctx, "device_id")
    if device_id and b.ping_device_id and not ctx.fault(Fault.PING_DEVICE_ID_IGNORED):
        body["CanReceiveNotifications"] = can_receive_notifications(ctx, device_id)
    if not ctx.fault(Fault.PING_MISSING_STATUS):
        body["status"] = status
    rest = b.ping_rest_semantics and qget(ctx, "use_rest_semantics") == "true"
    if ctx.fault(Fault.PING_IGNORES_REST_SEMANTICS):
        rest = False
    code = 200 if status == "OK" or rest else 500
    return ctx.json(body, code, headers=headers, sort_keys=True)


# --------------------------------------------------------------------------------------------
# timezones
# --------------------------------------------------------------------------------------------
_FALLBACK_ZONES = (
    "Africa/Abidjan",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Europe/Berlin",
    "Europe/London",
    "Pacific/Auckland",
    "UTC",
)


def _load_timezones() -> list[str]:
    try:
        import zoneinfo

        zones = sorted(
            z
            for z in zoneinfo.available_timezones()
            if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
        )
    except Exception:  # pragma: no cover - depends on the host's tz database
        zones = []
    return zones or list(_FALLBACK_ZONES)


TIMEZONES: list[str] = _load_timezones()
_TIMEZONES_JSON = json.dumps(TIMEZONES, separators=(",", ":")).encode()
#: A zone no time zone database has (the TIMEZONES_INVALID_ZONE fault lists it).
NOT_A_ZONE = "Mars/Olympus_Mons"
_TIMEZONES_WITH_NOT_A_ZONE = json.dumps([*TIMEZONES, NOT_A_ZONE], separators=(",", ":")).encode()


async def get_timezones(ctx: Ctx) -> Response:
    if ctx.fault(Fault.TIMEZONES_AS_TEXT):
        return Response(_TIMEZONES_JSON, media_type="text/plain; charset=utf-8")
    if ctx.fault(Fault.TIMEZONES_INVALID_ZONE):
        return ctx.raw_json(_TIMEZONES_WITH_NOT_A_ZONE)
    return ctx.raw_json(_TIMEZONES_JSON)


# --------------------------------------------------------------------------------------------
# notices
# --------------------------------------------------------------------------------------------
NOTICE_CLIENTS = ("web", "mobile-ios", "mobile-android", "desktop")
_ALL = frozenset(NOTICE_CLIENTS)
NOTICES: tuple[dict[str, Any], ...] = (
    {
        "id": "stub_welcome",
        "sysAdminOnly": False,
        "teamAdminOnly": False,
        "title": "Welcome to the mmconform stub",
        "description": "This server is a conformance stub, not a real Mattermost.",
        "_clients": _ALL,
        "_repeat": None,
    },
    {
        "id": "stub_admin_license",
        "sysAdminOnly": True,
        "teamAdminOnly": False,
        "title": "Review your license",
        "description": "Open the System Console to review the license of this server.",
        "action": "url",
        "actionParam": "/admin_console/about/license",
        "actionText": "Open",
        "_clients": _ALL,
        "_repeat": None,
    },
    {
        "id": "stub_mobile_tip",
        "sysAdminOnly": False,
        "teamAdminOnly": False,
        "title": "Mobile tip",
        "description": "Long-press a message to see more actions.",
        "image": "https://example.invalid/stub-mobile-tip.png",
        "_clients": frozenset({"mobile-ios", "mobile-android"}),
        "_repeat": None,
    },
    {
        "id": "stub_daily_reminder",
        "sysAdminOnly": False,
        "teamAdminOnly": False,
        "title": "Daily reminder",
        "description": "A repeatable notice: at most 3 views, one per day.",
        "_clients": frozenset({"web", "desktop"}),
        "_repeat": (3, 24 * 3600 * 1000),
    },
)
_ID_RE = re.compile(r"^[A-Za-z0-9]{26}$")


async def get_notices(ctx: Ctx) -> Response:
    team_id = ctx.path_params.get("team_id", "")
    if not _ID_RE.match(team_id) and not ctx.fault(Fault.NOTICES_MALFORMED_TEAM_ID_ACCEPTED):
        raise invalid_url_param("team_id")
    client = qget(ctx, "client")
    if client not in NOTICE_CLIENTS:
        raise invalid_param("client", "Invalid client type supplied")
    if ctx.variant(Variant.STRICT_NOTICES_QUERY) and "clientVersion" not in ctx.query:
        raise ctx.refused_by(Variant.STRICT_NOTICES_QUERY, invalid_url_param("clientVersion"))
    st = ctx.state
    is_admin = ctx.has_permission("manage_system")
    if is_admin and not st.setting("AnnouncementSettings", "AdminNoticesEnabled"):
        return ctx.json([])
    if not is_admin and not st.setting("AnnouncementSettings", "UserNoticesEnabled"):
        return ctx.json([])
    with st.lock:
        views = dict(st.notice_views.get(ctx.session.user_id, {}))
    now_ms = st.now_ms()
    out = []
    for notice in NOTICES:
        if notice["sysAdminOnly"] and not is_admin:
            continue
        if client not in notice["_clients"]:
            continue
        viewed = views.get(notice["id"])
        repeat = notice["_repeat"]
        if viewed is not None:
            if repeat is None:
                continue
            max_views, min_gap = repeat
            if viewed[0] >= max_views or now_ms - viewed[1] < min_gap:
                continue
        out.append({k: v for k, v in notice.items() if not k.startswith("_")})
    return ctx.json(out)


_NOTICE_IDS = go.SliceOf(go.STRING)


async def mark_notices_viewed(ctx: Ctx) -> Response:
    strict = ctx.behaviour.strict_notice_view_parsing
    parse_error = AppError(400, "api.payload.parse.error")
    try:
        decoded = go.decode_body(await ctx.body(), _NOTICE_IDS)
    except BodyTooLarge:
        if strict:
            raise ctx.too_large(parse_error) from None
        decoded = go.Decoded(None)
    except go.GoSyntaxError:
        if strict:
            raise parse_error from None
        decoded = go.Decoded(None)
    if strict and not decoded.ok:
        raise parse_error
    # Newer servers take a null body as no ids; older ones keep whatever decoded.
    ids: list[str] = decoded.value or []
    st = ctx.state
    if ctx.fault(Fault.NOTICE_VIEWED_SHOWN_AGAIN):
        return ctx.ok()
    now_ms = st.now_ms()
    with st.lock:
        views = st.notice_views.setdefault(ctx.session.user_id, {})
        for notice_id in sorted(set(ids)):
            count = views.get(notice_id, (0, 0))[0]
            views[notice_id] = (count + 1, now_ms)
    return ctx.ok()


OPERATIONS: list[Op] = [
    Op("GetPing", "GET", "/api/v4/system/ping", get_ping, auth="none", local=True),
    Op("GetSupportedTimezone", "GET", "/api/v4/system/timezones", get_timezones, since="4.9"),
    Op("GetNotices", "GET", "/api/v4/system/notices/{team_id}", get_notices, since="5.28"),
    Op(
        "MarkNoticesViewed", "PUT", "/api/v4/system/notices/view", mark_notices_viewed, since="5.28"
    ),
]
