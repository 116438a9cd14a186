"""Running the stub: uvicorn in background threads (TCP on a free port + the local socket)."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import tomli_w
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # httptools is much faster than h11; use it when installed (uvicorn[standard])
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _FastProtocol

    HTTP_IMPLEMENTATION = "httptools"
except ImportError:  # pragma: no cover - depends on the environment
    _FastProtocol = H11Protocol  # type: ignore[assignment,misc]
    HTTP_IMPLEMENTATION = "h11"

from mmconform.stub._auth import ROLES
from mmconform.stub._license import fixture_dir
from mmconform.stub._options import StubOptions
from mmconform.stub._state import StubState
from mmconform.stub.app import build_app

_START_TIMEOUT = 10.0


def _set_nodelay(transport: Any) -> None:
    """uvicorn writes headers and body separately; with Nagle on, the peer's delayed ACK would
    add ~40 ms to every response on loopback."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _NoDelayProtocol(_FastProtocol):
    def connection_made(self, transport: Any) -> None:
        _set_nodelay(transport)
        super().connection_made(transport)


class _ServerThread:
    def __init__(self, app: Any, sock: socket.socket, name: str) -> None:
        config = uvicorn.Config(
            app,
            log_level="critical",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http=_NoDelayProtocol,
            ws="none",
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # pragma: no cover - reported by start()
            self.error = exc

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"stub server thread died: {self.error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("stub server did not start in time")
            time.sleep(0.005)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)
        with contextlib.suppress(OSError):
            self.sock.close()


class RunningStub:
    """A started stub: ``url``, ``tokens``, ``local_socket``, ``server_version``, ``state``."""

    def __init__(self, options: StubOptions) -> None:
        self.options = options
        self.state = StubState(options)
        self.server_version = self.state.server_version
        self.tokens: dict[str, str] = {role: self.state.users[role].token for role in ROLES}
        self._threads: list[_ServerThread] = []
        self._local_sock: socket.socket | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self.local_socket: Path | None = None
        self.url = ""
        self._stopped = False
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    # ------------------------------------------------------------------------------------------
    def _start(self) -> None:
        opts = self.options
        tcp = socket.socket(
            socket.AF_INET6 if ":" in opts.host else socket.AF_INET, socket.SOCK_STREAM
        )
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((opts.host, opts.port))
        tcp.listen(512)
        host, port = tcp.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"
        if opts.local_mode:
            self.local_socket = self._bind_local()
            self.state.update_config(
                ServiceSettings={
                    "EnableLocalMode": True,
                    "LocalModeSocketLocation": str(self.local_socket),
                }
            )
        self.state.update_config(ServiceSettings={"ListenAddress": f":{port}"})
        main = _ServerThread(build_app(self.state), tcp, "mmconform-stub-tcp")
        self._threads.append(main)
        main.start()
        if self.local_socket is not None:
            assert self._local_sock is not None
            local = _ServerThread(
                build_app(self.state, local=True), self._local_sock, "mmconform-stub-local"
            )
            self._threads.append(local)
            local.start()
        self.state.log(
            "info",
            "Server is listening",
            address=self.url,
            local_socket=str(self.local_socket or ""),
        )

    def _bind_local(self) -> Path:
        path = self.options.local_socket
        if path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="mmconform-")
            path = Path(self._tmpdir.name) / "mattermost_local.socket"
        path = Path(path)
        if path.exists() or path.is_symlink():
            path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        os.chmod(path, 0o600)
        sock.listen(128)
        self._local_sock = sock
        return path

    # ------------------------------------------------------------------------------------------
    @property
    def features(self) -> frozenset[str]:
        """Claimed features (the target file's ``features``): ``local_mode`` with a socket,
        ``license`` when a license it accepts is at hand to install and remove."""
        claimed = set()
        if self.local_socket is not None:
            claimed.add("local_mode")
        if _accepted_license().is_file():
            claimed.add("license")
        return frozenset(claimed)

    def target_document(self) -> dict[str, Any]:
        target: dict[str, Any] = {"url": self.url, "server_version": self.server_version}
        if self.local_socket is not None:
            target["local_socket"] = str(self.local_socket)
        if self.features:
            target["features"] = sorted(self.features)
        accepted = _accepted_license()
        if accepted.is_file():
            # A license this stub accepts, for the suites' license lifecycle tests.
            target["license_file"] = str(accepted)
        return {"target": target, "tokens": dict(self.tokens)}

    def write_target(self, path: str | os.PathLike[str]) -> Path:
        """Write the TOML target file described in docs/architecture.md."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(tomli_w.dumps(self.target_document()), encoding="utf-8")
        tmp.replace(out)
        return out

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for thread in reversed(self._threads):
            thread.stop()
        if self.local_socket is not None:
            with contextlib.suppress(OSError):
                self.local_socket.unlink()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
        self.state.close()

    def __enter__(self) -> RunningStub:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _accepted_license() -> Path:
    return fixture_dir() / "valid.mattermost-license"


def start_stub(options: StubOptions | None = None) -> RunningStub:
    """Start the stub in background threads; use as ``with start_stub(opts) as stub:``."""
    return RunningStub(options or StubOptions())
