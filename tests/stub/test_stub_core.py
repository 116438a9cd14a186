"""The request pipeline: headers, routing and the catch-all 404, auth schemes, CSRF, body and URL
limits, errors."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import anyio
import httpx
import pytest

from mmconform.stub import RunningStub, StubOptions, create_app
from tests.stub._helpers import Api, error_id, stub_caller

ID_RE = re.compile(r"^[a-z0-9]{26}$")


pytestmark = pytest.mark.usefixtures("restore_state")


def test_common_headers_on_success_and_error(api: Api) -> None:
    for response in (
        api("GET", "/api/v4/system/ping"),
        api("GET", "/api/v4/config", "system_user"),
    ):
        assert ID_RE.match(response.headers["X-Request-Id"])
        assert re.match(
            r"^11\.1\.0\.\w+\.[0-9a-f]{32}\.(true|false)$", response.headers["X-Version-Id"]
        )
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Permissions-Policy" in response.headers
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Expires"] == "0"


def test_error_body_shape(api: Api) -> None:
    response = api("GET", "/api/v4/config", "system_user")
    body = response.json()
    assert set(body) == {"id", "message", "detailed_error", "request_id", "status_code"}
    assert body["id"] == "api.context.permissions.app_error"
    assert body["message"] == "You do not have the appropriate permissions."
    assert body["detailed_error"] == ""
    assert body["status_code"] == 403
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_detailed_error_only_in_developer_mode(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(ServiceSettings={"EnableDeveloper": True})
    body = api("GET", "/api/v4/config", "system_user").json()
    assert body["detailed_error"].startswith("userId=")


def test_unknown_path_is_404(api: Api) -> None:
    for path in ("/api/v4/nothing", "/api/v4/config/", "/", "/api/v4/system/notices/a-b"):
        response = api("GET", path)
        assert response.status_code == 404, path
        assert error_id(response) == "api.context.404.app_error"


def _assert_catch_all(response: httpx.Response) -> None:
    """The router's catch-all: 404 AppError outside the request pipeline."""
    assert response.status_code == 404
    assert "X-Request-Id" not in response.headers
    assert "X-Version-Id" not in response.headers
    assert "Allow" not in response.headers
    if response.request.method == "HEAD":
        return
    body = response.json()
    assert body["id"] == "api.context.404.app_error"
    assert "request_id" not in body
    assert "There doesn't appear to be an api call for the url=" in body["detailed_error"]


@pytest.mark.parametrize("method", ["POST", "DELETE", "PATCH", "QUERY", "TRACE", "OPTIONS", "HEAD"])
def test_method_mismatch_is_the_catch_all_404(api: Api, method: str) -> None:
    _assert_catch_all(api(method, "/api/v4/config"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v4/nothing"),
        ("POST", "/api/v4/system/notices/view"),
        ("GET", "/api/v4/system/notices/a-b"),
        ("GET", "/api/v4/license/renewal"),
        ("POST", "/api/v4/integrity"),
    ],
)
def test_catch_all_404_carries_no_pipeline_headers(api: Api, method: str, path: str) -> None:
    _assert_catch_all(api(method, path))


@pytest.mark.parametrize("scheme", ["Bearer", "BEARER", "bearer", "Token", "TOKEN"])
def test_authorization_schemes(api: Api, running_stub: RunningStub, scheme: str) -> None:
    token = running_stub.tokens["system_admin"]
    response = api(
        "GET", "/api/v4/config", "anonymous", headers={"Authorization": f"{scheme} {token}"}
    )
    assert response.status_code == 200


def test_invalid_token(api: Api) -> None:
    bad = {"Authorization": "Bearer nope"}
    response = api("GET", "/api/v4/system/timezones", "anonymous", headers=bad)
    assert response.status_code == 401
    assert error_id(response) == "api.context.session_expired.app_error"
    # APIHandler routes ignore an invalid token
    assert api("GET", "/api/v4/system/ping", "anonymous", headers=bad).status_code == 200


