"""Audits, server logs (GET and POST /logs) and the old analytics."""

from __future__ import annotations

import itertools
import os
import re
import time
from pathlib import Path
from typing import Any

from starlette.responses import Response

from mmconform.stub import _godecode as go
from mmconform.stub._context import BodyTooLarge, Ctx, Op, go_atoi
from mmconform.stub._errors import AppError, invalid_param, invalid_url_param
from mmconform.stub.faults import Fault
from mmconform.stub.handlers._util import qfirst
from mmconform.stub.variants import Variant

#: What the seed's integer query parameters look like (the strict-audits-paging variant).
_INTEGER_RE = re.compile(r"^[+-]?[0-9]+$")

#: how far LOGS_PAGE_ORDER_UNSTABLE rotates each page it answers (one more at each read)
_ORDER_SHIFTS = itertools.count()

PER_PAGE_DEFAULT = 60
PER_PAGE_MAX = 200
LOGS_PER_PAGE_DEFAULT = 10000
LOGS_PER_PAGE_MAX = 10000


def parse_page(ctx: Ctx) -> int:
    value = go_atoi(qfirst(ctx, "page"))
    return value if value is not None and value >= 0 else 0


def parse_per_page(ctx: Ctx, name: str, default: int, maximum: int) -> int:
    raw = qfirst(ctx, name)
    if raw is None and name == "per_page":
        raw = qfirst(ctx, "pageSize")
    value = go_atoi(raw)
    if value is None or value < 0:
        return default
    return min(value, maximum)


# --------------------------------------------------------------------------------------------
async def get_audits(ctx: Ctx) -> Response:
    ctx.require("read_audits")
    if ctx.variant(Variant.STRICT_AUDITS_PAGING):
        for name in ("page", "per_page"):
            raw = qfirst(ctx, name)
            if raw is not None and not _INTEGER_RE.match(raw):
                raise ctx.refused_by(Variant.STRICT_AUDITS_PAGING, invalid_url_param(name))
    if ctx.fault(Fault.AUDITS_500_ON_BAD_PAGING):
        for name in ("page", "per_page"):
            raw = qfirst(ctx, name)
            if raw is not None and go_atoi(raw) is None:
                raise AppError(
                    500,
                    "app.audit.get.finding.app_error",
                    message="We encountered an error finding the audits.",
                )
    page = parse_page(ctx)
    cap = 10 * PER_PAGE_MAX if ctx.fault(Fault.AUDITS_PER_PAGE_CAP_IGNORED) else PER_PAGE_MAX
    if ctx.fault(Fault.AUDITS_PER_PAGE_CAPPED_AT_100):
        cap = PER_PAGE_MAX // 2
    per_page = parse_per_page(ctx, "per_page", PER_PAGE_DEFAULT, cap)
    if page > 0 and ctx.fault(Fault.AUDITS_LATER_PAGES_EMPTY):
        rows = []
    elif ctx.fault(Fault.AUDITS_OLDEST_FIRST):
        with ctx.state.lock:
            oldest_first = [a.to_json() for a in ctx.state.audits]
        rows = oldest_first[page * per_page : (page + 1) * per_page]
    else:
        rows = ctx.state.audits_page(page, per_page)
    return ctx.json(rows or None, newline=True)


# --------------------------------------------------------------------------------------------
def log_location_allowed(location: str) -> bool:
    """LogSettings.FileLocation must stay inside the log root (MM_LOG_PATH, default ./logs)."""
    if not location:
        return True
    root = Path(os.environ.get("MM_LOG_PATH") or "logs").resolve()
    target = Path(location)
    if not target.is_absolute():
        target = root / target
    try:
        target.resolve().relative_to(root)
    except ValueError:
        return False
    return True


async def get_logs(ctx: Ctx) -> Response:
    if not (ctx.fault(Fault.PERMISSIONS_IGNORED_FOR_LOGS) and ctx.session.user is not None):
        if ctx.behaviour.legacy_restricted_errors and ctx.restrict_on:
            # checked before the permission, and the local socket is not exempt
            raise AppError(403, "api.restricted_system_admin")
        ctx.require("get_logs", not_restricted=True)
    st = ctx.state
    if not st.setting("LogSettings", "EnableFile") or ctx.fault(Fault.LOGS_CLAIM_FILE_LOGGING_OFF):
        return ctx.json([""])
    if not log_location_allowed(str(st.setting("LogSettings", "FileLocation") or "")):
        raise AppError(
            403,
            "api.admin.file_read_error",
            detailed="the log file location is outside the log root",
        )
    if ctx.fault(Fault.LOGS_PAGING_IGNORED):
        lines = st.logs.all()
    else:
        page = parse_page(ctx)
        per_page = parse_per_page(ctx, "logs_per_page", LOGS_PER_PAGE_DEFAULT, LOGS_PER_PAGE_MAX)
        if ctx.fault(Fault.LOGS_OLDEST_FIRST):
            lines = st.logs.all()[page * per_page : (page + 1) * per_page]
        else:
            lines = st.logs.page(page, per_page)
    if ctx.fault(Fault.LOGS_PAGE_ORDER_UNSTABLE) and len(lines) > 1:
        # a different order at each read, never the true one
        shift = 1 + next(_ORDER_SHIFTS) % (len(lines) - 1)
        lines = lines[shift:] + lines[:shift]
    return ctx.json(lines or None)


