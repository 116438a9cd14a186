"""Reading one setting of a Mattermost config document by its path, written as the settings are
named everywhere (``ServiceSettings.EnableDeveloper``) or as a tuple of keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["setting_value"]


def setting_value(document: Any, path: str | Sequence[str], default: Any = None) -> Any:
    """The value at ``path`` in ``document``, or ``default`` where the path does not lead
    anywhere (a setting present and null is None either way)."""
    keys = path.split(".") if isinstance(path, str) else path
    node: Any = document
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node
