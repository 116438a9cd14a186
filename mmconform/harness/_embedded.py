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
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

from mmconform._wire import ChildServerError, child_server
from mmconform.harness._target import Target, resolve_target

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
    try:
        with child_server(command, target_file, log=folder / "stub.log"):
            yield target_file
    except ChildServerError as exc:
        raise EmbeddedStubError(str(exc)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
