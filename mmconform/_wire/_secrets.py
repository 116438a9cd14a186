"""Credentials never reach output: tokens are held in a type that prints redacted, and every
text written for a person (failure messages, reports, captured output, a command's own lines)
passes one redactor."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mmconform._wire._words import CONFIG_MASK

__all__ = ["Secret", "redact"]

_BEARER = re.compile(r"(?i)(authorization:\s*)(bearer|token)\s+([^\s'\"]+)")
_AUTH_REPR = re.compile(r"(?i)(['\"]authorization['\"]\s*:\s*['\"])(bearer|token)\s+([^'\"]+)")
_COOKIE = re.compile(r"(?i)(MMAUTHTOKEN=)([^;\s'\"]+)")
_QUERY = re.compile(r"(?i)([?&]access_token=)([^&\s'\"]+)")
#: A secret-looking setting written as JSON or a Python repr: "SMTPPassword": "value".
_SECRET_SETTING = re.compile(
    r"""(?i)(["'][A-Za-z0-9]*(?:password|secret|salt|datasource|key|token)[A-Za-z0-9]*["']"""
    r"""\s*:\s*["'])([^"']+)(["'])"""
)
#: The same written as an assignment: SqlSettings.DataSource = 'value'.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?i)(\b[A-Za-z0-9.]*(?:password|secret|salt|datasource|key|token)[A-Za-z0-9]*"""
    r"""\s*=\s*["'])([^"']+)(["'])"""
)


class Secret:
    """A credential. It prints as ``<redacted:LABEL>`` (repr, str and f-strings alike); the
    value is only given out by :meth:`reveal`, where a request is built."""

    __slots__ = ("_label", "_value")

    def __init__(self, value: str, label: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"a {label} token must be a non-empty string")
        self._value = value
        self._label = label

    def reveal(self) -> str:
        return self._value

    @property
    def label(self) -> str:
        return self._label

    def __repr__(self) -> str:
        return f"<redacted:{self._label}>"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not pickled: it would carry its value in clear")


def redact(text: str, secrets: Mapping[str, Secret | str]) -> str:
    """Replace every known secret with ``<redacted:NAME>`` and any other credential with a
    marker.

    Known secrets are replaced wherever they appear (headers, cookies, query, bodies, reprs);
    any bearer token, MMAUTHTOKEN cookie or access_token query value left over is replaced too,
    and so is the value of any setting whose name says it is secret (a password, a key, a data
    source...), unless it is the server's own mask.
    """
    known = [
        (name, secret.reveal() if isinstance(secret, Secret) else secret)
        for name, secret in secrets.items()
    ]
    # Longest first, so that a secret that contains another is replaced whole.
    for name, value in sorted(known, key=lambda item: -len(item[1])):
        if value:
            text = text.replace(value, f"<redacted:{name}>")

    def keep_or_mask(match: re.Match[str]) -> str:
        if match.group(match.lastindex or 0).startswith("<redacted"):
            return match.group(0)
        groups = match.groups()
        prefix = "".join(groups[:-1]) if len(groups) > 2 else groups[0]
        separator = " " if len(groups) > 2 else ""
        return f"{prefix}{separator}<redacted>"

    def setting(match: re.Match[str]) -> str:
        value = match.group(2)
        if value == CONFIG_MASK or value.startswith("<redacted"):
            return match.group(0)
        return f"{match.group(1)}<redacted>{match.group(3)}"

    text = _BEARER.sub(keep_or_mask, text)
    text = _AUTH_REPR.sub(keep_or_mask, text)
    text = _COOKIE.sub(keep_or_mask, text)
    text = _QUERY.sub(keep_or_mask, text)
    text = _SECRET_SETTING.sub(setting, text)
    return _SECRET_ASSIGNMENT.sub(setting, text)
