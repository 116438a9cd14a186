"""Each fault breaks its promise, and only with the fault switched on."""

from __future__ import annotations

import dataclasses
import io
import zipfile
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from mmconform._version import Version
from mmconform.stub import (
    DEFAULT_SERVER_VERSION,
    FakeClock,
    Fault,
    RunningStub,
    StubOptions,
    start_stub,
)
from mmconform.stub._config_defaults import FAKE_SETTING
from mmconform.stub._license import load_fixture_license
from mmconform.stub.faults import AREAS, fault_table
from mmconform.stub.handlers import OPERATIONS
from tests.stub._helpers import Api


def _busy_never_expires(api: Api) -> bool:
    clock = api.stub.state.clock
    assert isinstance(clock, FakeClock)
    api("POST", "/api/v4/server_busy?seconds=1")
    clock.advance(5)
    busy = api("GET", "/api/v4/server_busy").json()["busy"] is True
    api("DELETE", "/api/v4/server_busy")
    return busy


def _secrets_dropped(api: Api) -> bool:
    api.stub.state.update_config(EmailSettings={"SMTPPassword": "secret"})
    api("PUT", "/api/v4/config/patch", json={"EmailSettings": {"SMTPPassword": FAKE_SETTING}})
    return bool(api.stub.state.config["EmailSettings"]["SMTPPassword"] == FAKE_SETTING)


def _ro_admin_writes(api: Api) -> bool:
    api(
        "PUT",
        "/api/v4/config/patch",
        "system_read_only_admin",
        json={"TeamSettings": {"SiteName": "ByReadOnly"}},
    )
    return bool(api.stub.state.config["TeamSettings"]["SiteName"] == "ByReadOnly")


def _logs_paging_ignored(api: Api) -> bool:
    for i in range(3):
        api("POST", "/api/v4/logs", json={"level": "ERROR", "message": str(i)})
    return len(api("GET", "/api/v4/logs?logs_per_page=1").json()) > 1


def _restrict_ignored(api: Api) -> bool:
    api.stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
    return api("POST", "/api/v4/database/recycle").status_code == 200


def _put_keeps_missing(api: Api) -> bool:
    api("PUT", "/api/v4/config/patch", json={"TeamSettings": {"SiteName": "Kept"}})
    api("PUT", "/api/v4/config", json={"RateLimitSettings": {"PerSec": 11}})
    return bool(api.stub.state.config["TeamSettings"]["SiteName"] == "Kept")


def _unhealthy_ping_with_rest_semantics_is_500(api: Api) -> bool:
    api.stub.state.update_config(ServiceSettings={"GoroutineHealthThreshold": 1})
    return api("GET", "/api/v4/system/ping?use_rest_semantics=true").status_code == 500


def _untrimmed_license(api: Api) -> bool:
    valid = load_fixture_license("valid")
    assert api("POST", "/api/v4/license", files={"license": ("l", valid)}).status_code == 200
    shown = api("GET", "/api/v4/license/client?format=old", "system_user").json()
    return "Id" in shown


def _busy_seconds_ignored(api: Api) -> bool:
    api("POST", "/api/v4/server_busy?seconds=60")
    expires = api("GET", "/api/v4/server_busy").json()["expires"]
    return bool(expires - api.stub.state.now() > 120)


def _busy_expires_in_milliseconds(api: Api) -> bool:
    api("POST", "/api/v4/server_busy?seconds=60")
    return bool(api("GET", "/api/v4/server_busy").json()["expires"] > 10**11)


def _busy_clear_ignored(api: Api) -> bool:
    api("POST", "/api/v4/server_busy?seconds=60")
    api("DELETE", "/api/v4/server_busy")
    return api("GET", "/api/v4/server_busy").json()["busy"] is True


def _patch_acts_as_put(api: Api) -> bool:
    api.stub.state.update_config(TeamSettings={"MaxUsersPerTeam": 77})
    api("PUT", "/api/v4/config/patch", json={"TeamSettings": {"SiteName": "Patched"}})
    return bool(api.stub.state.config["TeamSettings"]["MaxUsersPerTeam"] != 77)


