"""A real client no one here wrote, against the running stub.

``mattermostautodriver`` is generated from Mattermost's official OpenAPI description. Every system
operation of our contract that the driver offers is called here, over HTTP, as system_admin
(the driver only sets a token on ``login()``, so the token is put on its client directly).
Each call must succeed, or fail with the error the behaviour reference documents for it.

Operations of the contract the driver does NOT offer (or cannot call properly):

- ``RequestLicenseRenewalLink`` (GET /license/renewal): no method at all (the route was removed
  in 11.x; the stub answers 404 for the newest version, which is checked with raw httpx).
- ``AcknowledgeNotification``: ``root.acknowledge_notification()`` takes no body, so the driver
  can only ever produce the documented 400 ``api.push_notifications_ack.message.parse.app_error``.
- ``GetImageByUrl``: ``system.get_image_by_url()`` takes no ``url`` parameter, so only the
  "no url" answer can be produced (400 ``api.image.get.app_error`` on newest servers).
- ``GetClientLicense``: the driver insists on a ``format`` argument; ``old`` is sent.
- ``CheckIntegrity``: the driver has the method, but the route only exists on the local-mode
  unix socket; it is called once over TCP (404 expected) and once through the socket by giving
  the driver an ``httpx.HTTPTransport(uds=...)``.

Driver methods outside our 39 operations (not called): connect_web_socket, manual_test,
get/complete_onboarding, AI-bridge helpers, test_file_store_connection (POST /file/test),
migrate_config, preview_license_file, query_logs, get_latest_version,
get_applied_schema_migrations, update_marketplace_visited_by_admin.
"""

from __future__ import annotations

import io
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
from aiosmtpd.controller import Controller
from mattermostautodriver import TypedDriver
from mattermostautodriver.exceptions import InvalidMattermostError, MattermostError
from moto.server import ThreadedMotoServer

from mmconform._version import Version
from mmconform.contract import load_contract
from mmconform.harness import ResponseRecorder as Recorder
from mmconform.stub import StubOptions, start_stub
from mmconform.stub._license import load_fixture_license

FAKE_SETTING = "********************************"
VALID_TEAM_ID = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Outcome:
    """What a driver call gave: the decoded result, or the error status and id."""

    status: int
    error_id: str | None = None
    result: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# Under --dist loadgroup the whole module runs on one worker, so the last test can tell
# whether every operation was checked.
pytestmark = pytest.mark.xdist_group("real-client")

#: The tests of this module that ran in this process (the last one checks all others did).
_RAN_HERE: set[str] = set()


@pytest.fixture(autouse=True)
def _note_test_ran(request: pytest.FixtureRequest) -> None:
    _RAN_HERE.add(request.node.originalname)


def call(fn: Callable[[], Any]) -> Outcome:
    try:
        result = fn()
    except MattermostError as exc:
        return Outcome(exc.status_code, exc.error_id)
    except InvalidMattermostError as exc:
        return Outcome(exc.status_code, None)
    if isinstance(result, httpx.Response):
        return Outcome(result.status_code, None, result)
    return Outcome(200, None, result)


def json_result(outcome: Outcome) -> Any:
    """The decoded JSON; a raw Response means the stub's Content-Type was not application/json."""
    assert outcome.ok, outcome
    assert not isinstance(outcome.result, httpx.Response), (
        "the driver only decodes bodies served as exactly 'application/json'; got "
        f"{outcome.result.headers.get('content-type')!r}"
    )
    return outcome.result


def assert_status_ok(outcome: Outcome) -> None:
    assert json_result(outcome) == {"status": "OK"}


def assert_error(outcome: Outcome, status: int, error_id: str | None) -> None:
    assert outcome.status == status, outcome
    if error_id is not None:
        assert outcome.error_id == error_id, outcome


def make_driver(url: str, token: str, transport: httpx.BaseTransport | None = None) -> Any:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    options: dict[str, Any] = {
        "url": parts.hostname,
        "port": parts.port,
        "scheme": parts.scheme,
        "verify": False,
        "timeout": 10,
        "request_timeout": 10,
        "max_retries": 0,
    }
    if transport is not None:
        options["transport"] = transport
    driver = TypedDriver(options)
    driver.client.token = token
    return driver


# --- every response the driver sees is checked against spec/openapi.yaml -------------------------


