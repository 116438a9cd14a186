"""Small helpers for reading the spec files: YAML, versions, status keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mmconform._version import Version
from mmconform.contract._vocabulary import ContractError

__all__ = ["load_yaml", "parse_version", "status_key"]


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(f"{path}: cannot read: {exc}") from exc
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: invalid YAML: {exc}") from exc


def parse_version(value: Any, where: str) -> Version | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractError(
            f"{where}: expected a version string like '5.20.0' or null, got {value!r}"
        )
    try:
        return Version.parse(value)
    except ValueError as exc:
        raise ContractError(f"{where}: {exc}") from exc


def status_key(status: int | str) -> str:
    return str(status).upper()