def test_cookie_auth_and_csrf(api: Api, running_stub: RunningStub) -> None:
    user = running_stub.state.users["system_admin"]
    cookies = {"MMAUTHTOKEN": user.token}
    with httpx.Client(base_url=running_stub.url, cookies=cookies) as client:
        assert client.get("/api/v4/config").status_code == 200
        response = client.post("/api/v4/caches/invalidate")
        assert response.status_code == 401
        assert error_id(response) == "api.context.session_expired.app_error"
        ok = client.post("/api/v4/caches/invalidate", headers={"X-CSRF-Token": user.csrf_token})
        assert ok.status_code == 200
        legacy = client.post(
            "/api/v4/caches/invalidate", headers={"X-Requested-With": "XMLHttpRequest"}
        )
        assert legacy.status_code == 200
        # APIHandler routes are not CSRF-checked
        assert client.post("/api/v4/logs", json={"message": "m"}).status_code == 200


def test_access_token_query_is_refused(api: Api, running_stub: RunningStub) -> None:
    token = running_stub.tokens["system_admin"]
    response = api("GET", f"/api/v4/config?access_token={token}", "anonymous")
    assert response.status_code == 401
    assert error_id(response) == "api.context.token_provided.app_error"


def test_body_over_limit_is_413(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(ServiceSettings={"MaximumPayloadSizeBytes": 1000})
    response = api("PUT", "/api/v4/config/patch", content=b"{" + b" " * 2000 + b"}")
    assert response.status_code == 413
    assert error_id(response) == "api.context.request_body_too_large.app_error"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the bounded read still stops it
        for _ in range(10):
            yield b" " * 500

    response = api("PUT", "/api/v4/config/patch", content=chunks())
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        # handlers that pass the read error on: 413
        ("/api/v4/config/patch", b"{}", 413, "api.context.request_body_too_large.app_error"),
        ("/api/v4/notifications/ack", b"{}", 413, "api.context.request_body_too_large.app_error"),
        # handlers that swallow it answer as for any undecodable body
        ("/api/v4/logs", b'{"message": "m"}', 200, None),
        ("/api/v4/site_url/test", b"{}", 400, "api.context.invalid_body_param.app_error"),
        ("/api/v4/trial-license", b"{}", 400, "api.license.request-trial.bad-request"),
    ],
)
def test_oversized_body_is_413_only_where_the_handler_wraps_the_read_error(
    api: Api, running_stub: RunningStub, path: str, body: bytes, status: int, error: str | None
) -> None:
    running_stub.state.update_config(ServiceSettings={"MaximumPayloadSizeBytes": 1000})
    method = "PUT" if path.endswith("/patch") else "POST"
    padded = body[:-1] + b" " * 2000 + body[-1:]
    response = api(method, path, content=padded)
    assert response.status_code == status
    if error is not None:
        assert error_id(response) == error


def test_body_within_the_read_slack_is_read(api: Api, running_stub: RunningStub) -> None:
    # Go's MaxBytesReader is given the limit plus 512 bytes
    running_stub.state.update_config(ServiceSettings={"MaximumPayloadSizeBytes": 1000})
    response = api("PUT", "/api/v4/config/patch", content=b"{" + b" " * 1400 + b"}")
    assert response.status_code == 200


def test_no_413_before_10_1() -> None:
    with stub_caller(StubOptions(server_version="10.0.0", local_mode=False)) as caller:
        caller.stub.state.update_config(
            ServiceSettings={"MaximumPayloadSizeBytes": 1000}, FileSettings={"MaxFileSize": 3000}
        )
        # the payload setting does not exist yet: MaxFileSize bounds every body
        fits = caller("PUT", "/api/v4/config/patch", content=b"{" + b" " * 2000 + b"}")
        assert fits.status_code == 200
        over = caller("PUT", "/api/v4/config/patch", content=b"{" + b" " * 5000 + b"}")
        assert over.status_code == 400
        assert error_id(over) == "api.context.invalid_body_param.app_error"
        long_url = caller("GET", "/api/v4/system/ping?x=" + "a" * 3000)
        assert long_url.status_code == 200


