"""The email test: it checks the posted settings and sends through the stored ones."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mmconform.harness import (
    SmtpSink,
    Target,
    closed_port,
    loopback_mail_settings,
    on_this_machine,
)
from suites.scenarios.support_test import (
    Verdict,
)


@pytest.mark.mm_operation("TestEmail", "GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("email.posted-settings-checked", "errors.app-error-shape")
def test_email_test_checks_the_posted_settings(
    admin_client: httpx.Client, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    body = copy.deepcopy(admin_config)
    body["EmailSettings"]["SMTPServer"] = ""
    response = verdict.record(admin_client.post("/email/test", json=body))
    verdict.app_error(
        response,
        status=400,
        error_id="api.admin.test_email.missing_server",
        requirement="email.posted-settings-checked",
    )


@pytest.fixture
def smtp_sink(target: Target) -> Iterator[SmtpSink]:
    """An SMTP server on this machine's loopback, for a target on the same machine (the
    scenario brings its own mail server, so it does not need the target's ``smtp`` feature)."""
    if not on_this_machine(target.url):
        host = urlsplit(target.url).hostname or ""
        pytest.skip(
            f"the target ({host}) is not on this machine, so it cannot reach a test SMTP "
            "server here"
        )
    with SmtpSink() as sink:
        yield sink


@pytest.mark.mm_operation("TestEmail", "PatchConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("email.stored-settings-used", "errors.app-error-shape")
@pytest.mark.usefixtures("config_guard")
def test_email_test_sends_through_the_stored_settings(
    admin_client: httpx.Client, smtp_sink: SmtpSink, verdict: Verdict
) -> None:
    """Stored settings reach the test SMTP server and the posted ones name a closed port: the
    mail arrives. Swapped round, it fails with app.admin.test_email.failure."""
    requirement = "email.stored-settings-used"
    closed = closed_port()

    def post_test(posted_port: int) -> httpx.Response:
        body = verdict.record(admin_client.get("/config")).json()
        body["EmailSettings"].update(loopback_mail_settings(posted_port), SMTPPassword="")
        return verdict.record(admin_client.post("/email/test", json=body))

    stored = {"EmailSettings": loopback_mail_settings(smtp_sink.port)}
    verdict.status(
        verdict.record(admin_client.put("/config/patch", json=stored)), 200, requirement=requirement
    )
    sent = post_test(closed)
    verdict.status(sent, 200, requirement=requirement, what="stored settings reachable")
    verdict.check(
        len(smtp_sink.messages) == 1,
        "the test mail delivered through the stored settings",
        received=f"{len(smtp_sink.messages)} messages at the stored SMTP server",
        response=sent,
        requirement=requirement,
    )
    stored = {"EmailSettings": loopback_mail_settings(closed)}
    verdict.status(
        verdict.record(admin_client.put("/config/patch", json=stored)), 200, requirement=requirement
    )
    failed = post_test(smtp_sink.port)
    verdict.app_error(
        failed, status=500, error_id="app.admin.test_email.failure", requirement=requirement
    )
    verdict.check(
        len(smtp_sink.messages) == 1,
        "no mail through the posted settings",
        received=f"{len(smtp_sink.messages) - 1} more messages at the posted SMTP server",
        response=failed,
        requirement=requirement,
    )
