"""The official TypeScript client, ``@mattermost/client`` (``Client4``, the API layer of the web
and desktop apps), at the version ``node/package-lock.json`` pins, against the target.

One test per client method and role. A call must resolve to a value of the shape the client's
types declare, or reject with a ``ClientError`` whose ``status_code`` and ``server_error_id``
are what the contract predicts for that role on this server. Those two fields are all a caller
of the client sees of an error, and the client fills them only from a JSON body it recognises.

``Client4`` 11.9 has a method for 29 of the 39 operations. It has none for
GetSupportedTimezone, SetServerBusy, GetServerBusyExpires, ClearServerBusy,
AcknowledgeNotification, GetRedirectLocation, GetImageByUrl, GenerateSupportPacket,
RequestLicenseRenewalLink (gone from servers) and CheckIntegrity (local socket only), so those
are not tested through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from mmconform.contract import Contract, MatrixConditions, Version
from mmconform.harness import ConformanceSession, ServerFacts, Target, redact
from suites.clients import shapes_test as shapes
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
from suites.clients.expect_test import ErrorAnswer, Granted
from suites.clients.node_test import NodeAnswer, NodeDriver, file_arg

REQUIREMENT = "clients.typescript-client"
TRIAL_REQUIREMENT = "clients.trial-request-extended"

#: The request body the web app's trial form sends (``RequestLicenseBody``).
TRIAL_REQUEST = {
    "users": 1000,
    "terms_accepted": True,
    "receive_emails_accepted": False,
    "contact_name": "Conformance Suite",
    "contact_email": "conformance@example.com",
    "company_name": "mmconform",
    "company_size": "1-10",
    "company_country": "US",
}


def _trial(ctx: CallContext) -> Granted:
    # Never 400 api.license.request-trial.bad-request: the body is a valid extended request.
    return Granted(
        answers=(
            ErrorAnswer(
                400, "api.license.request-trial.can-start-trial.not-allowed", "no trial left"
            ),
            ErrorAnswer(400, "api.license.add_license.unique_users.app_error", "more users"),
            ErrorAnswer(
                400, "api.license.request-trial.bad-request.business-email", "email refused"
            ),
            ErrorAnswer(451, None, "not available in this region"),
            ErrorAnswer(500, None, "the licensing service failed"),
        )
    )


def _upload_args(ctx: CallContext) -> list[Any]:
    data = ctx.accepted_license() if ctx.granted else ctx.invalid_license()
    return [file_arg("conformance.mattermost-license", data)]


CASES = [
    Case("ping", "GetPing", lambda ctx: [True]),
    Case("getClientConfig", "GetClientConfig"),
    Case("getClientLicenseOld", "GetClientLicense"),
    Case("getLicenseLoadMetric", "GetLicenseLoadMetric"),
    Case("getInProductNotices", "GetNotices", lambda ctx: [TEAM_ID, "web", CLIENT_VERSION]),
    Case("updateNoticesAsViewed", "MarkNoticesViewed", lambda ctx: [[]]),
    Case("getPlainLogs", "GetLogs", lambda ctx: [0, 10]),
    Case("logClientError", "PostLog", lambda ctx: ["client compatibility check", "ERROR"]),
    Case("getAudits", "GetAudits", lambda ctx: [0, 10]),
    Case("getAnalytics", "GetAnalyticsOld", lambda ctx: ["standard", ""]),
    Case("getConfig", "GetConfig"),
    Case(
        "updateConfig",
        "UpdateConfig",
        # The config as it is (no change); a caller that may not write it sends an empty one.
        lambda ctx: [ctx.config() if ctx.granted else {}],
        guard="config",
    ),
    Case("patchConfig", "PatchConfig", lambda ctx: [{}], guard="config"),
    Case("reloadConfig", "ReloadConfig", guard="config"),
    Case("getEnvironmentConfig", "GetEnvironmentConfig"),
    Case("sendTestNotificaiton", "TestNotification"),
    # No body: upstream tests its stored settings; a stricter server may refuse the missing
    # configuration first (erratum lenient-body-parsing).
    Case(
        "testEmail",
        "TestEmail",
        granted=lambda ctx: Granted(answers=STORED_SETTINGS, strict=NO_CONFIG_REFUSED),
    ),
    Case(
        "testS3Connection",
        "TestS3Connection",
        granted=lambda ctx: Granted(answers=STORED_SETTINGS, strict=NO_CONFIG_REFUSED),
    ),
    Case(
        "testSiteURL",
        "TestSiteURL",
        lambda ctx: [ctx.target.url],
        granted=lambda ctx: Granted(
            answers=(
                ErrorAnswer(400, "app.admin.test_site_url.failure", "it cannot reach its URL"),
            )
        ),
    ),
    Case("invalidateCaches", "InvalidateCaches"),
    Case("recycleDatabase", "DatabaseRecycle"),
    Case("restartServer", "RestartServer"),
    Case("upgradeToEnterprise", "UpgradeToEnterprise", granted=upgrade),
    Case("upgradeToEnterpriseStatus", "UpgradeToEnterpriseStatus"),
    Case(
        "isAllowedToUpgradeToEnterprise", "IsAllowedToUpgradeToEnterprise", granted=upgrade_allowed
    ),
    Case("uploadLicense", "UploadLicenseFile", _upload_args, guard="license"),
    Case("removeLicense", "RemoveLicenseFile", guard="license"),
    Case(
        "requestTrialLicense",
        "RequestTrialLicense",
        lambda ctx: [TRIAL_REQUEST],
        granted=_trial,
        guard="license",
        requirements=(TRIAL_REQUIREMENT,),
    ),
    Case("getPrevTrialLicense", "GetPrevTrialLicense"),
]

#: What each method resolves to, as the client's types declare it.
SHAPES: Mapping[str, shapes.Shape] = {
    "ping": shapes.PING,
    "getClientConfig": shapes.CLIENT_CONFIG,
    "getClientLicenseOld": shapes.CLIENT_LICENSE,
    "getLicenseLoadMetric": shapes.LOAD_METRIC,
    "getInProductNotices": shapes.PRODUCT_NOTICES,
    "updateNoticesAsViewed": shapes.STATUS_OK,
    "getPlainLogs": shapes.PLAIN_LOGS,
    "logClientError": shapes.LOG_ECHO,
    "getAudits": shapes.AUDITS,
    "getAnalytics": shapes.ANALYTICS_ROWS,
    "getConfig": shapes.ADMIN_CONFIG,
    "updateConfig": shapes.ADMIN_CONFIG,
    "patchConfig": shapes.ADMIN_CONFIG,
    "reloadConfig": shapes.STATUS_OK,
    "getEnvironmentConfig": shapes.ENVIRONMENT_CONFIG,
    "sendTestNotificaiton": shapes.STATUS_OK,
    "testEmail": shapes.STATUS_OK,
    "testS3Connection": shapes.STATUS_OK,
    "testSiteURL": shapes.STATUS_OK,
    "invalidateCaches": shapes.STATUS_OK,
    "recycleDatabase": shapes.STATUS_OK,
    "restartServer": shapes.STATUS_OK,
    "upgradeToEnterprise": shapes.STATUS_OK,
    "upgradeToEnterpriseStatus": shapes.UPGRADE_STATUS,
    "isAllowedToUpgradeToEnterprise": shapes.STATUS_OK,
    "uploadLicense": shapes.LICENSE,
    "removeLicense": shapes.STATUS_OK,
    "requestTrialLicense": shapes.TRIAL_RESPONSE,
    "getPrevTrialLicense": shapes.CLIENT_LICENSE,
}


def describe(answer: NodeAnswer) -> str:
    if answer.outcome == "value":
        text = repr(answer.value)
        return f"a value {text[:300]} ({answer.describe_http()})"
    error = dict(answer.error)
    if answer.outcome == "client_error":
        return (
            f"ClientError status_code={error.get('status_code')!r} "
            f"server_error_id={error.get('server_error_id')!r} message={error.get('message')!r} "
            f"({answer.describe_http()})"
        )
    return f"{error.get('name')}: {error.get('message')} ({answer.describe_http()})"


@parametrize(CASES, REQUIREMENT)
def test_client4_method_answers_as_the_contract_predicts(
    case: Case,
    role: str,
    typescript_client: NodeDriver,
    target: Target,
    contract: Contract,
    server_version: Version | None,
    server_facts: ServerFacts,
    conditions_for: Callable[[str], MatrixConditions],
    request: pytest.FixtureRequest,
    mm_session: ConformanceSession,
) -> None:
    """The method resolves to its declared shape, or rejects with the predicted ClientError."""
    conditions = conditions_for(case.operation)
    ctx = CallContext(request, target, contract, server_version, server_facts, conditions, role)
    expected = expectation(ctx, case)
    ctx.granted = expected.passes
    what = f"{case.method} of @mattermost/client as {role}"
    mm_session.health.before(what, typescript_client.timeout)
    started = time.monotonic()
    with guarded(ctx, case):
        try:
            answer = typescript_client.call(role, case.method, *case.args(ctx))
        except RuntimeError as exc:  # no answer: the run's health check decides what next
            mm_session.health.failed(what, str(exc))
            raise
    if answer.http is None and answer.outcome == "exception":
        mm_session.health.failed(what, str(answer.error.get("message")))
    else:
        mm_session.health.answered(time.monotonic() - started)
    problems: list[str] = []
    if answer.outcome == "value":
        if not expected.value:
            problems.append("the client resolved, but a correct server refuses this call")
        problems += SHAPES[case.method].problems(answer.value)
    elif answer.outcome == "client_error":
        error = answer.error
        if not expected.allows_error(error.get("status_code"), error.get("server_error_id")):
            problems.append("not the error a correct server gives")
    else:
        problems.append("the client failed with something other than a ClientError")
    if problems:
        pytest.fail(
            redact(
                failure("@mattermost/client", case, role, expected, describe(answer), problems),
                target.tokens,
            ),
            pytrace=False,
        )
