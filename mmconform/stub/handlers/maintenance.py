"""Keeping the server: database recycle, caches, restart, integrity (local socket only), the
support packet, and the upgrade to Enterprise (simulated)."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

from starlette.responses import Response

from mmconform.stub import _config_access as access
from mmconform.stub._context import NO_CACHE, Ctx, Op
from mmconform.stub._errors import AppError
from mmconform.stub.faults import Fault
from mmconform.stub.handlers._util import qget


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
