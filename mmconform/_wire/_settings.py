"""Reading one setting of a Mattermost config document by its path, written as the settings are
named everywhere (``ServiceSettings.EnableDeveloper``) or as a tuple of keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SECRETS_MASKED_WHEN_SET", "setting_patch", "setting_value"]

#: Secret settings a server masks when they hold a value and shows empty when they do not.
SECRETS_MASKED_WHEN_SET: tuple[tuple[str, ...], ...] = (
    ("EmailSettings", "SMTPPassword"),
    ("LdapSettings", "BindPassword"),
    ("FileSettings", "AmazonS3SecretAccessKey"),
    ("GitLabSettings", "Secret"),
    ("GoogleSettings", "Secret"),
    ("Office365Settings", "Secret"),
    ("OpenIdSettings", "Secret"),
    ("MessageExportSettings", "GlobalRelaySettings", "SMTPPassword"),
)


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


def setting_patch(path: Sequence[str], value: Any) -> dict[str, Any]:
    """A config patch that names one setting: ``("A", "B")``, 1 -> ``{"A": {"B": 1}}``."""
    if not path:
        raise ValueError("a setting's path has at least one key")
    node: Any = value
    for key in reversed(path):
        node = {key: node}
    return dict(node)
