"""Analytics rows: their names and order, per team, and unknown names refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from suites.scenarios.support_test import (
    Verdict,
)

#: A well-formed team id; no team membership is checked by the operations that take one.
TEAM_ID = "mmconformteam000000000000a"


STANDARD_ROWS = (
    "channel_open_count",
    "channel_private_count",
    "post_count",
    "unique_user_count",
    "team_count",
    "total_websocket_connections",
    "total_master_db_connections",
    "total_read_db_connections",
    "daily_active_users",
    "monthly_active_users",
    "inactive_user_count",
)
EXTRA_ROWS = (
    "file_post_count",
    "hashtag_post_count",
    "incoming_webhook_count",
    "outgoing_webhook_count",
    "command_count",
    "session_count",
)


def _rows(client: httpx.Client, verdict: Verdict, **params: str) -> list[dict[str, Any]]:
    response = verdict.record(client.get("/analytics/old", params=params))
    verdict.status(response, 200, what=f"analytics {params}")
    body = response.json()
    verdict.check(isinstance(body, list), "an array of rows", response=response)
    return list(body)


@pytest.mark.mm_operation("GetAnalyticsOld")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("analytics.row-names")
@pytest.mark.parametrize(
    ("name", "expected"), [("standard", STANDARD_ROWS), ("extra_counts", EXTRA_ROWS)]
)
def test_analytics_rows_are_named_in_order(
    name: str, expected: tuple[str, ...], admin_client: httpx.Client, verdict: Verdict
) -> None:
    rows = _rows(admin_client, verdict, name=name)
    names = tuple(row.get("name") for row in rows)
    verdict.check(
        names == expected,
        f"the {name} rows {', '.join(expected)}, in that order",
        received=f"{names}",
    )
    if name == "standard":
        inactive = rows[-1].get("value")
        verdict.check(
            isinstance(inactive, int | float) and inactive >= 0,
            "inactive_user_count >= 0 for the whole server",
            received=f"{inactive!r}",
        )


@pytest.mark.mm_operation("GetAnalyticsOld")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("analytics.team-scope")
def test_team_analytics_leave_out_the_inactive_user_count(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    rows = {
        row.get("name"): row.get("value") for row in _rows(admin_client, verdict, team_id=TEAM_ID)
    }
    verdict.check(
        rows.get("inactive_user_count") == -1,
        "inactive_user_count -1 when the rows are for one team",
        received=f"{rows}",
    )


@pytest.mark.mm_operation("GetAnalyticsOld")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("analytics.unknown-name-refused", "errors.app-error-shape")
def test_unknown_analytics_name_is_refused(admin_client: httpx.Client, verdict: Verdict) -> None:
    response = verdict.record(admin_client.get("/analytics/old", params={"name": "all_the_rows"}))
    verdict.app_error(
        response,
        status=400,
        error_id="api.context.invalid_body_param.app_error",
        requirement="analytics.unknown-name-refused",
    )
