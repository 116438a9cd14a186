"""Hop-by-hop headers, Host and encodings on both hops, against a recording upstream."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import httpx

from mmconform._wire import read_target_file
from mmconform.proxy import MUTATIONS
from mmconform.proxy._app import ProxyEngine, build_app


def _engine(
    tmp_path: Path, seen: list[httpx.Request], mutations: tuple[str, ...] = ()
) -> ProxyEngine:
    target = tmp_path / "target.toml"
    target.write_text(
        '[target]\nurl = "http://upstream.test:8065/mm"\n[tokens]\nsystem_admin = "tok"\n',
        encoding="utf-8",
    )

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = gzip.compress(b'{"status":"OK","note":"from upstream"}')
        return httpx.Response(
            200,
            headers=[
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
                ("Connection", "close, X-Upstream-Hop"),
                ("X-Upstream-Hop", "1"),
                ("Keep-Alive", "timeout=5"),
                ("Proxy-Authenticate", "Basic"),
                ("X-Request-Id", "abcdefghijklmnopqrstuvwxyz"),
                ("X-Version-Id", "11.1.0.1.abc.false"),
            ],
            content=body,
        )

    return ProxyEngine(
        read_target_file(target),
        [MUTATIONS[name] for name in mutations],
        transport=httpx.MockTransport(answer),
    )


def _call(engine: ProxyEngine, **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=build_app(engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as c:
            return await c.request(**kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_request_framing_is_the_proxys_own(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    answer = _call(
        _engine(tmp_path, seen),
        method="POST",
        url="/api/v4/logs?x=a%2Fb",
        content=b'{"level":"ERROR","message":"m"}',
        headers={
            "Connection": "keep-alive, X-Client-Hop",
            "X-Client-Hop": "secret",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic abc",
            "Accept-Encoding": "br",
            "Authorization": "Bearer tok",
            "X-Custom": "kept",
        },
    )
    assert answer.status_code == 200
    (request,) = seen
    assert str(request.url) == "http://upstream.test:8065/mm/api/v4/logs?x=a%2Fb"
    assert request.headers["host"] == "upstream.test:8065"
    for name in ("x-client-hop", "keep-alive", "te", "proxy-authorization"):
        assert name not in request.headers, name
    assert request.headers.get("connection") in (None, "keep-alive")
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["x-custom"] == "kept"
    assert request.headers["content-length"] == str(len(request.content))
    assert request.content == b'{"level":"ERROR","message":"m"}'


def test_answer_is_decoded_and_reframed(tmp_path: Path) -> None:
    answer = _call(_engine(tmp_path, []), method="GET", url="/api/v4/system/ping")
    assert answer.content == b'{"status":"OK","note":"from upstream"}'
    assert "content-encoding" not in answer.headers
    assert answer.headers["content-length"] == str(len(answer.content))
    for name in ("x-upstream-hop", "keep-alive", "proxy-authenticate", "connection"):
        assert name not in answer.headers, name
    assert answer.headers["x-request-id"] == "abcdefghijklmnopqrstuvwxyz"


def test_gzip_variant_reencodes_only_for_clients_that_accept_it(tmp_path: Path) -> None:
    engine = _engine(tmp_path, [], ("gzip",))
    accepted = _call(engine, method="GET", url="/x", headers={"Accept-Encoding": "gzip"})
    assert accepted.headers["content-encoding"] == "gzip"
    assert accepted.headers["vary"] == "Accept-Encoding"
    assert accepted.json() == {"status": "OK", "note": "from upstream"}
    refused = _call(engine, method="GET", url="/x", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
