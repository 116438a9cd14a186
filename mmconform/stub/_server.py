"""Running the stub: uvicorn in background threads (TCP on a free port + the local socket)."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from pathlib import Path
from types import TracebackType

from mmconform._wire import Secret, ServerThread, TargetFile, listen_tcp
from mmconform.stub._auth import ROLES
from mmconform.stub._license import fixture_dir
from mmconform.stub._options import StubOptions
from mmconform.stub._state import StubState
from mmconform.stub.app import build_app


class RunningStub:
    """A started stub: ``url``, ``tokens``, ``local_socket``, ``server_version``, ``state``."""

    def __init__(self, options: StubOptions) -> None:
        self.options = options
        self.state = StubState(options)
        self.server_version = self.state.server_version
        self.tokens: dict[str, str] = {
            role: self.state.users[role].token for role in ROLES if role in self.state.users
        }
        self._threads: list[ServerThread] = []
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
        tcp, self.url = listen_tcp(opts.host, opts.port)
        port = tcp.getsockname()[1]
        if opts.local_mode:
            self.local_socket = self._bind_local()
            self.state.update_config(
                ServiceSettings={
                    "EnableLocalMode": True,
                    "LocalModeSocketLocation": str(self.local_socket),
                }
            )
        self.state.update_config(ServiceSettings={"ListenAddress": f":{port}"})
        main = ServerThread(build_app(self.state), tcp, name="mmconform-stub-tcp")
        self._threads.append(main)
        main.start()
        if self.local_socket is not None:
            assert self._local_sock is not None
            local = ServerThread(
                build_app(self.state, local=True), self._local_sock, name="mmconform-stub-local"
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

    def target_file(self) -> TargetFile:
        """The target file's description of this stub (docs/architecture.md)."""
        accepted = _accepted_license()
        return TargetFile(
            url=self.url,
            tokens={role: Secret(token, role) for role, token in self.tokens.items()},
            server_version=self.server_version,
            local_socket=str(self.local_socket) if self.local_socket is not None else None,
            features=self.features,
            # A license this stub accepts, for the suites' license lifecycle tests.
            license_file=accepted if accepted.is_file() else None,
        )

    def write_target(self, path: str | os.PathLike[str]) -> Path:
        """Write the TOML target file (mode 0600: it holds the tokens)."""
        return self.target_file().write(path)

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
