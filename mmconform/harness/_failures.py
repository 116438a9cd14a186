"""What a failure says: which operation, as whom, what was expected, which errata shaped the
expectation, and how to replay it, with every credential redacted."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from mmconform._version import Version
from mmconform.contract import Contract

__all__ = ["curl_command", "errata_note", "failure_header", "redact"]

_BEARER = re.compile(r"(?i)(authorization:\s*)(bearer|token)\s+([^\s'\"]+)")
_COOKIE = re.compile(r"(?i)(MMAUTHTOKEN=)([^;\s'\"]+)")
_QUERY = re.compile(r"(?i)([?&]access_token=)([^&\s'\"]+)")
#: Headers a curl line leaves out: curl sets them itself.
_CURL_SKIPS = frozenset({"content-length", "accept-encoding", "connection", "user-agent"})
_CURL_BODY_LIMIT = 4000


def redact(text: str, tokens: Mapping[str, str]) -> str:
    """Replace every known token with ``<redacted:ROLE>`` and any other credential with a marker.

    Known tokens are replaced wherever they appear (headers, cookies, query, bodies); any bearer
    token, MMAUTHTOKEN cookie or access_token query value left over is replaced too.
    """
    # Longest first, so that a token that contains another is replaced whole.
    for role, token in sorted(tokens.items(), key=lambda item: -len(item[1])):
        if token:
            text = text.replace(token, f"<redacted:{role}>")

    def bearer(match: re.Match[str]) -> str:
        if match.group(3).startswith("<redacted"):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)} <redacted>"

    def value(match: re.Match[str]) -> str:
        if match.group(2).startswith("<redacted"):
            return match.group(0)
        return f"{match.group(1)}<redacted>"

    text = _BEARER.sub(bearer, text)
    text = _COOKIE.sub(value, text)
    return _QUERY.sub(value, text)


def failure_header(
    *,
    operation: str,
    role: str,
    seed: int,
    profile: str,
    server_version: Version | str | None,
) -> str:
    """The first lines of every contract failure: what was tested, as whom, how to replay it."""
    return (
        f"mmconform: operation {operation} as role {role} "
        f"(server {server_version or 'unknown version'})\n"
        f"replay with: --mm-profile {profile} --mm-seed {seed}"
    )


def curl_command(response: Any) -> str:
    """A curl line for exactly the request that was sent (the caller redacts it).

    Takes a ``requests`` or ``httpx`` response, or anything with a ``request`` that has
    ``method``, ``url``, ``headers`` and a ``body`` or ``content``.
    """
    request = getattr(response, "request", None)
    if request is None:
        return "(request not available)"
    parts = ["curl", "-X", str(request.method)]
    for name, value in request.headers.items():
        if name.lower() not in _CURL_SKIPS:
            parts += ["-H", f"{name}: {value}"]
    raw: Any = getattr(request, "body", None)
    if raw is None:
        raw = getattr(request, "content", None)
    if raw:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        parts += ["--data-raw", text[:_CURL_BODY_LIMIT]]
    parts.append(str(request.url))
    return " ".join(shlex.quote(part) for part in parts)


def errata_note(contract: Contract, operation_id: str, version: Version | None) -> str:
    """Which spec/errata.yaml rules shaped the checks of this operation on this version, so a
    failure says what was expected and why ("" when none did)."""
    lines = []
    for erratum in contract.errata_for(operation_id):
        effects = erratum.effects_for(version)
        parts = []
        if effects.skip_checks:
            parts.append("skips " + ", ".join(sorted(effects.skip_checks)))
        if effects.extra_status:
            parts.append("also accepts " + ", ".join(sorted(effects.extra_status)))
        if parts:
            lines.append(f"    {erratum.id} ({erratum.decision}): {'; '.join(parts)}")
    if not lines:
        return ""
    return "\nErrata applied to this operation (spec/errata.yaml):\n" + "\n".join(lines) + "\n"
