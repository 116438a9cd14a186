"""The notification test and push acknowledgements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mmconform.contract import setting_value
from suites.scenarios.support_test import (
    Verdict,
    error_id_of,
)

ClientFor = Callable[..., httpx.Client]


@pytest.mark.mm_operation("TestNotification")
@pytest.mark.mm_requirement("notifications.test-message", "errors.app-error-shape")
def test_notification_test_is_open_to_every_user(client_for: ClientFor, verdict: Verdict) -> None:
    requirement = "notifications.test-message"
    response = verdict.record(client_for("system_user").post("/notifications/test"))
    if response.status_code == 200:
        verdict.check(
            verdict.json_object(response, requirement=requirement).get("status") == "OK",
            '{"status": "OK"}',
            response=response,
            requirement=requirement,
        )
        return
    verdict.app_error(response, status=500, requirement=requirement)
    verdict.check(
        (error_id_of(response) or "").startswith("app.notifications.send_test_message."),
        "200, or a 500 saying why the test message could not be sent",
        response=response,
        requirement=requirement,
    )


@pytest.mark.mm_operation("AcknowledgeNotification", "GetConfig")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("notifications.ack", "errors.app-error-shape")
def test_push_acknowledgement_needs_an_ack_and_push_notifications(
    client_for: ClientFor, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    requirement = "notifications.ack"
    user = client_for("system_user")
    empty = verdict.record(
        user.post("/notifications/ack", content=b"", headers={"Content-Type": "application/json"})
    )
    verdict.app_error(
        empty,
        status=400,
        error_id="api.push_notifications_ack.message.parse.app_error",
        requirement=requirement,
    )
    ack = {"id": "mmconform-ack", "platform": "android", "type": "clear", "received_at": 1}
    response = verdict.record(user.post("/notifications/ack", json=ack))
    if setting_value(admin_config, ("EmailSettings", "SendPushNotifications")) is not True:
        verdict.app_error(
            response,
            status=501,
            error_id="api.push_notification.disabled.app_error",
            requirement=requirement,
        )
    elif response.status_code == 200:
        verdict.check(
            verdict.json_object(response, requirement=requirement).get("status") == "OK",
            '{"status": "OK"}',
            response=response,
            requirement=requirement,
        )
    else:
        verdict.app_error(
            response,
            status=500,
            error_id="api.push_notifications_ack.forward.app_error",
            requirement=requirement,
        )
