"""Server busy: POST / GET / DELETE /api/v4/server_busy.

While busy, routes wrapped with DisableWhenBusy answer 503; none of the 39 system operations is
such a route, so busy changes nothing else on the stub (documented in the README).
"""

from __future__ import annotations

import re
import time

from starlette.responses import Response

from mmconform.stub._context import Ctx, Op
from mmconform.stub._errors import invalid_url_param
from mmconform.stub._state import DEFAULT_BUSY_SECONDS, MAX_BUSY_SECONDS
from mmconform.stub.faults import Fault
from mmconform.stub.handlers._util import qget

GO_ZERO_UNIX = -62135596800
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def go_time_string(unix_seconds: int) -> str:
    """Go's layout ``Mon Jan 2 15:04:05 -0700 MST 2006`` for a UTC time."""
    if unix_seconds == GO_ZERO_UNIX:
        return "Mon Jan 1 00:00:00 +0000 UTC 0001"
    t = time.gmtime(unix_seconds)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000 UTC {t.tm_year:04d}"
    )


async def set_busy(ctx: Ctx) -> Response:
    ctx.require("manage_system")
    raw = qget(ctx, "seconds") or str(DEFAULT_BUSY_SECONDS)
    seconds = int(raw) if _INT_RE.match(raw) else None
    if seconds is not None and not -(2**63) <= seconds <= 2**63 - 1:
        seconds = None
    low = 0 if ctx.fault(Fault.BUSY_ACCEPTS_ZERO_SECONDS) else 1
    if seconds is None or seconds < low or seconds > MAX_BUSY_SECONDS:
        raise invalid_url_param(f"seconds must be 1 - {MAX_BUSY_SECONDS}")
    if ctx.fault(Fault.BUSY_SECONDS_IGNORED):
        seconds = DEFAULT_BUSY_SECONDS
    ctx.state.set_busy(seconds)
    return ctx.ok()


async def get_busy(ctx: Ctx) -> Response:
    ctx.require("manage_system")
    st = ctx.state
    busy = st.is_busy()
    with st.lock:
        expires_at = st.busy_expires
    expires = int(expires_at) if busy and expires_at is not None else GO_ZERO_UNIX
    body: dict[str, object] = {
        "busy": busy,
        "expires": expires,
        "expires_ts": go_time_string(expires),
    }
    if ctx.fault(Fault.BUSY_EXPIRES_IN_MILLISECONDS):
        body["expires"] = expires * 1000
    if ctx.fault(Fault.BUSY_EXPIRES_AS_STRING):
        body["expires"] = str(expires)
    if ctx.fault(Fault.BUSY_MISSING_EXPIRES):
        del body["expires"]
    return ctx.json(body)


async def clear_busy(ctx: Ctx) -> Response:
    ctx.require("manage_system")
    if not ctx.fault(Fault.BUSY_CLEAR_IGNORED):
        ctx.state.clear_busy()
    return ctx.ok()


OPERATIONS: list[Op] = [
    Op("SetServerBusy", "POST", "/api/v4/server_busy", set_busy, local=True, since="5.20"),
    Op("GetServerBusyExpires", "GET", "/api/v4/server_busy", get_busy, local=True, since="5.20"),
    Op("ClearServerBusy", "DELETE", "/api/v4/server_busy", clear_busy, local=True, since="5.20"),
]
