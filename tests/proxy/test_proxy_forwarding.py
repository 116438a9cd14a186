"""Without mutations the proxy is transparent; requests are mapped to operations and callers."""

from __future__ import annotations

import io
import re
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mmconform.contract import load_contract
from mmconform.proxy import TargetFileError, start_proxy
from mmconform.proxy._routing import OperationRouter, caller_of, token_of
from mmconform.stub import RunningStub
from tests.proxy._helpers import Pair, a_license, proxied, raw_get

# Headers every answer of the request pipeline carries, passed on as they are.
PASSED_ON = (
    "content-type",
    "x-version-id",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "expires",
    "cache-control",
)


@pytest.fixture(scope="module")
def pair(stub: RunningStub, stub_target: Path) -> Iterator[Pair]:
    with proxied(stub, stub_target, []) as running:
        yield running


def _same(direct: httpx.Response, through: httpx.Response) -> None:
    assert through.status_code == direct.status_code
    for name in PASSED_ON:
        assert through.headers.get(name) == direct.headers.get(name), name
    assert ("x-request-id" in through.headers) == ("x-request-id" in direct.headers)
    assert through.headers.get("content-length") == str(len(through.content))


@pytest.mark.parametrize(
    ("method", "path", "role", "params"),
    [
        ("GET", "/api/v4/system/ping", "anonymous", {}),
        ("GET", "/api/v4/system/ping", "system_admin", {"get_server_status": "true"}),
        ("GET", "/api/v4/system/timezones", "system_user", {}),
        ("GET", "/api/v4/config", "system_read_only_admin", {}),
        ("GET", "/api/v4/config/client", "anonymous", {"format": "old"}),
        ("GET", "/api/v4/analytics/old", "system_manager", {}),
        ("GET", "/api/v4/server_busy", "system_admin", {}),
        ("GET", "/api/v4/logs", "system_user", {}),
        ("GET", "/api/v4/config", "anonymous", {}),
        ("GET", "/api/v4/no/such/route", "system_admin", {}),
        ("POST", "/api/v4/integrity", "system_admin", {}),
    ],
)
def test_answers_pass_through(
    pair: Pair, method: str, path: str, role: str, params: dict[str, str]
) -> None:
    direct, through = pair.both(method, path, role, params=params)
    _same(direct, through)
    if direct.headers.get("content-type") == "application/json":
        expected = direct.json()
        got = through.json()
        if isinstance(expected, dict) and "request_id" in expected:
            # every request has its own id; the proxied answer repeats its own header
            assert got.pop("request_id") == through.headers["x-request-id"]
            expected.pop("request_id")
        assert got == expected
    else:
        assert through.content == direct.content


def test_query_body_and_method_reach_the_server(pair: Pair) -> None:
    assert len(pair.proxied("GET", "/api/v4/audits", params={"per_page": 3}).json()) == 3
    pair.stub.state.clear_busy()
    try:
        assert pair.proxied("POST", "/api/v4/server_busy", params={"seconds": 120}).json() == {
            "status": "OK"
        }
        assert pair.direct("GET", "/api/v4/server_busy").json()["busy"] is True
        assert pair.proxied("DELETE", "/api/v4/server_busy").status_code == 200
        assert pair.direct("GET", "/api/v4/server_busy").json()["busy"] is False
    finally:
        pair.stub.state.clear_busy()
    line = pair.proxied("POST", "/api/v4/logs", json={"level": "ERROR", "message": "through"})
    assert line.json() == {"level": "ERROR", "message": "Client Logs API Endpoint Message: through"}


def test_binary_support_packet(pair: Pair) -> None:
    pair.stub.state.set_license(a_license())
    try:
        direct, through = pair.both("GET", "/api/v4/system/support_packet")
    finally:
        pair.stub.state.set_license(None)
    _same(direct, through)
    assert through.headers.get("content-disposition") == direct.headers.get("content-disposition")
    names = zipfile.ZipFile(io.BytesIO(through.content)).namelist()
    assert names == zipfile.ZipFile(io.BytesIO(direct.content)).namelist()
    assert "sanitized_config.json" in names


def test_redirects_pass_through_unfollowed(pair: Pair) -> None:
    settings = pair.stub.state.config["ImageProxySettings"]
    saved = dict(settings)
    pair.stub.state.update_config(
        ImageProxySettings={
            "Enable": True,
            "ImageProxyType": "atmos/camo",
            "RemoteImageProxyURL": "http://camo.example.com",
            "RemoteImageProxyOptions": "key",
        }
    )
    try:
        query = {"url": "http://images.example.com/cat.png"}
        direct, through = pair.both("GET", "/api/v4/image", "system_user", params=query)
    finally:
        pair.stub.state.update_config(ImageProxySettings=saved)
    assert direct.status_code == through.status_code == 302
    assert through.headers["location"] == direct.headers["location"]
    assert through.headers["location"].startswith("http://camo.example.com/")


