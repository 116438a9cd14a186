"""Audits, logs, analytics, notices, notifications, link previews, images, connection tests,
restart, integrity and the other small operations."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from mmconform.stub import RunningStub
from mmconform.stub._config_defaults import FAKE_SETTING, default_config
from tests.stub._helpers import Api, error_id

TEAM = "abcdefghijklmnopqrstuvwxyz"


pytestmark = pytest.mark.usefixtures("restore_state")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# audits
# --------------------------------------------------------------------------------------------
def test_audits_paging(api: Api) -> None:
    for _ in range(3):
        api("GET", "/api/v4/system/timezones")
    assert len(api("GET", "/api/v4/audits?page=0&per_page=100").json()) >= 3
    assert len(api("GET", "/api/v4/audits?page=0&per_page=1").json()) == 1
    assert len(api("GET", "/api/v4/audits?page=1&per_page=1").json()) == 1
    assert api("GET", "/api/v4/audits?page=-1&per_page=-1").status_code == 200
    assert api("GET", "/api/v4/audits?page=junk&per_page=junk").status_code == 200
    assert api("GET", "/api/v4/audits?per_page=0").json() is None
    assert api("GET", "/api/v4/audits?page=100000&per_page=200").json() is None
    assert api("GET", "/api/v4/audits?page=99999999999999999999999").status_code == 200
    newest = api("GET", "/api/v4/audits?per_page=2").json()
    assert newest[0]["create_at"] >= newest[1]["create_at"]
    assert set(newest[0]) == {
        "id",
        "create_at",
        "user_id",
        "action",
        "extra_info",
        "ip_address",
        "session_id",
    }
    assert api("GET", "/api/v4/audits").text.endswith("\n")


def test_audits_per_page_cap(api: Api, running_stub: RunningStub) -> None:
    for _ in range(210 - len(running_stub.state.audits)):
        api("GET", "/api/v4/system/timezones")
    assert len(api("GET", "/api/v4/audits?per_page=1000").json()) == 200
    assert len(api("GET", "/api/v4/audits").json()) == 60
    assert len(api("GET", "/api/v4/audits?pageSize=7").json()) == 7


# --------------------------------------------------------------------------------------------
# logs
# --------------------------------------------------------------------------------------------
def test_logs_paging(api: Api) -> None:
    for i in range(20):
        posted = api("POST", "/api/v4/logs", json={"level": "ERROR", "message": str(i)})
        assert posted.status_code == 200
    page = api("GET", "/api/v4/logs?page=0&logs_per_page=10").json()
    assert len(page) == 10
    for i in range(10, 20):
        assert json.loads(page[i - 10])["msg"] == str(i)
    assert len(api("GET", "/api/v4/logs?page=1&logs_per_page=10").json()) == 10
    assert api("GET", "/api/v4/logs?page=-1&logs_per_page=-1").json()
    assert api("GET", "/api/v4/logs?page=100000&logs_per_page=10").json() is None
    assert api("GET", "/api/v4/logs?logs_per_page=0").json() is None
    assert api.local("GET", "/api/v4/logs?logs_per_page=1").status_code == 200


def test_logs_file_disabled(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(LogSettings={"EnableFile": False})
    assert api("GET", "/api/v4/logs").json() == [""]


def test_debug_posts_are_below_the_file_level(api: Api) -> None:
    api("POST", "/api/v4/logs", json={"level": "DEBUG", "message": "invisible-debug"})
    api("POST", "/api/v4/logs", "system_user", json={"level": "ERROR", "message": "user-error"})
    text = json.dumps(api("GET", "/api/v4/logs").json())
    assert "invisible-debug" not in text
    assert "user-error" not in text  # forced to debug: not an admin


def test_post_log_table(api: Api, running_stub: RunningStub) -> None:
    body = {"level": "ERROR", "message": "hello", "extra": "kept"}
    admin = api("POST", "/api/v4/logs", json=body)
    assert admin.json() == {
        "level": "ERROR",
        "extra": "kept",
        "message": "Client Logs API Endpoint Message: hello",
    }
    assert admin.text.endswith("\n")
    assert api("POST", "/api/v4/logs", "anonymous", json=body).status_code == 403
    assert api("POST", "/api/v4/logs", "system_user", json=body).status_code == 200
    running_stub.state.update_config(ServiceSettings={"EnableDeveloper": True})
    assert api("POST", "/api/v4/logs", "anonymous", json=body).status_code == 200
    assert api("POST", "/api/v4/logs", content=b"{malformed").json() == {
        "message": "Client Logs API Endpoint Message: "
    }
    long = api("POST", "/api/v4/logs", json={"message": "é" * 300}).json()["message"]
    assert len(long.removeprefix("Client Logs API Endpoint Message: ").encode()) <= 401


# --------------------------------------------------------------------------------------------
# analytics
# --------------------------------------------------------------------------------------------
def test_analytics_standard(api: Api) -> None:
    rows = api("GET", "/api/v4/analytics/old").json()
    assert [r["name"] for r in rows] == [
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
    ]
    assert rows[5] == {"name": "total_websocket_connections", "value": 0}
    assert rows[10]["value"] >= 0
    team = api("GET", f"/api/v4/analytics/old?team_id={TEAM}").json()
    assert team[10] == {"name": "inactive_user_count", "value": -1}


def test_analytics_names(api: Api, running_stub: RunningStub) -> None:
    extra = api("GET", "/api/v4/analytics/old?name=extra_counts").json()
    assert [r["name"] for r in extra] == [
        "file_post_count",
        "hashtag_post_count",
        "incoming_webhook_count",
        "outgoing_webhook_count",
        "command_count",
        "session_count",
    ]
    for name in ("post_counts_day", "bot_post_counts_day", "user_counts_with_posts_day"):
        assert api("GET", f"/api/v4/analytics/old?name={name}").status_code == 200
    bad = api("GET", "/api/v4/analytics/old?name=nope")
    assert bad.status_code == 400
    assert error_id(bad) == "api.context.invalid_body_param.app_error"
    assert api("GET", "/api/v4/analytics/old?name=nope", "system_user").status_code == 403
    running_stub.state.update_config(AnalyticsSettings={"MaxUsersForStatistics": 1})
    assert api("GET", "/api/v4/analytics/old?name=user_counts_with_posts_day").json() == [
        {"name": "", "value": -1}
    ]
    assert api("GET", "/api/v4/analytics/old?name=extra_counts").json()[0]["value"] == -1


# --------------------------------------------------------------------------------------------
# notices
# --------------------------------------------------------------------------------------------
def test_notices_validation(api: Api) -> None:
    short = api("GET", "/api/v4/system/notices/abc?client=web")
    assert error_id(short) == "api.context.invalid_url_param.app_error"
    for client in ("", "all", "mobile", "WEB"):
        response = api("GET", f"/api/v4/system/notices/{TEAM}", params={"client": client})
        assert error_id(response) == "api.context.invalid_body_param.app_error"
    assert api("GET", f"/api/v4/system/notices/{TEAM}").status_code == 400


def test_notices_by_audience_and_views(api: Api, running_stub: RunningStub) -> None:
    admin = api("GET", f"/api/v4/system/notices/{TEAM}?client=web").json()
    user = api("GET", f"/api/v4/system/notices/{TEAM}?client=web", "system_user").json()
    assert any(n["sysAdminOnly"] for n in admin)
    assert not any(n["sysAdminOnly"] for n in user)
    for notice in user:
        assert {"id", "sysAdminOnly", "teamAdminOnly", "title", "description"} <= set(notice)
    mobile = api("GET", f"/api/v4/system/notices/{TEAM}?client=mobile-ios", "system_user")
    assert {n["id"] for n in mobile.json()} != {n["id"] for n in user}
    first = user[0]["id"]
    assert api(
        "PUT", "/api/v4/system/notices/view", "system_user", json=[first, first, "unknown"]
    ).json() == {"status": "OK"}
    after = api("GET", f"/api/v4/system/notices/{TEAM}?client=web", "system_user").json()
    assert first not in {n["id"] for n in after}
    running_stub.state.update_config(AnnouncementSettings={"UserNoticesEnabled": False})
    assert api("GET", f"/api/v4/system/notices/{TEAM}?client=web", "system_user").json() == []


def test_mark_notices_viewed_parsing(api: Api) -> None:
    for content in (b"", b"{}", b'["a", 1]', b"not json", b'"a"'):
        response = api("PUT", "/api/v4/system/notices/view", content=content)
        assert response.status_code == 400, content
        assert error_id(response) == "api.payload.parse.error"
    assert api("PUT", "/api/v4/system/notices/view", content=b"null").status_code == 200
    assert api("PUT", "/api/v4/system/notices/view", json=[]).status_code == 200


# --------------------------------------------------------------------------------------------
# notifications
# --------------------------------------------------------------------------------------------
def test_notification_ack(api: Api, running_stub: RunningStub) -> None:
    assert api("POST", "/api/v4/notifications/ack").status_code == 400
    for bad in (b"[1]", b'{"id": 5}', b'{"is_id_loaded": "yes"}', b"{"):
        response = api("POST", "/api/v4/notifications/ack", content=bad)
        assert error_id(response) == "api.push_notifications_ack.message.parse.app_error"
    ack = {"id": "123", "received_at": 1, "platform": "ios", "type": "message"}
    assert api("POST", "/api/v4/notifications/ack", json=ack).json() == {"status": "OK"}
    loaded = {**ack, "is_id_loaded": True, "post_id": "p" * 26}
    assert api("POST", "/api/v4/notifications/ack", json=loaded).status_code == 403
    empty = api("POST", "/api/v4/notifications/ack", json={"id": "1", "is_id_loaded": True})
    assert empty.status_code == 200
    assert empty.content == b""
    running_stub.state.update_config(EmailSettings={"SendPushNotifications": False})
    off = api("POST", "/api/v4/notifications/ack", json=ack)
    assert off.status_code == 501
    assert error_id(off) == "api.push_notification.disabled.app_error"


def test_notification_test(api: Api, running_stub: RunningStub) -> None:
    before = running_stub.state.test_notifications
    assert api("POST", "/api/v4/notifications/test", "system_user").json() == {"status": "OK"}
    assert running_stub.state.test_notifications == before + 1


# --------------------------------------------------------------------------------------------
# link previews and images: only loopback hosts are contacted
# --------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    location = "http://example.com/target"

    def do_HEAD(self) -> None:
        self.send_response(302)
        self.send_header("Location", type(self).location)
        self.end_headers()

    def do_GET(self) -> None:
        if self.path.startswith("/api/v4/system/ping"):
            self.send_response(200)
            body = b'{"status":"OK"}'
        else:
            self.send_response(200)
            body = b"\x89PNG fake"
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_redirect_location(api: Api, running_stub: RunningStub, loopback_server: str) -> None:
    url = f"{loopback_server}/redirect-me"
    assert api("GET", "/api/v4/redirect_location", params={"url": url}).json() == {
        "location": "http://example.com/target"
    }
    _Handler.location = "http://example.com/changed"
    try:  # cached
        assert (
            api("GET", "/api/v4/redirect_location", params={"url": url}).json()["location"]
            == "http://example.com/target"
        )
        # exactly 2100 characters is returned, 2101 is not
        for length, expected_empty in ((2100, False), (2101, True)):
            _Handler.location = "http://e.com/" + "a" * (length - len("http://e.com/"))
            got = api(
                "GET", "/api/v4/redirect_location", params={"url": f"{loopback_server}/len{length}"}
            ).json()["location"]
            assert (got == "") is expected_empty
    finally:
        _Handler.location = "http://example.com/target"
    missing = api("GET", "/api/v4/redirect_location")
    assert error_id(missing) == "api.context.invalid_body_param.app_error"
    remote = api("GET", "/api/v4/redirect_location", params={"url": "https://mattermost.com/"})
    assert remote.json() == {"location": ""}  # never contacted
    assert api("GET", "/api/v4/redirect_location", "anonymous").status_code == 401
    running_stub.state.update_config(ServiceSettings={"EnableLinkPreviews": False})
    assert api("GET", "/api/v4/redirect_location").json() == {"location": ""}


def test_image(api: Api, running_stub: RunningStub, loopback_server: str) -> None:
    disabled = api("GET", "/api/v4/image", params={"url": "http://example.com/a.png"})
    assert disabled.status_code == 400
    assert error_id(disabled) == "api.image.get.app_error"
    assert api("GET", "/api/v4/image", params={"url": "mailto:a@b.c"}).status_code == 400
    running_stub.state.update_config(
        ImageProxySettings={"Enable": True}, ServiceSettings={"SiteURL": "http://stub.example.com"}
    )
    local = api("GET", "/api/v4/image", params={"url": f"{loopback_server}/pic.png"})
    assert local.status_code == 200
    assert local.content == b"\x89PNG fake"
    same = api(
        "GET", "/api/v4/image", params={"url": "/plugins/test/image.png"}, follow_redirects=False
    )
    assert same.status_code == 302
    assert same.headers["Location"] == "http://stub.example.com/plugins/test/image.png"
    remote = api("GET", "/api/v4/image", params={"url": "http://example.com/a.png"})
    assert remote.status_code == 400  # the stub refuses to fetch from the internet
    running_stub.state.update_config(
        ImageProxySettings={
            "ImageProxyType": "atmos/camo",
            "RemoteImageProxyURL": "https://proxy.foo.bar",
            "RemoteImageProxyOptions": "key",
        }
    )
    camo = api(
        "GET", "/api/v4/image", params={"url": "http://example.com/a.png"}, follow_redirects=False
    )
    assert camo.status_code == 302
    assert camo.headers["Location"].startswith("https://proxy.foo.bar/")


def test_site_url_test(api: Api, loopback_server: str) -> None:
    assert api("POST", "/api/v4/site_url/test", json={"site_url": loopback_server}).json() == {
        "status": "OK"
    }
    closed = f"http://127.0.0.1:{free_port()}"
    bad = api("POST", "/api/v4/site_url/test", json={"site_url": closed})
    assert bad.status_code == 400
    assert error_id(bad) == "app.admin.test_site_url.failure"
    remote = api("POST", "/api/v4/site_url/test", json={"site_url": "https://mattermost.com"})
    assert error_id(remote) == "app.admin.test_site_url.failure"
    assert error_id(api("POST", "/api/v4/site_url/test", content=b"junk")) == (
        "api.context.invalid_body_param.app_error"
    )


# --------------------------------------------------------------------------------------------
# email and S3 connection tests (order of checks; the probes themselves are tested elsewhere)
# --------------------------------------------------------------------------------------------
def test_email_test_checks(api: Api, running_stub: RunningStub) -> None:
    email = dict(default_config()["EmailSettings"])
    nil = api("POST", "/api/v4/email/test", "system_user", json={"EmailSettings": {}})
    assert error_id(nil) == "api.file.test_connection_email_settings_nil.app_error"
    assert api("POST", "/api/v4/email/test", "system_user", json={}).status_code == 400
    assert (
        api("POST", "/api/v4/email/test", "system_user", json={"EmailSettings": email}).status_code
        == 403
    )
    missing = api("POST", "/api/v4/email/test", json={"EmailSettings": {**email, "SMTPServer": ""}})
    assert error_id(missing) == "api.admin.test_email.missing_server"
    reenter = {**email, "SMTPServer": "127.0.0.1", "SMTPPassword": FAKE_SETTING}
    response = api("POST", "/api/v4/email/test", json={"EmailSettings": reenter})
    assert error_id(response) == "api.admin.test_email.reenter_password"
    closed = {**email, "SMTPServer": "127.0.0.1", "SMTPPort": str(free_port())}
    failure = api("POST", "/api/v4/email/test", json={"EmailSettings": closed})
    assert failure.status_code == 500
    running_stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
    assert api("POST", "/api/v4/email/test", json={"EmailSettings": closed}).status_code == 403
    # the nil-field check still comes first
    assert api("POST", "/api/v4/email/test", json={"EmailSettings": {}}).status_code == 400


def test_s3_test_checks(api: Api) -> None:
    files = dict(default_config()["FileSettings"])
    nil = api("POST", "/api/v4/file/s3_test", "system_user", json={"FileSettings": {}})
    assert error_id(nil) == "api.file.test_connection_s3_settings_nil.app_error"
    assert (
        api("POST", "/api/v4/file/s3_test", "system_user", json={"FileSettings": files}).status_code
        == 403
    )
    missing = api("POST", "/api/v4/file/s3_test", json={"FileSettings": files})
    assert missing.status_code == 400
    assert missing.json()["message"] == "S3 Bucket is required"
    closed = {
        **files,
        "AmazonS3Bucket": "b",
        "AmazonS3Endpoint": f"127.0.0.1:{free_port()}",
        "AmazonS3SSL": False,
    }
    assert api("POST", "/api/v4/file/s3_test", json={"FileSettings": closed}).status_code == 500
    remote = {**files, "AmazonS3Bucket": "b"}
    assert api("POST", "/api/v4/file/s3_test", json={"FileSettings": remote}).status_code == 500


# --------------------------------------------------------------------------------------------
# small operations
# --------------------------------------------------------------------------------------------
def test_simple_status_operations(api: Api, running_stub: RunningStub) -> None:
    state = running_stub.state
    before = (state.restarts, state.db_recycles, state.cache_invalidations)
    assert api("POST", "/api/v4/restart").json() == {"status": "OK"}
    assert api("POST", "/api/v4/database/recycle", content=b"ignored").json() == {"status": "OK"}
    caches = api("POST", "/api/v4/caches/invalidate")
    assert caches.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
    assert (state.restarts, state.db_recycles, state.cache_invalidations) == tuple(
        b + 1 for b in before
    )
    assert api("GET", "/api/v4/system/ping").status_code == 200  # still up after a restart


def test_timezones(api: Api) -> None:
    zones = api("GET", "/api/v4/system/timezones", "system_user").json()
    assert isinstance(zones, list)
    assert zones
    assert all(isinstance(z, str) for z in zones)


def test_integrity_only_on_the_local_socket(api: Api) -> None:
    assert api("POST", "/api/v4/integrity").status_code == 404
    response = api.local("POST", "/api/v4/integrity")
    assert response.status_code == 200
    results = response.json()
    assert results
    assert {"data", "err"} == set(results[0])
    assert {"parent_name", "child_name", "parent_id_attr", "child_id_attr", "records"} == set(
        results[0]["data"]
    )


def test_logs_location_outside_the_root(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(LogSettings={"FileLocation": "/etc"})
    response = api("GET", "/api/v4/logs")
    assert response.status_code == 403
    assert error_id(response) == "api.admin.file_read_error"
    running_stub.state.update_config(LogSettings={"FileLocation": "sub/dir"})
    assert api("GET", "/api/v4/logs").status_code == 200


@pytest.mark.parametrize(
    ("before", "platform", "after"),
    [
        ("true", "ios", "false"),
        ("", "ios", ""),
        ("false", "ios", "false"),
        ("true", "android", "true"),
    ],
)
def test_ack_resets_the_device_prop(
    api: Api, running_stub: RunningStub, before: str, platform: str, after: str
) -> None:
    user_id = running_stub.state.users["system_user"].id
    running_stub.state.session_props[user_id] = {"deviceNotificationDisabled": before}
    ack = {"id": "1", "platform": platform, "type": "message"}
    assert api("POST", "/api/v4/notifications/ack", "system_user", json=ack).status_code == 200
    assert running_stub.state.session_props[user_id]["deviceNotificationDisabled"] == after


def test_personal_access_tokens(api: Api, running_stub: RunningStub) -> None:
    pat = {"Authorization": f"Bearer {running_stub.state.users['system_admin'].access_token}"}
    off = api("GET", "/api/v4/config", "anonymous", headers=pat)
    assert off.status_code == 401
    assert error_id(off) == "api.context.session_expired.app_error"
    running_stub.state.update_config(ServiceSettings={"EnableUserAccessTokens": True})
    assert api("GET", "/api/v4/config", "anonymous", headers=pat).status_code == 200


def test_upgrade_unsupported_system(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.upgrade_supported = False
    try:
        response = api("GET", "/api/v4/upgrade_to_enterprise/allowed")
        assert response.status_code == 403
        assert error_id(response) == "api.upgrade_to_enterprise.system_not_supported.app_error"
    finally:
        running_stub.state.upgrade_supported = True
