"""Serving: an ASGI app in a background thread (the stub, the fault proxy), and a server in a
child process that announces itself by writing a target file (the embedded stub, the selftest's
targets)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from mmconform._wire._target_file import TargetFile, TargetFileError, read_target_file

__all__ = [
    "STARTUP_TIMEOUT",
    "ChildProcess",
    "ChildServerError",
    "ServerThread",
    "child_server",
    "fast_protocol",
    "listen_tcp",
    "nodelay",
    "start_child",
    "stop_process",
]

#: How long a server may take to start listening, in a thread or a child process.
STARTUP_TIMEOUT: Final = 30.0


def _set_nodelay(transport: Any) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def nodelay(protocol: type[Any]) -> type[Any]:
    """``protocol`` with TCP_NODELAY on every connection: uvicorn writes headers and body
    separately, and Nagle plus the peer's delayed ACK would add ~40 ms to each answer."""

    class NoDelay(protocol):  # type: ignore[misc]
        def connection_made(self, transport: Any) -> None:
            _set_nodelay(transport)
            super().connection_made(transport)

    NoDelay.__name__ = NoDelay.__qualname__ = f"NoDelay{protocol.__name__}"
    return NoDelay


def fast_protocol() -> type[Any]:
    """httptools when installed (much faster than h11), else h11. (uvicorn is imported only
    where something is served: the contract and the harness stand on this floor too.)"""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - depends on the environment
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    return HttpToolsProtocol


def listen_tcp(host: str, port: int) -> tuple[socket.socket, str]:
    """A listening TCP socket on ``host:port`` (0: a free port) and its base URL."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return sock, f"http://{shown}:{bound_port}"


class ServerThread:
    """uvicorn serving ``app`` on ``sock`` in a daemon thread; ``start()`` returns once it
    listens, ``stop()`` shuts it down and closes the socket."""

    def __init__(
        self,
        app: Any,
        sock: socket.socket,
        *,
        name: str,
        http: type[Any] | None = None,
        **config: Any,
    ) -> None:
        settings: dict[str, Any] = {
            "log_level": "critical",
            "access_log": False,
            "lifespan": "off",
            "loop": "asyncio",
            "ws": "none",
            "timeout_keep_alive": 30,
            **config,
        }
        import uvicorn

        self.name = name
        self.server = uvicorn.Server(
            uvicorn.Config(app, http=http or nodelay(fast_protocol()), **settings)
        )
        self.sock = sock
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # pragma: no cover - reported by start()
            self.error = exc

    def start(self, timeout: float = STARTUP_TIMEOUT) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"{self.name}: server thread died: {self.error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: server did not start in {timeout:.0f} s")
            time.sleep(0.005)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
            if self.thread.is_alive():
                self.server.force_exit = True
                self.thread.join(timeout)
        with contextlib.suppress(OSError):
            self.sock.close()


class ChildProcess(Protocol):
    """What is needed of a child to wait for it and stop it: ``subprocess.Popen``'s part."""

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class ChildServerError(RuntimeError):
    """A child server exited or never wrote its target file; the message carries the end of
    what it printed."""


@contextlib.contextmanager
def child_server(
    command: Sequence[str],
    target_file: Path,
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = STARTUP_TIMEOUT,
    launch: Callable[[Sequence[str], Path], ChildProcess] | None = None,
) -> Iterator[TargetFile]:
    """Run ``command`` (which must write ``target_file`` once it listens) and yield the target
    file it wrote; terminate it when the block ends. Its output goes to ``log``. ``launch``
    starts the command instead of a fresh ``subprocess.Popen`` (given the command and the log;
    the selftest forks its children from a preloaded interpreter)."""
    process = launch(command, log) if launch else start_child(command, log, env=env)
    try:
        yield _wait_for(process, target_file, log, timeout, name=" ".join(command[1:4]))
    finally:
        stop_process(process)


def start_child(
    command: Sequence[str],
    output: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    errors: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a fresh interpreter, no input, its output written to ``output``
    (standard error too, unless ``errors`` names a file of its own)."""
    with contextlib.ExitStack() as files:
        sink = files.enter_context(output.open("wb"))
        error_sink = files.enter_context(errors.open("wb")) if errors else subprocess.STDOUT
        return subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=error_sink,
            env=None if env is None else dict(env),
            cwd=cwd,
        )


def _wait_for(
    process: ChildProcess, target_file: Path, log: Path, timeout: float, name: str
) -> TargetFile:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ChildServerError(
                f"{name} exited with code {process.returncode} before it was ready: {_tail(log)}"
            )
        if target_file.is_file():
            # Written atomically, so a file that is there is whole.
            with contextlib.suppress(TargetFileError):
                return read_target_file(target_file)
        if time.monotonic() > deadline:
            raise ChildServerError(
                f"{name} wrote no target file {target_file} in {timeout:.0f} s: {_tail(log)}"
            )
        time.sleep(0.02)


def _tail(log: Path, lines: int = 15, width: int = 400) -> str:
    """The last lines the child printed, each cut to its start (where a message says what is
    wrong, before any long list it goes on to)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "(no output)"
    shown = [
        line if len(line) <= width else line[: width - 1] + "…"
        for line in text.splitlines()[-lines:]
    ]
    return "\n".join(shown) or "(no output)"


def stop_process(process: ChildProcess, timeout: float = 10.0) -> None:
    """Terminate a child, then kill it if it does not go."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
