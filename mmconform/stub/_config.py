"""The config as data: its shape, Go-style decoding, defaults, merging, pruning and validation.

The config is a nested ``dict`` shaped like the real ``model.Config`` JSON. The default config
(``_config_defaults``) is also the schema: a leaf's type is the type of its default value. Who may
read or write a setting lives in ``_config_access``; the file, the environment and reloading in
``_config_store``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mmconform._wire import setting_value
from mmconform.stub import _godecode as go
from mmconform.stub._config_defaults import (
    FAKE_SETTING,
    MAP_FIELDS,
    NON_POINTER_FIELDS,
    OBJECT_LIST_FIELDS,
    default_config,
)
from mmconform.stub._config_defaults import (
    clone as clone,
)
from mmconform.stub._errors import AppError

Path_ = tuple[str, ...]
_DEFAULTS = default_config()
_IMMUTABLE: frozenset[type] = frozenset({str, int, bool, float, type(None)})  # shared, not copied


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


def dict_at(cfg: dict[str, Any], path: Path_) -> dict[str, Any]:
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
    return setting_value(cfg, path, default=_ABSENT)


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
# --------------------------------------------------------------------------------------------
# Decoding: a body into model.Config, with Go's rules (_godecode)
# --------------------------------------------------------------------------------------------
_RAW_FIELDS = frozenset(path for path in MAP_FIELDS if path[-1] == "AdvancedLoggingJSON")
_PLUGIN_STATE = go.Struct("PluginState", {"Enable": go.BOOL})


def _go_type(path: Path_, default: Any) -> go.GoType:
    """The Go type the real server decodes the setting at ``path`` into."""
    if path in _RAW_FIELDS:
        return go.RAW  # json.RawMessage
    if path == ("PluginSettings", "PluginStates"):
        return go.MapOf(go.Pointer(_PLUGIN_STATE))
    if path in MAP_FIELDS:
        return go.MapOf(go.MapOf(go.RAW))
    if isinstance(default, bool):
        return go.BOOL
    if isinstance(default, int):
        return go.INT64
    if isinstance(default, str):
        return go.STRING
    if isinstance(default, list):
        element = OBJECT_LIST_FIELDS.get(path)
        if element is None:
            return go.SliceOf(go.STRING)
        fields = {name: _SCALAR_TYPES[kind] for name, kind in element.items()}
        return go.SliceOf(go.Struct(path[-1], fields, frozenset(fields)))
    return _struct_type(path, default)


_SCALAR_TYPES: dict[type, go.GoType] = {str: go.STRING, int: go.INT64, bool: go.BOOL}


def _struct_type(path: Path_, schema: Mapping[str, Any]) -> go.Struct:
    fields = {name: _go_type((*path, name), value) for name, value in schema.items()}
    # Settings are pointers (null or absent: unset), except the few plain Go values, slices,
    # maps and raw JSON; nested settings structs are pointers too.
    pointers = frozenset(
        name
        for name, value in schema.items()
        if (*path, name) not in NON_POINTER_FIELDS
        and (*path, name) not in MAP_FIELDS
        and not isinstance(value, list)
    )
    return go.Struct(path[-1] if path else "Config", fields, pointers)


#: model.Config as the real server decodes it (sections are plain structs, not pointers).
CONFIG_TYPE = go.Struct(
    "Config",
    {section: _struct_type((section,), fields) for section, fields in _DEFAULTS.items()},
)
#: ``var cfg *model.Config``: what the config handlers decode a body into.
CONFIG_POINTER = go.Pointer(CONFIG_TYPE)


def _normalise_plugin_states(cfg: dict[str, Any]) -> dict[str, Any]:
    states = get_path(cfg, ("PluginSettings", "PluginStates"))
    if isinstance(states, dict):
        for plugin_id, state in states.items():
            if isinstance(state, dict):
                states[plugin_id] = {"Enable": bool(state.get("Enable", False))}
    return cfg


def decode_config(value: Any, *, pointer: bool = False) -> go.Decoded:
    """A parsed body as the real server decodes it into a Config (``pointer``: into a
    ``*model.Config``, so ``null`` gives None). The value holds only the settings the body set;
    a type error is reported and decoding goes on, as in Go."""
    decoded = go.decode(value, CONFIG_POINTER if pointer else CONFIG_TYPE)
    if isinstance(decoded.value, dict):
        _normalise_plugin_states(decoded.value)
    return decoded


def decode_partial(obj: Any) -> dict[str, Any]:
    """A partial Config from trusted input (a config file, start-up overrides): the settings it
    sets, or ``ValueError`` when a value does not fit its setting."""
    decoded = decode_config(obj)
    if decoded.error is not None:
        raise ValueError(decoded.error)
    return decoded.value if isinstance(decoded.value, dict) else {}


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
                target = dict_at(cfg, parent)
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
                target = dict_at(out, parent)
            target[key] = value
    return out


# --------------------------------------------------------------------------------------------
# remove_masked / remove_defaults
# --------------------------------------------------------------------------------------------
def prune(cfg: Mapping[str, Any], *, remove_masked: bool, remove_defaults: bool) -> dict[str, Any]:
    """GET /config's ``remove_defaults`` and ``remove_masked`` filters.

    ``remove_defaults`` keeps only what differs from the default config, object by object: a
    setting equal to its default goes, and so does an object left with nothing that differs
    (sections included). A setting the caller may not read is null, which differs from its
    default, so it stays. ``remove_masked`` then drops every value that is the mask, leaving the
    objects around it in place.
    """
    out = clone(dict(cfg))
    if remove_defaults:
        out = _differences(out, _DEFAULTS)
    if remove_masked:
        _drop_masked(out)
    return out


def _differences(node: Mapping[str, Any], default: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key not in default:
            kept[key] = value
            continue
        base = default[key]
        if isinstance(value, dict) and isinstance(base, dict):
            inner = _differences(value, base)
            if inner:
                kept[key] = inner
        elif value != base or type(value) is not type(base):
            kept[key] = value
    return kept


def _drop_masked(node: dict[str, Any]) -> None:
    for key in list(node):
        value = node[key]
        if value == FAKE_SETTING:
            del node[key]
        elif isinstance(value, dict):
            _drop_masked(value)


# --------------------------------------------------------------------------------------------
# Validation: a subset of Config.IsValid, in the real server's order
# --------------------------------------------------------------------------------------------
_LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARN", "ERROR"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def parses_as_request_uri(text: str) -> bool:
    """Go's ``url.ParseRequestURI``: an absolute URI (a scheme) or an absolute path, with no
    spaces or control characters."""
    if not text or any(ch <= " " or ch == "\x7f" for ch in text):
        return False
    return bool(_SCHEME.match(text)) or text.startswith("/")


def validate(cfg: Mapping[str, Any]) -> AppError | None:
    """The first problem ``Config.IsValid`` reports for ``cfg`` (a complete config), or None.

    The checks run in the real server's order: team settings, files, email, password length,
    rate limits, then the service settings, logging and the image proxy.
    """

    def bad(error_id: str, **params: object) -> AppError:
        return AppError(400, error_id, params=params)

    def positive(*path: str) -> bool:
        value = get_path(cfg, path)
        return isinstance(value, int) and not isinstance(value, bool) and value > 0

    if not positive("TeamSettings", "MaxUsersPerTeam"):
        return bad("model.config.is_valid.max_users.app_error")
    if not positive("TeamSettings", "MaxChannelsPerTeam"):
        return bad("model.config.is_valid.max_channels.app_error")
    if len(get_path(cfg, ("TeamSettings", "SiteName")) or "") > 30:
        return bad("model.config.is_valid.sitename_length.app_error", MaxLength=30)
    if not positive("FileSettings", "MaxFileSize"):
        return bad("model.config.is_valid.max_file_size.app_error")
    if get_path(cfg, ("EmailSettings", "ConnectionSecurity")) not in (
        "",
        "TLS",
        "STARTTLS",
        "PLAIN",
    ):
        return bad("model.config.is_valid.email_security.app_error")
    min_len = get_path(cfg, ("PasswordSettings", "MinimumLength"))
    if not isinstance(min_len, int) or not 5 <= min_len <= 72:
        return bad("model.config.is_valid.password_length.app_error", MinLength=5, MaxLength=72)
    if not positive("RateLimitSettings", "MemoryStoreSize"):
        return bad("model.config.is_valid.rate_mem.app_error")
    if not positive("RateLimitSettings", "PerSec"):
        return bad("model.config.is_valid.rate_sec.app_error")
    service: list[tuple[str, str]] = [
        ("MaximumPayloadSizeBytes", "max_payload_size"),
        ("MaximumURLLength", "max_url_length"),
        ("ReadTimeout", "read_timeout"),
        ("WriteTimeout", "write_timeout"),
        ("MaximumLoginAttempts", "login_attempts"),
    ]
    for name, error in service:
        if not positive("ServiceSettings", name):
            return bad(f"model.config.is_valid.{error}.app_error")
    site_url = get_path(cfg, ("ServiceSettings", "SiteURL")) or ""
    if site_url and not parses_as_request_uri(site_url):
        return bad("model.config.is_valid.site_url.app_error")
    if str(get_path(cfg, ("LogSettings", "ConsoleLevel"))).upper() not in _LOG_LEVELS:
        return bad("model.config.is_valid.log.console_level.app_error")
    if str(get_path(cfg, ("LogSettings", "FileLevel"))).upper() not in _LOG_LEVELS:
        return bad("model.config.is_valid.log.file_level.app_error")
    advanced = get_path(cfg, ("LogSettings", "AdvancedLoggingJSON"))
    if advanced is not None and not isinstance(advanced, dict):
        return bad("model.config.is_valid.log.advanced_logging.json")
    if get_path(cfg, ("ImageProxySettings", "Enable")) and get_path(
        cfg, ("ImageProxySettings", "ImageProxyType")
    ) not in ("local", "atmos/camo"):
        return bad("model.config.is_valid.image_proxy_type.app_error")
    return None