_STRING_MAP = go.MapOf(go.STRING)


def _is_log_line(parsed: Any) -> bool:
    """The seed's PostLog body: a JSON object whose ``level`` and ``message`` are strings
    (other keys may hold anything)."""
    if not isinstance(parsed, dict):
        return False
    return all(isinstance(parsed.get(key), str) for key in ("level", "message"))


async def post_log(ctx: Ctx) -> Response:
    st = ctx.state
    force_debug = False
    if not st.developer:
        if ctx.session.anonymous:
            raise AppError(403, "api.context.permissions.app_error")
        if not ctx.has_permission("manage_system"):
            force_debug = True
    # Decode errors are only logged: the keys that decoded are kept, a value of another type
    # becomes "", and an unreadable or unparsable body gives an empty map.
    try:
        parsed = go.parse(await ctx.body())
    except (BodyTooLarge, go.GoSyntaxError):
        parsed = None
    if ctx.variant(Variant.STRICT_POSTLOG) and not _is_log_line(parsed):
        raise ctx.refused_by(Variant.STRICT_POSTLOG, invalid_param("level"))
    decoded = go.decode(parsed, _STRING_MAP)
    values: dict[str, str] = dict(decoded.value or {})
    level = values.get("level", "")
    message = values.get("message", "")
    encoded = message.encode("utf-8", errors="surrogatepass")
    if len(encoded) > 400:
        message = encoded[:399].decode("utf-8", errors="replace")
    agent = ctx.request.headers.get("user-agent", "")
    log_level = "error" if level == "ERROR" and not force_debug else "debug"
    if not ctx.fault(Fault.POSTED_LOG_NEVER_APPEARS):
        st.log(
            log_level, message, caller="web/client_logs.go", type="client_message", user_agent=agent
        )
    values["message"] = "Client Logs API Endpoint Message: " + message
    return ctx.json(values, sort_keys=True, newline=True)


# --------------------------------------------------------------------------------------------
ANALYTICS_NAMES = (
    "standard",
    "bot_post_counts_day",
    "post_counts_day",
    "user_counts_with_posts_day",
    "extra_counts",
)
STUB_TEAM_ID = "stubteam000000000000000000"


def _day_rows(ctx: Ctx, values: tuple[int, ...], team_id: str) -> list[dict[str, Any]]:
    """Posts per day; with a team, only that team's posts, so a team without posts (one that
    does not exist, say) has no rows at all: an empty array, not null."""
    if team_id and team_id != STUB_TEAM_ID:
        return []
    now = ctx.state.now()
    return [
        {"name": time.strftime("%Y-%m-%d", time.gmtime(now - i * 86400)), "value": v}
        for i, v in enumerate(values)
    ]


async def get_analytics_old(ctx: Ctx) -> Response:
    ctx.require("get_analytics")
    name = qfirst(ctx, "name") or "standard"
    if name not in ANALYTICS_NAMES:
        if not ctx.fault(Fault.ANALYTICS_UNKNOWN_NAME_ACCEPTED):
            raise invalid_param("name")
        name = "standard"
    team_id = qfirst(ctx, "team_id") or ""
    st = ctx.state
    users = st.user_count()
    over_limit = users > int(st.setting("AnalyticsSettings", "MaxUsersForStatistics") or 0)
    rows: list[dict[str, Any]]
    if name == "standard":
        unique = users
        if team_id:
            unique = users if team_id == STUB_TEAM_ID else 0
        known = team_id in ("", STUB_TEAM_ID)
        rows = [
            {"name": "channel_open_count", "value": 2 if known else 0},
            {"name": "channel_private_count", "value": 1 if known else 0},
            {"name": "post_count", "value": 12 if known else 0},
            {"name": "unique_user_count", "value": unique},
            {"name": "team_count", "value": 1},
            {"name": "total_websocket_connections", "value": st.websocket_connections},
            {"name": "total_master_db_connections", "value": 10},
            {"name": "total_read_db_connections", "value": 0},
            {"name": "daily_active_users", "value": st.active_users()},
            {"name": "monthly_active_users", "value": st.active_users()},
            {"name": "inactive_user_count", "value": -1 if team_id else 0},
        ]
    elif name == "extra_counts":
        rows = [
            {"name": "file_post_count", "value": -1 if over_limit else 3},
            {"name": "hashtag_post_count", "value": -1 if over_limit else 1},
            {"name": "incoming_webhook_count", "value": 0},
            {"name": "outgoing_webhook_count", "value": 0},
            {"name": "command_count", "value": 0},
            {"name": "session_count", "value": st.directory.session_count()},
        ]
    elif name == "user_counts_with_posts_day":
        rows = [{"name": "", "value": -1}] if over_limit else _day_rows(ctx, (2, 1, 3), team_id)
    elif name == "post_counts_day":
        rows = _day_rows(ctx, (5, 4, 3), team_id)
    else:
        rows = _day_rows(ctx, (1, 0, 2), team_id)
    return ctx.json(rows)


OPERATIONS: list[Op] = [
    Op("GetAudits", "GET", "/api/v4/audits", get_audits),
    Op("GetLogs", "GET", "/api/v4/logs", get_logs, local=True),
    Op("PostLog", "POST", "/api/v4/logs", post_log, auth="none"),
    Op("GetAnalyticsOld", "GET", "/api/v4/analytics/old", get_analytics_old),
]
