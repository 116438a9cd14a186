"""Ping variants (fields, flags, versions) and server busy, with a controllable clock."""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx
import pytest

from mmconform.stub import FakeClock, RunningStub, StubOptions, create_app
from mmconform.stub.handlers.busy import go_time_string
from tests.stub._helpers import Api, error_id, stub_caller

pytestmark = pytest.mark.usefixtures("restore_state")


# --------------------------------------------------------------------------------------------
# ping
# --------------------------------------------------------------------------------------------
def test_basic_ping(api: Api) -> None:
    response = api("GET", "/api/v4/system/ping", "anonymous")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "OK"
    assert body["ActiveSearchBackend"] == "database"
    for key in ("AndroidLatestVersion", "AndroidMinVersion", "IosLatestVersion", "IosMinVersion"):
        assert body[key] == ""
    assert "database_status" not in body
    assert "root_status" not in body
    assert "TestFeatureFlag" not in body
    assert list(body) == sorted(body)


def test_ping_with_server_status(api: Api) -> None:
    admin = api("GET", "/api/v4/system/ping?get_server_status=true")
    body = admin.json()
    assert body["database_status"] == "OK"
    assert body["filestore_status"] == "OK"
    assert isinstance(body["root_status"], bool)
    assert admin.headers["Database_status"] == "OK"
    user = api("GET", "/api/v4/system/ping?get_server_status=true", "system_user").json()
    assert "root_status" not in user
    assert user["database_status"] == "OK"
    # newest: only the exact string "true"
    loose = api("GET", "/api/v4/system/ping?get_server_status=1").json()
    assert "database_status" not in loose


def test_ping_device_id(api: Api, running_stub: RunningStub) -> None:
    def can(device: str) -> str:
        body = api("GET", f"/api/v4/system/ping?device_id={device}").json()
        return str(body["CanReceiveNotifications"])

    assert can("platform:id") == "unknown"
    assert can("apple:abc") == "true"
    running_stub.state.update_config(EmailSettings={"SendPushNotifications": False})
    assert can("apple:abc") == "false"