# --- fixtures -----------------------------------------------------------------------------------


@dataclass
class Stub:
    url: str
    tokens: dict[str, str]
    local_socket: str | None
    driver: Any
    anonymous: Any
    user: Any
    recorder: Recorder


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    with start_stub(StubOptions()) as running:
        recorder = Recorder(load_contract(), Version.parse(running.server_version))
        tokens = dict(running.tokens)
        driver = make_driver(running.url, tokens["system_admin"])
        anonymous = make_driver(running.url, "")
        user = make_driver(running.url, tokens["system_user"])
        for d in (driver, anonymous, user):
            d.client.client.event_hooks["response"].append(recorder.hook)
        local = getattr(running, "local_socket", None)
        try:
            yield Stub(
                running.url,
                tokens,
                str(local) if local else None,
                driver,
                anonymous,
                user,
                recorder,
            )
        finally:
            for d in (driver, anonymous, user):
                d.client.close()


@pytest.fixture(autouse=True)
def _responses_match_the_contract(stub: Stub) -> Iterator[None]:
    """After each test: every response the driver got is documented and fits its schema."""
    stub.recorder.seen.clear()
    yield
    problems = stub.recorder.problems()
    assert not problems, "responses that disagree with spec/openapi.yaml:\n" + "\n".join(problems)


@dataclass
class _Inbox:
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto in server mode (no auth enforcement needed here) with bucket ``mattermost-test``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        boto3.client(
            "s3",
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="minioaccesskey",
            aws_secret_access_key="miniosecretkey",
        ).create_bucket(Bucket="mattermost-test")
        yield f"{host}:{port}"
    finally:
        server.stop()


# --- ping, timezones, notices -------------------------------------------------------------------


def test_get_ping(stub: Stub) -> None:
    body = json_result(call(lambda: stub.driver.system.get_ping()))
    assert body["status"] == "OK"
    assert "ActiveSearchBackend" in body
    full = json_result(call(lambda: stub.driver.system.get_ping(get_server_status=True)))
    assert full["database_status"] == "OK"
    assert full["filestore_status"] == "OK"
    assert isinstance(full["root_status"], bool)
    as_user = json_result(call(lambda: stub.user.system.get_ping(get_server_status=True)))
    assert "root_status" not in as_user
    anonymous = json_result(call(lambda: stub.anonymous.system.get_ping()))
    assert anonymous["status"] == "OK"
    device = json_result(call(lambda: stub.driver.system.get_ping(device_id="platform:id")))
    assert device["CanReceiveNotifications"] in ("true", "false", "unknown")
    rest = json_result(call(lambda: stub.driver.system.get_ping(use_rest_semantics=True)))
    assert rest["status"] == "OK"


def test_get_supported_timezone(stub: Stub) -> None:
    zones = json_result(call(lambda: stub.driver.system.get_supported_timezone()))
    assert isinstance(zones, list)
    assert all(isinstance(z, str) for z in zones)
    assert_error(call(lambda: stub.anonymous.system.get_supported_timezone()), 401, None)


def test_get_notices(stub: Stub) -> None:
    notices = json_result(
        call(lambda: stub.driver.system.get_notices(VALID_TEAM_ID, "11.0.0", "web"))
    )
    assert isinstance(notices, list)
    assert_error(
        call(lambda: stub.driver.system.get_notices(VALID_TEAM_ID, "11.0.0", "mobile")),
        400,
        "api.context.invalid_body_param.app_error",
    )
    assert_error(
        call(lambda: stub.driver.system.get_notices("tooshort", "11.0.0", "web")),
        400,
        "api.context.invalid_url_param.app_error",
    )


def test_mark_notices_viewed(stub: Stub) -> None:
    assert_status_ok(call(lambda: stub.driver.system.mark_notices_viewed(["n1", "n2", "n1"])))
    assert_status_ok(call(lambda: stub.user.system.mark_notices_viewed([])))


# --- connection tests ---------------------------------------------------------------------------


def test_database_recycle(stub: Stub) -> None:
    assert_status_ok(call(lambda: stub.driver.system.database_recycle()))
    assert_error(
        call(lambda: stub.user.system.database_recycle()),
        403,
        "api.context.permissions.app_error",
    )


