"""Product notices: per team and client, and marked viewed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from suites.scenarios.support_test import (
    Verdict,
)

ClientFor = Callable[..., httpx.Client]

#: A well-formed team id; no team membership is checked by the operations that take one.
TEAM_ID = "mmconformteam000000000000a"


@pytest.mark.mm_operation("GetNotices")
@pytest.mark.mm_requirement("notices.input-validated", "errors.app-error-shape")
@pytest.mark.parametrize(
    ("team", "client", "error_id"),
    [
        (TEAM_ID, "all", "api.context.invalid_body_param.app_error"),
        (TEAM_ID, "", "api.context.invalid_body_param.app_error"),
        ("abcde", "web", "api.context.invalid_url_param.app_error"),
    ],
    ids=["unknown-client", "no-client", "short-team-id"],
)
def test_notices_need_a_known_client_and_a_team_id(
    team: str, client: str, error_id: str, client_for: ClientFor, verdict: Verdict
) -> None:
    response = verdict.record(
        client_for("system_user").get(f"/system/notices/{team}", params={"client": client})
    )
    verdict.app_error(
        response, status=400, error_id=error_id, requirement="notices.input-validated"
    )


@pytest.mark.mm_operation("GetNotices", "MarkNoticesViewed")
@pytest.mark.mm_requirement("notices.viewed-hidden")
def test_a_notice_marked_viewed_is_not_shown_again(client_for: ClientFor, verdict: Verdict) -> None:
    user = client_for("system_user")
    path = f"/system/notices/{TEAM_ID}"
    params = {"client": "web", "clientVersion": "10.0.0", "locale": "en"}
    before = verdict.record(user.get(path, params=params))
    verdict.status(before, 200)
    notices = before.json() or []
    if not notices:
        pytest.skip(
            "the target lists no notice for this user (GET /system/notices as system_user, "
            "client web); notices come from the server's notice feed (AnnouncementSettings), "
            "which no API call can fill, so there is none to mark viewed"
        )
    notice_id = notices[0].get("id")
    marked = verdict.record(user.put("/system/notices/view", json=[notice_id]))
    verdict.status(marked, 200)
    verdict.check(
        verdict.json_object(marked).get("status") == "OK", '{"status": "OK"}', response=marked
    )
    after = verdict.record(user.get(path, params=params))
    verdict.status(after, 200)
    verdict.check(
        notice_id not in [n.get("id") for n in after.json() or []],
        f"notice {notice_id!r} no longer shown to the user who viewed it",
        response=after,
    )
