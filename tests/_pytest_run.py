"""Run pytest in a child process, as a user would, untouched by this run's own settings.

Child runs of this checkout's suites are forks of one preloaded interpreter per test process
(the selftest's, ``mmconform.selftest._preload``): the same command line, environment and
working directory, without paying the imports and the suites' collection for each. A run
elsewhere (another project: its own rootdir and conftest) or with environment variables of its
own (which may act at import time, as disabling plugin autoload does) starts a fresh one.
"""

from __future__ import annotations

import atexit
import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mmconform._wire import stop_process
from mmconform.selftest import child_environment
from mmconform.selftest._preload import Launcher, fresh, launcher
from mmconform.stub import RunningStub

_ROOT = Path(__file__).resolve().parents[1]
_PRELOADED = contextlib.ExitStack()
_start: Launcher | None = None


def preloaded() -> Launcher:
    """This process's preloaded interpreter, started at the first child run that uses it and
    stopped when the process ends (each xdist worker has its own); fresh interpreters where
    forking is not supported (the launcher's own rule)."""
    global _start
    if _start is None:
        _start = _PRELOADED.enter_context(
            launcher(_ROOT, child_environment(), ("suites",), preload=True)
        )
        atexit.register(_PRELOADED.close)
    return _start


def run_pytest(
    cwd: Path,
    *args: str,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -p no:cacheprovider ARGS`` in ``cwd``.

    mmconform and pytest variables of the outer run (and CI, which changes the default
    Hypothesis profile) are not passed on, so the child sees only what ARGS and ``env`` say.
    A child run in this checkout that names no reports folder writes its reports to a
    temporary one: the checkout's ``reports/`` belongs to the person's own runs, and
    ``tests/conftest.py`` fails a session that changed it.
    """
    if Path(cwd).resolve() == _ROOT and not any(
        arg == "--no-reports" or arg.startswith("--reports-dir") for arg in args
    ):
        with tempfile.TemporaryDirectory(prefix="mmconform-child-reports-") as reports:
            return run_pytest(
                cwd,
                *args,
                f"--reports-dir={reports}",
                timeout=timeout,
                env=env,
            )
    child_env = child_environment()
    child_env.update(env or {})
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    forkable = Path(cwd).resolve() == _ROOT and not env
    start = preloaded() if forkable else fresh
    with tempfile.TemporaryDirectory(prefix="mmconform-child-") as folder:
        output, errors = Path(folder, "stdout"), Path(folder, "stderr")
        process = start(command, output, child_env, Path(cwd), errors=errors)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_process(process)
            raise
        return subprocess.CompletedProcess(
            command,
            returncode,
            output.read_text(encoding="utf-8", errors="replace"),
            errors.read_text(encoding="utf-8", errors="replace"),
        )


def run_suites_against_stub(
    stub: RunningStub,
    folder: Path,
    *selection: str,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The suites (narrowed by ``selection``) against a running stub, as a user would run them
    on a disposable target: its target file, destructive operations allowed, no reports, every
    outcome listed (``-rA``)."""
    target = folder / "target.toml"
    stub.write_target(target)
    return run_pytest(
        _ROOT,
        "-p",
        "no:randomly",
        "-rA",
        "--no-header",
        "--no-reports",
        "--allow-destructive",
        f"--target-file={target}",
        *selection,
        timeout=300,
        env=env,
    )
