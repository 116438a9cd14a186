"""Target resolution: file, environment and option combined, and clear errors (the file
format itself: tests/wire/test_target_file.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform.harness._target import TargetError, resolve_target

GOOD = """
[target]
url = "http://127.0.0.1:8065/"
server_version = "11.1.0"
local_socket = "/tmp/x.socket"
features = ["local_mode"]

[tokens]
system_admin = "file-admin"
system_user = "file-user"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_is_read(tmp_path: Path) -> None:
    target = resolve_target(target_file=write(tmp_path, GOOD), target_url=None, environ={})
    assert target is not None
    assert target.url == "http://127.0.0.1:8065"
    assert target.api_url == "http://127.0.0.1:8065/api/v4"
    assert target.server_version == "11.1.0"
    assert target.local_socket == "/tmp/x.socket"
    assert target.features == frozenset({"local_mode"})
    assert {role: target.token(role) for role in target.tokens} == {
        "system_admin": "file-admin",
        "system_user": "file-user",
    }
    assert target.roles == ("system_admin", "system_user")
    assert target.most_privileged_role == "system_admin"
    assert "system_manager" in target.missing_roles
    assert not target.embedded


def test_environment_overrides_file_and_option_overrides_environment(tmp_path: Path) -> None:
    env = {
        "MMCONFORM_TARGET_URL": "http://env.example:1/api/v4",
        "MMCONFORM_TOKEN_SYSTEM_ADMIN": "env-admin",
        "MMCONFORM_TOKEN_SYSTEM_MANAGER": "env-manager",
        "MMCONFORM_LOCAL_SOCKET": "/env.socket",
        "MMCONFORM_SERVER_VERSION": "10.5.0",
    }
    target = resolve_target(target_file=write(tmp_path, GOOD), target_url=None, environ=env)
    assert target is not None
    assert target.url == "http://env.example:1"
    assert target.token("system_admin") == "env-admin"
    assert target.token("system_user") == "file-user"
    assert target.token("system_manager") == "env-manager"
    assert target.local_socket == "/env.socket"
    assert target.server_version == "10.5.0"
    assert target.sources["token:system_admin"] == "env MMCONFORM_TOKEN_SYSTEM_ADMIN"
    assert target.sources["token:system_user"].startswith("file ")

    target = resolve_target(
        target_file=write(tmp_path, GOOD), target_url="https://opt.example", environ=env
    )
    assert target is not None
    assert target.url == "https://opt.example"
    assert target.sources["url"] == "option --target-url"


def test_no_target_means_embedded_stub() -> None:
    assert resolve_target(target_file=None, target_url=None, environ={}) is None


def test_tokens_without_url_are_an_error() -> None:
    with pytest.raises(TargetError, match="no URL"):
        resolve_target(
            target_file=None, target_url=None, environ={"MMCONFORM_TOKEN_SYSTEM_ADMIN": "x"}
        )


def test_unknown_role_in_environment() -> None:
    with pytest.raises(TargetError, match=r"MMCONFORM_TOKEN_SUPERUSER.*unknown role 'superuser'"):
        resolve_target(
            target_file=None,
            target_url="http://h",
            environ={"MMCONFORM_TOKEN_SUPERUSER": "x"},
        )


def test_edition_and_license_state_can_be_stated(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[target]\nurl = "http://h"\nedition = "team"\nlicensed = false\n', encoding="utf-8"
    )
    target = resolve_target(target_file=path, target_url=None, environ={})
    assert target is not None
    assert (target.edition, target.licensed) == ("team", False)
    env = {"MMCONFORM_EDITION": "enterprise"}
    target = resolve_target(target_file=path, target_url=None, environ=env)
    assert target is not None
    assert target.edition == "enterprise"
    assert target.sources["edition"] == "env MMCONFORM_EDITION"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('edition = "pro"', "edition must be one of"),
        ('licensed = "yes"', "licensed must be true or false"),
    ],
)
def test_bad_edition_or_license_state_is_an_error(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(f'[target]\nurl = "http://h"\n{line}\n', encoding="utf-8")
    with pytest.raises(TargetError, match=message):
        resolve_target(target_file=path, target_url=None, environ={})


def test_a_bad_file_is_a_target_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[target]\nurl='http://h'\nport=1\n")
    with pytest.raises(TargetError, match=r"unknown key\(s\) \['port'\]") as info:
        resolve_target(target_file=path, target_url=None, environ={})
    assert str(path) in str(info.value)