def test_head_keeps_the_length_and_sends_no_body(pair: Pair) -> None:
    raw = raw_get(pair.proxy.url, "/api/v4/system/ping")
    assert raw.startswith(b"HTTP/1.1 200")
    through = pair.proxied_client.head("/api/v4/no/such/route")
    direct = pair.direct_client.head("/api/v4/no/such/route")
    assert through.status_code == direct.status_code
    assert through.content == b""


def test_server_gzip_is_decoded(pair: Pair) -> None:
    """The proxy asks the server for gzip and hands the client a decoded body with its own
    length (no Content-Encoding unless a mutation says so)."""
    raw = raw_get(pair.proxy.url, "/api/v4/system/timezones", {"Accept-Encoding": "gzip"})
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert b"content-encoding" not in head
    assert b"content-length" in head


def test_no_cookie_jar_between_callers(pair: Pair) -> None:
    admin = pair.stub.tokens["system_admin"]
    cookie = {"Cookie": f"MMAUTHTOKEN={admin}"}
    with_cookie = pair.proxied("GET", "/api/v4/logs", None, headers=cookie)
    assert with_cookie.status_code == 200
    assert pair.proxied("GET", "/api/v4/logs", None).status_code == 401


def test_written_target_keeps_everything_but_the_url(pair: Pair, stub_target: Path) -> None:
    original = tomllib.loads(stub_target.read_text(encoding="utf-8"))
    written = tomllib.loads(pair.proxy.target_file.read_text(encoding="utf-8"))
    assert written["target"]["url"] == pair.proxy.url
    assert written["tokens"] == original["tokens"]
    for key in ("server_version", "local_socket", "features", "license_file"):
        assert written["target"][key] == original["target"][key], key


def test_relative_license_file_becomes_absolute(stub: RunningStub, tmp_path: Path) -> None:
    source = tmp_path / "in" / "target.toml"
    source.parent.mkdir()
    (source.parent / "my.license").write_text("x", encoding="utf-8")
    source.write_text(
        f'[target]\nurl = "{stub.url}"\nlicense_file = "my.license"\n[tokens]\n'
        f'system_admin = "{stub.tokens["system_admin"]}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out" / "proxy.toml"
    with start_proxy(source, [], write_target=out):
        written = tomllib.loads(out.read_text(encoding="utf-8"))
    assert written["target"]["license_file"] == str((source.parent / "my.license").resolve())


def test_upstream_down_is_502(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = tmp_path / "t.toml"
    target.write_text(f'[target]\nurl = "http://127.0.0.1:{port}"\n', encoding="utf-8")
    with start_proxy(target, []) as proxy:
        answer = httpx.get(f"{proxy.url}/api/v4/system/ping", trust_env=False)
    assert answer.status_code == 502
    assert "no answer from" in answer.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("not = [toml", "not valid TOML"),
        ('[tokens]\na = "b"\n', "missing [target] table"),
        ('[target]\nurl = "ftp://x"\n', "not an http(s) base URL"),
        ('[target]\nurl = "http://x"\n[tokens]\nsystem_admin = 3\n', "[tokens].system_admin"),
    ],
)
def test_the_proxy_refuses_a_bad_target_file_with_the_readers_words(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "target.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(TargetFileError, match=re.escape(message)):
        start_proxy(path, [])


def test_router_maps_paths_to_operations() -> None:
    router = OperationRouter(load_contract())
    cases = {
        ("GET", "/api/v4/system/ping"): "GetPing",
        ("PUT", "/api/v4/system/notices/view"): "MarkNoticesViewed",
        ("GET", "/api/v4/system/notices/abc123"): "GetNotices",
        ("GET", "/api/v4/system/ping/"): "GetPing",
        ("POST", "/api/v4/server_busy"): "SetServerBusy",
        ("DELETE", "/api/v4/server_busy"): "ClearServerBusy",
        ("POST", "/api/v4/integrity"): "CheckIntegrity",
    }
    for (method, path), expected in cases.items():
        found = router.operation(method, path)
        assert found is not None, (method, path)
        assert found.operation_id == expected, (method, path)
    assert router.operation("PATCH", "/api/v4/system/ping") is None
    assert router.operation("GET", "/api/v4/system/notices/a/b") is None
    assert router.operation("GET", "/elsewhere") is None
    mapped = {
        op.operation_id
        for op in load_contract().operations
        if router.operation(op.method, op.path.replace("{teamId}", "t1")) is op
    }
    assert mapped == {op.operation_id for op in load_contract().operations}


def test_callers_are_known_from_their_tokens() -> None:
    roles = {"tok-admin": "system_admin", "tok-user": "system_user"}
    assert token_of({"authorization": "Bearer tok-admin"}, "") == "tok-admin"
    assert token_of({"authorization": "token tok-user"}, "") == "tok-user"
    assert token_of({"cookie": "a=b; MMAUTHTOKEN=tok-user"}, "") == "tok-user"
    assert token_of({}, "x=1&access_token=tok-admin") == "tok-admin"
    assert token_of({"authorization": "Basic abc"}, "") is None
    assert caller_of(None, roles) == "anonymous"
    assert caller_of("tok-user", roles) == "system_user"
    assert caller_of("stranger", roles) == "unknown"
