"""The target file: one strict reader, one writer, the proxied copy."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mmconform._wire import (
    Provisioned,
    ProvisionedUser,
    Secret,
    TargetFile,
    TargetFileError,
    normalise_url,
    read_target_file,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[target\nurl=", "not valid TOML"),
        ("[tokens]\nsystem_admin='x'\n", "missing \\[target\\] table"),
        ("[target]\nserver_version='11.1.0'\n", "has no `url`"),
        ("[target]\nurl='ftp://h'\n", "not an http\\(s\\) base URL"),
        ("[target]\nurl='http://h'\nport=1\n", "unknown key\\(s\\) \\['port'\\]"),
        ("[target]\nurl='http://h'\n[tokens]\nroot='x'\n", "unknown role 'root'"),
        ("[target]\nurl='http://h'\n[tokens]\nsystem_admin=3\n", "\\[tokens\\].system_admin"),
        ("[target]\nurl='http://h'\n[tokens]\nsystem_admin=''\n", "\\[tokens\\].system_admin"),
        ("[target]\nurl='http://h'\nfeatures='x'\n", "features must be a list"),
        ("[target]\nurl='http://h'\nedition='pro'\n", "edition must be one of"),
        ("[target]\nurl='http://h'\nlicensed='yes'\n", "licensed must be true or false"),
        ("[target]\nurl='http://h'\nlicense_file='nope.lic'\n", "license_file .*no such file"),
        ("[target]\nurl='http://h'\n[extra]\n", "unknown table"),
        ("[target]\nurl='http://h'\n[unavailable]\nroot='x'\n", "unknown role 'root'"),
        ("[target]\nurl='http://h'\n[unavailable]\nsystem_manager=1\n", "unavailable\\]"),
        ("[target]\nurl='http://h'\nunavailable=1\n", "unknown key"),
        (
            "[target]\nurl='http://h'\n[tokens]\nsystem_user='t'\n"
            "[unavailable]\nsystem_user='no'\n",
            "have a token in \\[tokens\\] and are marked unavailable",
        ),
        (
            "[target]\nurl='http://h'\n[provisioned]\nprefix='x'\n",
            "unknown key\\(s\\) \\['prefix'\\]",
        ),
        ("[target]\nurl='http://h'\n[provisioned]\ntoken_kind='pat'\n", "token_kind must be"),
        ("[target]\nurl='http://h'\n[provisioned.users.root]\nid='a'\n", "unknown role 'root'"),
        (
            "[target]\nurl='http://h'\n[provisioned.users.system_user]\nid='a'\n",
            "\\[provisioned.users.system_user\\] has no `username`",
        ),
        (
            "[target]\nurl='http://h'\n[provisioned.users.system_user]\nid='a'\n"
            "username='u'\npassword='p'\n",
            "unknown key\\(s\\) \\['password'\\]",
        ),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TargetFileError, match=message) as info:
        read_target_file(path)
    assert str(path) in str(info.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TargetFileError, match="no such file"):
        read_target_file(tmp_path / "nope.toml")


def test_a_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "target.toml"
    path.write_bytes(b"\xff\xfe[target]")
    with pytest.raises(TargetFileError, match="not UTF-8"):
        read_target_file(path)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://h:1", "http://h:1"),
        ("http://h:1/", "http://h:1"),
        ("http://h:1/api/v4/", "http://h:1"),
        ("https://h/prefix", "https://h/prefix"),
    ],
)
def test_urls_lose_a_trailing_slash_and_api_prefix(raw: str, expected: str) -> None:
    assert normalise_url(raw, origin="test") == expected


def test_a_url_with_a_query_is_refused() -> None:
    with pytest.raises(TargetFileError, match="query"):
        normalise_url("http://h/?a=1", origin="test")


def test_what_is_written_reads_back_the_same(tmp_path: Path) -> None:
    license_file = tmp_path / "valid.mattermost-license"
    license_file.write_text("LICENSE", encoding="utf-8")
    described = TargetFile(
        url="http://127.0.0.1:8065/",
        tokens={
            "system_admin": Secret("admin-token", "system_admin"),
            "system_user": Secret("user-token", "system_user"),
        },
        server_version="10.11.0",
        edition="team",
        licensed=False,
        local_socket="/tmp/x.socket",
        features=frozenset({"local_mode", "license"}),
        license_file=license_file,
    )
    path = described.write(tmp_path / "sub" / "target.toml")
    again = read_target_file(path)
    assert again == described
    assert again.source == path.resolve()
    assert again.tokens["system_admin"].reveal() == "admin-token"


def test_a_written_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = TargetFile(url="http://h", tokens={"system_admin": Secret("t", "system_admin")}).write(
        tmp_path / "t.toml"
    )
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["t.toml"], "no temporary file is left"


def test_tokens_print_redacted() -> None:
    described = TargetFile(
        url="http://h", tokens={"system_admin": Secret("very-secret-token", "system_admin")}
    )
    assert "very-secret-token" not in repr(described)
    assert "very-secret-token" not in str(described.tokens)


def test_a_relative_license_file_is_read_from_the_files_folder_and_kept_absolute(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.lic").write_text("LICENSE", encoding="utf-8")
    path = write(tmp_path, "[target]\nurl='http://h'\nlicense_file='a.lic'\n")
    described = read_target_file(path)
    assert described.license_file == (tmp_path / "a.lic").resolve()
    elsewhere = described.proxied("http://127.0.0.1:9").write(tmp_path / "other" / "p.toml")
    proxied = read_target_file(elsewhere)
    assert proxied.url == "http://127.0.0.1:9"
    assert proxied.license_file == described.license_file
    assert proxied.tokens == described.tokens


def test_roles_by_token_tells_callers_apart() -> None:
    described = TargetFile(
        url="http://h",
        tokens={
            "system_admin": Secret("a", "system_admin"),
            "system_user": Secret("u", "system_user"),
        },
    )
    assert dict(described.roles_by_token) == {"a": "system_admin", "u": "system_user"}


def test_an_unknown_role_or_edition_is_refused_in_memory_too() -> None:
    with pytest.raises(TargetFileError, match="unknown role"):
        TargetFile(url="http://h", tokens={"root": Secret("x", "root")})
    with pytest.raises(TargetFileError, match="edition"):
        TargetFile(url="http://h", edition="pro")


def test_unavailable_roles_and_provisioned_users_read_back_the_same(tmp_path: Path) -> None:
    described = TargetFile(
        url="http://h",
        tokens={"system_admin": Secret("a", "system_admin")},
        unavailable={"system_manager": "400 api.user.update_user_roles.license.app_error"},
        provisioned=Provisioned(
            token_kind="personal_access_token",
            users={
                "system_admin": ProvisionedUser("uid1", "mmconform-admin", token_id="tid1"),
                "system_manager": ProvisionedUser("uid2", "mmconform-manager"),
            },
        ),
    )
    again = read_target_file(described.write(tmp_path / "t.toml"))
    assert again == described
    assert again.unavailable == {
        "system_manager": "400 api.user.update_user_roles.license.app_error"
    }
    assert again.provisioned is not None
    assert again.provisioned.users["system_admin"].token_id == "tid1"
    assert again.provisioned.users["system_manager"].token_id is None
    text = (tmp_path / "t.toml").read_text(encoding="utf-8")
    assert "[provisioned.users.system_admin]" in text


def test_a_file_without_the_new_tables_has_none_of_them(tmp_path: Path) -> None:
    described = read_target_file(write(tmp_path, "[target]\nurl='http://h'\n"))
    assert described.unavailable == {}
    assert described.provisioned is None


def test_a_role_cannot_have_a_token_and_be_unavailable_in_memory_either() -> None:
    with pytest.raises(TargetFileError, match="both have a token"):
        TargetFile(
            url="http://h",
            tokens={"system_user": Secret("t", "system_user")},
            unavailable={"system_user": "no"},
        )
    with pytest.raises(TargetFileError, match="token_kind"):
        Provisioned(token_kind="cookie")
