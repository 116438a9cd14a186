"""Serving the proxy: uvicorn in a background thread, and the target file that points at it."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from uvicorn.protocols.http.h11_impl import H11Protocol

from mmconform._wire import ServerThread, listen_tcp, nodelay, read_target_file
from mmconform.proxy._app import ProxyEngine, build_app
from mmconform.proxy._catalogue import parse_mutation
from mmconform.proxy._mutation import Mutation

__all__ = ["RunningProxy", "start_proxy"]


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
        sock, self.url = listen_tcp(host, port)
        self.engine = ProxyEngine(self.upstream, self.mutations)
        self._thread = ServerThread(
            build_app(self.engine),
            sock,
            name="mmconform-proxy",
            # h11 keeps header names as the mutations write them.
            http=nodelay(H11Protocol),
            lifespan="on",
            server_header=False,
            date_header=False,  # the server's own Date is passed through
        )
        try:
            self._thread.start()
            if write_target is None:
                self._tmpdir = tempfile.TemporaryDirectory(prefix="mmconform-proxy-")
                write_target = Path(self._tmpdir.name) / "target.toml"
            self.target_file = self.upstream.proxied(self.url).write(write_target)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._thread.stop()
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
