"""mmconform provision against the stub in a thread: the users, roles and tokens it makes on a
licensed, an unlicensed and a Team Edition server; its re-runs and teardown; each admin
credential; its refusals with their exit codes; and that it never shows a token."""

from __future__ import annotations

import copy
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mmconform._wire import ROLES, ServerThread, listen_tcp, read_target_file
from mmconform.provision import (
    ENV_ADMIN_PASSWORD,
    ENV_ADMIN_TOKEN,
    EXIT_ADMIN_REFUSED,
    EXIT_NOT_MATTERMOST,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    EXIT_USERNAME_TAKEN,
    main,
)
from mmconform.stub import RunningStub, StubOptions, start_stub
from mmconform.stub._license import fixture_dir

LICENSE = fixture_dir() / "valid.mattermost-license"
NEW_ROLES = ("system_manager", "system_user_manager", "system_read_only_admin")
LICENSE_ERROR = "api.user.update_user_roles.license.app_error"


class Runs:
    """Runs the command in-process and keeps everything it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.printed: list[str] = []

    def __call__(self, *argv: str, environ: dict[str, str] | None = None) -> tuple[int, str]:
        code = main(list(argv), environ=environ or {}, ask=lambda prompt: "")
        out, err = self.capsys.readouterr()
        self.printed.append(out + err)
        return code, out + err


@pytest.fixture
def runs(capsys: pytest.CaptureFixture[str]) -> Runs:
    return Runs(capsys)


def _stub(**options: object) -> Iterator[RunningStub]:
    with start_stub(StubOptions(**options)) as stub:  # type: ignore[arg-type]
        yield stub


@pytest.fixture
def unlicensed() -> Iterator[RunningStub]:
    yield from _stub()


@pytest.fixture
def licensed() -> Iterator[RunningStub]:
    yield from _stub(license_file=LICENSE)


@pytest.fixture
def team() -> Iterator[RunningStub]:
    yield from _stub(edition="team")


def over_socket(stub: RunningStub, target: Path, *more: str) -> tuple[str, ...]:
    return (
        "--target-url",
        stub.url,
        "--local-socket",
        str(stub.local_socket),
        "--target-file",
        str(target),
        *more,
    )


def me(stub: RunningStub, token: str) -> httpx.Response:
    return httpx.get(
        f"{stub.url}/api/v4/users/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
        trust_env=False,
    )


def test_a_licensed_server_gets_a_user_and_a_working_token_for_every_role(
    licensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    target = tmp_path / "target.toml"
    config_before = copy.deepcopy(licensed.state.store.file_config)
    code, out = runs(*over_socket(licensed, target, "--license-file", str(LICENSE)))
    assert code == EXIT_OK, out
    written = read_target_file(target)
    assert written.license_file == LICENSE.resolve()
    assert written.features == {"local_mode", "license"}
    assert tuple(written.tokens) == ROLES
    assert written.unavailable == {}
    assert written.provisioned is not None
    assert written.provisioned.token_kind == "session"
    assert written.local_socket == str(licensed.local_socket)
    for role in ROLES:
        answer = me(licensed, written.tokens[role].reveal())
        assert answer.status_code == 200
        assert role in answer.json()["roles"].split()
        assert answer.json()["username"] == written.provisioned.users[role].username
        assert written.provisioned.users[role].username.startswith("mmconform-")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert licensed.state.store.file_config == config_before, "the configuration is untouched"
    assert "wrote" in out
    assert "next: pytest --target-file" in out


@pytest.mark.parametrize("server", ["unlicensed", "team"])
def test_roles_the_license_rule_refuses_are_recorded_unavailable_without_a_user(
    server: str, request: pytest.FixtureRequest, runs: Runs, tmp_path: Path
) -> None:
    stub: RunningStub = request.getfixturevalue(server)
    target = tmp_path / "target.toml"
    code, out = runs(*over_socket(stub, target))
    assert code == EXIT_OK, out
    written = read_target_file(target)
    assert tuple(written.tokens) == ("system_admin", "system_user")
    assert tuple(written.unavailable) == NEW_ROLES
    for answer in written.unavailable.values():
        assert f"answered 400 {LICENSE_ERROR}" in answer
    assert written.provisioned is not None
    assert set(written.provisioned.users) == {"system_admin", "system_user"}
    for role in NEW_ROLES:
        assert stub.state.directory.by_login(f"mmconform-{role}") is None
        assert f"{role:<23} unavailable: PUT /api/v4/users/{{user_id}}/roles answered 400" in out


def test_a_rerun_reuses_its_users_and_keeps_working_tokens(
    licensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    target = tmp_path / "target.toml"
    assert runs(*over_socket(licensed, target))[0] == EXIT_OK
    first = read_target_file(target)
    code, out = runs(*over_socket(licensed, target))
    assert code == EXIT_OK, out
    second = read_target_file(target)
    assert first.provisioned == second.provisioned
    assert first.tokens == second.tokens
    assert out.count("reused, role assigned, token kept") == len(ROLES)


def test_teardown_deactivates_the_users_and_their_tokens_are_refused_then_a_rerun_brings_them_back(
    licensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    target = tmp_path / "target.toml"
    assert runs(*over_socket(licensed, target))[0] == EXIT_OK
    before = read_target_file(target)
    code, out = runs(*over_socket(licensed, target, "--teardown"))
    assert code == EXIT_OK, out
    after = read_target_file(target)
    assert after.tokens == {}
    assert after.provisioned is not None
    assert before.provisioned is not None
    for role, record in before.provisioned.users.items():
        user = licensed.state.directory.get(record.user_id)
        assert user is not None
        assert not user.active, role
        assert me(licensed, before.tokens[role].reveal()).status_code == 401
    assert out.count("deactivated, sessions revoked, token refused") == len(ROLES)
    code, out = runs(*over_socket(licensed, target))
    assert code == EXIT_OK, out
    again = read_target_file(target)
    assert out.count("reused, reactivated, role assigned, session token") == len(ROLES)
    assert {r: u.user_id for r, u in again.provisioned.users.items()} == {  # type: ignore[union-attr]
        r: u.user_id for r, u in before.provisioned.users.items()
    }
    assert all(me(licensed, token.reveal()).status_code == 200 for token in again.tokens.values())


def test_personal_access_tokens_where_the_server_allows_them_and_sessions_where_it_does_not(
    licensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    refused_target = tmp_path / "sessions.toml"
    code, out = runs(*over_socket(licensed, refused_target, "--personal-access-tokens"))
    assert code == EXIT_OK, out
    assert "personal access tokens are refused" in out
    assert "EnableUserAccessTokens is off" in out
    assert read_target_file(refused_target).provisioned.token_kind == "session"  # type: ignore[union-attr]
    licensed.state.update_config(ServiceSettings={"EnableUserAccessTokens": True})
    target = tmp_path / "pats.toml"
    code, out = runs(*over_socket(licensed, target, "--personal-access-tokens", "--prefix", "pat-"))
    assert code == EXIT_OK, out
    written = read_target_file(target)
    assert written.provisioned is not None
    assert written.provisioned.token_kind == "personal_access_token"
    assert all(user.token_id for user in written.provisioned.users.values())
    assert all(me(licensed, t.reveal()).status_code == 200 for t in written.tokens.values())
    code, out = runs(*over_socket(licensed, target, "--teardown"))
    assert code == EXIT_OK, out
    assert out.count("personal access token revoked") == len(ROLES)
    assert all(me(licensed, t.reveal()).status_code == 401 for t in written.tokens.values())


def test_each_admin_credential_works(licensed: RunningStub, runs: Runs, tmp_path: Path) -> None:
    admin_token = licensed.tokens["system_admin"]
    by_token = tmp_path / "token.toml"
    code, out = runs(
        "--target-url",
        licensed.url,
        "--target-file",
        str(by_token),
        "--prefix",
        "tok-",
        environ={ENV_ADMIN_TOKEN: admin_token},
    )
    assert code == EXIT_OK, out
    assert "as an admin token" in out
    # a login of an administrator the token made
    login_target = tmp_path / "login.toml"
    admin_login = "tok-admin"
    directory = licensed.state.directory
    user = directory.by_login(admin_login)
    assert user is not None
    directory.set_password(user.id, "Admin-password-123")
    code, out = runs(
        "--target-url",
        licensed.url,
        "--login",
        admin_login,
        "--target-file",
        str(login_target),
        "--prefix",
        "login-",
        environ={ENV_ADMIN_PASSWORD: "Admin-password-123"},
    )
    assert code == EXIT_OK, out
    assert f"as the login {admin_login}" in out
    assert tuple(read_target_file(login_target).tokens) == ROLES


@pytest.mark.parametrize(
    ("credential", "environ", "says"),
    [
        (("--admin-token", "not-a-token"), {}, "the admin token is refused"),
        (("--login", "admin"), {ENV_ADMIN_PASSWORD: "wrong"}, "the admin login admin is refused"),
        ((), {ENV_ADMIN_TOKEN: "USER"}, "is not a system admin (roles: system_user)"),
        (("--local-socket", "/nonexistent/socket"), {}, "does not answer"),
    ],
)
def test_a_wrong_admin_credential_is_refused_with_exit_5(
    unlicensed: RunningStub,
    runs: Runs,
    tmp_path: Path,
    credential: tuple[str, ...],
    environ: dict[str, str],
    says: str,
) -> None:
    environ = {
        k: unlicensed.tokens["system_user"] if v == "USER" else v for k, v in environ.items()
    }
    target = tmp_path / "target.toml"
    code, out = runs(
        "--target-url", unlicensed.url, "--target-file", str(target), *credential, environ=environ
    )
    assert code == EXIT_ADMIN_REFUSED, out
    assert says in out
    assert not target.exists()
    assert len(out.strip().splitlines()) == 1, "one clear message"


def test_a_server_that_is_not_mattermost_and_one_that_does_not_answer(
    runs: Runs, tmp_path: Path
) -> None:
    app = Starlette(routes=[Route("/{path:path}", lambda request: HTMLResponse("<html>hi"))])
    sock, url = listen_tcp("127.0.0.1", 0)
    server = ServerThread(app, sock, name="not-mattermost")
    server.start()
    try:
        code, out = runs(
            "--target-url", url, "--target-file", str(tmp_path / "t.toml"), "--admin-token", "x"
        )
    finally:
        server.stop()
    assert code == EXIT_NOT_MATTERMOST, out
    assert "does not look like a Mattermost server" in out
    code, out = runs(
        "--target-url", url, "--target-file", str(tmp_path / "t.toml"), "--admin-token", "x"
    )
    assert code == EXIT_UNREACHABLE, out
    assert "no answer from" in out


def test_a_user_name_someone_else_holds_is_not_taken_over(
    unlicensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    unlicensed.state.directory.create("mmconform-admin", "someone@example.org", "Password-123")
    target = tmp_path / "target.toml"
    code, out = runs(*over_socket(unlicensed, target))
    assert code == EXIT_USERNAME_TAKEN, out
    assert "the user name mmconform-admin" in out
    assert "--prefix" in out
    assert not target.exists()


@pytest.mark.parametrize(
    ("setup", "extra", "says"),
    [
        ("stub-file", (), "has no [provisioned] table"),
        ("garbage", (), "not valid TOML"),
        ("none", ("--prefix", "Bad Prefix"), "prefix 'Bad Prefix'"),
        ("none", ("--prefix", "a-very-long-prefix-"), "longer than 22"),
        ("none", ("--teardown",), "nothing to tear down"),
    ],
)
def test_bad_input_loses_nothing_and_exits_2(
    unlicensed: RunningStub,
    runs: Runs,
    tmp_path: Path,
    setup: str,
    extra: tuple[str, ...],
    says: str,
) -> None:
    target = tmp_path / "target.toml"
    if setup == "stub-file":
        unlicensed.write_target(target)
    elif setup == "garbage":
        target.write_text("[target\n", encoding="utf-8")
    before = target.read_bytes() if target.exists() else None
    code, out = runs(*over_socket(unlicensed, target, *extra))
    assert code == EXIT_USAGE, out
    assert says in out
    assert (target.read_bytes() if target.exists() else None) == before


def test_a_file_written_for_another_server_is_left_alone(
    unlicensed: RunningStub, licensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    target = tmp_path / "target.toml"
    assert runs(*over_socket(licensed, target))[0] == EXIT_OK
    before = target.read_bytes()
    code, out = runs(*over_socket(unlicensed, target))
    assert code == EXIT_USAGE, out
    assert f"was written for {licensed.url}" in out
    assert target.read_bytes() == before


def test_the_command_line_needs_one_admin_credential(
    unlicensed: RunningStub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for argv in (
        ["--target-url", unlicensed.url, "--target-file", str(tmp_path / "t.toml")],
        [
            "--target-url",
            unlicensed.url,
            "--target-file",
            str(tmp_path / "t.toml"),
            "--admin-token",
            "x",
            "--local-socket",
            "/s",
        ],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv, environ={})
        assert info.value.code == EXIT_USAGE
        assert "admin credential" in capsys.readouterr().err


def test_nothing_it_prints_or_writes_shows_a_token_or_password(
    licensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    """Every path: provisioning, a re-run, personal access tokens, teardown and refusals. The
    target file (mode 0600) is the only place tokens are written."""
    target = tmp_path / "target.toml"
    pats = tmp_path / "pats.toml"
    admin = licensed.tokens["system_admin"]
    runs(*over_socket(licensed, target))
    runs(*over_socket(licensed, target))
    licensed.state.update_config(ServiceSettings={"EnableUserAccessTokens": True})
    runs(*over_socket(licensed, pats, "--personal-access-tokens", "--prefix", "p-"))
    runs(
        "--target-url",
        licensed.url,
        "--target-file",
        str(tmp_path / "by-token.toml"),
        "--prefix",
        "t-",
        environ={ENV_ADMIN_TOKEN: admin},
    )
    written = {path: read_target_file(path) for path in (target, pats, tmp_path / "by-token.toml")}
    runs(*over_socket(licensed, target, "--teardown"))
    runs(*over_socket(licensed, pats, "--teardown"))
    runs("--target-url", licensed.url, "--target-file", str(target), "--admin-token", admin + "x")
    secrets = {admin, admin + "x"}
    for described in written.values():
        secrets |= {token.reveal() for token in described.tokens.values()}
    assert len(secrets) == 2 + 3 * len(ROLES)
    everything = "\n".join(runs.printed)
    everything += "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in tmp_path.rglob("*")
        if path.is_file() and path not in written
    )
    assert "mmconform provision" in everything
    leaked = [secret for secret in secrets if secret in everything]
    assert leaked == []


def test_a_fresh_server_gets_its_first_admin_then_the_role_users(
    runs: Runs, tmp_path: Path
) -> None:
    """--first-admin on a server with no user: the user it creates is the server's system admin
    (upstream makes the first account one); run again, the same command logs in as it."""
    target = tmp_path / "target.toml"
    argv = ("--target-url", "", "--first-admin", "admin", "--target-file", str(target))
    environ = {ENV_ADMIN_PASSWORD: "First-admin-password-1"}
    for stub in _stub(built_in_users=False, license_file=LICENSE):
        assert stub.tokens == {}
        url_argv = (argv[0], stub.url, *argv[2:])
        code, out = runs(*url_argv, environ=environ)
        assert code == EXIT_OK, out
        assert "as admin, created as the server's first user and so its system admin" in out
        assert tuple(read_target_file(target).tokens) == ROLES
        first = stub.state.directory.by_login("admin")
        assert first is not None
        assert first.is_system_admin
        code, out = runs(*url_argv, environ=environ)
        assert code == EXIT_OK, out
        assert "as the login admin" in out


def test_first_admin_on_a_server_that_has_users_is_a_refused_login(
    unlicensed: RunningStub, runs: Runs, tmp_path: Path
) -> None:
    code, out = runs(
        "--target-url",
        unlicensed.url,
        "--first-admin",
        "newcomer",
        "--target-file",
        str(tmp_path / "t.toml"),
        environ={ENV_ADMIN_PASSWORD: "Some-password-1"},
    )
    assert code == EXIT_ADMIN_REFUSED, out
    assert "the server already has users, so it will not make newcomer its first admin" in out
    assert unlicensed.state.directory.by_login("newcomer") is None


def test_wait_gives_a_server_just_started_time_to_come_up(runs: Runs, tmp_path: Path) -> None:
    sock, url = listen_tcp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    started: list[RunningStub] = []

    def start_later() -> None:
        time.sleep(1.5)
        started.append(start_stub(StubOptions(port=port, license_file=LICENSE)))

    later = threading.Thread(target=start_later)
    later.start()
    try:
        code, out = runs(
            "--target-url",
            url,
            "--wait",
            "30",
            "--admin-token",
            "not-a-token-of-this-server",
            "--target-file",
            str(tmp_path / "t.toml"),
        )
    finally:
        later.join()
        for stub in started:
            stub.stop()
    assert f"waiting up to 30 s for {url} to answer" in out
    # it came up and answered: the token given is then judged (and refused)
    assert code == EXIT_ADMIN_REFUSED, out