def test_test_email(stub: Stub, smtp: tuple[int, _Inbox]) -> None:
    """The posted EmailSettings are only checked; the message goes out with the stored ones."""
    port, inbox = smtp
    stored = {"SMTPServer": "127.0.0.1", "SMTPPort": str(port), "ConnectionSecurity": ""}
    stored_elsewhere = {"SMTPServer": "127.0.0.1", "SMTPPort": str(_free_port())}
    original = json_result(call(lambda: stub.driver.system.get_config()))["EmailSettings"]
    patch = stub.driver.system.patch_config
    json_result(call(lambda: patch({"EmailSettings": {**stored, "EnableSMTPAuth": False}})))
    try:
        config = json_result(call(lambda: stub.driver.system.get_config()))
        email = config["EmailSettings"]
        # The body names a host the stub will never contact; the stored settings are used.
        email.update(SMTPServer="smtp.example.com", SMTPPort="25", SMTPPassword="")
        before = len(inbox.messages)
        assert_status_ok(call(lambda: stub.driver.system.test_email(config)))
        assert len(inbox.messages) == before + 1
        assert inbox.messages[-1]["Subject"] == "Mattermost - Testing Email Settings"
        # The message is addressed to the caller, as a real server does.
        assert inbox.messages[-1]["To"] == "system_admin@stub.example.com"

        email["SMTPServer"] = ""
        assert_error(
            call(lambda: stub.driver.system.test_email(config)),
            400,
            "api.admin.test_email.missing_server",
        )
        # A reachable host in the body does not help when the stored one is unreachable.
        json_result(call(lambda: patch({"EmailSettings": stored_elsewhere})))
        email.update(stored)
        assert_error(
            call(lambda: stub.driver.system.test_email(config)), 500, "app.admin.test_email.failure"
        )
        assert_error(
            call(lambda: stub.driver.system.test_email({"EmailSettings": {}})),
            400,
            "api.file.test_connection_email_settings_nil.app_error",
        )
        assert_error(call(lambda: stub.user.system.test_email(config)), 403, None)
    finally:
        keys = ("SMTPServer", "SMTPPort", "ConnectionSecurity", "EnableSMTPAuth")
        json_result(call(lambda: patch({"EmailSettings": {k: original[k] for k in keys}})))


def test_test_notification(stub: Stub) -> None:
    # Any logged-in user may send themselves a test notification.
    assert_status_ok(call(lambda: stub.driver.system.test_notification()))
    assert_status_ok(call(lambda: stub.user.system.test_notification()))


def test_test_site_url(stub: Stub) -> None:
    # The stub pings itself: loopback is the only place it may send requests to.
    assert_status_ok(call(lambda: stub.driver.system.test_site_url(stub.url)))
    assert_error(
        call(lambda: stub.driver.system.test_site_url("")),
        400,
        "api.context.invalid_body_param.app_error",
    )
    assert_error(
        call(lambda: stub.driver.system.test_site_url(f"http://127.0.0.1:{_free_port()}")),
        400,
        "app.admin.test_site_url.failure",
    )
    assert_error(call(lambda: stub.user.system.test_site_url(stub.url)), 403, None)


def test_test_s3_connection(stub: Stub, s3_endpoint: str) -> None:
    config = json_result(call(lambda: stub.driver.system.get_config()))
    files = config["FileSettings"]
    files.update(
        AmazonS3Bucket="mattermost-test",
        AmazonS3Endpoint=s3_endpoint,
        AmazonS3SSL=False,
        AmazonS3AccessKeyId="minioaccesskey",
        AmazonS3SecretAccessKey="miniosecretkey",
        AmazonS3Region="us-east-1",
        AmazonS3PathPrefix="",
    )
    assert_status_ok(call(lambda: stub.driver.system.test_s3_connection(config)))
    files["AmazonS3Bucket"] = "shouldnotcreatenewbucket"
    assert_error(
        call(lambda: stub.driver.system.test_s3_connection(config)),
        500,
        "api.file.test_connection_s3_bucket_does_not_exist.app_error",
    )
    files["AmazonS3Bucket"] = ""
    assert_error(
        call(lambda: stub.driver.system.test_s3_connection(config)),
        400,
        "api.admin.test_s3.missing_s3_bucket",
    )
    files.update(AmazonS3Bucket="mattermost-test", AmazonS3Endpoint=f"127.0.0.1:{_free_port()}")
    outcome = call(lambda: stub.driver.system.test_s3_connection(config))
    assert outcome.status == 500, outcome
    assert (outcome.error_id or "").startswith("api.file.test_connection"), outcome
    assert_error(
        call(lambda: stub.driver.system.test_s3_connection({"FileSettings": {}})),
        400,
        "api.file.test_connection_s3_settings_nil.app_error",
    )
    assert_error(call(lambda: stub.user.system.test_s3_connection(config)), 403, None)


