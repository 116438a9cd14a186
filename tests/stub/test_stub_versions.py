"""Version-dependent behaviour (in-process over httpx.ASGITransport)."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from mmconform.stub import StubOptions, create_app


class AsgiApi:
    def __init__(self, **options: Any) -> None:
        self.app = create_app(StubOptions(**options))
        self.state = self.app.state.stub

    def __call__(
        self, method: str, path: str, role: str = "system_admin", **kwargs: Any
    ) -> httpx.Response:
        headers = (
            {}
            if role == "anonymous"
            else {"Authorization": f"Bearer {self.state.users[role].token}"}
        )

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://stub") as client:
                return await client.request(method, path, headers=headers, **kwargs)

        return anyio.run(call)


@pytest.mark.parametrize(("version", "status"), [("11.1.0", 400), ("10.11.0", 200)])
def test_notice_view_parsing(version: str, status: int) -> None:
    api = AsgiApi(server_version=version)
    assert api("PUT", "/api/v4/system/notices/view", content=b"junk").status_code == status


@pytest.mark.parametrize(("version", "status"), [("11.1.0", 400), ("10.0.0", 400), ("9.11.0", 302)])
def test_image_proxy_disabled(version: str, status: int) -> None:
    api = AsgiApi(server_version=version)
    response = api("GET", "/api/v4/image", params={"url": "http://example.com/a.png"})
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"] == "http://example.com/a.png"


def test_legacy_restricted_admin_errors() -> None:
    api = AsgiApi(
        server_version="8.1.0",
        config_overrides={"ExperimentalSettings": {"RestrictSystemAdmin": True}},
    )
    reload = api("POST", "/api/v4/config/reload")
    assert reload.status_code == 400
    assert reload.json()["id"] == "api.restricted_system_admin"
    recycle = api("POST", "/api/v4/database/recycle")
    assert recycle.status_code == 403
    assert recycle.json()["id"] == "api.restricted_system_admin"
    assert api("POST", "/api/v4/database/recycle", "system_user").json()["id"] == (
        "api.context.permissions.app_error"
    )


def test_renewal_route_by_version() -> None:
    assert AsgiApi(server_version="11.0.0")("GET", "/api/v4/license/renewal").status_code == 404
    assert AsgiApi(server_version="10.11.0")("GET", "/api/v4/license/renewal").status_code == 400


def test_version_header_and_client_config_version() -> None:
    api = AsgiApi(server_version="10.4.2")
    response = api("GET", "/api/v4/config/client?format=old")
    assert response.headers["X-Version-Id"].startswith("10.4.2.")
    assert response.json()["Version"] == "10.4.2"


def test_invalid_version_is_refused() -> None:
    with pytest.raises(ValueError, match="server version"):
        StubOptions(server_version="eleven")


def test_operations_missing_before_their_version() -> None:
    old = AsgiApi(server_version="10.7.0")
    assert old("GET", "/api/v4/license/load_metric").status_code == 404
    assert AsgiApi(server_version="10.8.0")("GET", "/api/v4/license/load_metric").status_code == 200
    ancient = AsgiApi(server_version="5.19.0")
    for method, path in (
        ("GET", "/api/v4/server_busy"),
        ("PUT", "/api/v4/config/patch"),
        ("POST", "/api/v4/trial-license"),
        ("POST", "/api/v4/restart"),
    ):
        assert ancient(method, path).status_code == 404, path
    assert ancient("GET", "/api/v4/config").status_code == 200


def test_parameters_ignored_before_their_version() -> None:
    old = AsgiApi(server_version="10.3.0")
    cfg = old("GET", "/api/v4/config?remove_masked=true").json()
    assert "DataSource" in cfg["SqlSettings"]
    unhealthy = {"ServiceSettings": {"GoroutineHealthThreshold": 1}}
    for version, status in (("9.5.0", 500), ("9.6.0", 200)):
        api = AsgiApi(server_version=version, config_overrides=unhealthy)
        assert api("GET", "/api/v4/system/ping?use_rest_semantics=true").status_code == status
    assert (
        "CanReceiveNotifications"
        not in AsgiApi(server_version="6.4.0")(
            "GET", "/api/v4/system/ping?device_id=apple:x"
        ).json()
    )
