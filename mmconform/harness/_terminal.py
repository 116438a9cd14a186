"""What a conformance run tells the person at the terminal: the profile and seed, the target
as the preflight found it, and at the end what did not run and what was not put back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmconform.harness._session import ConformanceSession

__all__ = ["describe_target", "profile_line", "write_summary"]


def profile_line(session: ConformanceSession) -> str:
    name = session.profile.name
    return (
        f"mmconform: profile {name} ({session.profile.description}); seed {session.seed} "
        f"(replay: --mm-profile {name} --mm-seed {session.seed})"
    )


def describe_target(session: ConformanceSession) -> Iterator[str]:
    target = session.require_target()
    preflight = session.preflight
    kind = "embedded stub" if target.embedded else target.sources.get("url", "?")
    yield f"mmconform: target {target.url} ({kind})"
    if preflight is not None:
        yield (
            f"mmconform: server version {preflight.server_version or 'unknown'} "
            f"({preflight.version_source}); {preflight.facts.describe()}"
        )
        yield from (f"mmconform: note: {note}" for note in preflight.notes)
    yield f"mmconform: roles verified: {', '.join(target.roles) or 'none'}"
    if target.missing_roles:
        yield (
            "mmconform: roles not given (tests needing them are skipped): "
            f"{', '.join(target.missing_roles)}"
        )
    reasons: dict[str, list[str]] = {}
    for role, why in target.unavailable_roles.items():
        reasons.setdefault(why, []).append(role)
    for why, roles in reasons.items():
        yield (
            "mmconform: roles this target cannot hold (tests needing them are unsupported): "
            f"{', '.join(roles)}: {why}"
        )
    yield f"mmconform: local-mode socket: {target.local_socket or 'not given'}"
    allowed = "allowed" if session.allow_destructive else "excluded"
    yield f"mmconform: destructive operations: {allowed}"
    if session.transport.insecure and target.url.startswith("https:"):
        yield "mmconform: warning: the target's TLS certificate is not verified (--insecure)"
    budget = session.options.budget
    yield (
        "mmconform: run budget: "
        + (f"{budget:.0f} s" if budget else "none")
        + f"; the run stops after {session.options.breaker_threshold} transport failures in a "
        "row if the target no longer answers"
    )


def write_summary(session: ConformanceSession, terminalreporter: Any) -> None:
    if session.requests_sent:
        terminalreporter.write_line(
            f"mmconform: {session.requests_sent} generated requests sent "
            f"(profile {session.profile.name}, seed {session.seed})"
        )
    if session.stopped is not None:
        terminalreporter.write_sep("=", "mmconform: the run stopped early", red=True)
        terminalreporter.write_line(
            f"{session.stopped}. The tests that did not run are not failures; the server "
            "state was not checked.",
            red=True,
        )
    if not session.active:
        return
    if session.deselected:
        terminalreporter.write_sep("-", f"mmconform: {len(session.deselected)} deselected")
        for nodeid, reason in session.deselected.items():
            terminalreporter.write_line(f"{nodeid}: {reason}")
    if session.unchecked is not None:
        terminalreporter.write_sep("=", "mmconform: server state not checked", red=True)
        terminalreporter.write_line(session.unchecked, red=True)
    if session.problems:
        terminalreporter.write_sep("=", "mmconform: server state not restored", red=True)
        for problem in session.problems:
            terminalreporter.write_line(problem, red=True)
