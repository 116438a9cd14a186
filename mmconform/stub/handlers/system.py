"""Ping, timezones, notices, database recycle, caches, restart, integrity, support packet,
upgrade to enterprise."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import threading
import time
import zipfile
from typing import Any

from starlette.responses import Response

from mmconform.stub import _config_access as access
from mmconform.stub import _godecode as go
from mmconform.stub import _probes
from mmconform.stub._context import NO_CACHE, BodyTooLarge, Ctx, Op
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


# --------------------------------------------------------------------------------------------
# database, caches, restart
# --------------------------------------------------------------------------------------------
async def database_recycle(ctx: Ctx) -> Response:
    if not (ctx.fault(Fault.DATABASE_RECYCLE_WITHOUT_SESSION) and ctx.session.anonymous):
        ctx.require("recycle_database_connections", not_restricted=True)
    with ctx.state.lock:
        ctx.state.db_recycles += 1
    ctx.state.log("info", "Recycling database connections")
    return ctx.ok()


async def invalidate_caches(ctx: Ctx) -> Response:
    ctx.require("invalidate_caches", not_restricted=True)
    with ctx.state.lock:
        ctx.state.cache_invalidations += 1
        ctx.state.redirect_cache.clear()
    ctx.state.log("info", "Purging all caches")
    if ctx.fault(Fault.CACHES_INVALIDATED_WITHOUT_STATUS):
        return ctx.raw_json(b"", headers=NO_CACHE)
    return ctx.ok(headers=NO_CACHE)


async def restart(ctx: Ctx) -> Response:
    user = ctx.session.user
    read_only = user is not None and user.role == "system_read_only_admin"
    if not (ctx.fault(Fault.RESTART_ALLOWED_FOR_READ_ONLY_ADMIN) and read_only):
        ctx.require("manage_system")
    with ctx.state.lock:
        ctx.state.restarts += 1
    ctx.state.log("info", "Restarting server (simulated: the stub stays up)")
    return ctx.ok()


# --------------------------------------------------------------------------------------------
# integrity (local socket only)
# --------------------------------------------------------------------------------------------
_INTEGRITY_RELATIONS = (
    ("Channels", "Posts", "ChannelId", "Id"),
    ("Teams", "Channels", "TeamId", "Id"),
    ("Users", "Sessions", "UserId", "Id"),
    ("Users", "Audits", "UserId", "Id"),
)


async def check_integrity(ctx: Ctx) -> Response:
    results = [
        {
            "data": {
                "parent_name": parent,
                "child_name": child,
                "parent_id_attr": parent_attr,
                "child_id_attr": child_attr,
                "records": [],
            },
            "err": None,
        }
        for parent, child, parent_attr, child_attr in _INTEGRITY_RELATIONS
    ]
    return ctx.json(results)


# --------------------------------------------------------------------------------------------
# support packet
# --------------------------------------------------------------------------------------------
def support_packet_name(company: str, now: float, *, new_style: bool) -> str:
    stamp = time.gmtime(now)
    if not new_style:
        return "mattermost_support_packet_" + time.strftime("%Y-%m-%d-%H-%M", stamp) + ".zip"
    safe = re.sub(r"[^A-Za-z0-9]", "_", company)
    return f"mm_support_packet_{safe}_" + time.strftime("%Y-%m-%dT%H-%M", stamp) + ".zip"


async def support_packet(ctx: Ctx) -> Response:
    st = ctx.state
    if ctx.behaviour.legacy_restricted_errors:
        # checked first, and the local socket is not exempt
        if ctx.restrict_on:
            raise AppError(403, "api.restricted_system_admin")
        ctx.require("manage_system")
    else:
        ctx.require("manage_system", not_restricted=True)
    lic = st.license
    if lic is None:
        raise AppError(403, "api.no_license")
    with_logs = qget(ctx, "basic_server_logs") != "false"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        meta = {
            "server_version": st.server_version,
            "generated_at": st.now_ms(),
            "license_id": lic.id,
            "customer": lic.customer.company,
            "user_count": st.user_count(),
            "plugin_packets": ctx.query.getlist("plugin_packets"),
        }
        zf.writestr("metadata.yaml", "".join(f"{k}: {json.dumps(v)}\n" for k, v in meta.items()))
        zf.writestr("sanitized_config.json", json.dumps(access.sanitize(st.config), indent=2))
        zf.writestr(
            "diagnostics.yaml", f"version: {st.server_version}\nbusy: {str(st.is_busy()).lower()}\n"
        )
        if with_logs:
            zf.writestr("mattermost.log", "\n".join(st.logs.all()) + "\n")
        # the entries are written, the central directory is not (it comes with close)
        unfinished = buf.getvalue()
    if ctx.fault(Fault.SUPPORT_PACKET_NOT_A_ZIP):
        buf = io.BytesIO(unfinished)
    name = support_packet_name(
        lic.customer.company, st.now(), new_style=ctx.behaviour.new_support_packet_name
    )
    headers = {
        "Content-Disposition": f'attachment;filename="{name}"',
        "Cache-Control": "no-cache, no-store, must-revalidate",
    }
    return Response(buf.getvalue(), headers=headers, media_type="application/zip")


# --------------------------------------------------------------------------------------------
# upgrade to enterprise (simulated)
# --------------------------------------------------------------------------------------------
UPGRADE_SECONDS = 5.0


def _upgrade_percentage(ctx: Ctx) -> int:
    started = ctx.state.upgrade_started
    if started is None:
        return 0
    return max(1, min(100, int((ctx.state.now() - started) / UPGRADE_SECONDS * 100)))


async def upgrade_to_enterprise(ctx: Ctx) -> Response:
    ctx.require("manage_system")
    st = ctx.state
    if st.edition == "enterprise" and not ctx.fault(Fault.UPGRADE_STARTS_ON_ENTERPRISE):
        raise AppError(429, "api.upgrade_to_enterprise.already-enterprise.app_error")
    if not st.upgrade_supported:
        raise AppError(403, "api.upgrade_to_enterprise.system_not_supported.app_error")
    with st.lock:
        if st.upgrade_started is not None:
            raise AppError(429, "api.upgrade_to_enterprise.app_error")
        st.upgrade_started = st.now()
    st.log("info", "Upgrade to Enterprise Edition started (simulated)")
    return ctx.ok(202)


async def upgrade_status(ctx: Ctx) -> Response:
    if not (ctx.fault(Fault.UPGRADE_STATUS_UNGUARDED) and ctx.session.user is not None):
        ctx.require("manage_system")
    if ctx.state.upgrade_error:
        return ctx.json({"percentage": 0, "error": ctx.state.upgrade_error})
    return ctx.json({"percentage": _upgrade_percentage(ctx), "error": None})


ALREADY_ENTERPRISE = (
    "you cannot upgrade your server from TE to E0 because you are already running Mattermost "
    "Enterprise Edition"
)


async def upgrade_allowed(ctx: Ctx) -> Response:
    ctx.require("manage_system")
    if not ctx.state.upgrade_supported:
        raise AppError(403, "api.upgrade_to_enterprise.system_not_supported.app_error")
    if ctx.state.edition == "enterprise" and not ctx.fault(Fault.UPGRADE_ALLOWED_ON_ENTERPRISE):
        # The upgrader's own error text becomes the AppError id (and, untranslated, its message).
        raise AppError(403, ALREADY_ENTERPRISE, message=ALREADY_ENTERPRISE)
    return ctx.ok()


OPERATIONS: list[Op] = [
    Op("GetPing", "GET", "/api/v4/system/ping", get_ping, auth="none", local=True),
    Op("GetSupportedTimezone", "GET", "/api/v4/system/timezones", get_timezones, since="4.9"),
    Op("GetNotices", "GET", "/api/v4/system/notices/{team_id}", get_notices, since="5.28"),
    Op(
        "MarkNoticesViewed", "PUT", "/api/v4/system/notices/view", mark_notices_viewed, since="5.28"
    ),
    Op("DatabaseRecycle", "POST", "/api/v4/database/recycle", database_recycle),
    Op("InvalidateCaches", "POST", "/api/v4/caches/invalidate", invalidate_caches),
    Op("RestartServer", "POST", "/api/v4/restart", restart, since="5.27"),
    Op(
        "CheckIntegrity",
        "POST",
        "/api/v4/integrity",
        check_integrity,
        auth="local_only",
        tcp=False,
        local=True,
        since="5.28",
    ),
    Op(
        "GenerateSupportPacket",
        "GET",
        "/api/v4/system/support_packet",
        support_packet,
        local=True,
        since="5.33",
    ),
    Op(
        "UpgradeToEnterprise",
        "POST",
        "/api/v4/upgrade_to_enterprise",
        upgrade_to_enterprise,
        since="5.27",
    ),
    Op(
        "UpgradeToEnterpriseStatus",
        "GET",
        "/api/v4/upgrade_to_enterprise/status",
        upgrade_status,
        since="5.27",
    ),
    Op(
        "IsAllowedToUpgradeToEnterprise",
        "GET",
        "/api/v4/upgrade_to_enterprise/allowed",
        upgrade_allowed,
        since="11.0",
    ),
]
