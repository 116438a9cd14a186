"""Errors: whatever provokes it, an error answer is an AppError whose ``id`` is not empty,
whose ``status_code`` is the HTTP status and whose ``request_id`` repeats ``X-Request-Id``
wherever the contract declares that header (every answer of the request pipeline; not the
router's catch-all 404). Outside developer mode ``detailed_error`` stays empty.

Every other scenario holds the errors it provokes to the same shape
(``Verdict.app_error``); this module provokes one error of each kind on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mmconform.contract import ANONYMOUS, PERMISSION_ERROR_ID, SESSION_ERROR_ID, setting_value
from suites.scenarios.support_test import Verdict

ClientFor = Callable[..., httpx.Client]
TEAM_ID = "mmconformteam000000000000a"


@dataclass(frozen=True)
class Provoked:
    """A request that must fail, and how."""

    name: str
    operation: str
    role: str
    method: str
    path: str
    status: int
    error_id: str
    params: dict[str, str] = field(default_factory=dict)
    #: the router's catch-all answers outside the pipeline (its detailed_error names the URL)
    catch_all: bool = False


PROVOKED = [
    Provoked(
        "no-session",
        "GetSupportedTimezone",
        ANONYMOUS,
        "GET",
        "/system/timezones",
        401,
        SESSION_ERROR_ID,
    ),
    Provoked(
        "no-permission",
        "GetConfig",
        "system_user",
        "GET",
        "/config",
        403,
        PERMISSION_ERROR_ID,
    ),
    Provoked(
        "no-read-audits",
        "GetAudits",
        "system_manager",
        "GET",
        "/audits",
        403,
        PERMISSION_ERROR_ID,
    ),
    Provoked(
        "bad-query-value",
        "GetAnalyticsOld",
        "system_admin",
        "GET",
        "/analytics/old",
        400,
        "api.context.invalid_body_param.app_error",
        {"name": "no_such_rows"},
    ),
    Provoked(
        "bad-url-id",
        "GetNotices",
        "system_user",
        "GET",
        "/system/notices/abcde",
        400,
        "api.context.invalid_url_param.app_error",
        {"client": "web"},
    ),
    Provoked(
        "catch-all-404",
        "GetNotices",
        "system_user",
        "GET",
        "/system/notices/not-an-id!",
        404,
        "api.context.404.app_error",
        {"client": "web"},
        catch_all=True,
    ),
]


def _params(cases: list[Provoked]) -> list[Any]:
    return [
        pytest.param(case, id=case.name, marks=pytest.mark.mm_operation(case.operation))
        for case in cases
    ]


@pytest.mark.mm_requirement("errors.app-error-shape")
@pytest.mark.parametrize("case", _params(PROVOKED))
def test_errors_are_app_errors_that_agree_with_their_answer(
    case: Provoked, client_for: ClientFor, verdict: Verdict
) -> None:
    response = verdict.record(
        client_for(case.role).request(case.method, case.path, params=case.params)
    )
    verdict.app_error(response, status=case.status, error_id=case.error_id)


@pytest.mark.mm_requirement("errors.detailed-error-hidden")
@pytest.mark.mm_global_state("config")
@pytest.mark.parametrize("case", _params([c for c in PROVOKED if not c.catch_all]))
def test_detailed_error_is_empty_outside_developer_mode(
    case: Provoked, client_for: ClientFor, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    if setting_value(admin_config, ("ServiceSettings", "EnableDeveloper")) is True:
        pytest.skip("developer mode is on (ServiceSettings.EnableDeveloper): errors say more")
    response = verdict.record(
        client_for(case.role).request(case.method, case.path, params=case.params)
    )
    verdict.status(response, case.status)
    body = verdict.json_object(response)
    verdict.check(
        body.get("detailed_error", "") == "",
        "an empty detailed_error outside developer mode",
        response=response,
    )
