"""Where the config lives: the config file, ``MM_<SECTION>_<FIELD>`` environment overrides and
reloading, as the real server's file-backed config store does it."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmconform.stub._config import LEAVES, Path_, decode_partial, get_path, set_path, with_defaults
from mmconform.stub._config_defaults import clone
from mmconform.stub._godecode import parse

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
        partial = decode_partial(parse(raw)) if raw.strip() else {}
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