# --- config -------------------------------------------------------------------------------------


def test_get_config(stub: Stub) -> None:
    config = json_result(call(lambda: stub.driver.system.get_config()))
    assert config["TeamSettings"]["SiteName"]
    assert config["SqlSettings"]["DataSource"] == FAKE_SETTING
    assert config["FileSettings"]["PublicLinkSalt"] == FAKE_SETTING
    json_result(call(lambda: stub.driver.system.get_config(remove_masked=True)))
    json_result(call(lambda: stub.driver.system.get_config(remove_defaults="true")))
    assert_error(call(lambda: stub.user.system.get_config()), 403, None)
    assert_error(call(lambda: stub.anonymous.system.get_config()), 401, None)


def test_update_config(stub: Stub) -> None:
    config = json_result(call(lambda: stub.driver.system.get_config()))
    original = config["TeamSettings"]["SiteName"]
    config["TeamSettings"]["SiteName"] = "MyFancyName"
    updated = json_result(call(lambda: stub.driver.system.update_config(config)))
    assert updated["TeamSettings"]["SiteName"] == "MyFancyName"
    # The masked secrets were sent back and must not have overwritten the stored ones.
    assert updated["SqlSettings"]["DataSource"] == FAKE_SETTING
    config["TeamSettings"]["SiteName"] = original
    reverted = json_result(call(lambda: stub.driver.system.update_config(config)))
    assert reverted["TeamSettings"]["SiteName"] == original
    config["PasswordSettings"]["MinimumLength"] = 4
    assert_error(
        call(lambda: stub.driver.system.update_config(config)),
        400,
        "model.config.is_valid.password_length.app_error",
    )
    assert_error(call(lambda: stub.user.system.update_config({})), 403, None)


def test_patch_config(stub: Stub) -> None:
    current = json_result(call(lambda: stub.driver.system.get_config()))
    level = current["LogSettings"]["ConsoleLevel"]
    patched = json_result(
        call(lambda: stub.driver.system.patch_config({"LogSettings": {"ConsoleLevel": "ERROR"}}))
    )
    assert patched["LogSettings"]["ConsoleLevel"] == "ERROR"
    json_result(
        call(lambda: stub.driver.system.patch_config({"LogSettings": {"ConsoleLevel": level}}))
    )
    assert_error(
        call(lambda: stub.driver.system.patch_config({"PasswordSettings": {"MinimumLength": 4}})),
        400,
        "model.config.is_valid.password_length.app_error",
    )
    assert_error(call(lambda: stub.user.system.patch_config({})), 403, None)


def test_reload_config(stub: Stub) -> None:
    assert_status_ok(call(lambda: stub.driver.system.reload_config()))
    assert_error(call(lambda: stub.user.system.reload_config()), 403, None)


def test_get_client_config(stub: Stub) -> None:
    full = json_result(call(lambda: stub.driver.system.get_client_config()))
    assert full["Version"]
    assert all(isinstance(v, str) for v in full.values())
    limited = json_result(call(lambda: stub.anonymous.system.get_client_config()))
    assert limited["Version"]
    assert len(limited) <= len(full)


def test_get_environment_config(stub: Stub) -> None:
    assert isinstance(json_result(call(lambda: stub.driver.system.get_environment_config())), dict)
    assert json_result(call(lambda: stub.user.system.get_environment_config())) == {}
    assert_error(call(lambda: stub.anonymous.system.get_environment_config()), 401, None)


# --- license ------------------------------------------------------------------------------------


