"""The official TypeScript client in a Node.js process: its installation and the driver.

The client is pinned by ``node/package.json`` and ``node/package-lock.json`` and installed with
``npm ci`` into a cache folder outside the repository,
``$XDG_CACHE_HOME/mmconform/node-client-<lockfile hash>`` (``~/.cache`` without
``XDG_CACHE_HOME``), once per lockfile: a folder that is already complete is reused. Parallel
installs (pytest-xdist workers) wait for each other on a lock file.

``node/driver.js`` is started once and then answers one call per line; tokens reach it on its
standard input only. Whatever goes wrong before the first call (no Node.js, no npm, a failed
install, a driver that does not start) is a :class:`ClientUnavailable` with a reason that says
what to do, which the suite turns into a skip.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
PACKAGE_FILES = ("package.json", "package-lock.json")
DRIVER = NODE_DIR / "driver.js"
CLIENT_PACKAGE = "@mattermost/client"
#: Node.js releases with a global fetch, FormData and File.
MIN_NODE_MAJOR = 20
INSTALL_TIMEOUT = 300.0
_COMPLETE = ".mmconform-complete"


class ClientUnavailable(Exception):
    """The TypeScript client cannot be run here; the message says why and what to do."""


def pinned_version() -> str:
    """The version of ``@mattermost/client`` the lockfile pins."""
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    return str(lock["packages"][f"node_modules/{CLIENT_PACKAGE}"]["version"])


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmconform"


def install_dir(root: Path) -> Path:
    """Where this lockfile's installation lives (one folder per lockfile content)."""
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update((NODE_DIR / name).read_bytes())
    return root / f"node-client-{digest.hexdigest()[:16]}"


def find_node() -> tuple[str, str]:
    """Paths of ``node`` and ``npm``, or :class:`ClientUnavailable`."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        raise ClientUnavailable(
            f"{missing} not found on PATH: the TypeScript client tests need Node.js "
            f"{MIN_NODE_MAJOR}+ with npm (see the README, 'Client compatibility')"
        )
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClientUnavailable(f"`node --version` failed: {exc}") from None
    major = version.lstrip("v").split(".", 1)[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        raise ClientUnavailable(
            f"Node.js {version} is too old: the TypeScript client tests need Node.js "
            f"{MIN_NODE_MAJOR}+ (global fetch, FormData and File)"
        )
    return node, npm


def install_client(npm: str, root: Path | None = None) -> Path:
    """The ``node_modules`` folder holding the pinned client, installed if need be."""
    folder = install_dir(root or cache_root())
    if (folder / _COMPLETE).is_file():
        return folder / "node_modules"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClientUnavailable(f"cannot create the client cache {folder.parent}: {exc}") from None
    with _locked(folder.parent / f"{folder.name}.lock"):
        if not (folder / _COMPLETE).is_file():
            _npm_ci(npm, folder)
    return folder / "node_modules"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _npm_ci(npm: str, folder: Path) -> None:
    """``npm ci`` in a fresh sibling folder, moved into place only when it succeeded."""
    staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=folder.parent))
    try:
        for name in PACKAGE_FILES:
            shutil.copy2(NODE_DIR / name, staging / name)
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            result = subprocess.run(
                command,
                cwd=staging,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise ClientUnavailable(
                f"`npm ci` of {CLIENT_PACKAGE} {pinned_version()} took over "
                f"{INSTALL_TIMEOUT:.0f} s (is the npm registry reachable?)"
            ) from None
        except OSError as exc:
            raise ClientUnavailable(f"`npm ci` could not be started: {exc}") from None
        if result.returncode != 0:
            tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-4:])
            raise ClientUnavailable(
                f"`npm ci` of {CLIENT_PACKAGE} {pinned_version()} failed "
                f"(exit {result.returncode}): {tail}"
            )
        (staging / _COMPLETE).write_text(pinned_version() + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class NodeAnswer:
    """What one client call gave, as the driver reported it."""

    outcome: str  # "value", "client_error" or "exception"
    value: Any = None
    error: Mapping[str, Any] = field(default_factory=dict)
    http: Mapping[str, Any] | None = None

    def describe_http(self) -> str:
        if not self.http:
            return "no HTTP response"
        return f"HTTP {self.http.get('status')} ({self.http.get('content_type')})"


class NodeDriver:
    """One ``node driver.js`` process with one ``Client4`` per role."""

    def __init__(
        self,
        node: str,
        modules: Path,
        url: str,
        tokens: Mapping[str, str],
        *,
        timeout: float,
        env: Mapping[str, str] = os.environ,
    ) -> None:
        self.timeout = timeout
        child_env = {**env, "MMCONFORM_CLIENT_MODULES": str(modules)}
        try:
            self._process = subprocess.Popen(
                [node, str(DRIVER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=child_env,
            )
        except OSError as exc:
            raise ClientUnavailable(f"the Node.js driver did not start: {exc}") from None
        self._next_id = 0
        ready = self._exchange({"setup": {"url": url, "tokens": dict(tokens)}})
        if ready.get("outcome") != "ready":
            self.close()
            raise ClientUnavailable(f"the Node.js driver did not start: {ready}")

    def call(self, role: str, method: str, *args: Any) -> NodeAnswer:
        """``client[role].method(*args)``; arguments must be JSON (see :func:`file_arg`)."""
        self._next_id += 1
        reply = self._exchange(
            {"id": self._next_id, "role": role, "method": method, "args": list(args)}
        )
        return NodeAnswer(
            outcome=str(reply.get("outcome")),
            value=reply.get("value"),
            error=reply.get("error") or {},
            http=reply.get("http"),
        )

    def _exchange(self, message: Mapping[str, Any]) -> dict[str, Any]:
        process = self._process
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except OSError:
            raise RuntimeError(f"the Node.js driver has stopped: {self._stderr()}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise RuntimeError(f"the Node.js driver gave no answer in {self.timeout:.0f} s")
            readable, _, _ = select.select([process.stdout], [], [], left)
            if readable:
                break
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Node.js driver has stopped: {self._stderr()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _stderr(self) -> str:
        process = self._process
        if process.poll() is None or process.stderr is None:
            return "(still running)"
        return process.stderr.read()[-2000:] or f"exit {process.returncode}"

    def close(self) -> None:
        process = self._process
        if process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def file_arg(name: str, data: bytes, content_type: str = "") -> dict[str, Any]:
    """An argument the driver turns into a ``File`` (for ``uploadLicense``)."""
    encoded = base64.b64encode(data).decode("ascii")
    return {"$file": {"name": name, "type": content_type, "base64": encoded}}
