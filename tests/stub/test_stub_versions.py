"""Version-dependent behaviour (in-process over httpx.ASGITransport)."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from mmconform.stub import StubOptions, create_app
from mmconform.stub._license import fixture_dir
from tests.stub._helpers import stub_caller


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


@pytest.mark.parametrize(
    ("version", "status"), [("11.1.0", 400), ("9.4.0", 400), ("9.3.0", 200), ("7.0.0", 200)]
)
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
    for version in ("11.0.0", "10.8.0", "9.8.0"):
        gone = AsgiApi(server_version=version)("GET", "/api/v4/license/renewal")
        assert gone.status_code == 404, version
        assert "X-Request-Id" not in gone.headers  # the router's catch-all answers
    assert AsgiApi(server_version="9.7.0")("GET", "/api/v4/license/renewal").status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "first"),
    [
        ("POST", "/api/v4/notifications/test", "10.3.0"),
        ("GET", "/api/v4/upgrade_to_enterprise/allowed", "11.0.0"),
        ("GET", "/api/v4/license/load_metric", "10.8.0"),
        ("GET", "/api/v4/trial-license/prev", "5.37.0"),
        ("GET", "/api/v4/system/support_packet", "5.33.0"),
        ("GET", "/api/v4/system/timezones", "4.9.0"),
    ],
)
def test_operation_appears_in_its_first_version(method: str, path: str, first: str) -> None:
    major, minor, _ = (int(part) for part in first.split("."))
    before = f"{major}.{minor - 1}.0" if minor else f"{major - 1}.11.0"
    missing = AsgiApi(server_version=before)(method, path)
    assert missing.status_code == 404, before
    assert "X-Version-Id" not in missing.headers
    assert AsgiApi(server_version=first)(method, path).status_code != 404


def test_test_notification_answers_on_10_3() -> None:
    api = AsgiApi(server_version="10.3.0")
    assert api("POST", "/api/v4/notifications/test", "system_user").json() == {"status": "OK"}


def test_upgrade_allowed_on_team_edition() -> None:
    api = AsgiApi(server_version="11.0.0", edition="team")
    assert api("GET", "/api/v4/upgrade_to_enterprise/allowed").json() == {"status": "OK"}
    assert api("GET", "/api/v4/upgrade_to_enterprise/allowed", "system_user").status_code == 403


@pytest.mark.parametrize(("version", "new_style"), [("10.4.0", False), ("10.5.0", True)])
def test_support_packet_name_by_version(version: str, new_style: bool) -> None:
    api = AsgiApi(server_version=version, license_file=fixture_dir() / "valid.mattermost-license")
    disposition = api("GET", "/api/v4/system/support_packet").headers["Content-Disposition"]
    prefix = "mm_support_packet_" if new_style else "mattermost_support_packet_"
    assert disposition.startswith(f'attachment;filename="{prefix}')


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


# --------------------------------------------------------------------------------------------
# the local socket by version (route presence is not described per transport by the contract)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "version", "served"),
    [
        ("/api/v4/config/client?format=old", "7.0.0", False),
        ("/api/v4/config/client?format=old", "8.0.0", True),
        ("/api/v4/license/client?format=old", "11.4.0", False),
        ("/api/v4/license/client?format=old", "11.5.0", True),
    ],
)
def test_local_routes_by_version(path: str, version: str, served: bool) -> None:
    with stub_caller(StubOptions(server_version=version), on_contract=False) as api:
        response = api.local("GET", path)
        assert (response.status_code == 200) is served
        if not served:
            assert response.status_code == 404
            assert "X-Request-Id" not in response.headers


def test_local_client_license_is_the_full_map() -> None:
    options = StubOptions(
        server_version="11.5.0", license_file=fixture_dir() / "valid.mattermost-license"
    )
    with stub_caller(options) as api:
        local = api.local("GET", "/api/v4/license/client?format=old").json()
        assert "Id" in local
        assert "Id" not in api("GET", "/api/v4/license/client?format=old", "system_user").json()


@pytest.mark.parametrize(("version", "masked"), [("10.3.0", True), ("10.4.0", False)])
def test_local_get_config_masking_by_version(version: str, masked: bool) -> None:
    with stub_caller(StubOptions(server_version=version)) as api:
        local = api.local("GET", "/api/v4/config").json()
        remote = api("GET", "/api/v4/config").json()
        assert remote["SqlSettings"]["DataSource"] == "********************************"
        assert (local["SqlSettings"]["DataSource"] == "********************************") is masked


# --------------------------------------------------------------------------------------------
# the stub's route windows against the contract's availability bounds
# --------------------------------------------------------------------------------------------
def test_route_windows_lie_within_the_contract_bounds() -> None:
    """The contract calls an operation only where every correct server has it: its first
    version is at or after the stub's, and its removal at or before the stub's; the local
    socket serves what the contract says the newest servers serve there."""
    from mmconform._version import Version
    from mmconform.contract import load_contract
    from mmconform.stub.handlers import OPERATIONS

    contract = load_contract()
    oldest_target = Version(7, 0, 0)
    for op in OPERATIONS:
        spec = contract.operation(op.name)
        since = Version.parse(op.since) if op.since else None
        bound = spec.min_version or oldest_target
        assert since is None or since <= bound, op.name
        if op.until is None:
            assert spec.removed_in is None, op.name
        else:
            assert spec.removed_in is not None, op.name
            assert spec.removed_in <= Version.parse(op.until), op.name
        assert op.local == spec.local_mode, op.name
        assert (not op.tcp) == (spec.auth == "local-only"), op.name
