"""Server busy: setting it reports an expiry N seconds ahead on the target's own clock, setting
it again restarts the timer, it ends by itself, DELETE ends it, bad values are refused, no value
means an hour, and ``expires`` is in Unix seconds and agrees with ``expires_ts``.

Times are judged against the target's clock (its ``Date`` header), never the runner's, within
:data:`TOLERANCE` seconds: the header has a resolution of one second and the target may round
or cache it. The flag is cleared after every scenario (``busy_guard``), whatever happened.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from suites.scenarios.support_test import Verdict, poll, server_time

BUSY = "/server_busy"
#: Seconds by which an expiry may differ from "the target's Date + N".
TOLERANCE = 3
DEFAULT_SECONDS = 3600
#: The short busy period whose end the expiry scenario waits for.
SHORT = 2
_EXPIRES_TS = re.compile(
    r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-]\d{4}) \S+ (\d{4})$"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

pytestmark = [
    pytest.mark.mm_operation("SetServerBusy", "GetServerBusyExpires", "ClearServerBusy"),
    pytest.mark.mm_role("system_admin"),
    pytest.mark.mm_global_state("server_busy"),
    pytest.mark.usefixtures("busy_guard"),
]


def _set(client: httpx.Client, verdict: Verdict, seconds: str | None) -> httpx.Response:
    params = {} if seconds is None else {"seconds": seconds}
    return verdict.record(client.post(BUSY, params=params))


def _state(
    client: httpx.Client, verdict: Verdict, requirement: str | None = None
) -> tuple[httpx.Response, dict[str, Any]]:
    response = verdict.record(client.get(BUSY))
    verdict.status(response, 200, requirement=requirement)
    return response, verdict.json_object(response, requirement=requirement)


def _expiry_near(
    verdict: Verdict,
    set_response: httpx.Response,
    seconds: int,
    *,
    client: httpx.Client,
    requirement: str | None = None,
) -> int:
    """After ``set_response``: GET reports busy, expiring ``seconds`` after the target's Date
    at the moment it was set (within the tolerance); the reported expiry."""
    verdict.status(set_response, 200, requirement=requirement, what=f"busy for {seconds} s")
    response, body = _state(client, verdict, requirement)
    verdict.check(
        body.get("busy") is True, "busy: true", response=response, requirement=requirement
    )
    expires = body.get("expires")
    wanted = server_time(set_response) + seconds
    verdict.check(
        isinstance(expires, int) and abs(expires - wanted) <= TOLERANCE,
        f"expires within {TOLERANCE} s of {int(wanted)} (the target's Date when busy was set, "
        f"{set_response.headers.get('date')}, plus {seconds} s)",
        received=f"expires {expires!r} ({_when(expires)}); body {body}",
        response=response,
        requirement=requirement,
    )
    assert isinstance(expires, int)
    return expires


def _when(expires: Any) -> str:
    if not isinstance(expires, int):
        return "not an integer"
    try:
        return datetime.fromtimestamp(expires, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return "not a time in Unix seconds"


@pytest.mark.mm_requirement("busy.set-reports-expiry")
def test_setting_busy_reports_the_expiry_on_the_targets_clock(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    _expiry_near(verdict, _set(admin_client, verdict, "30"), 30, client=admin_client)


@pytest.mark.mm_requirement("busy.set-again-restarts")
def test_setting_busy_again_restarts_the_timer(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    first = _expiry_near(verdict, _set(admin_client, verdict, "600"), 600, client=admin_client)
    second = _expiry_near(verdict, _set(admin_client, verdict, "20"), 20, client=admin_client)
    verdict.check(
        second < first,
        "the second, shorter busy period to replace the first",
        received=f"expires {second} after the second POST, {first} after the first",
    )


@pytest.mark.mm_requirement("busy.expires")
def test_busy_ends_by_itself_when_it_expires(admin_client: httpx.Client, verdict: Verdict) -> None:
    """Busy for a couple of seconds, then polled until not busy, within the tolerance."""
    expires = _expiry_near(
        verdict, _set(admin_client, verdict, str(SHORT)), SHORT, client=admin_client
    )
    deadline = time.monotonic() + SHORT + TOLERANCE
    last = poll(
        lambda: admin_client.get(BUSY),
        lambda r: r.status_code == 200 and r.json().get("busy") is False,
        deadline=deadline,
    )
    verdict.check(
        last.status_code == 200 and last.json().get("busy") is False,
        f"busy: false once {SHORT} s have passed (waited {SHORT + TOLERANCE} s; expiry was "
        f"{expires})",
        response=last,
    )


@pytest.mark.mm_requirement("busy.clear")
def test_delete_clears_busy(admin_client: httpx.Client, verdict: Verdict) -> None:
    _expiry_near(verdict, _set(admin_client, verdict, "300"), 300, client=admin_client)
    cleared = verdict.record(admin_client.delete(BUSY))
    verdict.status(cleared, 200)
    response, body = _state(admin_client, verdict)
    verdict.check(body.get("busy") is False, "busy: false after DELETE", response=response)
    expires = body.get("expires")
    verdict.check(
        isinstance(expires, int) and expires <= server_time(response),
        "an expiry that is not in the future (the zero time)",
        response=response,
    )
    again = verdict.record(admin_client.delete(BUSY))
    verdict.status(again, 200, what="DELETE on a server that is not busy")


@pytest.mark.mm_requirement("busy.invalid-seconds", "errors.app-error-shape")
@pytest.mark.parametrize("seconds", ["0", "-1", "86401", "abc", "1.5", "1e3"])
def test_invalid_seconds_are_refused(
    seconds: str, admin_client: httpx.Client, verdict: Verdict
) -> None:
    verdict.record(admin_client.delete(BUSY))
    response = _set(admin_client, verdict, seconds)
    verdict.app_error(
        response,
        status=400,
        error_id="api.context.invalid_url_param.app_error",
        requirement="busy.invalid-seconds",
    )
    state, body = _state(admin_client, verdict, "busy.invalid-seconds")
    verdict.check(
        body.get("busy") is False,
        f"still not busy after the refused seconds={seconds}",
        response=state,
        requirement="busy.invalid-seconds",
    )


@pytest.mark.mm_requirement("busy.default-seconds")
@pytest.mark.parametrize("seconds", [None, ""], ids=["missing", "empty"])
def test_no_seconds_means_an_hour(
    seconds: str | None, admin_client: httpx.Client, verdict: Verdict
) -> None:
    _expiry_near(
        verdict, _set(admin_client, verdict, seconds), DEFAULT_SECONDS, client=admin_client
    )


@pytest.mark.mm_requirement("busy.expires-unix-seconds")
def test_expires_is_unix_seconds_and_agrees_with_expires_ts(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    verdict.status(_set(admin_client, verdict, "120"), 200)
    response, body = _state(admin_client, verdict)
    expires, text = body.get("expires"), body.get("expires_ts")
    now = server_time(response)
    verdict.check(
        isinstance(expires, int) and now < expires <= now + 120 + TOLERANCE,
        f"expires in Unix seconds, about 120 s after the target's Date ({int(now)})",
        received=f"expires {expires!r} ({_when(expires)})",
        response=response,
    )
    parsed = _parse_expires_ts(text)
    verdict.check(
        parsed is not None and parsed == expires,
        f"expires_ts naming the same instant as expires ({_when(expires)}), in Go's layout "
        '"Mon Jan 2 15:04:05 -0700 MST 2006"',
        received=f"expires_ts {text!r}",
        response=response,
    )


def _parse_expires_ts(text: Any) -> int | None:
    """Unix seconds of an ``expires_ts`` (Go's ``Mon Jan 2 15:04:05 -0700 MST 2006``)."""
    match = _EXPIRES_TS.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    month, day, hour, minute, second, offset, year = match.groups()
    sign = 1 if offset[0] == "+" else -1
    shift = sign * (int(offset[1:3]) * 3600 + int(offset[3:5]) * 60)
    stamp = datetime(
        int(year),
        _MONTHS.index(month) + 1,
        int(day),
        int(hour),
        int(minute),
        int(second),
        tzinfo=UTC,
    )
    return int(stamp.timestamp()) - shift
