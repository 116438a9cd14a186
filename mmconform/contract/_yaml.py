"""Small helpers for reading the spec files: YAML, versions, status keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mmconform._version import Version
from mmconform.contract._vocabulary import ContractError

__all__ = ["load_yaml", "parse_version", "status_key"]


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc]
    """YAML's safe loader, refusing a key given twice in one mapping: YAML would keep the last
    one silently, and the spec would lose what the first one said."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key == "<<":
                continue
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice",
                    key_node.start_mark,
                )
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(f"{path}: cannot read: {exc}") from exc
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
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
