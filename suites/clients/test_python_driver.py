"""The official Python driver, ``mattermostautodriver`` (generated from Mattermost's own API
description), against the target.

One test per driver method and role. A call must return the decoded JSON value the contract
documents for the answer's status (the driver decodes a body only when it is served as exactly
``application/json``, and hands back the raw response otherwise), or raise a
``MattermostError`` whose status and error id are what the contract predicts for that role on
this server. A zip (the support packet) and a redirect come back as the raw response, as the
driver intends.

The driver has a method for 38 of the 39 operations; RequestLicenseRenewalLink, gone from
servers, has none. CheckIntegrity is served only on the local-mode socket and is called there.
Some methods cannot send what the operation needs, and the contract says what a correct server
answers them: ``request_trial_license`` sends only ``users`` (a legacy request without the
terms accepted), ``acknowledge_notification`` no body, ``get_image_by_url`` no ``url`` and
``get_client_config`` no ``format`` (refused before 11.0).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mmconform.contract import LOCAL, Contract, MatrixConditions, Version
from mmconform.harness import ConformanceSession, ResponseChecker, ServerFacts, Target, redact
from suites.clients.cases_test import (
    CLIENT_VERSION,
    NO_CONFIG_REFUSED,
    STORED_SETTINGS,
    TEAM_ID,
    CallContext,
    Case,
    expectation,
    failure,
    guarded,
    parametrize,
    upgrade,
    upgrade_allowed,
)
from suites.clients.expect_test import ErrorAnswer, Granted, granted_from_erratum

REQUIREMENT = "clients.python-driver"


def _trial(ctx: CallContext) -> Granted:
    # The driver sends {"users": N}: a legacy request without the terms accepted.
    return Granted(
        value=False,
        answers=(
            ErrorAnswer(
                400, "api.license.request-trial.bad-request.terms-not-accepted", "no terms"
            ),
            ErrorAnswer(
                400, "api.license.request-trial.can-start-trial.not-allowed", "no trial left"
            ),
        ),
    )


def _license_file(ctx: CallContext) -> tuple[str, bytes]:
    data = ctx.accepted_license() if ctx.granted else ctx.invalid_license()
    return ("conformance.mattermost-license", data)


CASES = [
    Case("get_ping", "GetPing", call=lambda d, ctx: d.system.get_ping(get_server_status=True)),
    Case(
        "get_supported_timezone",
        "GetSupportedTimezone",
        call=lambda d, ctx: d.system.get_supported_timezone(),
    ),
    Case(
        "get_notices",
        "GetNotices",
        call=lambda d, ctx: d.system.get_notices(TEAM_ID, CLIENT_VERSION, "web"),
    ),
    Case(
        "mark_notices_viewed",
        "MarkNoticesViewed",
        call=lambda d, ctx: d.system.mark_notices_viewed([]),
    ),
    Case("database_recycle", "DatabaseRecycle", call=lambda d, ctx: d.system.database_recycle()),
    # No body (JSON null): upstream tests its stored settings; a stricter server may refuse the
    # body first, for every caller with a session (erratum lenient-body-parsing, the tolerance
    # policy).
    Case(
        "test_email",
        "TestEmail",
        granted=lambda ctx: Granted(answers=STORED_SETTINGS, strict=NO_CONFIG_REFUSED),
        call=lambda d, ctx: d.system.test_email(None),
    ),
    Case("test_notification", "TestNotification", call=lambda d, ctx: d.system.test_notification()),
    Case(
        "test_site_url",
        "TestSiteURL",
        granted=lambda ctx: Granted(
            answers=(
                ErrorAnswer(400, "app.admin.test_site_url.failure", "it cannot reach its URL"),
            )
        ),
        call=lambda d, ctx: d.system.test_site_url(ctx.target.url),
    ),
    Case(
        "test_s3_connection",
        "TestS3Connection",
        granted=lambda ctx: Granted(answers=STORED_SETTINGS, strict=NO_CONFIG_REFUSED),
        call=lambda d, ctx: d.system.test_s3_connection(None),
    ),
    Case("get_config", "GetConfig", call=lambda d, ctx: d.system.get_config()),
    Case(
        "update_config",
        "UpdateConfig",
        guard="config",
        call=lambda d, ctx: d.system.update_config(ctx.config() if ctx.granted else {}),
    ),
    Case(
        "reload_config",
        "ReloadConfig",
        guard="config",
        call=lambda d, ctx: d.system.reload_config(),
    ),
    Case(
        "get_client_config",
        "GetClientConfig",
        granted=lambda ctx: granted_from_erratum(
            ctx.contract, "client-config-format", "format_missing", ctx.version
        ),
        call=lambda d, ctx: d.system.get_client_config(),
    ),
    Case(
        "get_environment_config",
        "GetEnvironmentConfig",
        call=lambda d, ctx: d.system.get_environment_config(),
    ),
    Case(
        "patch_config", "PatchConfig", guard="config", call=lambda d, ctx: d.system.patch_config({})
    ),
    Case(
        "upload_license_file",
        "UploadLicenseFile",
        guard="license",
        call=lambda d, ctx: d.system.upload_license_file(_license_file(ctx)),
    ),
    Case(
        "remove_license_file",
        "RemoveLicenseFile",
        guard="license",
        call=lambda d, ctx: d.system.remove_license_file(),
    ),
    Case(
        "get_client_license",
        "GetClientLicense",
        call=lambda d, ctx: d.system.get_client_license("old"),
    ),
    Case(
        "get_license_load_metric",
        "GetLicenseLoadMetric",
        call=lambda d, ctx: d.system.get_license_load_metric(),
    ),
    Case(
        "request_trial_license",
        "RequestTrialLicense",
        granted=_trial,
        guard="license",
        call=lambda d, ctx: d.system.request_trial_license(1000),
    ),
    Case(
        "get_prev_trial_license",
        "GetPrevTrialLicense",
        call=lambda d, ctx: d.system.get_prev_trial_license(),
    ),
    Case("get_audits", "GetAudits", call=lambda d, ctx: d.system.get_audits(page=0, per_page=10)),
    Case("invalidate_caches", "InvalidateCaches", call=lambda d, ctx: d.system.invalidate_caches()),
    Case("get_logs", "GetLogs", call=lambda d, ctx: d.system.get_logs(page=0, logs_per_page="10")),
    Case(
        "post_log",
        "PostLog",
        call=lambda d, ctx: d.system.post_log("ERROR", "client compatibility check"),
    ),
    Case(
        "get_analytics_old",
        "GetAnalyticsOld",
        call=lambda d, ctx: d.system.get_analytics_old(name="standard"),
    ),
    Case(
        "set_server_busy",
        "SetServerBusy",
        guard="server_busy",
        call=lambda d, ctx: d.system.set_server_busy(seconds="30"),
    ),
    Case(
        "get_server_busy_expires",
        "GetServerBusyExpires",
        call=lambda d, ctx: d.system.get_server_busy_expires(),
    ),
    Case(
        "clear_server_busy",
        "ClearServerBusy",
        guard="server_busy",
        call=lambda d, ctx: d.system.clear_server_busy(),
    ),
    Case(
        "acknowledge_notification",
        "AcknowledgeNotification",
        # The driver sends no body: the ack cannot be parsed.
        granted=lambda ctx: Granted(
            value=False,
            answers=(ErrorAnswer(400, "api.push_notifications_ack.message.parse.app_error"),),
        ),
        call=lambda d, ctx: d.root.acknowledge_notification(),
    ),
    Case(
        "get_redirect_location",
        "GetRedirectLocation",
        call=lambda d, ctx: d.system.get_redirect_location(f"{ctx.target.url}/api/v4/system/ping"),
    ),
    Case(
        "get_image_by_url",
        "GetImageByUrl",
        granted=lambda ctx: granted_from_erratum(
            ctx.contract, "image-url-parameter", "url_missing", ctx.version
        ),
        call=lambda d, ctx: d.system.get_image_by_url(),
    ),
    Case(
        "upgrade_to_enterprise",
        "UpgradeToEnterprise",
        granted=upgrade,
        call=lambda d, ctx: d.system.upgrade_to_enterprise(),
    ),
    Case(
        "upgrade_to_enterprise_status",
        "UpgradeToEnterpriseStatus",
        call=lambda d, ctx: d.system.upgrade_to_enterprise_status(),
    ),
    Case(
        "is_allowed_to_upgrade_to_enterprise",
        "IsAllowedToUpgradeToEnterprise",
        granted=upgrade_allowed,
        call=lambda d, ctx: d.system.is_allowed_to_upgrade_to_enterprise(),
    ),
    Case("restart_server", "RestartServer", call=lambda d, ctx: d.system.restart_server()),
    Case(
        "check_integrity",
        "CheckIntegrity",
        roles=(LOCAL,),
        call=lambda d, ctx: d.system.check_integrity(),
    ),
    Case(
        "generate_support_packet",
        "GenerateSupportPacket",
        call=lambda d, ctx: d.system.generate_support_packet(),
    ),
]


@dataclass(frozen=True)
class DriverAnswer:
    """What one driver call gave."""

    outcome: str  # "value", "raw" (an httpx.Response), "error", "unreadable_error", "exception"
    status: int | None = None
    error_id: str | None = None
    value: Any = None
    detail: str = ""
    #: no complete answer arrived (refused, reset, timed out, cut short): the target's health
    #: check counts it, even when the status line came before the connection broke
    transport_failed: bool = False


def call_driver(driver: Any, case: Case, ctx: CallContext) -> DriverAnswer:
    from mattermostautodriver.exceptions import InvalidMattermostError, MattermostError

    assert case.call is not None
    driver.last_response = None
    try:
        result = case.call(driver, ctx)
    except MattermostError as exc:
        return DriverAnswer("error", exc.status_code, exc.error_id, detail=str(exc))
    except InvalidMattermostError as exc:
        return DriverAnswer("unreadable_error", exc.status_code, detail=str(exc)[:300])
    except (httpx.HTTPError, ValueError) as exc:
        return DriverAnswer(
            "exception",
            detail=f"{type(exc).__name__}: {exc}",
            transport_failed=isinstance(exc, httpx.TransportError),
        )
    if isinstance(result, httpx.Response):
        return DriverAnswer("raw", result.status_code, value=result)
    last: httpx.Response | None = driver.last_response
    return DriverAnswer("value", last.status_code if last is not None else None, value=result)


def describe(answer: DriverAnswer) -> str:
    if answer.outcome == "value":
        return f"a value {answer.value!r:.300} (HTTP {answer.status})"
    if answer.outcome == "raw":
        response: httpx.Response = answer.value
        return (
            f"the raw response: HTTP {response.status_code} "
            f"({response.headers.get('content-type')}) {response.text[:200]!r}"
        )
    if answer.outcome == "error":
        return f"MattermostError status={answer.status} error_id={answer.error_id!r}"
    if answer.outcome == "unreadable_error":
        return f"InvalidMattermostError status={answer.status}: {answer.detail}"
    return answer.detail


def value_problems(
    answer: DriverAnswer, case: Case, contract: Contract, checker: ResponseChecker
) -> list[str]:
    """A value must be the decoded JSON the contract documents; a raw response is right only
    where the contract documents no JSON for the status (a zip, an image)."""
    status = answer.status or 200
    media = contract.response_media_types(case.operation, status)
    operation = contract.operation(case.operation)
    if answer.outcome == "raw":
        if "application/json" in media:
            response: httpx.Response = answer.value
            return [
                "the driver did not decode the body: it decodes only a Content-Type of exactly "
                f"'application/json', and got {response.headers.get('content-type')!r}"
            ]
        return []
    body = json.dumps(answer.value).encode()
    path = operation.client_path(teamId=TEAM_ID) if "{" in operation.path else operation.path
    if not path.startswith("/api/v4"):
        path = "/api/v4" + path
    return checker.problems(operation.method, path, status, "application/json", body)


def _is_redirect(status: int | None) -> bool:
    return status is not None and 300 <= status < 400


@parametrize(CASES, REQUIREMENT)
def test_driver_method_answers_as_the_contract_predicts(
    case: Case,
    role: str,
    python_driver_for: Any,
    target: Target,
    contract: Contract,
    server_version: Version | None,
    server_facts: ServerFacts,
    conditions_for: Callable[[str], MatrixConditions],
    response_checker: ResponseChecker,
    request: pytest.FixtureRequest,
    mm_session: ConformanceSession,
) -> None:
    """The method returns the documented value, or raises the predicted MattermostError."""
    driver = python_driver_for(role)
    conditions = conditions_for(case.operation)
    ctx = CallContext(request, target, contract, server_version, server_facts, conditions, role)
    expected = expectation(ctx, case)
    ctx.granted = expected.passes
    what = f"{case.method} of mattermostautodriver as {role}"
    mm_session.health.before(what, float(driver.options["timeout"]))
    started = time.monotonic()
    with guarded(ctx, case):
        answer = call_driver(driver, case, ctx)
    if answer.transport_failed:
        mm_session.health.failed(what, answer.detail)
    else:
        mm_session.health.answered(time.monotonic() - started)
    problems: list[str] = []
    is_value = answer.outcome == "value" or (
        answer.outcome == "raw" and answer.status is not None and 200 <= answer.status < 300
    )
    if is_value:
        if not expected.value:
            problems.append("the driver returned a value, but a correct server refuses this call")
        problems += value_problems(answer, case, contract, response_checker)
    elif answer.outcome in ("error", "raw"):
        if not expected.allows_error(answer.status, answer.error_id):
            problems.append("not the error a correct server gives")
    elif answer.outcome == "unreadable_error" and _is_redirect(answer.status):
        # The driver raises for a redirect too, with its status and no error id.
        if not expected.allows_error(answer.status, None):
            problems.append("not the answer a correct server gives")
    elif answer.outcome == "unreadable_error":
        problems.append("the driver could not read the error body as a Mattermost error")
    else:
        problems.append("the driver failed without an answer")
    if problems:
        pytest.fail(
            redact(
                failure("mattermostautodriver", case, role, expected, describe(answer), problems),
                target.tokens,
            ),
            pytrace=False,
        )
