"""The stub's live state: one lock, a controllable clock, users, config, license, busy, audits,
logs."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mmconform._wire import CellSpec
from mmconform.stub._auth import BuiltInUser, User, built_in_users
from mmconform.stub._build import BUILD_NUMBER
from mmconform.stub._clientconfig import build_client_config
from mmconform.stub._compat import Behaviour
from mmconform.stub._config import decode_partial, get_path
from mmconform.stub._config_store import ConfigStore
from mmconform.stub._directory import Directory
from mmconform.stub._errors import new_id
from mmconform.stub._license import License, verify_license
from mmconform.stub._logbuffer import LogBuffer
from mmconform.stub._options import StubOptions
from mmconform.stub.faults import Fault
from mmconform.stub.variants import Variant

DEFAULT_BUSY_SECONDS = 3600
MAX_BUSY_SECONDS = 86400


class FakeClock:
    """A clock the tests move by hand: ``clock()`` returns Unix seconds."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now


@dataclass(frozen=True)
class Audit:
    id: str
    create_at: int
    user_id: str
    action: str
    extra_info: str
    ip_address: str
    session_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "create_at": self.create_at,
            "user_id": self.user_id,
            "action": self.action,
            "extra_info": self.extra_info,
            "ip_address": self.ip_address,
            "session_id": self.session_id,
        }


