"""Run pytest in a child process, as a user would, untouched by this run's own settings."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mmconform.selftest import child_environment
from mmconform.stub import RunningStub

_ROOT = Path(__file__).resolve().parents[1]


def run_pytest(
    cwd: Path, *args: str, timeout: float = 120, env: Mapping[str, str] | None = None
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
            return run_pytest(cwd, *args, f"--reports-dir={reports}", timeout=timeout, env=env)
    child_env = child_environment()
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env,
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
