"""Per operation and role: the status a default install answers; RestrictSystemAdmin by version."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mmconform.stub import RunningStub, StubOptions
from mmconform.stub._config_defaults import default_config
from tests.stub._helpers import ALL_ROLES, Api, error_id, stub_caller

_EMAIL = {"EmailSettings": {**default_config()["EmailSettings"], "SMTPServer": ""}}
_TEAM = "abcdefghijklmnopqrstuvwxyz"

# columns: anonymous, system_admin, system_manager, system_user_manager,
#          system_read_only_admin, system_user
MATRIX: list[tuple[str, str, dict[str, Any], tuple[int, ...]]] = [
    ("GET", "/api/v4/system/timezones", {}, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v4/system/ping", {}, (200, 200, 200, 200, 200, 200)),
    ("GET", f"/api/v4/system/notices/{_TEAM}?client=web", {}, (401, 200, 200, 200, 200, 200)),
    ("PUT", "/api/v4/system/notices/view", {"json": ["x"]}, (401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v4/database/recycle", {}, (401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v4/email/test", {"json": _EMAIL}, (401, 400, 400, 403, 403, 403)),
    ("POST", "/api/v4/notifications/test", {}, (401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v4/site_url/test", {"json": {}}, (401, 400, 400, 403, 403, 403)),
    ("POST", "/api/v4/file/s3_test", {}, (401, 400, 400, 403, 403, 403)),
    ("GET", "/api/v4/config", {}, (401, 200, 200, 200, 200, 403)),
    ("POST", "/api/v4/config/reload", {}, (401, 200, 200, 403, 403, 403)),
    ("GET", "/api/v4/config/client", {}, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v4/config/environment", {}, (401, 200, 200, 200, 200, 200)),
    ("PUT", "/api/v4/config/patch", {"json": {}}, (401, 200, 200, 200, 403, 403)),
    ("POST", "/api/v4/license", {"files": {"license": ("l", b"")}}, (401, 400, 403, 403, 403, 403)),
    ("DELETE", "/api/v4/license", {}, (401, 200, 403, 403, 403, 403)),
    ("GET", "/api/v4/license/client?format=old", {}, (200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v4/license/load_metric", {}, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v4/license/renewal", {}, (404, 404, 404, 404, 404, 404)),
    ("POST", "/api/v4/trial-license", {"content": b'{"users": 5'}, (401, 400, 403, 403, 403, 403)),
    ("GET", "/api/v4/trial-license/prev", {}, (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v4/audits", {}, (401, 200, 403, 403, 200, 403)),
    ("POST", "/api/v4/caches/invalidate", {}, (401, 200, 200, 403, 403, 403)),
    ("GET", "/api/v4/logs", {}, (401, 200, 200, 403, 200, 403)),
    (
        "POST",
        "/api/v4/logs",
        {"json": {"level": "DEBUG", "message": "m"}},
        (403, 200, 200, 200, 200, 200),
    ),
    ("GET", "/api/v4/analytics/old", {}, (401, 200, 200, 403, 200, 403)),
    ("GET", "/api/v4/server_busy", {}, (401, 200, 403, 403, 403, 403)),
    ("DELETE", "/api/v4/server_busy", {}, (401, 200, 403, 403, 403, 403)),
    ("POST", "/api/v4/notifications/ack", {"json": {}}, (401, 200, 200, 200, 200, 200)),
    (
        "GET",
        "/api/v4/redirect_location?url=http://example.invalid/",
        {},
        (401, 200, 200, 200, 200, 200),
    ),
    ("GET", "/api/v4/image?url=http://example.invalid/a.png", {}, (401, 400, 400, 400, 400, 400)),
    ("POST", "/api/v4/upgrade_to_enterprise", {}, (401, 429, 403, 403, 403, 403)),
    ("GET", "/api/v4/upgrade_to_enterprise/status", {}, (401, 200, 403, 403, 403, 403)),
    ("GET", "/api/v4/upgrade_to_enterprise/allowed", {}, (401, 403, 403, 403, 403, 403)),
    ("POST", "/api/v4/restart", {}, (401, 200, 403, 403, 403, 403)),
    ("POST", "/api/v4/integrity", {}, (404, 404, 404, 404, 404, 404)),
    ("GET", "/api/v4/system/support_packet", {}, (401, 403, 403, 403, 403, 403)),
]


pytestmark = pytest.mark.usefixtures("restore_state")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    MATRIX,
    ids=[f"{m} {p.split('?')[0]}" for m, p, _, _ in MATRIX],
)
def test_default_role_matrix(
    api: Api, method: str, path: str, kwargs: dict[str, Any], expected: tuple[int, ...]
) -> None:
    got = tuple(api(method, path, role, **copy.deepcopy(kwargs)).status_code for role in ALL_ROLES)
    assert got == expected


def test_put_config_roles(api: Api) -> None:
    body = api("GET", "/api/v4/config").json()
    got = tuple(api("PUT", "/api/v4/config", role, json=body).status_code for role in ALL_ROLES)
    assert got == (401, 200, 200, 200, 403, 403)


def test_set_server_busy_roles(api: Api) -> None:
    got = tuple(
        api("POST", "/api/v4/server_busy?seconds=5", role).status_code for role in ALL_ROLES
    )
    assert got == (401, 200, 403, 403, 403, 403)


# RestrictSystemAdmin on the newest servers: which operations it blocks for a system admin.
RESTRICTED = [
    ("POST", "/api/v4/database/recycle", {}, 403),
    ("POST", "/api/v4/email/test", {"json": _EMAIL}, 403),
    ("POST", "/api/v4/site_url/test", {"json": {}}, 403),
    ("POST", "/api/v4/config/reload", {}, 403),
    ("POST", "/api/v4/license", {"files": {"license": ("l", b"")}}, 403),
    ("DELETE", "/api/v4/license", {}, 403),
    ("POST", "/api/v4/trial-license", {"json": {"users": 100}}, 403),
    ("POST", "/api/v4/caches/invalidate", {}, 403),
    ("GET", "/api/v4/logs", {}, 403),
    ("GET", "/api/v4/system/support_packet", {}, 403),
    ("POST", "/api/v4/file/s3_test", {}, 400),  # newest test_s3 ignores the restriction
    ("GET", "/api/v4/server_busy", {}, 200),
    ("GET", "/api/v4/audits", {}, 200),
    ("GET", "/api/v4/analytics/old", {}, 200),
    ("POST", "/api/v4/restart", {}, 200),
    ("GET", "/api/v4/config", {}, 200),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    RESTRICTED,
    ids=[f"{m} {p}" for m, p, _, _ in RESTRICTED],
)
def test_restrict_system_admin(
    api: Api,
    running_stub: RunningStub,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    expected: int,
) -> None:
    running_stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
    assert api(method, path, **copy.deepcopy(kwargs)).status_code == expected


def test_restricted_admin_local_mode_is_not_blocked(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
    assert api.local("GET", "/api/v4/logs").status_code == 200
    assert api.local("DELETE", "/api/v4/license").status_code == 200
    assert api.local("POST", "/api/v4/config/reload").status_code == 200


# This test probes which routes exist on the socket at all (404 for the ones that do not), which
# the contract does not describe per transport.
@pytest.mark.off_contract
def test_local_socket_routes(api: Api) -> None:
    assert api.local("GET", "/api/v4/system/ping").status_code == 200
    assert api.local("GET", "/api/v4/config").status_code == 200
    assert api.local("GET", "/api/v4/server_busy").status_code == 200
    # not registered in local mode: the catch-all answers
    assert api.local("GET", "/api/v4/audits").status_code == 404
    assert api.local("GET", "/api/v4/config/environment").status_code == 404


def test_restriction_refuses_every_remote_role_on_the_newest_servers(
    api: Api, running_stub: RunningStub
) -> None:
    running_stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
    # a system manager holds invalidate_caches, but the restriction is not about admins only
    response = api("POST", "/api/v4/caches/invalidate", "system_manager")
    assert response.status_code == 403
    assert error_id(response) == "api.context.permissions.app_error"
    reload = api("POST", "/api/v4/config/reload")
    assert (reload.status_code, error_id(reload)) == (403, "api.context.permissions.app_error")


LEGACY_RESTRICTED: list[tuple[str, str, dict[str, Any], str, int, str]] = [
    # (method, path, kwargs, role, status, error id) on a server before 10.9
    ("POST", "/api/v4/caches/invalidate", {}, "system_admin", 403, "api.restricted_system_admin"),
    (
        "POST",
        "/api/v4/caches/invalidate",
        {},
        "system_user",
        403,
        "api.context.permissions.app_error",
    ),
    ("POST", "/api/v4/config/reload", {}, "system_admin", 400, "api.restricted_system_admin"),
    ("POST", "/api/v4/file/s3_test", {}, "system_admin", 403, "api.restricted_system_admin"),
    ("POST", "/api/v4/file/s3_test", {}, "system_user", 403, "api.context.permissions.app_error"),
    # GetLogs and GenerateSupportPacket check the restriction before the permission
    ("GET", "/api/v4/logs", {}, "system_user", 403, "api.restricted_system_admin"),
    ("GET", "/api/v4/system/support_packet", {}, "system_user", 403, "api.restricted_system_admin"),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "role", "status", "error"),
    LEGACY_RESTRICTED,
    ids=[f"{m} {p} {r}" for m, p, _, r, _, _ in LEGACY_RESTRICTED],
)
def test_restriction_on_servers_before_10_9(
    method: str, path: str, kwargs: dict[str, Any], role: str, status: int, error: str
) -> None:
    with stub_caller(StubOptions(server_version="10.8.0", local_mode=False)) as caller:
        caller.stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
        response = caller(method, path, role, **copy.deepcopy(kwargs))
        assert (response.status_code, error_id(response)) == (status, error)


def test_local_socket_is_not_exempt_for_logs_and_support_packet_before_10_9() -> None:
    with stub_caller(StubOptions(server_version="9.5.0")) as caller:
        caller.stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
        for path in ("/api/v4/logs", "/api/v4/system/support_packet"):
            response = caller.local("GET", path)
            assert (response.status_code, error_id(response)) == (
                403,
                "api.restricted_system_admin",
            ), path
        # the other local routes ignore the restriction
        assert caller.local("POST", "/api/v4/config/reload").status_code == 200
        assert caller.local("DELETE", "/api/v4/license").status_code == 200