def _audits_cap_ignored(api: Api) -> bool:
    admin = api.stub.state.users["system_admin"]
    for _ in range(260):
        api.stub.state.add_audit(admin, "/api/v4/probe", "127.0.0.1", "")
    return len(api("GET", "/api/v4/audits?per_page=250").json()) > 200


def _audits_capped_at_100(api: Api) -> bool:
    admin = api.stub.state.users["system_admin"]
    for _ in range(260):
        api.stub.state.add_audit(admin, "/api/v4/probe", "127.0.0.1", "")
    return len(api("GET", "/api/v4/audits?per_page=200").json()) == 100


def _later_audit_pages_empty(api: Api) -> bool:
    admin = api.stub.state.users["system_admin"]
    for _ in range(20):
        api.stub.state.add_audit(admin, "/api/v4/probe", "127.0.0.1", "")
    return api("GET", "/api/v4/audits?page=1&per_page=5").json() is None


def _file_logging_claimed_off(api: Api) -> bool:
    api.stub.state.update_config(LogSettings={"EnableFile": True})
    api("POST", "/api/v4/logs", json={"level": "ERROR", "message": "probe"})
    return bool(api("GET", "/api/v4/logs?logs_per_page=5").json() == [""])


def _log_page_order_unstable(api: Api) -> bool:
    for i in range(4):
        api("POST", "/api/v4/logs", json={"level": "ERROR", "message": f"order-{i}"})
    first, second = (api("GET", "/api/v4/logs?logs_per_page=4").json() for _ in range(2))
    return bool(first != second)


def _health_threshold_ignored(api: Api) -> bool:
    api.stub.state.update_config(ServiceSettings={"GoroutineHealthThreshold": 1})
    return bool(api("GET", "/api/v4/system/ping").json()["status"] == "OK")


def _empty_secret_masked(api: Api) -> bool:
    api.stub.state.update_config(GitLabSettings={"Secret": ""})
    return bool(api("GET", "/api/v4/config").json()["GitLabSettings"]["Secret"] == FAKE_SETTING)


def _invalid_zone_listed(api: Api) -> bool:
    zones = api("GET", "/api/v4/system/timezones", "system_user").json()
    known = zoneinfo.available_timezones()
    return any(zone not in known for zone in zones)


def _posted_log_missing(api: Api) -> bool:
    api("POST", "/api/v4/logs", json={"level": "ERROR", "message": "probe-posted-line"})
    return "probe-posted-line" not in api("GET", "/api/v4/logs").text


TEAM_ID = "mmconformteam000000000000a"


def _upload_valid_license(api: Api) -> None:
    valid = load_fixture_license("valid")
    assert api("POST", "/api/v4/license", files={"license": ("l", valid)}).status_code == 200


def _support_packet_not_a_zip(api: Api) -> bool:
    _upload_valid_license(api)
    response = api("GET", "/api/v4/system/support_packet")
    assert response.status_code == 200, response.text
    return not zipfile.is_zipfile(io.BytesIO(response.content))


def _license_kept(api: Api) -> bool:
    _upload_valid_license(api)
    assert api("DELETE", "/api/v4/license").status_code == 200
    shown = api("GET", "/api/v4/license/client?format=old").json()
    return bool(shown["IsLicensed"] == "true")


def _second_trial_granted(api: Api) -> bool:
    request = {"users": 100, "terms_accepted": True}
    assert api("POST", "/api/v4/trial-license", json=request).status_code == 200
    return api("POST", "/api/v4/trial-license", json=request).status_code == 200


def _reload_restores_startup(api: Api) -> bool:
    api("PUT", "/api/v4/config/patch", json={"TeamSettings": {"SiteName": "Saved"}})
    assert api("POST", "/api/v4/config/reload").status_code == 200
    return bool(api.stub.state.config["TeamSettings"]["SiteName"] != "Saved")


def _audits_oldest_first(api: Api) -> bool:
    admin = api.stub.state.users["system_admin"]
    api.stub.state.add_audit(admin, "/probe-first", "127.0.0.1", "")
    api.stub.state.add_audit(admin, "/probe-second", "127.0.0.1", "")
    return bool(api("GET", "/api/v4/audits").json()[0]["action"] != "/probe-second")