def test_license_lifecycle(stub: Stub) -> None:
    """Upload, client license, support packet, load metric, remove: one story, in order."""
    system = stub.driver.system
    valid = load_fixture_license("valid.mattermost-license")

    uploaded = json_result(
        call(lambda: system.upload_license_file(("valid.mattermost-license", valid)))
    )
    assert uploaded["features"]["users"] == 1000
    assert uploaded["sku_short_name"] == "enterprise"
    for key in ("id", "issued_at", "starts_at", "expires_at", "customer", "is_trial"):
        assert key in uploaded

    full = json_result(call(lambda: system.get_client_license("old")))
    assert full["IsLicensed"] == "true"
    assert full["Id"] == uploaded["id"]
    trimmed = json_result(call(lambda: stub.user.system.get_client_license("old")))
    assert trimmed["IsLicensed"] == "true"
    assert "Id" not in trimmed
    assert "ExpiresAt" not in trimmed

    load = json_result(call(lambda: system.get_license_load_metric()))
    assert isinstance(load["load"], int)

    packet = call(lambda: system.generate_support_packet())
    assert packet.status == 200, packet
    response: httpx.Response = packet.result
    assert isinstance(response, httpx.Response)
    assert "attachment" in response.headers.get("content-disposition", "")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist()
    no_logs = call(lambda: system.generate_support_packet(basic_server_logs=False))
    assert no_logs.status == 200, no_logs
    assert_error(call(lambda: stub.user.system.generate_support_packet()), 403, None)

    assert_status_ok(call(lambda: system.remove_license_file()))
    assert json_result(call(lambda: system.get_client_license("old"))) == {"IsLicensed": "false"}
    assert json_result(call(lambda: system.get_license_load_metric())) == {"load": 0}
    assert_error(call(lambda: system.generate_support_packet()), 403, "api.no_license")

    for name, error_id in (
        ("garbage", "api.license.add_license.invalid.app_error"),
        ("bad-signature", "api.license.add_license.invalid.app_error"),
        ("tampered", "api.license.add_license.invalid.app_error"),
        ("expired", "api.license.add_license.expired.app_error"),
        ("not-yet-started", "api.license.add_license.expired.app_error"),
    ):
        data = load_fixture_license(name)
        assert_error(
            call(partial(system.upload_license_file, (name, data))),
            400,
            error_id,
        )
    assert_error(call(lambda: stub.user.system.upload_license_file(("valid", valid))), 403, None)
    assert_error(call(lambda: stub.user.system.remove_license_file()), 403, None)


def test_trial_license(stub: Stub) -> None:
    system = stub.driver.system
    previous = json_result(call(lambda: system.get_prev_trial_license()))
    assert "IsLicensed" in previous
    # The driver sends only ``users``: a legacy request without the terms accepted, which a
    # correct server refuses before it asks for a trial.
    assert_error(
        call(lambda: system.request_trial_license(100)),
        400,
        "api.license.request-trial.bad-request.terms-not-accepted",
    )
    assert_error(call(lambda: stub.user.system.request_trial_license(100)), 403, None)
    json_result(call(lambda: stub.user.system.get_prev_trial_license()))


# --- audits, caches, logs, analytics ------------------------------------------------------------


def test_get_audits(stub: Stub) -> None:
    audits = json_result(call(lambda: stub.driver.system.get_audits(page=0, per_page=100)))
    assert audits is None or isinstance(audits, list)
    one = json_result(call(lambda: stub.driver.system.get_audits(page=0, per_page=1)))
    assert one is None or len(one) <= 1
    json_result(call(lambda: stub.driver.system.get_audits(page=-1, per_page=-1)))
    assert_error(call(lambda: stub.user.system.get_audits()), 403, None)


def test_invalidate_caches(stub: Stub) -> None:
    assert_status_ok(call(lambda: stub.driver.system.invalidate_caches()))
    assert_error(call(lambda: stub.user.system.invalidate_caches()), 403, None)


def test_logs(stub: Stub) -> None:
    echoed = json_result(call(lambda: stub.driver.system.post_log("ERROR", "from the driver")))
    assert echoed["message"] == "Client Logs API Endpoint Message: from the driver"
    lines = json_result(call(lambda: stub.driver.system.get_logs(page=0, logs_per_page="10")))
    assert lines is None or (isinstance(lines, list) and len(lines) <= 10)
    assert any("from the driver" in line for line in lines or [])
    json_result(call(lambda: stub.driver.system.get_logs()))
    assert_error(call(lambda: stub.user.system.get_logs()), 403, None)
    # developer mode is off by default: an anonymous POST /logs is refused
    assert_error(
        call(lambda: stub.anonymous.system.post_log("ERROR", "x")),
        403,
        "api.context.permissions.app_error",
    )


