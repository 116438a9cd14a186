"""Helpers for the proxy's tests: a stub behind a proxy, called directly or through it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mmconform.proxy import RunningProxy, start_proxy
from mmconform.stub import RunningStub
from mmconform.stub._license import DAY_MS, build_license


@dataclass
class Pair:
    """The same request, sent straight to the stub or through the proxy."""

    stub: RunningStub
    proxy: RunningProxy
    direct_client: httpx.Client
    proxied_client: httpx.Client

    def _send(
        self, client: httpx.Client, method: str, path: str, role: str | None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if role is not None and role != "anonymous":
            headers["Authorization"] = f"Bearer {self.stub.tokens[role]}"
        return client.request(method, path, headers=headers, **kwargs)

    def direct(
        self, method: str, path: str, role: str | None = "system_admin", **kwargs: Any
    ) -> httpx.Response:
        return self._send(self.direct_client, method, path, role, **kwargs)

    def proxied(
        self, method: str, path: str, role: str | None = "system_admin", **kwargs: Any
    ) -> httpx.Response:
        return self._send(self.proxied_client, method, path, role, **kwargs)

    def both(
        self, method: str, path: str, role: str | None = "system_admin", **kwargs: Any
    ) -> tuple[httpx.Response, httpx.Response]:
        return (
            self.direct(method, path, role, **kwargs),
            self.proxied(method, path, role, **kwargs),
        )


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30.0, trust_env=False)


@contextmanager
def proxied(stub: RunningStub, target_file: Path, mutations: Sequence[str]) -> Iterator[Pair]:
    with (
        start_proxy(target_file, mutations) as proxy,
        client(stub.url) as direct_client,
        client(proxy.url) as proxied_client,
    ):
        yield Pair(stub, proxy, direct_client, proxied_client)


def raw_get(url: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    """One HTTP/1.1 GET over a plain socket; returns everything the server sent (it closes)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    chunks: list[bytes] = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def raw_header_names(raw: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [line.split(b":", 1)[0] for line in head.split(b"\r\n")[1:]]


def a_license() -> Any:
    now = int(time.time() * 1000)
    return build_license(users=1000, issued_at=now - DAY_MS, expires_at=now + 365 * DAY_MS)
