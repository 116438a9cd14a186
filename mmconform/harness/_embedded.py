"""The default target: the stub in a child process of its own.

A child process rather than a thread, so that the stub and the suite do not share one
interpreter lock: the stub answers on the machine's second core while the suite generates and
validates on the first. The child writes the target file once it is listening; the parent reads
it like any other target file, and stops the child (and removes its files) when the run ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

from mmconform.harness._target import Target, resolve_target

STARTUP_TIMEOUT = 30.0

__all__ = ["EmbeddedStubError", "embedded_stub", "embedded_target"]


class EmbeddedStubError(RuntimeError):
    """The stub process could not be started (the message carries what it printed)."""


@contextlib.contextmanager
def embedded_stub(server_version: str | None = None) -> Iterator[Path]:
    """Start ``python -m mmconform.stub`` on a free loopback port; yield its target file."""
    folder = Path(tempfile.mkdtemp(prefix="mmconform-embedded-"))
    target_file = folder / "target.toml"
    command = [
        sys.executable,
        "-m",
        "mmconform.stub",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--write-target",
        str(target_file),
        "--local-socket",
        str(folder / "mattermost_local.socket"),
        "--config-file",
        str(folder / "config.json"),
    ]
    if server_version:
        command += ["--server-version", server_version]
    errors = folder / "stderr.txt"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        _wait_for(target_file, process, errors)
        yield target_file
    finally:
        _stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(target_file: Path, process: subprocess.Popen[bytes], errors: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not target_file.exists():
        if process.poll() is not None:
            output = errors.read_text(encoding="utf-8", errors="replace").strip()
            raise EmbeddedStubError(f"exited with code {process.returncode}: {output[-2000:]}")
        if time.monotonic() > deadline:
            raise EmbeddedStubError(f"not ready after {STARTUP_TIMEOUT:.0f} s")
        time.sleep(0.02)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def embedded_target(server_version: str | None = None) -> Iterator[Target]:
    """The embedded stub, running, described as a target."""
    with embedded_stub(server_version) as target_file:
        target = resolve_target(target_file=target_file, target_url=None, environ={})
        assert target is not None
        yield dataclasses.replace(
            target,
            embedded=True,
            sources=MappingProxyType({"url": "embedded stub", "server_version": "embedded stub"}),
        )
