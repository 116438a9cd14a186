"""Reproduction lines and failure messages that never leak a token."""

from __future__ import annotations

import re
from collections.abc import Mapping

_BEARER = re.compile(r"(?i)(authorization:\s*)(bearer|token)\s+([^\s'\"]+)")
_COOKIE = re.compile(r"(?i)(MMAUTHTOKEN=)([^;\s'\"]+)")
_QUERY = re.compile(r"(?i)([?&]access_token=)([^&\s'\"]+)")


def redact(text: str, tokens: Mapping[str, str]) -> str:
    """Replace every known token with ``<redacted:ROLE>`` and any other credential with a marker.

    Known tokens are replaced wherever they appear (headers, cookies, query, bodies); any bearer
    token, MMAUTHTOKEN cookie or access_token query value left over is replaced too.
    """
    # Longest first, so that a token that contains another is replaced whole.
    for role, token in sorted(tokens.items(), key=lambda item: -len(item[1])):
        if token:
            text = text.replace(token, f"<redacted:{role}>")

    def _bearer(match: re.Match[str]) -> str:
        value = match.group(3)
        if value.startswith("<redacted:"):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)} <redacted>"

    text = _BEARER.sub(_bearer, text)
    text = _COOKIE.sub(
        lambda m: m.group(0) if m.group(2).startswith("<redacted") else m.group(1) + "<redacted>",
        text,
    )
    text = _QUERY.sub(
        lambda m: m.group(0) if m.group(2).startswith("<redacted") else m.group(1) + "<redacted>",
        text,
    )
    return text


def failure_header(
    *,
    operation: str,
    role: str,
    seed: int,
    profile: str,
    server_version: str | None,
) -> str:
    """The first lines of every contract failure: what was tested, as whom, how to replay it."""
    return (
        f"mmconform: operation {operation} as role {role} "
        f"(server {server_version or 'unknown version'})\n"
        f"replay with: --mm-profile {profile} --mm-seed {seed}"
    )


def format_failure(
    *,
    header: str,
    body: str,
    tokens: Mapping[str, str],
) -> str:
    """Header plus schemathesis' own report (checks, expected vs received, curl), redacted."""
    return redact(f"{header}\n\n{body}", tokens)
