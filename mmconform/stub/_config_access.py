"""Who may read and write each config setting, and which settings are secrets.

Every leaf's access rule is derived once, at import, from its access tags
(``_config_defaults.access_tags``): a tag ``X`` needs ``sysconsole_read_X`` to read and
``sysconsole_write_X`` to write, ``*_read`` lets any sysconsole reader read, no tag means
``manage_system``; ``write_restrictable`` / ``cloud_restrictable`` settings cannot be written by
a restricted admin. Secrets are replaced by the mask on the way out and restored from the stored
config when a client sends the mask back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mmconform.stub._config import LEAF_RUNS, LEAVES, Path_, dict_at, get_path, set_path
from mmconform.stub._config_defaults import (
    FAKE_SETTING,
    SECRET_LISTS,
    SECRETS_ALWAYS,
    SECRETS_NON_EMPTY,
    access_tags,
    clone,
)

_NON_PERMISSION_TAGS = frozenset({"write_restrictable", "cloud_restrictable"})


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


def mask_empty_secrets(out: dict[str, Any]) -> None:
    """Show empty secrets masked too, as if each held one (in place; a deliberate defect)."""
    for path in SECRETS_NON_EMPTY:
        if get_path(out, path) == "":
            set_path(out, path, FAKE_SETTING)


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
                    target = dict_at(out, parent)
                target[key] = None
    return out
