"""The user routes provisioning needs: created users, login sessions, role assignment with the
license rule, personal access tokens, deactivation. Test infrastructure, outside the contract."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mmconform.contract import load_contract
from mmconform.stub import RunningStub, StubOptions, start_stub
from mmconform.stub._license import build_license, fixture_dir, sign_license
from mmconform.stub.handlers import INFRASTRUCTURE, OPERATIONS

LICENSE_ERROR = "api.user.update_user_roles.license.app_error"
NEW_ROLES = ("system_manager", "system_user_manager", "system_read_only_admin")
PASSWORD = "Conformance-1-password"
#: The user routes, written out: test infrastructure served beside the 39 operations.
EXPECTED_INFRASTRUCTURE = {
    ("POST", "/api/v4/users"),
    ("POST", "/api/v4/users/login"),
    ("GET", "/api/v4/users/{user_id}"),
    ("DELETE", "/api/v4/users/{user_id}"),
    ("PUT", "/api/v4/users/{user_id}/roles"),
    ("PUT", "/api/v4/users/{user_id}/active"),
    ("PUT", "/api/v4/users/{user_id}/password"),
    ("POST", "/api/v4/users/{user_id}/tokens"),
    ("POST", "/api/v4/users/tokens/revoke"),
    ("POST", "/api/v4/users/{user_id}/sessions/revoke/all"),
}


class Caller:
    def __init__(self, stub: RunningStub) -> None:
        self.stub = stub
        self.client = httpx.Client(base_url=stub.url, timeout=10.0, trust_env=False)
        assert stub.local_socket is not None
        self.local_client = httpx.Client(
            transport=httpx.HTTPTransport(uds=str(stub.local_socket)),
            base_url="http://localhost",
            timeout=10.0,
            trust_env=False,
        )

    def __call__(
        self, method: str, path: str, token: str | None = None, **kwargs: object
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, "/api/v4" + path, headers=headers, **kwargs)  # type: ignore[arg-type]

    def local(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return self.local_client.request(method, "/api/v4" + path, **kwargs)  # type: ignore[arg-type]

    @property
    def admin(self) -> str:
        return self.stub.tokens["system_admin"]

    def create(self, username: str) -> str:
        response = self(
            "POST",
            "/users",
            self.admin,
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return self("POST", "/users/login", json={"login_id": username, "password": password})

    def close(self) -> None:
        self.client.close()
        self.local_client.close()


def _caller(options: StubOptions) -> Iterator[Caller]:
    with start_stub(options) as stub:
        caller = Caller(stub)
        yield caller
        caller.close()


@pytest.fixture(scope="module")
def unlicensed() -> Iterator[Caller]:
    yield from _caller(StubOptions())


@pytest.fixture(scope="module")
def licensed() -> Iterator[Caller]:
    yield from _caller(StubOptions(license_file=fixture_dir() / "valid.mattermost-license"))


def error_id(response: httpx.Response) -> str:
    return str(response.json()["id"])


def test_the_user_routes_are_infrastructure_outside_the_contract() -> None:
    """The stub serves the contract's operations and, apart from them, exactly the user routes
    listed here; none of those is an operation of the contract."""
    served = {(op.method, op.path) for op in INFRASTRUCTURE}
    assert served == EXPECTED_INFRASTRUCTURE
    contract = load_contract()
    assert {op.name for op in OPERATIONS} == {op.operation_id for op in contract.operations}
    contract_paths = {
        (op.method, op.path.replace("{teamId}", "{team_id}")) for op in contract.operations
    }
    assert not served & contract_paths
    assert not {op.name for op in INFRASTRUCTURE} & {op.operation_id for op in contract.operations}


def test_a_created_user_logs_in_and_its_token_comes_in_the_token_header(
    unlicensed: Caller,
) -> None:
    user_id = unlicensed.create("ada")
    response = unlicensed.login("ada")
    assert response.status_code == 200, response.text
    token = response.headers["Token"]
    assert response.json()["id"] == user_id
    assert "password" not in response.json()
    me = unlicensed("GET", "/users/me", token)
    assert me.status_code == 200
    assert (me.json()["id"], me.json()["roles"]) == (user_id, "system_user")
    assert unlicensed.login("ada", "wrong-password").status_code == 401
    assert unlicensed("GET", "/users/me").status_code == 401


def test_a_username_taken_and_a_closed_server_are_refused(unlicensed: Caller) -> None:
    unlicensed.create("taken")
    again = unlicensed(
        "POST",
        "/users",
        unlicensed.admin,
        json={"username": "taken", "email": "other@example.com", "password": PASSWORD},
    )
    assert (again.status_code, error_id(again)) == (400, "app.user.save.username_exists.app_error")
    anonymous = unlicensed(
        "POST", "/users", json={"username": "anon", "email": "a@example.com", "password": PASSWORD}
    )
    assert (anonymous.status_code, error_id(anonymous)) == (
        403,
        "api.user.create_user.no_open_server",
    )
    short = unlicensed(
        "POST",
        "/users",
        unlicensed.admin,
        json={"username": "shorty", "email": "s@example.com", "password": "short"},
    )
    assert (short.status_code, error_id(short)) == (400, "model.user.is_valid.pwd.app_error")


@pytest.mark.parametrize("role", NEW_ROLES)
def test_without_a_license_the_new_system_roles_are_refused_before_the_permission_check(
    unlicensed: Caller, role: str
) -> None:
    user_id = unlicensed.create(f"x{role.replace('_', '')}")
    body = {"roles": f"system_user {role}"}
    as_admin = unlicensed("PUT", f"/users/{user_id}/roles", unlicensed.admin, json=body)
    over_socket = unlicensed.local("PUT", f"/users/{user_id}/roles", json=body)
    as_user = unlicensed(
        "PUT", f"/users/{user_id}/roles", unlicensed.stub.tokens["system_user"], json=body
    )
    for response in (as_admin, over_socket, as_user):
        assert (response.status_code, error_id(response)) == (400, LICENSE_ERROR)
    # a user without manage_roles is refused by the permission check for the other roles
    plain = unlicensed(
        "PUT",
        f"/users/{user_id}/roles",
        unlicensed.stub.tokens["system_user"],
        json={"roles": "system_user system_admin"},
    )
    assert (plain.status_code, error_id(plain)) == (403, "api.context.permissions.app_error")


def test_the_body_is_validated_before_the_license_rule(unlicensed: Caller) -> None:
    user_id = unlicensed.create("bodyfirst")
    for roles in ("system_admin", "system_manager Bad-Role"):
        response = unlicensed(
            "PUT", f"/users/{user_id}/roles", unlicensed.admin, json={"roles": roles}
        )
        assert (response.status_code, error_id(response)) == (
            400,
            "api.context.invalid_body_param.app_error",
        ), roles


def test_system_admin_can_be_given_without_a_license(unlicensed: Caller) -> None:
    user_id = unlicensed.create("newadmin")
    response = unlicensed.local(
        "PUT", f"/users/{user_id}/roles", json={"roles": "system_user system_admin"}
    )
    assert response.status_code == 200, response.text
    token = unlicensed.login("newadmin").headers["Token"]
    assert unlicensed("GET", "/config", token).status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/config", {}),
        ("/logs", {"page": "0", "logs_per_page": "1"}),
        ("/audits", {"page": "0", "per_page": "1"}),
        ("/server_busy", {}),
        ("/analytics/old", {}),
    ],
)
@pytest.mark.parametrize("role", NEW_ROLES)
def test_a_licensed_server_gives_the_new_roles_and_their_sessions_carry_the_permissions(
    licensed: Caller, role: str, path: str, params: dict[str, str]
) -> None:
    username = role.replace("_", "") + path.replace("/", "-")
    user_id = licensed.create(username)
    token = licensed.login(username).headers["Token"]
    before = licensed("GET", path, token, params=params).status_code
    assert before == 403
    assigned = licensed("PUT", f"/users/{user_id}/roles", licensed.admin, json={"roles": role})
    assert assigned.status_code == 200, assigned.text
    built_in = licensed("GET", path, licensed.stub.tokens[role], params=params).status_code
    assert licensed("GET", path, token, params=params).status_code == built_in


def test_a_license_without_custom_permission_schemes_refuses_the_new_roles(
    tmp_path: Path,
) -> None:
    now_ms = int(time.time() * 1000)
    minted = build_license(
        issued_at=now_ms - 1000, expires_at=now_ms + 10**12, custom_permissions_schemes=False
    )
    path = tmp_path / "narrow.mattermost-license"
    path.write_bytes(sign_license(minted))
    for caller in _caller(StubOptions(license_file=path)):
        user_id = caller.create("narrow")
        response = caller(
            "PUT", f"/users/{user_id}/roles", caller.admin, json={"roles": "system_manager"}
        )
        assert (response.status_code, error_id(response)) == (400, LICENSE_ERROR)


def test_personal_access_tokens_need_the_permission_then_the_setting(unlicensed: Caller) -> None:
    user_id = unlicensed.create("pat")
    own = unlicensed.login("pat").headers["Token"]
    body = {"description": "conformance"}
    refused = unlicensed("POST", f"/users/{user_id}/tokens", own, json=body)
    assert (refused.status_code, error_id(refused)) == (403, "api.context.permissions.app_error")
    disabled = unlicensed("POST", f"/users/{user_id}/tokens", unlicensed.admin, json=body)
    assert (disabled.status_code, error_id(disabled)) == (501, "app.user_access_token.disabled")
    state = unlicensed.stub.state
    state.update_config(ServiceSettings={"EnableUserAccessTokens": True})
    try:
        created = unlicensed("POST", f"/users/{user_id}/tokens", unlicensed.admin, json=body)
        assert created.status_code == 200, created.text
        token, token_id = created.json()["token"], created.json()["id"]
        assert unlicensed("GET", "/users/me", token).json()["id"] == user_id
        revoked = unlicensed(
            "POST", "/users/tokens/revoke", unlicensed.admin, json={"token_id": token_id}
        )
        assert revoked.status_code == 200
        assert unlicensed("GET", "/users/me", token).status_code == 401
    finally:
        state.update_config(ServiceSettings={"EnableUserAccessTokens": False})


def test_deactivation_refuses_the_users_sessions_tokens_and_logins(unlicensed: Caller) -> None:
    state = unlicensed.stub.state
    state.update_config(ServiceSettings={"EnableUserAccessTokens": True})
    try:
        user_id = unlicensed.create("leaver")
        session = unlicensed.login("leaver").headers["Token"]
        personal = unlicensed(
            "POST", f"/users/{user_id}/tokens", unlicensed.admin, json={"description": "d"}
        ).json()["token"]
        gone = unlicensed("DELETE", f"/users/{user_id}", unlicensed.admin)
        assert gone.status_code == 200
        assert unlicensed("GET", "/users/me", session).status_code == 401
        assert unlicensed("GET", "/users/me", personal).status_code == 401
        login = unlicensed.login("leaver")
        assert (login.status_code, error_id(login)) == (401, "api.user.login.inactive.app_error")
        assert unlicensed("GET", f"/users/{user_id}", unlicensed.admin).json()["delete_at"] > 0
        # reactivated, with a new password set by an administrator, it can log in again
        back = unlicensed(
            "PUT", f"/users/{user_id}/active", unlicensed.admin, json={"active": True}
        )
        assert back.status_code == 200
        reset = unlicensed(
            "PUT",
            f"/users/{user_id}/password",
            unlicensed.admin,
            json={"new_password": "Another-password-2"},
        )
        assert reset.status_code == 200
        assert unlicensed.login("leaver", "Another-password-2").status_code == 200
    finally:
        state.update_config(ServiceSettings={"EnableUserAccessTokens": False})


def test_revoking_all_sessions_refuses_the_session_tokens(unlicensed: Caller) -> None:
    user_id = unlicensed.create("revoked")
    token = unlicensed.login("revoked").headers["Token"]
    response = unlicensed("POST", f"/users/{user_id}/sessions/revoke/all", unlicensed.admin)
    assert response.status_code == 200
    assert unlicensed("GET", "/users/me", token).status_code == 401


def test_the_socket_serves_what_upstream_serves_there(unlicensed: Caller) -> None:
    """Local mode creates users and assigns roles, but has no login and no caller of its own."""
    assert unlicensed.local("POST", "/users/login", json={}).status_code == 404
    me = unlicensed.local("GET", "/users/me")
    assert (me.status_code, error_id(me)) == (400, "api.context.invalid_url_param.app_error")
    created = unlicensed.local(
        "POST",
        "/users",
        json={"username": "bysocket", "email": "bs@example.com", "password": PASSWORD},
    )
    assert created.status_code == 201