class StubState:
    """Everything a running stub remembers.  All mutation goes through ``lock``."""

    def __init__(self, options: StubOptions) -> None:
        self.options = options
        self.lock = threading.RLock()
        self.clock: Callable[[], float] = options.clock
        self.behaviour = Behaviour(options.version)
        self.server_version = str(options.version)
        self.faults = options.faults
        # single permission-matrix cells answered wrongly; tests may replace the set
        self.cell_faults: frozenset[CellSpec] = options.cell_faults
        self.variants = options.variants
        # how often each variant refused input upstream would have accepted
        self.variant_refusals: Counter[Variant] = Counter()
        #: every account and credential (the built-in users and those created through the API)
        self.directory = Directory(self.now_ms)
        #: role -> the built-in user of that role (the target file's tokens)
        self.users: dict[str, BuiltInUser] = (
            built_in_users(options.tokens) if options.built_in_users else {}
        )
        self.directory.add_built_in(self.users.values())
        self.session_props: dict[str, dict[str, str]] = {u.id: {} for u in self.users.values()}
        self.upgrade_supported = True
        self.edition = options.edition
        initial = copy.deepcopy(dict(options.config_overrides))
        if options.developer_mode:
            initial.setdefault("ServiceSettings", {})["EnableDeveloper"] = True
        self.store = ConfigStore(options.config_path, decode_partial(initial))
        # the config as the server started with it (what a stale reload would bring back)
        self.startup_config: dict[str, Any] = copy.deepcopy(self.store.file_config)
        self.logs = LogBuffer(echo_level=options.log_level, clock=self.clock)
        self.audits: deque[Audit] = deque(maxlen=20000)
        self.busy_expires: float | None = None
        self.license: License | None = None
        self.prev_trial: License | None = None
        self.trial_allowed = True
        self.cws_available = True  # simulated CWS: renewal links are made up locally
        self.upgrade_started: float | None = None
        self.upgrade_error: str | None = None
        self.restarts = 0
        self.db_recycles = 0
        self.cache_invalidations = 0
        self.test_notifications = 0
        self.extra_users = 0  # simulated non-role users (counts, load metric)
        self.notice_views: dict[str, dict[str, tuple[int, int]]] = {}
        self.redirect_cache: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self.websocket_connections = 0
        self._client_cache: dict[tuple[int, bool, str | None], dict[str, str]] = {}
        self._config_cache: dict[tuple[Any, ...], bytes] = {}
        self._version_header: tuple[tuple[int, str | None], str] | None = None
        if options.license_file is not None:
            self.license = verify_license(options.license_file.read_bytes(), now_ms=self.now_ms())
        self.log("info", "Server is initializing...", version=self.server_version)

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- config -------------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """The effective config (file + env).  Do not mutate; use ``save_config``."""
        return self.store.effective

    def setting(self, *path: str) -> Any:
        return get_path(self.store.effective, path)

    def save_config(self, new: Mapping[str, Any], *, take: bool = False) -> None:
        """Save ``new``; ``take``: the caller hands ``new`` over (no copy is made)."""
        with self.lock:
            self.store.save(new, take=take)
            self._invalidate_caches()
        self.log("info", "Configuration saved", path=str(self.store.path))

    def reload_config(self) -> None:
        with self.lock:
            self.store.reload()
            self._invalidate_caches()
        self.log("info", "Configuration reloaded", path=str(self.store.path))

    def update_config(self, **sections: Mapping[str, Any]) -> None:
        """Test helper: apply partial sections, e.g. ``update_config(ServiceSettings={...})``."""
        with self.lock:
            new = copy.deepcopy(self.store.file_config)
            for section, values in sections.items():
                new.setdefault(section, {}).update(copy.deepcopy(dict(values)))
            self.store.save(new)
            self._invalidate_caches()

    def _invalidate_caches(self) -> None:
        self._client_cache.clear()
        self._config_cache.clear()

    def cached_config_body(self, key: tuple[Any, ...], build: Callable[[], bytes]) -> bytes:
        full_key = (self.store.generation, self.license is not None, *key)
        with self.lock:
            body = self._config_cache.get(full_key)
        if body is None:
            body = build()
            with self.lock:
                if len(self._config_cache) > 64:
                    self._config_cache.clear()
                self._config_cache[full_key] = body
        return body

    @property
    def developer(self) -> bool:
        return bool(self.setting("ServiceSettings", "EnableDeveloper"))

    @property
    def restrict_system_admin(self) -> bool:
        if Fault.RESTRICT_SYSTEM_ADMIN_IGNORED in self.faults:
            return False
        return bool(self.setting("ExperimentalSettings", "RestrictSystemAdmin"))

    # -- busy ---------------------------------------------------------------------------------
    def is_busy(self) -> bool:
        with self.lock:
            if self.busy_expires is None:
                return False
            if Fault.BUSY_NEVER_EXPIRES in self.faults or self.now() < self.busy_expires:
                return True
            self.busy_expires = None
            return False

    def set_busy(self, seconds: int) -> None:
        with self.lock:
            self.busy_expires = self.now() + seconds
        self.log("info", "Server busy state set", seconds=seconds)

    def clear_busy(self) -> None:
        with self.lock:
            self.busy_expires = None

    # -- counts ---------------------------------------------------------------------------------
    def user_count(self) -> int:
        return self.directory.active_count() + self.extra_users

    def active_users(self) -> int:
        return self.directory.active_count() + self.extra_users

    # -- license ------------------------------------------------------------------------------
    def set_license(self, license: License | None) -> None:
        with self.lock:
            self.license = license
            self._invalidate_caches()
        self.log("info", "License changed", licensed=license is not None)

    # -- audits and logs ----------------------------------------------------------------------
    def add_audit(
        self, user: User | BuiltInUser, action: str, ip: str, extra: str, session_id: str = ""
    ) -> None:
        """Record a request of ``user`` (in its session ``session_id``; a built-in user's own
        login session when none is named)."""
        if not session_id and isinstance(user, BuiltInUser):
            session_id = user.session_id
        audit = Audit(
            id=new_id(),
            create_at=self.now_ms(),
            user_id=user.id,
            action=action,
            extra_info=extra,
            ip_address=ip,
            session_id=session_id,
        )
        with self.lock:
            self.audits.append(audit)

    def audits_page(self, page: int, per_page: int) -> list[dict[str, Any]]:
        with self.lock:
            newest_first = list(reversed(self.audits))
        start = page * per_page
        return [a.to_json() for a in newest_first[start : start + per_page]]

    def log(self, level: str, msg: str, **fields: Any) -> None:
        file_level = str(self.setting("LogSettings", "FileLevel") or "INFO")
        self.logs.log(level, msg, min_level=file_level, **fields)

    # -- client config and version header -----------------------------------------------------
    def client_config(self, *, full: bool) -> dict[str, str]:
        key = (self.store.generation, full, self.license.id if self.license else None)
        with self.lock:
            cached = self._client_cache.get(key)
        if cached is None:
            cached = build_client_config(
                self.config,
                version=self.server_version,
                edition=self.edition,
                license=self.license,
                full=full,
            )
            with self.lock:
                self._client_cache[key] = cached
        return cached

    def version_header(self) -> str:
        key = (self.store.generation, self.license.id if self.license else None)
        cached = self._version_header
        if cached is not None and cached[0] == key:
            return cached[1]
        client = self.client_config(full=True)
        digest = hashlib.md5(json.dumps(client, sort_keys=True).encode(), usedforsecurity=False)
        licensed_now = self.license is not None
        if Fault.VERSION_ID_LICENSE_FLAG_WRONG in self.faults:
            licensed_now = not licensed_now
        licensed = "true" if licensed_now else "false"
        value = f"{self.server_version}.{BUILD_NUMBER}.{digest.hexdigest()}.{licensed}"
        self._version_header = (key, value)
        return value

    def close(self) -> None:
        self.store.close()