def test_get_analytics_old(stub: Stub) -> None:
    rows = json_result(call(lambda: stub.driver.system.get_analytics_old()))
    assert len(rows) == 11
    assert rows[5]["name"] == "total_websocket_connections"
    for name in ("post_counts_day", "user_counts_with_posts_day", "extra_counts"):
        json_result(call(partial(stub.driver.system.get_analytics_old, name=name)))
    team = json_result(call(lambda: stub.driver.system.get_analytics_old(team_id=VALID_TEAM_ID)))
    assert {r["name"]: r["value"] for r in team}["inactive_user_count"] == -1
    assert_error(
        call(lambda: stub.driver.system.get_analytics_old(name="nope")),
        400,
        "api.context.invalid_body_param.app_error",
    )
    assert_error(call(lambda: stub.user.system.get_analytics_old()), 403, None)


# --- server busy --------------------------------------------------------------------------------


def test_server_busy(stub: Stub) -> None:
    system = stub.driver.system
    try:
        assert_status_ok(call(lambda: system.set_server_busy(seconds="30")))
        state = json_result(call(lambda: system.get_server_busy_expires()))
        assert state["busy"] is True
        assert isinstance(state["expires"], int)
        assert isinstance(state["expires_ts"], str)
        for bad in ("-1", "0", "86401", "abc"):
            assert_error(
                call(partial(system.set_server_busy, seconds=bad)),
                400,
                "api.context.invalid_url_param.app_error",
            )
        assert_error(call(lambda: stub.user.system.set_server_busy(seconds="30")), 403, None)
        assert_error(call(lambda: stub.user.system.get_server_busy_expires()), 403, None)
        assert_error(call(lambda: stub.user.system.clear_server_busy()), 403, None)
    finally:
        assert_status_ok(call(lambda: system.clear_server_busy()))
    state = json_result(call(lambda: system.get_server_busy_expires()))
    assert state == {
        "busy": False,
        "expires": -62135596800,
        "expires_ts": "Mon Jan 1 00:00:00 +0000 UTC 0001",
    }
    assert_status_ok(call(lambda: system.set_server_busy()))  # default 3600 s
    assert_status_ok(call(lambda: system.clear_server_busy()))


# --- notifications, redirects, images -----------------------------------------------------------


def test_acknowledge_notification(stub: Stub) -> None:
    # The driver sends no body, so only the documented parse error can come back.
    assert_error(
        call(lambda: stub.driver.root.acknowledge_notification()),
        400,
        "api.push_notifications_ack.message.parse.app_error",
    )


def test_get_redirect_location(stub: Stub) -> None:
    body = json_result(
        call(lambda: stub.driver.system.get_redirect_location(f"{stub.url}/api/v4/system/ping"))
    )
    assert set(body) == {"location"}
    assert isinstance(body["location"], str)
    assert_error(
        call(lambda: stub.anonymous.system.get_redirect_location("http://127.0.0.1/")), 401, None
    )


def test_get_image_by_url(stub: Stub) -> None:
    # The driver cannot pass ``url``; newest servers answer 400 with the proxy disabled.
    outcome = call(lambda: stub.driver.system.get_image_by_url())
    assert (outcome.status, outcome.error_id) in {(400, "api.image.get.app_error"), (302, None)}


# --- upgrade, restart, integrity ----------------------------------------------------------------


def test_upgrade_to_enterprise(stub: Stub) -> None:
    system = stub.driver.system
    status = json_result(call(lambda: system.upgrade_to_enterprise_status()))
    assert isinstance(status["percentage"], int)
    assert "error" in status
    # The stub is an Enterprise build by default: there is nothing to upgrade to, and the
    # upgrader's own error text comes back as the error id.
    refusal = call(lambda: system.is_allowed_to_upgrade_to_enterprise())
    assert refusal.status == 403
    assert refusal.error_id is not None
    assert "already running Mattermost Enterprise Edition" in refusal.error_id
    assert_error(
        call(lambda: system.upgrade_to_enterprise()),
        429,
        "api.upgrade_to_enterprise.already-enterprise.app_error",
    )
    for method in ("upgrade_to_enterprise", "upgrade_to_enterprise_status"):
        fn = getattr(stub.user.system, method)
        assert_error(call(fn), 403, "api.context.permissions.app_error")


