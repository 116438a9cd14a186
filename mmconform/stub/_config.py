"""Config semantics: decoding, defaults, merging, masking, filtering, validation, env, file.

The config is a nested ``dict`` shaped like the real ``model.Config`` JSON.  The default config
(``_config_defaults``) is also the schema: a leaf's type is the type of its default value.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mmconform.stub._config_defaults import (
    FAKE_SETTING,
    MAP_FIELDS,
    NON_POINTER_FIELDS,
    OBJECT_LIST_FIELDS,
    SECRET_LISTS,
    SECRETS_ALWAYS,
    SECRETS_NON_EMPTY,
    access_tags,
    default_config,
)
from mmconform.stub._config_defaults import (
    clone as clone,
)
from mmconform.stub._errors import AppError

Path_ = tuple[str, ...]
_DEFAULTS = default_config()
_INT64 = (-(2**63), 2**63 - 1)
_NON_PERMISSION_TAGS = frozenset({"write_restrictable", "cloud_restrictable"})
_IMMUTABLE: frozenset[type] = frozenset({str, int, bool, float, type(None)})  # shared, not copied


class ConfigDecodeError(ValueError):
    """The body is not a Config (what Go's json.Unmarshal would reject)."""


# --------------------------------------------------------------------------------------------
# Schema walking
# --------------------------------------------------------------------------------------------
def _is_struct(path: Path_, value: Any) -> bool:
    return isinstance(value, dict) and path not in MAP_FIELDS


def leaves(tree: Mapping[str, Any] = _DEFAULTS, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every leaf (path, default) of the schema, in document order."""
    for key, value in tree.items():
        path = (*prefix, key)
        if _is_struct(path, value):
            yield from leaves(value, path)
        else:
            yield path, value


LEAVES: tuple[tuple[Path_, Any], ...] = tuple(leaves())


def _leaf_runs() -> tuple[tuple[Path_, tuple[tuple[str, Path_, Any], ...]], ...]:
    """LEAVES cut into runs of consecutive leaves with the same parent: (parent, leaves).

    Walking the runs in order visits the leaves in document order, but resolves each parent
    object once per run instead of once per leaf.
    """
    runs: list[tuple[Path_, list[tuple[str, Path_, Any]]]] = []
    for path, default in LEAVES:
        parent = path[:-1]
        if not runs or runs[-1][0] != parent:
            runs.append((parent, []))
        runs[-1][1].append((path[-1], path, default))
    return tuple((parent, tuple(items)) for parent, items in runs)


LEAF_RUNS = _leaf_runs()


def _mapping_at(cfg: Any, path: Path_) -> Mapping[str, Any] | None:
    """The object at ``path`` if it is a Mapping (``has_path(cfg, (*path, key))`` is then
    ``key in`` it), else None."""
    node = cfg
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, Mapping) else None


def _dict_at(cfg: dict[str, Any], path: Path_) -> dict[str, Any]:
    """The dict at ``path``, created (over any non-dict) as ``set_path`` does."""
    node = cfg
    for key in path:
        nxt = node.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            node[key] = nxt
        node = nxt
    return node


_ABSENT = object()


def _lookup(cfg: Mapping[str, Any], path: Path_) -> Any:
    """The value at ``path``, or ``_ABSENT`` when a key on the way is missing."""
    node: Any = cfg
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _ABSENT
        node = node[key]
    return node


def get_path(cfg: Mapping[str, Any], path: Path_) -> Any:
    value = _lookup(cfg, path)
    return None if value is _ABSENT else value


def has_path(cfg: Mapping[str, Any], path: Path_) -> bool:
    return _lookup(cfg, path) is not _ABSENT


def set_path(cfg: dict[str, Any], path: Path_, value: Any) -> None:
    node = cfg
    for key in path[:-1]:
        nxt = node.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            node[key] = nxt
        node = nxt
    node[path[-1]] = value


def zero_of(default: Any) -> Any:
    if isinstance(default, bool):
        return False
    if isinstance(default, int):
        return 0
    if isinstance(default, str):
        return ""
    if isinstance(default, list):
        return []
    return {}


# --------------------------------------------------------------------------------------------
# Decoding (Go json.Unmarshal into model.Config, case-insensitive keys, unknown keys ignored)
# --------------------------------------------------------------------------------------------
def _check_leaf(path: Path_, default: Any, value: Any) -> Any:
    where = ".".join(path)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigDecodeError(f"{where}: expected a boolean")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigDecodeError(f"{where}: expected an integer")
        if not _INT64[0] <= value <= _INT64[1]:
            raise ConfigDecodeError(f"{where}: integer out of range")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigDecodeError(f"{where}: expected a string")
        return value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise ConfigDecodeError(f"{where}: expected an array")
        element_schema = OBJECT_LIST_FIELDS.get(path)
        if element_schema is None:
            out: list[Any] = []
            for item in value:
                if item is None:
                    out.append("")
                elif isinstance(item, str):
                    out.append(item)
                else:
                    raise ConfigDecodeError(f"{where}: expected strings")
            return out
        objects: list[Any] = []
        for item in value:
            if item is None:
                objects.append(None)
                continue
            if not isinstance(item, dict):
                raise ConfigDecodeError(f"{where}: expected objects")
            obj: dict[str, Any] = {}
            lower = {k.lower(): k for k in element_schema}
            for key, sub in item.items():
                name = key if key in element_schema else lower.get(key.lower())
                if name is None or sub is None:
                    continue
                if not isinstance(sub, element_schema[name]):
                    raise ConfigDecodeError(f"{where}.{name}: wrong type")
                obj[name] = sub
            objects.append(obj)
        return objects
    # map field
    if not isinstance(value, dict):
        raise ConfigDecodeError(f"{where}: expected an object")
    if path == ("PluginSettings", "PluginStates"):
        states: dict[str, Any] = {}
        for plugin_id, state in value.items():
            if state is None:
                states[plugin_id] = None
                continue
            if not isinstance(state, dict):
                raise ConfigDecodeError(f"{where}.{plugin_id}: expected an object")
            enable = next((v for k, v in state.items() if k.lower() == "enable"), False)
            if enable is None:
                enable = False
            if not isinstance(enable, bool):
                raise ConfigDecodeError(f"{where}.{plugin_id}.Enable: expected a boolean")
            states[plugin_id] = {"Enable": enable}
        return states
    if path == ("PluginSettings", "Plugins"):
        for plugin_id, settings in value.items():
            if settings is not None and not isinstance(settings, dict):
                raise ConfigDecodeError(f"{where}.{plugin_id}: expected an object")
    return clone(value)


def _decode_struct(obj: Any, schema: Mapping[str, Any], prefix: Path_) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ConfigDecodeError(f"{'.'.join(prefix) or 'config'}: expected an object")
    lower: dict[str, str] | None = None
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in schema:
            name: str | None = key
        else:
            if lower is None:
                lower = {k.lower(): k for k in schema}
            name = lower.get(key.lower())
        if name is None:
            continue  # unknown fields are ignored, as Go does
        path = (*prefix, name)
        default = schema[name]
        if value is None:
            out.pop(name, None)
            continue
        if _is_struct(path, default):
            out[name] = _decode_struct(value, default, path)
        else:
            out[name] = _check_leaf(path, default, value)
    return out


def decode_partial(obj: Any) -> dict[str, Any]:
    """Validate a decoded JSON body as a (partial) Config; absent/null fields are left out."""
    return _decode_struct(obj, _DEFAULTS, ())


def parse_json_body(raw: bytes) -> Any:
    """Decode the first JSON value of ``raw`` (trailing data is ignored, as Go's Decoder does)."""
    text = raw.decode("utf-8", errors="replace").lstrip(" \t\r\n")
    if not text:
        raise ValueError("empty body")
    value, _ = json.JSONDecoder().raw_decode(text)
    return value


# --------------------------------------------------------------------------------------------
# Defaults, merging
# --------------------------------------------------------------------------------------------
def with_defaults(partial: Mapping[str, Any]) -> dict[str, Any]:
    """PUT semantics: every field missing from ``partial`` takes its default (zero if plain)."""
    cfg = default_config()
    for parent, items in LEAF_RUNS:
        given = _mapping_at(partial, parent)
        target: dict[str, Any] | None = None
        for key, path, default in items:
            if given is not None and key in given:
                value = given[key]
                if type(value) not in _IMMUTABLE:
                    value = clone(value)
            elif path in NON_POINTER_FIELDS:
                value = zero_of(default)
            else:
                continue
            if target is None:
                target = _dict_at(cfg, parent)
            target[key] = value
    return cfg


def merge(
    current: Mapping[str, Any],
    incoming: Mapping[str, Any],
    writable: Callable[[Path_], bool],
    *,
    patch: bool,
) -> dict[str, Any]:
    """Merge ``incoming`` over ``current``; leaves the caller may not write keep their value.

    PUT (``patch=False``): ``incoming`` is a complete config, every writable leaf is replaced.
    PATCH: a present leaf replaces, an absent pointer leaf keeps the current value, an absent
    plain (non-pointer) leaf becomes its zero value (utils.Merge's quirk).
    """
    out = clone(dict(current))
    for parent, items in LEAF_RUNS:
        if parent[0] == "FeatureFlags":
            continue
        given = _mapping_at(incoming, parent)
        target: dict[str, Any] | None = None
        for key, path, default in items:
            if not writable(path):
                continue
            if given is not None and key in given:
                value = given[key]
                if type(value) not in _IMMUTABLE:
                    value = clone(value)
            elif patch and path in NON_POINTER_FIELDS:
                value = zero_of(default)
            elif not patch:
                value = default if type(default) in _IMMUTABLE else clone(default)
            else:
                continue
            if target is None:
                target = _dict_at(out, parent)
            target[key] = value
    return out


# --------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------
def sanitize(cfg: Mapping[str, Any]) -> dict[str, Any]:
    out = clone(dict(cfg))
    for path in SECRETS_ALWAYS:
        if get_path(out, path) is not None:
            set_path(out, path, FAKE_SETTING)
    for path in SECRETS_NON_EMPTY:
        if get_path(out, path):
            set_path(out, path, FAKE_SETTING)
    for path in SECRET_LISTS:
        value = get_path(out, path)
        if isinstance(value, list):
            set_path(out, path, [FAKE_SETTING for _ in value])
    lag = get_path(out, ("SqlSettings", "ReplicaLagSettings"))
    if isinstance(lag, list):
        for item in lag:
            if isinstance(item, dict) and item.get("DataSource") is not None:
                item["DataSource"] = FAKE_SETTING
    return out


def desanitize(new: dict[str, Any], stored: Mapping[str, Any]) -> None:
    """Replace masked values in ``new`` with the stored secrets (in place)."""
    for path in (*SECRETS_ALWAYS, *SECRETS_NON_EMPTY):
        if get_path(new, path) == FAKE_SETTING:
            set_path(new, path, get_path(stored, path))
    for path in SECRET_LISTS:
        value = get_path(new, path)
        if isinstance(value, list) and FAKE_SETTING in value:
            set_path(new, path, clone(get_path(stored, path)))
    lag = get_path(new, ("SqlSettings", "ReplicaLagSettings"))
    old_lag = get_path(stored, ("SqlSettings", "ReplicaLagSettings")) or []
    if isinstance(lag, list):
        for i, item in enumerate(lag):
            if isinstance(item, dict) and item.get("DataSource") == FAKE_SETTING:
                old = old_lag[i] if i < len(old_lag) and isinstance(old_lag[i], dict) else {}
                item["DataSource"] = old.get("DataSource")


# --------------------------------------------------------------------------------------------
# Field-level access
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)  # interned below: identity is equality, and hashes fast
class _Access:
    """What reading / writing one leaf takes, derived once from its access tags."""

    any_reader: bool  # "*_read": any sysconsole reader may read it
    read_permissions: tuple[str, ...]  # sysconsole_read_<tag>, one suffices
    write_permissions: tuple[str, ...]  # sysconsole_write_<tag>, one suffices
    restrictable: bool  # write_restrictable / cloud_restrictable


_ACCESS_BY_TAGS: dict[tuple[str, ...], _Access] = {}
_ACCESS_BY_PATH: dict[Path_, _Access] = {}


def _access(path: Path_) -> _Access:
    found = _ACCESS_BY_PATH.get(path)
    return found if found is not None else _access_for_tags(access_tags(path))


def _access_for_tags(tags: tuple[str, ...]) -> _Access:
    found = _ACCESS_BY_TAGS.get(tags)
    if found is None:
        permission_tags = [t for t in tags if t not in _NON_PERMISSION_TAGS]
        found = _ACCESS_BY_TAGS[tags] = _Access(
            any_reader="*_read" in permission_tags,
            read_permissions=tuple(
                f"sysconsole_read_{t}" for t in permission_tags if t != "*_read"
            ),
            write_permissions=tuple(
                f"sysconsole_write_{t}" for t in permission_tags if t != "*_read"
            ),
            restrictable="write_restrictable" in tags or "cloud_restrictable" in tags,
        )
    return found


# Every leaf's access, computed at import (the few distinct values are shared).
for _path, _ in LEAVES:
    _ACCESS_BY_PATH[_path] = _access_for_tags(access_tags(_path))


def _read_allowed(access: _Access, has_permission: Callable[[str], bool], any_read: bool) -> bool:
    if access.any_reader and any_read:
        return True
    if any(has_permission(p) for p in access.read_permissions):
        return True
    return has_permission("manage_system")


def _write_allowed(
    access: _Access, has_permission: Callable[[str], bool], restricted: bool
) -> bool:
    if restricted and access.restrictable:
        return False
    if any(has_permission(p) for p in access.write_permissions):
        return True
    return has_permission("manage_system")


def can_read(path: Path_, has_permission: Callable[[str], bool], any_read: bool) -> bool:
    return _read_allowed(_access(path), has_permission, any_read)


def can_write(path: Path_, has_permission: Callable[[str], bool], restricted: bool) -> bool:
    return _write_allowed(_access(path), has_permission, restricted)


def read_checker(has_permission: Callable[[str], bool], any_read: bool) -> Callable[[Path_], bool]:
    """``can_read`` bound to one caller, each distinct access rule evaluated once.

    ``has_permission`` must not change while the checker is in use (one request).
    """
    memo: dict[_Access, bool] = {}

    def readable(path: Path_) -> bool:
        access = _access(path)
        allowed = memo.get(access)
        if allowed is None:
            allowed = memo[access] = _read_allowed(access, has_permission, any_read)
        return allowed

    return readable


def write_checker(
    has_permission: Callable[[str], bool], restricted: bool
) -> Callable[[Path_], bool]:
    """``can_write`` bound to one caller, each distinct access rule evaluated once."""
    memo: dict[_Access, bool] = {}

    def writable(path: Path_) -> bool:
        access = _access(path)
        allowed = memo.get(access)
        if allowed is None:
            allowed = memo[access] = _write_allowed(access, has_permission, restricted)
        return allowed

    return writable


def filter_read(cfg: Mapping[str, Any], readable: Callable[[Path_], bool]) -> dict[str, Any]:
    """Unreadable leaves become null; sections stay present."""
    return filter_read_in_place(clone(dict(cfg)), readable)


def filter_read_in_place(out: dict[str, Any], readable: Callable[[Path_], bool]) -> dict[str, Any]:
    """``filter_read`` on a tree the caller owns (no copy); returns ``out``."""
    for parent, items in LEAF_RUNS:
        target: dict[str, Any] | None = None
        for key, path, _ in items:
            if not readable(path):
                if target is None:
                    target = _dict_at(out, parent)
                target[key] = None
    return out


def prune(cfg: Mapping[str, Any], *, remove_masked: bool, remove_defaults: bool) -> dict[str, Any]:
    """The ``remove_masked`` / ``remove_defaults`` filter (the stub's documented rule).

    A leaf is removed when it is masked (value FakeSetting) and remove_masked is set, or when it
    equals its default and remove_defaults is set.  Null leaves are removed by either flag.
    Objects left empty by the removal are removed in turn (top-level sections included).
    """
    out = clone(dict(cfg))
    if not (remove_masked or remove_defaults):
        return out
    for path, default in LEAVES:
        if not has_path(out, path):
            continue
        value = get_path(out, path)
        drop = value is None
        if remove_masked and value == FAKE_SETTING:
            drop = True
        if remove_defaults and value == default:
            drop = True
        if drop:
            parent = get_path(out, path[:-1])
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
    return _drop_empty(out)


def _drop_empty(node: dict[str, Any], prefix: Path_ = ()) -> dict[str, Any]:
    for key in list(node):
        value = node[key]
        path = (*prefix, key)
        if isinstance(value, dict) and path not in MAP_FIELDS:
            _drop_empty(value, path)
            if not value:
                del node[key]
    return node


# --------------------------------------------------------------------------------------------
# Validation (a subset of Config.IsValid)
# --------------------------------------------------------------------------------------------
_LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARN", "ERROR"})


def validate(cfg: Mapping[str, Any]) -> AppError | None:
    def bad(error_id: str, **params: object) -> AppError:
        return AppError(400, error_id, params=params)

    min_len = get_path(cfg, ("PasswordSettings", "MinimumLength"))
    if not isinstance(min_len, int) or not 5 <= min_len <= 72:
        return bad("model.config.is_valid.password_length.app_error", MinLength=5, MaxLength=72)
    site_url = get_path(cfg, ("ServiceSettings", "SiteURL")) or ""
    if site_url:
        parts = urlsplit(site_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return bad("model.config.is_valid.site_url.app_error")
    checks: list[tuple[Path_, str]] = [
        (("ServiceSettings", "MaximumLoginAttempts"), "login_attempts"),
        (("ServiceSettings", "ReadTimeout"), "read_timeout"),
        (("ServiceSettings", "WriteTimeout"), "write_timeout"),
        (("ServiceSettings", "MaximumPayloadSizeBytes"), "max_payload_size"),
        (("ServiceSettings", "MaximumURLLength"), "max_url_length"),
        (("FileSettings", "MaxFileSize"), "max_file_size"),
        (("TeamSettings", "MaxUsersPerTeam"), "max_users"),
        (("TeamSettings", "MaxChannelsPerTeam"), "max_channels"),
        (("RateLimitSettings", "MemoryStoreSize"), "rate_mem"),
        (("RateLimitSettings", "PerSec"), "rate_sec"),
    ]
    for path, name in checks:
        value = get_path(cfg, path)
        if not isinstance(value, int) or value <= 0:
            return bad(f"model.config.is_valid.{name}.app_error")
    if len(get_path(cfg, ("TeamSettings", "SiteName")) or "") > 30:
        return bad("model.config.is_valid.sitename_length.app_error", MaxLength=30)
    if get_path(cfg, ("EmailSettings", "ConnectionSecurity")) not in ("", "TLS", "STARTTLS"):
        return bad("model.config.is_valid.email_security.app_error")
    if str(get_path(cfg, ("LogSettings", "ConsoleLevel"))).upper() not in _LOG_LEVELS:
        return bad("model.config.is_valid.log.console_level.app_error")
    if str(get_path(cfg, ("LogSettings", "FileLevel"))).upper() not in _LOG_LEVELS:
        return bad("model.config.is_valid.log.file_level.app_error")
    if get_path(cfg, ("ImageProxySettings", "Enable")) and get_path(
        cfg, ("ImageProxySettings", "ImageProxyType")
    ) not in ("local", "atmos/camo"):
        return bad("model.config.is_valid.image_proxy_type.app_error")
    return None


# --------------------------------------------------------------------------------------------
# Environment overrides (MM_<SECTION>_<FIELD>)
# --------------------------------------------------------------------------------------------
_ENV_NAMES: dict[str, tuple[Path_, Any]] = {
    "MM_" + "_".join(p.upper() for p in path): (path, default) for path, default in LEAVES
}


def _parse_env(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in ("1", "t", "true"):
            return True
        if lowered in ("0", "f", "false"):
            return False
        raise ValueError(raw)
    if isinstance(default, int):
        return int(raw.strip(), 10)
    if isinstance(default, str):
        return raw
    if isinstance(default, list):
        return raw.split()
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(raw)
    return value


def env_overrides(environ: Mapping[str, str]) -> dict[Path_, Any]:
    """The config overrides given by ``MM_*`` variables (unparsable values are ignored)."""
    out: dict[Path_, Any] = {}
    for name, raw in environ.items():
        entry = _ENV_NAMES.get(name.upper())
        if entry is None:
            continue
        path, default = entry
        with contextlib.suppress(ValueError):
            out[path] = _parse_env(default, raw)
    return out


def environment_tree(paths: list[Path_]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        set_path(tree, path, True)
    return tree


# --------------------------------------------------------------------------------------------
# The store: file-backed config + environment overrides
# --------------------------------------------------------------------------------------------
def _remove_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".tmp")):
        with contextlib.suppress(OSError):
            candidate.unlink()


class ConfigStore:
    """The persisted config file and the effective (file + environment) config.

    Not thread-safe by itself: the state object serialises access with its lock.
    """

    def __init__(self, path: Path | None, initial: Mapping[str, Any] | None = None) -> None:
        if path is None:
            handle, name = tempfile.mkstemp(prefix="mmconform-stub-", suffix=".json")
            os.close(handle)
            path = Path(name)
            self.owns_file = True
            Path(name).unlink()
            # a temporary file goes away with the store (or at exit) even without close()
            weakref.finalize(self, _remove_files, path)
        else:
            self.owns_file = False
        self.path = path
        self.generation = 0
        self._section_texts: dict[str, tuple[str, str]] = {}  # section -> (compact, indented)
        self.file_config: dict[str, Any] = with_defaults(initial or {})
        self.env: dict[Path_, Any] = {}
        self.effective: dict[str, Any] = {}
        if self.path.exists():
            self._read_file()
        else:
            self._write_file()
        self._apply_env()

    def _read_file(self) -> None:
        raw = self.path.read_bytes()
        partial = decode_partial(parse_json_body(raw)) if raw.strip() else {}
        self.file_config = with_defaults(partial)

    def _write_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(self._file_text() + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def _file_text(self) -> str:
        """``json.dumps(self.file_config, indent=2)``, re-encoding only the changed sections.

        Indented output goes through json's pure-Python encoder (slow); the C encoder's compact
        text of a section identifies its indented text exactly, so unchanged sections reuse it.
        """
        cfg = self.file_config
        if type(cfg) is not dict or not cfg or any(type(key) is not str for key in cfg):
            return json.dumps(cfg, indent=2)
        previous = self._section_texts
        texts: dict[str, tuple[str, str]] = {}
        parts: list[str] = []
        for key, section in cfg.items():
            compact = json.dumps(section)
            known = previous.get(key)
            if known is not None and known[0] == compact:
                text = known[1]
            else:
                # strings are escaped, so every newline is indentation: shift one level
                text = json.dumps(section, indent=2).replace("\n", "\n  ")
            texts[key] = (compact, text)
            parts.append(f"  {json.dumps(key)}: {text}")
        self._section_texts = texts
        return "{\n" + ",\n".join(parts) + "\n}"

    def _apply_env(self) -> None:
        self.env = env_overrides(os.environ)
        effective = clone(self.file_config)
        for path, value in self.env.items():
            set_path(effective, path, clone(value))
        self.effective = effective
        self.generation += 1

    def save(self, new: Mapping[str, Any], *, take: bool = False) -> None:
        """Persist ``new`` (env-overridden fields keep their file values) and re-apply env.

        ``take``: ``new`` is a fresh dict the caller hands over and never touches again, so it
        becomes the file config as it is instead of a copy.
        """
        to_file = new if take and type(new) is dict else clone(dict(new))
        for path in self.env:
            set_path(to_file, path, clone(get_path(self.file_config, path)))
        self.file_config = to_file
        self._write_file()
        self._apply_env()

    def reload(self) -> None:
        """Re-read the file on disk (a missing file is written from memory) and env vars."""
        if self.path.exists():
            self._read_file()
        else:
            self._write_file()
        self._apply_env()

    def close(self) -> None:
        if self.owns_file:
            with contextlib.suppress(OSError):
                self.path.unlink()
