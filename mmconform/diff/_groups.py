"""Differences grouped by (operation, kind, signature), the callers merged, one reproduction per
group: a curl line for each side, credentials redacted."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mmconform._wire import ANONYMOUS, LOCAL, ROLES
from mmconform.diff._compare import KINDS, Difference
from mmconform.diff._explain import Explanation, Instance
from mmconform.diff._model import RequestSpec

__all__ = ["Found", "Group", "Reproduction", "SideAddress", "curl_line", "group_instances"]

_CALLER_ORDER = (*ROLES, ANONYMOUS, LOCAL)
_BODY_LIMIT = 2000


@dataclass(frozen=True)
class SideAddress:
    """Where a side's requests went, for a curl line (a recording has none)."""

    url: str | None
    local_socket: str | None = None
    #: what stands in for a live side ("the recording FILE")
    recorded: str | None = None


def curl_line(request: RequestSpec, caller: str, side: SideAddress) -> str:
    """A curl line that sends ``request`` as ``caller`` to ``side`` (tokens redacted)."""
    if side.recorded is not None:
        return f"(recorded answer: {side.recorded})"
    parts = ["curl", "-sS", "-i", "-X", request.method]
    if caller == LOCAL:
        parts += ["--unix-socket", side.local_socket or "<local socket>"]
        url = f"http://localhost{request.target}"
    else:
        url = f"{side.url}{request.target}"
    if caller not in (ANONYMOUS, LOCAL):
        parts += ["-H", f"Authorization: Bearer <redacted:{caller}>"]
    for name, value in request.headers:
        parts += ["-H", f"{name}: {value}"]
    if request.body:
        text = request.body.decode("utf-8", errors="replace")
        if len(text) > _BODY_LIMIT:
            text = text[:_BODY_LIMIT] + "…(truncated)"
        parts += ["--data-binary", text]
    parts.append(url)
    return " ".join(shlex.quote(part) for part in parts)


@dataclass(frozen=True)
class Reproduction:
    """One exchange of a group, ready to replay."""

    caller: str
    method: str
    target: str
    #: how the request was made (``coverage:negative``, ``read pass after ClearServerBusy``...)
    origin: str
    baseline: str
    candidate: str
    baseline_answer: str
    candidate_answer: str


@dataclass
class Group:
    """Differences of one kind and signature on one operation."""

    operation: str
    kind: str
    signature: str
    callers: set[str] = field(default_factory=set)
    count: int = 0
    explanations: dict[str, Explanation] = field(default_factory=dict)
    unexplained: int = 0
    example: Difference | None = None
    reproduction: Reproduction | None = None
    _reproduced_unexplained: bool = False

    @property
    def explained(self) -> bool:
        return self.unexplained == 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.operation, self.kind, self.signature)

    def sorted_callers(self) -> list[str]:
        return sorted(
            self.callers, key=lambda c: _CALLER_ORDER.index(c) if c in _CALLER_ORDER else 99
        )

    def as_dict(self) -> dict[str, Any]:
        assert self.example is not None
        return {
            "operation": self.operation,
            "kind": self.kind,
            "signature": self.signature,
            "location": self.example.location,
            "baseline": self.example.baseline,
            "candidate": self.example.candidate,
            "callers": self.sorted_callers(),
            "count": self.count,
            "explained": self.explained,
            "unexplained_count": self.unexplained,
            "explanations": [
                {"source": e.source, "text": e.text} for e in self.explanations.values()
            ],
            "reproduction": None
            if self.reproduction is None
            else {
                "caller": self.reproduction.caller,
                "request": f"{self.reproduction.method} {self.reproduction.target}",
                "origin": self.reproduction.origin,
                "baseline": self.reproduction.baseline,
                "candidate": self.reproduction.candidate,
                "baseline_answer": self.reproduction.baseline_answer,
                "candidate_answer": self.reproduction.candidate_answer,
            },
        }


@dataclass(frozen=True)
class Found:
    """One difference in one exchange, explained or not, with its request."""

    instance: Instance
    request: RequestSpec
    explanation: Explanation | None


def group_instances(
    found: Iterable[Found],
    sides: tuple[SideAddress, SideAddress],
    answers: Mapping[tuple[str, str], tuple[str, str]] | None = None,
) -> list[Group]:
    """The groups, unexplained first, then by operation, kind and signature.

    ``answers`` maps (request key, caller) to a short description of each side's answer."""
    groups: dict[tuple[str, str, str], Group] = {}
    for item in found:
        difference = item.instance.difference
        key = (item.instance.operation, difference.kind, difference.signature)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(*key)
        group.callers.add(item.instance.caller)
        group.count += 1
        if item.explanation is None:
            group.unexplained += 1
        else:
            group.explanations.setdefault(item.explanation.source, item.explanation)
        if group.example is None or (
            item.explanation is None and not group._reproduced_unexplained
        ):
            group.example = difference
            described = (answers or {}).get((item.request.key, item.instance.caller), ("", ""))
            group.reproduction = Reproduction(
                caller=item.instance.caller,
                method=item.request.method,
                target=item.request.target,
                origin=item.request.origin,
                baseline=curl_line(item.request, item.instance.caller, sides[0]),
                candidate=curl_line(item.request, item.instance.caller, sides[1]),
                baseline_answer=described[0],
                candidate_answer=described[1],
            )
            group._reproduced_unexplained = item.explanation is None
    return sorted(
        groups.values(),
        key=lambda g: (g.explained, g.operation, KINDS.index(g.kind), g.signature),
    )