def test_restart_server(stub: Stub) -> None:
    assert_status_ok(call(lambda: stub.driver.system.restart_server()))
    # simulated: the stub is still there
    assert json_result(call(lambda: stub.driver.system.get_ping()))["status"] == "OK"
    assert_error(call(lambda: stub.user.system.restart_server()), 403, None)


def test_check_integrity(stub: Stub) -> None:
    over_tcp = call(lambda: stub.driver.system.check_integrity())
    # Over TCP the local-only route does not exist: the router's catch-all answers.
    assert_error(over_tcp, 404, None)
    if stub.local_socket is None:
        pytest.skip("the stub was started without a local-mode socket")
    local = make_driver(
        "http://localhost:8065", "", transport=httpx.HTTPTransport(uds=stub.local_socket)
    )
    try:
        results = json_result(call(lambda: local.system.check_integrity()))
        assert results is None or isinstance(results, list)
        # local mode is unrestricted: a license can be removed without a token there
        assert_status_ok(call(lambda: local.system.remove_license_file()))
    finally:
        local.client.close()


# --- what the driver lacks -----------------------------------------------------------------------


def test_license_renewal_is_gone_on_the_newest_version(stub: Stub) -> None:
    """Not in the driver: checked with plain httpx instead."""
    response = httpx.get(
        f"{stub.url}/api/v4/license/renewal",
        headers={"Authorization": f"Bearer {stub.tokens['system_admin']}"},
        trust_env=False,
    )
    assert response.status_code == 404
    assert response.json()["id"] == "api.context.404.app_error"


# --- coverage of the contract check --------------------------------------------------------------

# Operations of the contract the driver reaches over TCP in this module (all 39 but
# RequestLicenseRenewalLink, which the driver lacks).
DRIVER_OPERATIONS = frozenset(
    {
        "GetSupportedTimezone", "GetPing", "GetNotices", "MarkNoticesViewed", "DatabaseRecycle",
        "TestEmail", "TestNotification", "TestSiteURL", "TestS3Connection", "GetConfig",
        "UpdateConfig", "ReloadConfig", "GetClientConfig", "GetEnvironmentConfig", "PatchConfig",
        "UploadLicenseFile", "RemoveLicenseFile", "GetClientLicense", "GetLicenseLoadMetric",
        "RequestTrialLicense", "GetPrevTrialLicense", "GetAudits", "InvalidateCaches", "GetLogs",
        "PostLog", "GetAnalyticsOld", "SetServerBusy", "GetServerBusyExpires", "ClearServerBusy",
        "AcknowledgeNotification", "GetRedirectLocation", "GetImageByUrl", "UpgradeToEnterprise",
        "UpgradeToEnterpriseStatus", "IsAllowedToUpgradeToEnterprise", "RestartServer",
        "CheckIntegrity", "GenerateSupportPacket",
    }
)  # fmt: skip


def test_every_driver_operation_was_checked_against_the_contract(
    stub: Stub, request: pytest.FixtureRequest
) -> None:
    """Runs last (file order): the response checks above covered every operation called."""
    contract = stub.recorder.contract
    lacking = {op.operation_id for op in contract.operations} - DRIVER_OPERATIONS
    assert lacking == {"RequestLicenseRenewalLink"}
    names = [name for name in vars(request.module) if name.startswith("test_")]
    earlier = set(names[: names.index(request.node.originalname)])
    if earlier - _RAN_HERE:
        pytest.skip("only meaningful when the whole module runs in this process")
    assert DRIVER_OPERATIONS - stub.recorder.checked == set()


def test_the_contract_check_catches_a_bad_response(stub: Stub) -> None:
    """Self-test of the recorder: a ping body of the wrong shape is reported."""
    recorder = Recorder(stub.recorder.contract, stub.recorder.version)
    request = httpx.Request("GET", f"{stub.url}/api/v4/system/ping")
    recorder.hook(
        httpx.Response(
            200,
            headers={"content-type": "application/json"},
            content=b'{"status": 5}',
            request=request,
        )
    )
    recorder.hook(
        httpx.Response(
            299, headers={"content-type": "application/json"}, content=b"{}", request=request
        )
    )
    problems = recorder.problems()
    assert any("GetPing 200" in p for p in problems), problems
    assert any("undocumented status 299" in p for p in problems), problems
