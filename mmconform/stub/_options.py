"""StubOptions: everything that can be chosen when the stub is created."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mmconform._version import Version
from mmconform._wire import CellSpec
from mmconform.stub.faults import Fault
from mmconform.stub.variants import Variant

DEFAULT_SERVER_VERSION = "11.1.0"


@dataclass(frozen=True)
class StubOptions:
    """Options of one stub instance (all optional).

    server_version   the Mattermost version to imitate (version-dependent behaviour, X-Version-Id)
    faults           deliberate defects to switch on (see ``faults.Fault``)
    cell_faults      single cells of the permission matrix answered wrongly
                     (``mmconform._wire.CellSpec``: grant or deny one caller one operation)
    variants         correct but stricter-than-upstream behaviours (see ``variants.Variant``)
    tokens           fixed bearer tokens per role (random per start otherwise)
    built_in_users   start with one user per role (False: no user at all, like a fresh server,
                     whose first user created becomes its system admin)
    config_path      the config file (read at start if it exists, written on every save,
                     re-read by POST /config/reload); default a temporary file
    local_mode       serve the local-mode unix socket (start_stub only)
    local_socket     path of that socket (default: a fresh temporary directory)
    developer_mode   start with ServiceSettings.EnableDeveloper = true
    edition          "enterprise" (default) or "team" (Team Edition: no license manager)
    clock            a callable returning Unix seconds (tests pass a controllable one)
    config_overrides a partial Config applied over the defaults at start (not over a file)
    license_file     a license file installed at start (verified like an upload)
    log_level        stderr echo of the stub's own log lines (None: silent)
    host, port       TCP address for start_stub (port 0: a free port)
    """

    server_version: str = DEFAULT_SERVER_VERSION
    faults: frozenset[Fault] = frozenset()
    cell_faults: frozenset[CellSpec] = frozenset()
    variants: frozenset[Variant] = frozenset()
    tokens: Mapping[str, str] | None = None
    built_in_users: bool = True
    config_path: Path | None = None
    local_mode: bool = True
    local_socket: Path | None = None
    developer_mode: bool = False
    edition: Literal["enterprise", "team"] = "enterprise"
    clock: Callable[[], float] = time.time
    config_overrides: Mapping[str, Any] = field(default_factory=dict)
    license_file: Path | None = None
    log_level: str | None = None
    host: str = "127.0.0.1"
    port: int = 0

    def __post_init__(self) -> None:
        Version.parse(self.server_version)
        if self.edition not in ("enterprise", "team"):
            raise ValueError(f"edition must be 'enterprise' or 'team', not {self.edition!r}")
        object.__setattr__(self, "faults", frozenset(self.faults))
        object.__setattr__(self, "cell_faults", frozenset(self.cell_faults))
        object.__setattr__(self, "variants", frozenset(self.variants))

    @property
    def version(self) -> Version:
        return Version.parse(self.server_version)
