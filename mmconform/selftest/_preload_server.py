"""The preloaded interpreter the selftest forks its children from (run as a script, not
imported: see ``_preload``).

It imports only the standard library itself. Its warm-up is ``python -m pytest --collect-only``
of the suites, run in this process against the embedded stub, so pytest, its plugins (this
package, schemathesis, Hypothesis), the conftests and the suites' modules are imported the way
any run imports them, assertion rewriting included; the stub and the fault proxy are imported
after it. Nothing a run changes is kept: the warm-up only collects, and every child is a fork
of the state it leaves. Then it listens on a Unix socket. Each connection
carries one child's command (``-m module args...``), working directory, environment and output
file; the server forks, and the fork runs the module as ``python -m`` would, writes its own pid
back first and its exit status last, and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import runpy
import signal
import socket
import sys
import threading
import time
from typing import Any

#: a fresh ``python -m`` puts the working directory first on the path, not this file's folder
sys.path[0] = os.getcwd()


def _quietly_run_module(module: str, args: list[str]) -> None:
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        sys.argv = [module, *args]
        with contextlib.suppress(SystemExit):
            runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (null, *saved):
            os.close(fd)


def _warm_up(suites: list[str]) -> None:
    warm_up = ["-p", "no:cacheprovider", "--collect-only", "-q", "--mm-no-reports", *suites]
    _quietly_run_module("pytest", warm_up)
    for module in ("mmconform.stub", "mmconform.proxy", "uvicorn", "starlette.applications"):
        __import__(module)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _child(conn: socket.socket, request: dict[str, Any]) -> None:
    """Become the requested command; never returns."""
    code = 1
    try:
        for number in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        conn.sendall(f"pid {os.getpid()}\n".encode())
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        output = os.open(request["output"], flags, 0o600)
        errors = os.open(request["errors"], flags, 0o600) if request.get("errors") else output
        os.dup2(output, 1)
        os.dup2(errors, 2)
        for fd in {output, errors}:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        sys.argv = [request["module"], *request["args"]]
        try:
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(f"exit {code}\n".encode())
        os._exit(code & 0xFF)


def _serve(path: str, suites: list[str]) -> None:
    _warm_up(suites)
    if threading.active_count() > 1:
        names = ", ".join(t.name for t in threading.enumerate())
        sys.exit(f"threads still running after the warm-up ({names}): forking would be unsafe")
    # Children are waited for here, not left to the system: waiting adds their CPU time to
    # this process's, and so to the selftest's (what the benchmarks count).
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _listen(path)
    finally:
        deadline = time.monotonic() + 2.0
        while _reap() and time.monotonic() < deadline:
            time.sleep(0.02)


def _reap() -> bool:
    """Wait for every child that has exited; whether some are still running."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _listen(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".new")
    listener.listen(64)
    os.rename(path + ".new", path)  # the socket appears only once it accepts
    while True:
        conn, _ = listener.accept()
        with conn.makefile("rb") as lines:
            line = lines.readline()
        try:
            request = json.loads(line)
        except ValueError:
            conn.close()
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            _child(conn, request)
        conn.close()


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2:])
