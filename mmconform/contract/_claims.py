"""What the suite claims: the Mattermost versions it is proved against (the version matrix),
oldest first. Every version is run in both editions (Team Edition, and Enterprise with a
license) by the version validation; 11.10 is the last release whose behaviour changes the
contract records (the client license format, the license upload's errors)."""

from __future__ import annotations

from typing import Final

__all__ = ["SUPPORTED_VERSIONS"]

SUPPORTED_VERSIONS: Final = (
    "7.0.0",
    "8.1.0",
    "9.5.0",
    "10.3.0",
    "10.11.0",
    "11.0.0",
    "11.1.0",
    "11.10.0",
)