def test_ping_unhealthy_and_rest_semantics(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(ServiceSettings={"GoroutineHealthThreshold": 10})
    response = api("GET", "/api/v4/system/ping")
    assert response.status_code == 500
    assert response.json()["status"] == "UNHEALTHY"
    rest = api("GET", "/api/v4/system/ping?use_rest_semantics=true")
    assert rest.status_code == 200
    assert rest.json()["status"] == "UNHEALTHY"
    running_stub.state.update_config(ServiceSettings={"GoroutineHealthThreshold": 100000})
    assert api("GET", "/api/v4/system/ping").status_code == 200


def test_ping_test_feature_flag(
    api: Api, running_stub: RunningStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MM_FEATUREFLAGS_TESTFEATURE", "testvalueunique")
    assert api("POST", "/api/v4/config/reload").status_code == 200
    body = api("GET", "/api/v4/system/ping?get_server_status=false&use_rest_semantics=false")
    assert body.json()["TestFeatureFlag"] == "testvalueunique"
    monkeypatch.delenv("MM_FEATUREFLAGS_TESTFEATURE")
    api("POST", "/api/v4/config/reload")
    assert "TestFeatureFlag" not in api("GET", "/api/v4/system/ping").json()


@pytest.mark.parametrize(
    ("version", "search_backend", "root_status", "lenient_flag"),
    [
        ("7.0.0", False, False, True),
        ("8.0.0", True, False, True),
        ("9.5.0", True, False, True),
        ("9.6.0", True, False, False),
        ("10.1.0", True, True, False),
    ],
)
def test_ping_fields_by_version(
    version: str, search_backend: bool, root_status: bool, lenient_flag: bool
) -> None:
    with stub_caller(StubOptions(server_version=version, local_mode=False)) as api:
        body = api("GET", "/api/v4/system/ping?get_server_status=true").json()
        assert ("ActiveSearchBackend" in body) is search_backend
        assert ("root_status" in body) is root_status
        # before 9.6 any non-empty get_server_status asks for the status fields
        loose = api("GET", "/api/v4/system/ping?get_server_status=yes").json()
        assert ("database_status" in loose) is lenient_flag
        ping = api("GET", "/api/v4/system/ping")
        assert ping.headers["X-Version-Id"].startswith(version + ".")


# --------------------------------------------------------------------------------------------
# server busy
# --------------------------------------------------------------------------------------------
def test_busy_zero_time_when_not_busy(api: Api) -> None:
    assert api("GET", "/api/v4/server_busy").json() == {
        "busy": False,
        "expires": -62135596800,
        "expires_ts": "Mon Jan 1 00:00:00 +0000 UTC 0001",
    }


@pytest.mark.parametrize(
    "seconds", ["-1", "0", "86401", "1.5", "1e3", " 5", "abc", "99999999999999999999"]
)
def test_busy_invalid_seconds(api: Api, seconds: str) -> None:
    response = api("POST", "/api/v4/server_busy", params={"seconds": seconds})
    assert response.status_code == 400
    assert error_id(response) == "api.context.invalid_url_param.app_error"
    assert response.json()["message"] == (
        "Invalid or missing seconds must be 1 - 86400 parameter in request URL."
    )
    assert api("GET", "/api/v4/server_busy").json()["busy"] is False


@pytest.mark.parametrize(
    ("seconds", "expected"), [("", 3600), (None, 3600), ("+30", 30), ("1", 1), ("86400", 86400)]
)
def test_busy_valid_seconds(api: Api, seconds: str | None, expected: int) -> None:
    params = {} if seconds is None else {"seconds": seconds}
    before = int(time.time())
    assert api("POST", "/api/v4/server_busy", params=params).json() == {"status": "OK"}
    body = api("GET", "/api/v4/server_busy").json()
    assert body["busy"] is True
    assert before + expected - 1 <= body["expires"] <= int(time.time()) + expected + 1
    assert body["expires_ts"] == go_time_string(body["expires"])
    assert api("DELETE", "/api/v4/server_busy").json() == {"status": "OK"}
    assert api("DELETE", "/api/v4/server_busy").status_code == 200  # idempotent
    assert api("GET", "/api/v4/server_busy").json()["busy"] is False


def test_busy_first_query_value_wins(api: Api) -> None:
    assert api("POST", "/api/v4/server_busy?seconds=10&seconds=-5").status_code == 200


def test_busy_on_local_socket(api: Api) -> None:
    assert api.local("POST", "/api/v4/server_busy?seconds=30").status_code == 200
    assert api.local("GET", "/api/v4/server_busy").json()["busy"] is True
    assert api.local("DELETE", "/api/v4/server_busy").status_code == 200


def test_go_time_string() -> None:
    assert go_time_string(1700000000) == "Tue Nov 14 22:13:20 +0000 UTC 2023"
    assert go_time_string(1700000000 - 13 * 86400) == "Wed Nov 1 22:13:20 +0000 UTC 2023"


def _busy_requests(
    app: Any, token: str, steps: list[tuple[str, str, float]]
) -> list[dict[str, Any]]:
    clock = app.state.stub.clock

    async def run() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://stub", headers=headers
        ) as client:
            for method, path, advance in steps:
                clock.advance(advance)
                response = await client.request(method, path)
                out.append(response.json())
        return out

    return anyio.run(run)


def test_busy_expires_with_a_fake_clock() -> None:
    clock = FakeClock(1_700_000_000)
    app = create_app(StubOptions(clock=clock))
    token = app.state.stub.users["system_admin"].token
    results = _busy_requests(
        app,
        token,
        [
            ("POST", "/api/v4/server_busy?seconds=60", 0),
            ("GET", "/api/v4/server_busy", 0),
            ("GET", "/api/v4/server_busy", 59),
            ("POST", "/api/v4/server_busy?seconds=60", 0),  # restarts the timer
            ("GET", "/api/v4/server_busy", 30),
            ("GET", "/api/v4/server_busy", 31),
        ],
    )
    assert results[1] == {
        "busy": True,
        "expires": 1_700_000_060,
        "expires_ts": "Tue Nov 14 22:14:20 +0000 UTC 2023",
    }
    assert results[2]["busy"] is True
    assert results[4]["busy"] is True
    assert results[4]["expires"] == 1_700_000_119
    assert results[5]["busy"] is False
    assert results[5]["expires"] == -62135596800


def test_busy_can_be_shortened() -> None:
    clock = FakeClock(1_700_000_000)
    app = create_app(StubOptions(clock=clock))
    token = app.state.stub.users["system_admin"].token
    results = _busy_requests(
        app,
        token,
        [
            ("POST", "/api/v4/server_busy?seconds=600", 0),
            ("POST", "/api/v4/server_busy?seconds=10", 0),
            ("GET", "/api/v4/server_busy", 11),
        ],
    )
    assert results[2]["busy"] is False