def _logs_oldest_first(api: Api) -> bool:
    for i in range(3):
        api("POST", "/api/v4/logs", json={"level": "ERROR", "message": f"probe-line-{i}"})
    return "probe-line-2" not in api("GET", "/api/v4/logs?logs_per_page=1").text


def _viewed_notice_shown_again(api: Api) -> bool:
    path = f"/api/v4/system/notices/{TEAM_ID}?client=web"
    first = api("GET", path, "system_user").json()[0]["id"]
    assert api("PUT", "/api/v4/system/notices/view", "system_user", json=[first]).status_code == 200
    return first in [n["id"] for n in api("GET", path, "system_user").json()]


def _email_sent_through_posted(api: Api) -> bool:
    api.stub.state.update_config(ServiceSettings={"EnableDeveloper": True})
    body = api("GET", "/api/v4/config").json()
    body["EmailSettings"]["SMTPServer"] = "smtp.mmconform.invalid"
    response = api("POST", "/api/v4/email/test", json=body)
    return "smtp.mmconform.invalid" in response.json()["detailed_error"]


def _s3_test_ok_without_store(api: Api) -> bool:
    files = api("GET", "/api/v4/config").json()["FileSettings"]
    files.update(AmazonS3Bucket="b", AmazonS3Endpoint="127.0.0.1:1", AmazonS3SSL=False)
    return api("POST", "/api/v4/file/s3_test", json={"FileSettings": files}).status_code == 200


def _request_id_mismatch(api: Api) -> bool:
    response = api("GET", "/api/v4/config", "system_user")
    return bool(response.json()["request_id"] != response.headers["X-Request-Id"])


