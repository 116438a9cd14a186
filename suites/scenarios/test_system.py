"""The rest of the system API: analytics rows, notices per team and marking them viewed,
redirect and image input, timezones that are real zone names, the notification test and push
acknowledgements, the upgrade endpoints, the support packet, and the email test, which sends
through the stored mail settings."""

from __future__ import annotations

import copy
import io
import ipaddress
import json
import socketserver
import threading
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import pytest

from mmconform.contract import Contract, Version
from mmconform.harness import ServerFacts, ServerState, Target
from suites.scenarios.support_test import (
    FAKE_SETTING,
    Verdict,
    erratum_case,
    error_id_of,
    get_path,
    shown,
)

ClientFor = Callable[..., httpx.Client]
#: A well-formed team id; no team membership is checked by the operations that take one.
TEAM_ID = "mmconformteam000000000000a"

# --- analytics ---------------------------------------------------------------------------------

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


# --- notices -------------------------------------------------------------------------------------


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
        pytest.skip("the target has no notice for this user to mark")
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


# --- redirect location and image ------------------------------------------------------------


@pytest.mark.mm_operation("GetRedirectLocation", "GetConfig")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("redirect.url-checked", "errors.app-error-shape")
def test_redirect_location_needs_a_url_while_link_previews_are_on(
    client_for: ClientFor, admin_config: dict[str, Any], target: Target, verdict: Verdict
) -> None:
    requirement = "redirect.url-checked"
    user = client_for("system_user")
    previews = get_path(admin_config, ("ServiceSettings", "EnableLinkPreviews")) is True
    missing = verdict.record(user.get("/redirect_location"))
    if previews:
        verdict.app_error(
            missing,
            status=400,
            error_id="api.context.invalid_body_param.app_error",
            requirement=requirement,
        )
    else:
        verdict.status(missing, 200, requirement=requirement, what="link previews off")
        verdict.check(
            missing.json() == {"location": ""},
            '{"location": ""} while link previews are off',
            response=missing,
            requirement=requirement,
        )
    plain = verdict.record(
        user.get("/redirect_location", params={"url": f"{target.api_url}/system/ping"})
    )
    verdict.status(plain, 200, requirement=requirement)
    verdict.check(
        plain.json() == {"location": ""},
        '{"location": ""} for a URL that does not redirect',
        response=plain,
        requirement=requirement,
    )


@pytest.mark.mm_operation("GetImageByUrl", "GetConfig")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("image.url-checked", "errors.app-error-shape")
def test_image_refuses_what_it_cannot_fetch(
    client_for: ClientFor,
    admin_config: dict[str, Any],
    contract: Contract,
    server_version: Version | None,
    verdict: Verdict,
) -> None:
    requirement = "image.url-checked"
    user = client_for("system_user")
    opaque = verdict.record(user.get("/image", params={"url": "mailto:someone@example.com"}))
    verdict.app_error(
        opaque, status=400, error_id="api.image.get.app_error", requirement=requirement
    )
    if get_path(admin_config, ("ImageProxySettings", "Enable")) is not False:
        return
    url = "https://images.mmconform.invalid/picture.png"
    response = verdict.record(user.get("/image", params={"url": url}))
    expect = erratum_case(contract, "image-url-parameter", "proxy_disabled", server_version)
    if response.status_code == 302 and expect.allows(302):
        verdict.check(
            response.headers.get("location") == url,
            f"a redirect to the image itself ({url}) while the image proxy is off",
            response=response,
            requirement=requirement,
        )
    else:
        verdict.app_error(response, expect=expect, requirement=requirement)


# --- timezones -----------------------------------------------------------------------------------


