"""Mattermost server versions: parsing and ordering.

Dependency-free on purpose: the stub imports it too.

>>> Version.parse("v10.4") < Version.parse("11.1.0")
True
>>> Version.from_header("11.1.0.12345.abcdef.true")
Version(major=11, minor=1, patch=0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Version"]

_VERSION_RE: Final = re.compile(r"^[vV]?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?$")
_HEADER_RE: Final = re.compile(r"^(\d{1,4})\.(\d{1,4})\.(\d{1,6})(?:\..*)?$")


@dataclass(frozen=True, order=True)
class Version:
    """A server version ``major.minor.patch``; ordered, hashable, immutable."""

    major: int
    minor: int
    patch: int = 0

    def __post_init__(self) -> None:
        for name in ("major", "minor", "patch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Version.{name} must be a non-negative int, got {value!r}")

    @classmethod
    def parse(cls, text: str | Version) -> Version:
        """Parse ``"11.1"``, ``"11.1.0"`` or ``"v10.4.0"``; ValueError on anything else."""
        if isinstance(text, Version):
            return text
        if not isinstance(text, str):
            raise ValueError(f"server version must be a string like '11.1.0', got {text!r}")
        match = _VERSION_RE.match(text.strip())
        if match is None:
            raise ValueError(
                f"not a server version: {text!r} (expected 'MAJOR.MINOR' or 'MAJOR.MINOR.PATCH',"
                " optionally prefixed with 'v')"
            )
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch or 0))

    @classmethod
    def lenient(cls, text: str | Version | None) -> Version | None:
        """A version from a version string or an ``X-Version-Id`` header; None for anything else.

        For values that come from outside (a target file, a header) where "unknown" is a valid
        answer; :meth:`parse` is for values that must be versions.
        """
        if text is None or isinstance(text, Version):
            return text
        for parse in (cls.parse, cls.from_header):
            try:
                return parse(text)
            except ValueError:
                continue
        return None

    @classmethod
    def from_header(cls, value: str) -> Version:
        """Parse an ``X-Version-Id`` header.

        The header is ``<version>.<build number>.<config hash>.<licensed>``, e.g.
        ``11.1.0.12345.abcdef.true`` or, for development builds, ``11.1.0.dev.hash.false``.
        Only the leading ``major.minor.patch`` is kept.
        """
        if not isinstance(value, str):
            raise ValueError(f"X-Version-Id must be a string, got {value!r}")
        match = _HEADER_RE.match(value.strip())
        if match is None:
            raise ValueError(
                f"not an X-Version-Id header: {value!r} (expected e.g. '11.1.0.12345.abcdef.true')"
            )
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"
