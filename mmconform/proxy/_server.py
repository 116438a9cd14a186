"""Serving the proxy: uvicorn in a background thread, and the target file that points at it."""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from mmconform.proxy._app import ProxyEngine, build_app
from mmconform.proxy._mutations import Mutation, parse_mutation
from mmconform.proxy._target import read_target_file, write_target_file

__all__ = ["RunningProxy", "start_proxy"]

_START_TIMEOUT = 10.0


class _NoDelayProtocol(H11Protocol):
    """h11 (which keeps header names as given) with TCP_NODELAY: uvicorn writes headers and
    body separately, and Nagle plus a delayed ACK would add ~40 ms to each answer."""

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


class RunningProxy:
    """A started proxy: ``url``, ``target_file``, ``mutations``; ``stop()`` or use ``with``."""

    def __init__(
        self,
        target_file: Path,
        mutations: Sequence[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        write_target: Path | None = None,
    ) -> None:
        self.upstream = read_target_file(Path(target_file))
        self.mutations: tuple[Mutation, ...] = tuple(parse_mutation(m) for m in mutations)
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._stopped = False
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(512)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self.engine = ProxyEngine(self.upstream, self.mutations)
        config = uvicorn.Config(
            build_app(self.engine),
            log_level="critical",
            access_log=False,
            lifespan="on",
            loop="asyncio",
            http=_NoDelayProtocol,
            ws="none",
            server_header=False,
            date_header=False,  # the server's own Date is passed through
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mmconform-proxy", daemon=True)
        try:
            self._start()
            if write_target is None:
                self._tmpdir = tempfile.TemporaryDirectory(prefix="mmconform-proxy-")
                write_target = Path(self._tmpdir.name) / "target.toml"
            self.target_file = write_target_file(
                self.upstream.proxied_document(self.url), Path(write_target)
            )
        except BaseException:
            self.stop()
            raise

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # pragma: no cover - reported by _start
            self._error = exc

    def _start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"proxy server thread died: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("proxy server did not start in time")
            time.sleep(0.005)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(5.0)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(5.0)
        with contextlib.suppress(OSError):
            self._sock.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    def __enter__(self) -> RunningProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_proxy(
    target_file: Path,
    mutations: Sequence[str],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    write_target: Path | None = None,
) -> RunningProxy:
    """Start the proxy in front of ``target_file``'s server with the named mutations (catalogue
    names or cell faults); ``ValueError`` for an unknown name, ``TargetFileError`` (a
    ValueError) for an unusable target file, ``OSError`` when the address is taken."""
    return RunningProxy(target_file, mutations, host=host, port=port, write_target=write_target)