# fault -> a probe that answers True when the broken behaviour is visible: unit checks of the
# stub's fault branches, in process. A fault needs none: the suite validation proves every fault
# from its record (the tests that must catch it fail against it, and pass against the faithful
# stub).
PROBES: dict[Fault, Callable[[Api], bool]] = {
    Fault.BUSY_MISSING_EXPIRES: lambda api: (
        api("POST", "/api/v4/server_busy?seconds=60") is not None
        and "expires" not in api("GET", "/api/v4/server_busy").json()
    ),
    Fault.BUSY_EXPIRES_AS_STRING: lambda api: isinstance(
        api("GET", "/api/v4/server_busy").json()["expires"], str
    ),
    Fault.BUSY_NEVER_EXPIRES: _busy_never_expires,
    Fault.BUSY_ACCEPTS_ZERO_SECONDS: lambda api: (
        api("POST", "/api/v4/server_busy?seconds=0").status_code == 200
    ),
    Fault.TIMEZONES_AS_TEXT: lambda api: (
        api("GET", "/api/v4/system/timezones").headers["Content-Type"].startswith("text/plain")
    ),
    Fault.TIMEZONES_IGNORE_AUTH: lambda api: (
        api("GET", "/api/v4/system/timezones", "anonymous").status_code == 200
    ),
    Fault.AUDITS_500_ON_BAD_PAGING: lambda api: (
        api("GET", "/api/v4/audits?page=x").status_code == 500
    ),
    Fault.PING_IGNORES_REST_SEMANTICS: _unhealthy_ping_with_rest_semantics_is_500,
    Fault.CONFIG_LEAKS_SECRETS: lambda api: (
        api("GET", "/api/v4/config").json()["SqlSettings"]["DataSource"] != FAKE_SETTING
    ),
    Fault.CONFIG_PUT_DROPS_SECRETS: _secrets_dropped,
    Fault.PERMISSIONS_IGNORED_FOR_LOGS: lambda api: (
        api("GET", "/api/v4/logs", "system_user").status_code == 200
    ),
    Fault.READ_ONLY_ADMIN_CAN_WRITE_CONFIG: _ro_admin_writes,
    Fault.ERROR_BODY_PLAIN_TEXT: lambda api: (
        api("GET", "/api/v4/config", "system_user").headers["Content-Type"].startswith("text/plain")
    ),
    Fault.LOGS_PAGING_IGNORED: _logs_paging_ignored,
    Fault.LICENSE_UPLOAD_ACCEPTS_INVALID: lambda api: (
        api(
            "POST", "/api/v4/license", files={"license": ("l", load_fixture_license("garbage"))}
        ).status_code
        == 200
    ),
    Fault.MISSING_REQUEST_ID_HEADER: lambda api: (
        "X-Request-Id" not in api("GET", "/api/v4/system/ping").headers
    ),
    Fault.RESTRICT_SYSTEM_ADMIN_IGNORED: _restrict_ignored,
    Fault.CLIENT_CONFIG_FULL_WITHOUT_SESSION: lambda api: (
        "GoogleDeveloperKey" in api("GET", "/api/v4/config/client", "anonymous").json()
    ),
    Fault.PUT_CONFIG_KEEPS_MISSING: _put_keeps_missing,
    Fault.JSON_CONTENT_TYPE_WITH_CHARSET: lambda api: (
        api("GET", "/api/v4/system/ping").headers["content-type"]
        == "application/json; charset=utf-8"
    ),
    Fault.CONFIG_UNFILTERED_FOR_READERS: lambda api: (
        api("GET", "/api/v4/config", "system_user_manager").json()["SqlSettings"]["DriverName"]
        is not None
    ),
    Fault.CLIENT_LICENSE_UNTRIMMED: lambda api: _untrimmed_license(api),
    Fault.BUSY_SECONDS_IGNORED: _busy_seconds_ignored,
    Fault.BUSY_EXPIRES_IN_MILLISECONDS: _busy_expires_in_milliseconds,
    Fault.BUSY_CLEAR_IGNORED: _busy_clear_ignored,
    Fault.PATCH_CONFIG_ACTS_AS_PUT: _patch_acts_as_put,
    Fault.AUDITS_PER_PAGE_CAP_IGNORED: _audits_cap_ignored,
    Fault.PING_ROOT_STATUS_LEAKED: lambda api: (
        "root_status"
        in api("GET", "/api/v4/system/ping?get_server_status=true", "system_user").json()
    ),
    Fault.TIMEZONES_INVALID_ZONE: _invalid_zone_listed,
    Fault.APP_ERROR_STATUS_CODE_MISMATCH: lambda api: (
        api("GET", "/api/v4/config", "system_user").json()["status_code"] != 403
    ),
    Fault.POSTED_LOG_NEVER_APPEARS: _posted_log_missing,
    Fault.PING_MISSING_STATUS: lambda api: "status" not in api("GET", "/api/v4/system/ping").json(),
    Fault.PING_SERVER_STATUS_IGNORED: lambda api: (
        "database_status" not in api("GET", "/api/v4/system/ping?get_server_status=true").json()
    ),
    Fault.PING_DEVICE_ID_IGNORED: lambda api: (
        "CanReceiveNotifications"
        not in api("GET", "/api/v4/system/ping?device_id=android_rn:probe").json()
    ),
    Fault.INTEGRITY_OVER_TCP: lambda api: (
        api("POST", "/api/v4/integrity", "system_user").status_code == 200
    ),
    Fault.CACHES_INVALIDATED_WITHOUT_STATUS: lambda api: (
        api("POST", "/api/v4/caches/invalidate").content == b""
    ),
    Fault.DATABASE_RECYCLE_WITHOUT_SESSION: lambda api: (
        api("POST", "/api/v4/database/recycle", "anonymous").status_code == 200
    ),
    Fault.RESTART_ALLOWED_FOR_READ_ONLY_ADMIN: lambda api: (
        api("POST", "/api/v4/restart", "system_read_only_admin").status_code == 200
    ),
    Fault.SUPPORT_PACKET_NOT_A_ZIP: _support_packet_not_a_zip,
    Fault.UPGRADE_ALLOWED_ON_ENTERPRISE: lambda api: (
        api("GET", "/api/v4/upgrade_to_enterprise/allowed").status_code == 200
    ),
    Fault.UPGRADE_STARTS_ON_ENTERPRISE: lambda api: (
        api("POST", "/api/v4/upgrade_to_enterprise").status_code == 202
    ),
    Fault.UPGRADE_STATUS_UNGUARDED: lambda api: (
        api("GET", "/api/v4/upgrade_to_enterprise/status", "system_user").status_code == 200
    ),
    Fault.LICENSE_REMOVAL_KEEPS_LICENSE: _license_kept,
    Fault.LOAD_METRIC_AS_STRING: lambda api: isinstance(
        api("GET", "/api/v4/license/load_metric").json()["load"], str
    ),
    Fault.TRIAL_LICENSE_GRANTED_TWICE: _second_trial_granted,
    Fault.PREV_TRIAL_LICENSE_NULL: lambda api: (
        api("GET", "/api/v4/trial-license/prev").json() is None
    ),
    Fault.RENEWAL_LINK_WITHOUT_PERMISSION: lambda api: (
        api("GET", "/api/v4/license/renewal", "system_user").status_code != 403
    ),
    Fault.CONFIG_RELOAD_RESTORES_STARTUP: _reload_restores_startup,
    Fault.ENVIRONMENT_CONFIG_LISTS_EVERYTHING: lambda api: (
        api("GET", "/api/v4/config/environment").json() != {}
    ),
    Fault.CLIENT_CONFIG_FORMAT_REQUIRED: lambda api: (
        api("GET", "/api/v4/config/client").status_code == 501
    ),
    Fault.CONFIG_PUT_MALFORMED_JSON_500: lambda api: (
        api("PUT", "/api/v4/config", content=b"{").status_code == 500
    ),
    Fault.AUDITS_OLDEST_FIRST: _audits_oldest_first,
    Fault.LOGS_OLDEST_FIRST: _logs_oldest_first,
    Fault.ANALYTICS_UNKNOWN_NAME_ACCEPTED: lambda api: (
        api("GET", "/api/v4/analytics/old?name=nope").status_code == 200
    ),
    Fault.NOTICES_MALFORMED_TEAM_ID_ACCEPTED: lambda api: (
        api("GET", "/api/v4/system/notices/abcde?client=web", "system_user").status_code == 200
    ),
    Fault.NOTICE_VIEWED_SHOWN_AGAIN: _viewed_notice_shown_again,
    Fault.REDIRECT_WITHOUT_URL_ACCEPTED: lambda api: (
        api("GET", "/api/v4/redirect_location", "system_user").status_code == 200
    ),
    Fault.IMAGE_OPAQUE_URL_ACCEPTED: lambda api: (
        api("GET", "/api/v4/image?url=mailto:a@example.com", "system_user").status_code == 200
    ),
    Fault.EMAIL_TEST_USES_POSTED_SETTINGS: _email_sent_through_posted,
    Fault.S3_TEST_ALWAYS_OK: _s3_test_ok_without_store,
    Fault.SITE_URL_TEST_ACCEPTS_EMPTY: lambda api: (
        api("POST", "/api/v4/site_url/test", json={"site_url": ""}).status_code == 200
    ),
    Fault.PUSH_ACK_EMPTY_BODY_ACCEPTED: lambda api: (
        api("POST", "/api/v4/notifications/ack", "system_user", content=b"").status_code == 200
    ),
    Fault.TEST_NOTIFICATION_REFUSED_TO_USERS: lambda api: (
        api("POST", "/api/v4/notifications/test", "system_user").status_code == 403
    ),
    Fault.VERSION_ID_LICENSE_FLAG_WRONG: lambda api: (
        api("GET", "/api/v4/system/ping").headers["X-Version-Id"].endswith(".true")
    ),
    Fault.REQUEST_ID_BODY_MISMATCH: _request_id_mismatch,
    Fault.AUDITS_PER_PAGE_CAPPED_AT_100: _audits_capped_at_100,
    Fault.AUDITS_LATER_PAGES_EMPTY: _later_audit_pages_empty,
    Fault.LOGS_CLAIM_FILE_LOGGING_OFF: _file_logging_claimed_off,
    Fault.LOGS_PAGE_ORDER_UNSTABLE: _log_page_order_unstable,
    Fault.PING_HEALTH_THRESHOLD_IGNORED: _health_threshold_ignored,
    Fault.CONFIG_EMPTY_SECRETS_MASKED: _empty_secret_masked,
}


