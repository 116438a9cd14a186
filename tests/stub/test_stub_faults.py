"""Each fault breaks its promise, and only with the fault switched on."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from mmconform.stub import FakeClock, Fault, RunningStub, StubOptions, start_stub
from mmconform.stub._config_defaults import FAKE_SETTING
from mmconform.stub._license import load_fixture_license
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


def _invalid_zone_listed(api: Api) -> bool:
    zones = api("GET", "/api/v4/system/timezones", "system_user").json()
    return any(zone not in zoneinfo.available_timezones() for zone in zones)


def _posted_log_missing(api: Api) -> bool:
    api("POST", "/api/v4/logs", json={"level": "ERROR", "message": "probe-posted-line"})
    return "probe-posted-line" not in api("GET", "/api/v4/logs").text


# fault -> a probe that answers True when the broken behaviour is visible
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
}


def test_every_fault_has_a_probe_and_a_description() -> None:
    assert set(PROBES) == set(Fault)
    for fault in Fault:
        assert fault.description
        assert Fault.parse(fault.name.lower().replace("_", "-")) is fault
    with pytest.raises(ValueError, match="unknown fault"):
        Fault.parse("NOPE")


def test_readme_fault_table_is_the_catalogue() -> None:
    """The stub README's fault table lists every fault, in order, with its one description."""
    readme = (Path(__file__).resolve().parents[2] / "mmconform" / "stub" / "README.md").read_text(
        encoding="utf-8"
    )
    table = readme.split("## Fault catalogue", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| (.+?) \|$", table, re.MULTILINE)
    assert rows == [(fault.name, fault.description) for fault in Fault]


@pytest.fixture(scope="module")
def healthy() -> Iterator[Api]:
    with start_stub(StubOptions(clock=FakeClock(), local_mode=False)) as stub:
        caller = Api(stub)
        yield caller
        caller.close()


@pytest.mark.parametrize("fault", list(Fault), ids=lambda f: f.name)
def test_fault_breaks_its_promise(fault: Fault, healthy: Api) -> None:
    with start_stub(
        StubOptions(faults=frozenset({fault}), clock=FakeClock(), local_mode=False)
    ) as stub:
        caller = Api(stub)
        try:
            assert PROBES[fault](caller), f"{fault.name} is not visible"
        finally:
            caller.close()
    saved = healthy.stub.state.store.file_config
    try:
        assert not PROBES[fault](healthy), f"{fault.name} shows without the fault"
    finally:
        healthy.stub.state.save_config(saved)
        healthy.stub.state.set_license(None)
        healthy.stub.state.clear_busy()


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
