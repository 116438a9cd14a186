"""Leave the server as it was found: server-wide state read, compared and put back.

One :class:`ServerState` serves the three places that guard state: the session (a config
snapshot at the start, compared at the end, server busy cleared), the per-test guards of the
suites, and the fixtures ``config_guard`` and ``busy_guard``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from mmconform._wire import CONFIG_MASK

__all__ = ["GUARDED_STATES", "ServerState", "StateNotRestored", "config_differences"]

#: Global states (x-mm-global-state) that :meth:`ServerState.guard` knows how to put back.
GUARDED_STATES = frozenset({"config", "server_busy", "license"})


class StateNotRestored(AssertionError):
    """A guarded state could not be put back; the message says what still differs."""


@dataclass
class ServerState:
    """Reads and restores server-wide state through a client of a role that may do so
    (``system_admin``), and through the local-mode socket when the target gives one.

    Over HTTP a server masks its secrets, so a snapshot taken there cannot put back a secret a
    test overwrote. Newer servers show the config unmasked over the local socket: when they do,
    config snapshots are taken and put back there, secrets included.
    """

    client: httpx.Client
    local: httpx.Client | None = None
    #: a license the target accepts (the target file's license_file), to put back one a test
    #: removed
    license: bytes | None = None
    _config_client: httpx.Client | None = None

    # --- config -----------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """GET /config, unmasked where the local socket allows it, else as HTTP clients see it."""
        if self._config_client is None:
            self._config_client = self._choose_config_client()
        return _read_config(self._config_client)

    def _choose_config_client(self) -> httpx.Client:
        if self.local is not None:
            try:
                unmasked = CONFIG_MASK not in str(_read_config(self.local))
            except (httpx.HTTPError, ValueError):
                unmasked = False
            if unmasked:
                return self.local
        return self.client

    def put_config(self, snapshot: Mapping[str, Any]) -> None:
        """PUT a snapshot back (where it is masked, secrets keep their stored values, as on
        real servers)."""
        client = self._config_client or self.client
        client.put("/config", json=dict(snapshot)).raise_for_status()

    def restore_config(self, before: Mapping[str, Any]) -> None:
        """Put ``before`` back if the config differs from it now; raise
        :class:`StateNotRestored` when it still differs afterwards."""
        if not config_differences(before, self.config(), limit=1):
            return
        self.put_config(before)
        remaining = config_differences(before, self.config())
        if remaining:
            raise StateNotRestored("config could not be restored:\n  " + "\n  ".join(remaining))

    # --- server busy ------------------------------------------------------------------------

    def busy(self) -> bool | None:
        """Whether the server is busy (None when it would not say)."""
        response = self.client.get("/server_busy")
        if response.status_code != 200:
            return None
        body = response.json()
        return bool(body.get("busy")) if isinstance(body, dict) else None

    def clear_busy(self) -> None:
        """DELETE /server_busy; raise :class:`StateNotRestored` when it is refused."""
        status = self.client.delete("/server_busy").status_code
        if status != 200:
            raise StateNotRestored(f"DELETE /server_busy answered {status}")

    # --- license ----------------------------------------------------------------------------

    def licensed(self) -> bool | None:
        """Whether a license is installed (None when the server would not say)."""
        response = self.client.get("/license/client", params={"format": "old"})
        if response.status_code != 200:
            return None
        body = response.json()
        return isinstance(body, dict) and str(body.get("IsLicensed", "")).lower() == "true"

    def _restore_license(self, licensed_before: bool) -> None:
        now = self.licensed()
        if now == licensed_before or now is None:
            return
        if not licensed_before:
            self.client.delete("/license")
            return
        if self.license is None:
            warnings.warn(
                "the server's license was removed in this test and the target file names no "
                "license_file to put it back",
                stacklevel=4,
            )
            return
        files = {"license": ("mattermost.mattermost-license", self.license)}
        status = self.client.post("/license", files=files).status_code
        if status != 200:
            raise StateNotRestored(
                f"the removed license could not be put back: POST /license {status}"
            )

    # --- all of them ------------------------------------------------------------------------

    def changes_since(self, snapshot: Mapping[str, Any] | None) -> list[str]:
        """What a run left changed: the server still busy (cleared now), the config no longer
        the ``snapshot`` (None: not compared). Raises what the requests raise."""
        problems = []
        if self.busy():
            self.clear_busy()
            problems.append(
                "the server was still busy at session end (cleared now): a test did not clear it"
            )
        if snapshot is not None:
            diff = config_differences(snapshot, self.config())
            if diff:
                problems.append(
                    "the server's config differs from the snapshot taken at session start:\n"
                    + "\n".join(f"  {line}" for line in diff)
                )
        return problems

    @contextlib.contextmanager
    def guard(self, states: Collection[str]) -> Iterator[None]:
        """Around a block that may change ``states``: record what can be put back, and put it
        back afterwards, whatever happened in the block.

        ``config`` is restored to its snapshot; ``server_busy`` is cleared when the block left it
        set; a license the block installed on an unlicensed server is removed again, and one it
        removed is installed again from the target's license file (without one it cannot be put
        back, which is why license removal is a destructive operation). Other states are not
        guarded here.
        """
        wanted = GUARDED_STATES & set(states)
        before = self.config() if "config" in wanted else None
        licensed = self.licensed() if "license" in wanted else None
        try:
            yield
        finally:
            problems: list[str] = []
            if "server_busy" in wanted and self.busy() is not False:
                problems += _collect(self.clear_busy)
            if before is not None:
                problems += _collect(lambda: self.restore_config(before))
            if licensed is not None:
                problems += _collect(lambda: self._restore_license(licensed))
            if problems:
                raise StateNotRestored("; ".join(problems))


def _collect(action: Any) -> list[str]:
    """Run a restoring action; what it could not put back, as a problem to report."""
    try:
        action()
    except StateNotRestored as exc:
        return [str(exc)]
    return []


def config_differences(before: Any, after: Any, prefix: str = "", limit: int = 20) -> list[str]:
    """Dotted paths where two config documents differ (at most ``limit`` of them)."""
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                sub = f"{path}.{key}" if path else str(key)
                if key not in a:
                    out.append(f"{sub}: added {b[key]!r}")
                elif key not in b:
                    out.append(f"{sub}: removed (was {a[key]!r})")
                else:
                    walk(a[key], b[key], sub)
        elif a != b:
            out.append(f"{path or '<root>'}: {a!r} -> {b!r}")

    walk(before, after, prefix)
    return out[:limit]


def _read_config(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/config")
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"GET /config returned {type(data).__name__}, not an object")
    return data