def test_every_fault_has_a_description_and_is_found_by_name() -> None:
    for fault in Fault:
        assert fault.description
        assert Fault.parse(fault.name.lower().replace("_", "-")) is fault
    with pytest.raises(ValueError, match="unknown fault"):
        Fault.parse("NOPE")


def test_readme_fault_table_is_rendered_from_the_records() -> None:
    """The stub README's fault table is the records' own rendering (print it with
    ``python -m mmconform.stub --fault-table``)."""
    readme = (Path(__file__).resolve().parents[2] / "mmconform" / "stub" / "README.md").read_text(
        encoding="utf-8"
    )
    assert fault_table() in readme, "regenerate it: python -m mmconform.stub --fault-table"


def test_every_fault_has_an_area_and_known_operations() -> None:
    operations = {op.name for op in OPERATIONS}
    for fault in Fault:
        assert fault.area in AREAS, fault
        assert isinstance(fault.operations, tuple), fault
        unknown = set(fault.operations) - operations
        assert not unknown, (fault, unknown)
        assert len(set(fault.operations)) == len(fault.operations), fault
        if fault.server_version is not None:
            Version.parse(fault.server_version)


def test_the_catalogue_covers_every_operation_and_area() -> None:
    concerned = {op for fault in Fault for op in fault.operations}
    assert concerned == {op.name for op in OPERATIONS}
    assert {fault.area for fault in Fault} == set(AREAS)


