"""What a failure says: which operation, as whom, what was expected, which errata shaped the
expectation, and how to replay it, with every credential redacted."""

from __future__ import annotations

import shlex
from typing import Any

from mmconform._version import Version
from mmconform.contract import Contract

__all__ = ["curl_command", "errata_note", "failure_header", "redirect_note"]

#: Headers a curl line leaves out: curl sets them itself.
_CURL_SKIPS = frozenset({"content-length", "accept-encoding", "connection", "user-agent", "host"})
_CURL_BODY_LIMIT = 4000


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


def curl_command(sent: Any) -> str:
    """A curl line for exactly the request that was sent (the caller redacts it).

    Takes a ``requests`` or ``httpx`` response or request: anything that is, or has as its
    ``request``, an object with ``method``, ``url``, ``headers`` and a ``body`` or ``content``.
    """
    request = getattr(sent, "request", None) or sent
    if not all(hasattr(request, name) for name in ("method", "url", "headers")):
        return "(request not available)"
    parts = ["curl", "-X", str(request.method)]
    for name, value in request.headers.items():
        if name.lower() not in _CURL_SKIPS:
            parts += ["-H", f"{name}: {value}"]
    raw: Any = getattr(request, "body", None)
    if raw is None:
        try:
            raw = getattr(request, "content", None)
        except Exception:  # a streamed body that was not read
            raw = "(streamed body)"
    if raw:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        parts += ["--data-raw", text[:_CURL_BODY_LIMIT]]
    parts.append(str(request.url))
    return " ".join(shlex.quote(part) for part in parts)


def redirect_note(response: Any) -> str:
    """For a redirect: where it pointed (the suite never follows one); "" otherwise."""
    status = getattr(response, "status_code", 0)
    if not 300 <= status < 400:
        return ""
    location = response.headers.get("location") or response.headers.get("Location")
    if isinstance(location, list | tuple):  # schemathesis keeps every value of a header
        location = location[0] if location else None
    where = location or "(no Location header)"
    return f"\nThe answer was a {status} redirect to {where} (not followed).\n"


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
