"""Children started from one preloaded interpreter.

Every mutant's run starts a stub (and a fault proxy, for proxy mutants) and a pytest. A fresh
interpreter spends most of such a short run importing pytest, schemathesis, Hypothesis, this
package and the suites, and a whole selftest starts some eight hundred of them. So the selftest
starts one interpreter (``_preload_server``) that imports all that once, by collecting the
suites with pytest (so that what pytest rewrites is rewritten as in any run), and forks it for
every child: the same ``-m module`` command line, environment and working directory, its output
in a file, its exit status reported back. Where fork is missing or unsafe (Windows, macOS), or
when asked (``--fresh-interpreters``), every child starts fresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final, Protocol

from mmconform._wire import ChildProcess, ChildServerError, start_child, stop_process

__all__ = ["Launcher", "fork_supported", "fresh", "launcher"]

_log = logging.getLogger("mmconform.selftest")

#: how long the preloaded interpreter may take to import everything and listen
_READY_TIMEOUT: Final = 60.0
_SERVER: Final = Path(__file__).with_name("_preload_server.py")


class Launcher(Protocol):
    """Starts ``command`` (``[python, "-m", module, *args]``) with its output in ``output``
    (its standard error too, unless ``errors`` names a file of its own)."""

    def __call__(
        self,
        command: Sequence[str],
        output: Path,
        env: Mapping[str, str],
        cwd: Path,
        errors: Path | None = None,
    ) -> ChildProcess: ...


def fork_supported() -> bool:
    """Fork is there and safe for this kind of process: Linux (macOS' system libraries are
    not fork-safe once loaded; Windows has no fork)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def fresh(
    command: Sequence[str],
    output: Path,
    env: Mapping[str, str],
    cwd: Path,
    errors: Path | None = None,
) -> ChildProcess:
    """A fresh interpreter per child."""
    return start_child(command, output, env=env, cwd=cwd, errors=errors)


@contextlib.contextmanager
def launcher(
    project_dir: Path, env: Mapping[str, str], suites: Sequence[str], *, preload: bool
) -> Iterator[Launcher]:
    """The preloaded interpreter's launcher for the block, or :func:`fresh` when preloading is
    not asked for, not supported, or its interpreter does not come up (logged)."""
    if not (preload and fork_supported()):
        yield fresh
        return
    folder = Path(tempfile.mkdtemp(prefix="mmconform-preload-"))
    try:
        try:
            server = _PreloadServer(folder, project_dir, env, suites)
        except ChildServerError as exc:
            _log.warning("every child starts fresh: %s", exc)
            yield fresh
            return
        try:
            yield server.start
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _PreloadServer:
    def __init__(
        self, folder: Path, project_dir: Path, env: Mapping[str, str], suites: Sequence[str]
    ) -> None:
        self.path = folder / "preload.sock"
        self.log = folder / "preload.log"
        command = [sys.executable, str(_SERVER), str(self.path), *suites]
        self.process = start_child(command, self.log, env=env, cwd=project_dir)
        deadline = time.monotonic() + _READY_TIMEOUT
        while not self.path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                stop_process(self.process)
                said = self.log.read_text(encoding="utf-8", errors="replace").strip()
                raise ChildServerError(
                    "the preloaded interpreter did not come up"
                    f" (exit {self.process.returncode}): {said[-600:] or '(no output)'}"
                )
            time.sleep(0.02)

    def start(
        self,
        command: Sequence[str],
        output: Path,
        env: Mapping[str, str],
        cwd: Path,
        errors: Path | None = None,
    ) -> ChildProcess:
        if len(command) < 3 or command[1] != "-m":
            raise ValueError(f"only `python -m module ...` commands are forked: {command!r}")
        request = {
            "module": command[2],
            "args": list(command[3:]),
            "cwd": str(cwd),
            "env": dict(env),
            "output": str(output),
            "errors": str(errors) if errors else None,
        }
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(str(self.path))
            conn.sendall(json.dumps(request).encode("utf-8") + b"\n")
            return _Forked(list(command), conn)
        except OSError as exc:
            conn.close()
            raise ChildServerError(f"the preloaded interpreter refused a child: {exc}") from exc

    def stop(self) -> None:
        stop_process(self.process)


class _Forked:
    """A fork of the preloaded interpreter, seen through its connection: it says its pid first
    and its exit status last; a connection closed without a status is a child killed by a
    signal."""

    def __init__(self, command: list[str], conn: socket.socket) -> None:
        self.args = command
        self._conn = conn
        self._buffer = b""
        self._returncode: int | None = None
        self.pid = 0
        while self.pid == 0 and self._returncode is None:
            self._read(timeout=_READY_TIMEOUT)
        if self._returncode is not None and self.pid == 0:
            raise ChildServerError("the preloaded interpreter closed the child's connection")

    @property
    def returncode(self) -> int | None:
        return self._returncode

    def _read(self, timeout: float | None) -> None:
        ready, _, _ = select.select([self._conn], [], [], timeout)
        if not ready:
            return
        try:
            chunk = self._conn.recv(4096)
        except OSError:
            chunk = b""
        if not chunk:
            self._conn.close()
            if self._returncode is None:
                self._returncode = -signal.SIGKILL
            return
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            word, _, value = line.decode("ascii", "replace").partition(" ")
            if word == "pid":
                self.pid = int(value)
            elif word == "exit":
                self._returncode = int(value)

    def poll(self) -> int | None:
        if self._returncode is None:
            self._read(timeout=0)
        return self._returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
            self._read(timeout=left)
        return self._returncode

    def _signal(self, number: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