def test_a_fault_needing_another_version_concerns_operations_it_has() -> None:
    """Where the default version lacks a fault's operations, the version it names has them."""
    by_name = {op.name: op for op in OPERATIONS}
    default = Version.parse(DEFAULT_SERVER_VERSION)
    for fault in Fault:
        ops = [by_name[name] for name in fault.operations]
        if fault.server_version is None:
            assert not ops or any(op.exists_in(default) for op in ops), fault
        else:
            version = Version.parse(fault.server_version)
            assert all(op.exists_in(version) for op in ops), fault
            assert not any(op.exists_in(default) for op in ops), fault


@pytest.fixture(scope="module")
def healthy() -> Iterator[Api]:
    with start_stub(StubOptions(clock=FakeClock(), local_mode=False)) as stub:
        caller = Api(stub)
        yield caller
        caller.close()


def _options(fault: Fault | None) -> StubOptions:
    version = (fault.server_version if fault else None) or DEFAULT_SERVER_VERSION
    faults = frozenset({fault}) if fault else frozenset()
    return StubOptions(server_version=version, faults=faults, clock=FakeClock(), local_mode=False)


@pytest.mark.parametrize("fault", [f for f in Fault if f in PROBES], ids=lambda f: f.name)
def test_fault_breaks_its_promise(fault: Fault, healthy: Api) -> None:
    with start_stub(_options(fault)) as stub:
        caller = Api(stub)
        try:
            assert PROBES[fault](caller), f"{fault.name} is not visible"
        finally:
            caller.close()
    if fault.server_version is not None:
        # a healthy stub of the version the fault needs
        healthy_options = dataclasses.replace(_options(None), server_version=fault.server_version)
        with start_stub(healthy_options) as stub:
            caller = Api(stub)
            try:
                assert not PROBES[fault](caller), f"{fault.name} shows without the fault"
            finally:
                caller.close()
        return
    state = healthy.stub.state
    saved = state.store.file_config
    try:
        assert not PROBES[fault](healthy), f"{fault.name} shows without the fault"
    finally:
        state.save_config(saved)
        state.set_license(None)
        state.clear_busy()
        with state.lock:
            state.trial_allowed = True
            state.prev_trial = None
            state.notice_views.clear()


def test_faults_via_asgi_transport() -> None:
    from mmconform.stub import create_app

    app = create_app(StubOptions(faults=frozenset({Fault.TIMEZONES_IGNORE_AUTH})))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stub") as client:
            return await client.get("/api/v4/system/timezones")

    assert anyio.run(call).status_code == 200


def test_running_stub_exposes_state(running_stub: RunningStub) -> None:
    assert running_stub.state.faults == frozenset()