def test_url_too_long_is_414(api: Api) -> None:
    response = api("GET", "/api/v4/system/ping?x=" + "a" * 3000)
    assert response.status_code == 414
    assert error_id(response) == "basic_security_check.url.too_long_error"
    # refused before the pipeline sets its headers; the body still names a request id
    assert "X-Request-Id" not in response.headers
    assert "X-Version-Id" not in response.headers
    assert response.json()["request_id"]


def test_catch_all_returns_app_error(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(StubOptions())

    async def boom(_: object) -> None:
        raise RuntimeError("kaboom")

    dispatcher = app.routes[0].app  # type: ignore[attr-defined]
    ops = dispatcher.router.exact["/api/v4/system/ping"].ops
    ops["GET"] = dataclasses.replace(ops["GET"], handler=boom)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stub") as client:
            return await client.get("/api/v4/system/ping")

    response = anyio.run(call)
    assert response.status_code == 500
    assert response.json()["id"] == "api.context.internal_error.app_error"
    assert response.headers["X-Request-Id"] == response.json()["request_id"]


def test_go_style_json_decoding_ignores_trailing_data(api: Api) -> None:
    response = api("PUT", "/api/v4/config/patch", content=b'{"TeamSettings": {}} trailing')
    assert response.status_code == 200


def test_config_keys_match_case_insensitively(api: Api) -> None:
    response = api("PUT", "/api/v4/config/patch", json={"teamsettings": {"sitename": "LowerCase"}})
    assert response.status_code == 200
    assert response.json()["TeamSettings"]["SiteName"] == "LowerCase"


def test_audit_recorded_per_authenticated_request(api: Api, running_stub: RunningStub) -> None:
    api("GET", "/api/v4/system/timezones", "system_user")
    audits = api("GET", "/api/v4/audits?per_page=5").json()
    user_id = running_stub.state.users["system_user"].id
    assert any(
        a["user_id"] == user_id and a["action"] == "/api/v4/system/timezones" for a in audits
    )


def test_concurrent_clients(api: Api, running_stub: RunningStub) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> list[int]:
        statuses = []
        with httpx.Client(
            base_url=running_stub.url, trust_env=False, headers=api.headers("system_admin")
        ) as client:
            for j in range(15):
                statuses.append(
                    client.put(
                        "/api/v4/config/patch", json={"TeamSettings": {"SiteName": f"n{i}-{j}"}}
                    ).status_code
                )
                statuses.append(client.get("/api/v4/config").status_code)
                statuses.append(client.post(f"/api/v4/server_busy?seconds={j + 1}").status_code)
                statuses.append(client.get("/api/v4/audits?per_page=5").status_code)
        return statuses

    with ThreadPoolExecutor(8) as pool:
        results = [s for statuses in pool.map(work, range(8)) for s in statuses]
    assert set(results) == {200}
    site_name = api("GET", "/api/v4/config").json()["TeamSettings"]["SiteName"]
    assert site_name.startswith("n")
    assert running_stub.state.store.file_config["TeamSettings"]["SiteName"] == site_name


def test_start_stub_is_quick() -> None:
    import time

    from mmconform.stub import start_stub

    started = time.monotonic()
    with start_stub(StubOptions()) as stub:
        elapsed = time.monotonic() - started
        assert httpx.get(f"{stub.url}/api/v4/system/ping", trust_env=False).status_code == 200
        assert stub.local_socket is not None
        assert stub.local_socket.exists()
        socket_path = stub.local_socket
    assert elapsed < 5.0
    assert not socket_path.exists()