def _is_zone(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@pytest.mark.mm_operation("GetSupportedTimezone")
@pytest.mark.mm_requirement("timezones.iana-names")
def test_timezones_are_iana_zone_names(client_for: ClientFor, verdict: Verdict) -> None:
    """Checked with the runner's time zone database (zoneinfo), not with a list kept here."""
    response = verdict.record(client_for("system_user").get("/system/timezones"))
    verdict.status(response, 200)
    zones = response.json()
    verdict.check(isinstance(zones, list) and bool(zones), "a non-empty array", response=response)
    unknown = [zone for zone in zones if not _is_zone(zone)]
    verdict.check(
        not unknown,
        "every entry an IANA time zone name",
        received=f"{len(unknown)} of {len(zones)} unknown to zoneinfo: {unknown[:10]}",
    )
    verdict.check(
        len(set(zones)) == len(zones),
        "no zone listed twice",
        received=f"{len(zones) - len(set(zones))} duplicates",
    )


# --- notifications -------------------------------------------------------------------------------


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
    if get_path(admin_config, ("EmailSettings", "SendPushNotifications")) is not True:
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


# --- upgrade to Enterprise -----------------------------------------------------------------


@pytest.mark.mm_operation("UpgradeToEnterpriseStatus")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("upgrade.status")
def test_upgrade_status_is_a_percentage(admin_client: httpx.Client, verdict: Verdict) -> None:
    response = verdict.record(admin_client.get("/upgrade_to_enterprise/status"))
    verdict.status(response, 200)
    body = verdict.json_object(response)
    percentage, error = body.get("percentage"), body.get("error")
    verdict.check(
        isinstance(percentage, int)
        and 0 <= percentage <= 100
        and (error is None or isinstance(error, str)),
        "a percentage from 0 to 100 and an error that is null or a message",
        response=response,
    )


def _edition(server_facts: ServerFacts) -> str:
    if server_facts.edition is None:
        pytest.skip("the target's edition is unknown (no BuildEnterpriseReady, none stated)")
    return server_facts.edition


@pytest.mark.mm_operation("IsAllowedToUpgradeToEnterprise")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("upgrade.allowed", "errors.app-error-shape")
def test_upgrade_is_allowed_only_for_team_edition(
    admin_client: httpx.Client, server_facts: ServerFacts, verdict: Verdict
) -> None:
    requirement = "upgrade.allowed"
    edition = _edition(server_facts)
    response = verdict.record(admin_client.get("/upgrade_to_enterprise/allowed"))
    if edition == "enterprise":
        verdict.app_error(response, status=403, requirement=requirement)
    elif response.status_code == 200:
        verdict.check(
            verdict.json_object(response, requirement=requirement).get("status") == "OK",
            '{"status": "OK"}',
            response=response,
            requirement=requirement,
        )
    else:
        verdict.app_error(response, status=403, requirement=requirement)


@pytest.mark.mm_operation("UpgradeToEnterprise")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("upgrade.enterprise-refuses", "errors.app-error-shape")
def test_enterprise_build_refuses_to_upgrade(admin_client: httpx.Client, verdict: Verdict) -> None:
    response = verdict.record(admin_client.post("/upgrade_to_enterprise"))
    verdict.app_error(
        response,
        status=429,
        error_id="api.upgrade_to_enterprise.already-enterprise.app_error",
        requirement="upgrade.enterprise-refuses",
    )


# --- support packet ------------------------------------------------------------------------------


@pytest.mark.mm_operation("GenerateSupportPacket")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("support.needs-license", "errors.app-error-shape")
def test_support_packet_needs_a_license(
    admin_client: httpx.Client, server_state: ServerState, verdict: Verdict
) -> None:
    if server_state.licensed():
        pytest.skip("the target is licensed")
    response = verdict.record(admin_client.get("/system/support_packet"))
    verdict.app_error(
        response, status=403, error_id="api.no_license", requirement="support.needs-license"
    )


@pytest.mark.mm_operation("GenerateSupportPacket", "UploadLicenseFile", "RemoveLicenseFile")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("support.packet-zip")
@pytest.mark.mm_feature("license")
def test_support_packet_is_a_zip_with_the_sanitized_config(
    admin_client: httpx.Client,
    accepted_license: bytes,
    contract: Contract,
    server_state: ServerState,
    server_version: Version | None,
    verdict: Verdict,
) -> None:
    """On a licensed target (the accepted license is installed for the scenario where none
    is, and removed again)."""
    with server_state.guard({"license"}):
        if not server_state.licensed():
            uploaded = admin_client.post("/license", files={"license": ("l", accepted_license)})
            verdict.status(verdict.record(uploaded), 200, what="installing the accepted license")
        response = verdict.record(admin_client.get("/system/support_packet"))
        verdict.status(response, 200)
        disposition = response.headers.get("content-disposition", "")
        verdict.check(
            response.headers.get("content-type", "").startswith("application/zip")
            and "attachment" in disposition
            and ".zip" in disposition,
            "an application/zip attachment named *.zip",
            received=f"{response.headers.get('content-type')}; {disposition}",
            response=response,
        )
        members = _zip_members(response, verdict)
        config = members.get("sanitized_config.json")
        verdict.check(
            config is not None,
            "a sanitized_config.json member",
            received=f"members {sorted(members)}",
            response=response,
        )
        assert config is not None
        data_source = get_path(json.loads(config), ("SqlSettings", "DataSource"))
        verdict.check(
            data_source == FAKE_SETTING,
            f"SqlSettings.DataSource masked as {FAKE_SETTING!r} in the packet's config",
            received=shown(("SqlSettings", "DataSource"), data_source),
            response=response,
        )
        if "basic_server_logs" in contract.operation(
            "GenerateSupportPacket"
        ).unsupported_parameters(server_version):
            return
        without = verdict.record(
            admin_client.get("/system/support_packet", params={"basic_server_logs": "false"})
        )
        verdict.status(without, 200)
        names = sorted(_zip_members(without, verdict))
        verdict.check(
            not any(name.endswith("mattermost.log") for name in names),
            "no mattermost.log with basic_server_logs=false",
            received=f"members {names}",
            response=without,
        )


def _zip_members(response: httpx.Response, verdict: Verdict) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return {
                info.filename.rsplit("/", 1)[-1]: archive.read(info) for info in archive.infolist()
            }
    except zipfile.BadZipFile:
        verdict.fail("a zip archive", received=f"{len(response.content)} bytes that are no zip")


# --- the email test ------------------------------------------------------------------------------


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


class _SmtpSink(socketserver.ThreadingTCPServer):
    """A minimal SMTP server on loopback that accepts every message and keeps it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.messages: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _SmtpSession(socketserver.StreamRequestHandler):
    server: _SmtpSink

    def handle(self) -> None:
        self.wfile.write(b"220 mmconform test sink\r\n")
        data: list[bytes] | None = None
        while line := self.rfile.readline(65536):
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    self.server.messages.append(b"".join(data))
                    data = None
                    self.wfile.write(b"250 kept\r\n")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-mmconform\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = []
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_sink(target: Target) -> Iterator[_SmtpSink]:
    """An SMTP server on this machine's loopback, for a target on the same machine (the
    scenario brings its own mail server, so it does not need the target's ``smtp`` feature)."""
    host = urlsplit(target.url).hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        pytest.skip(
            f"the target ({host}) is not on this machine, so it cannot reach a test SMTP "
            "server here"
        )
    sink = _SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.shutdown()
        sink.server_close()


def _mail_settings(port: int) -> dict[str, Any]:
    return {
        "SMTPServer": "127.0.0.1",
        "SMTPPort": str(port),
        "ConnectionSecurity": "",
        "EnableSMTPAuth": False,
        "SMTPUsername": "",
        "SkipServerCertificateVerification": True,
    }


@pytest.mark.mm_operation("TestEmail", "PatchConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("email.stored-settings-used", "errors.app-error-shape")
@pytest.mark.usefixtures("config_guard")
def test_email_test_sends_through_the_stored_settings(
    admin_client: httpx.Client, smtp_sink: _SmtpSink, verdict: Verdict
) -> None:
    """Stored settings reach the test SMTP server and the posted ones name a closed port: the
    mail arrives. Swapped round, it fails with app.admin.test_email.failure."""
    requirement = "email.stored-settings-used"
    closed = _SmtpSink()
    closed_port = closed.port
    closed.server_close()  # nothing listens there any more

    def post_test(posted_port: int) -> httpx.Response:
        body = verdict.record(admin_client.get("/config")).json()
        body["EmailSettings"].update(_mail_settings(posted_port), SMTPPassword="")
        return verdict.record(admin_client.post("/email/test", json=body))

    stored = {"EmailSettings": _mail_settings(smtp_sink.port)}
    verdict.status(
        verdict.record(admin_client.put("/config/patch", json=stored)), 200, requirement=requirement
    )
    sent = post_test(closed_port)
    verdict.status(sent, 200, requirement=requirement, what="stored settings reachable")
    verdict.check(
        len(smtp_sink.messages) == 1,
        "the test mail delivered through the stored settings",
        received=f"{len(smtp_sink.messages)} messages at the stored SMTP server",
        response=sent,
        requirement=requirement,
    )
    stored = {"EmailSettings": _mail_settings(closed_port)}
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
