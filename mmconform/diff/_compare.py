"""Two views of one exchange held side by side: the differences, in the order of the rules.

A status difference (or a side that gave no answer) is the only difference reported for that
exchange: its bodies are not compared again. With equal statuses: the content type, then the
kind of body (when it differs, nothing inside it is compared), the AppError id, the compared
headers, the shape of a JSON body (key sets, then value types), and at the ``--values`` level
the values that are not volatile and not allowed to differ.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from mmconform.diff._normalise import View
from mmconform.diff._shape import Shape, describe_shape

__all__ = [
    "KINDS",
    "ComparisonRules",
    "Difference",
    "compare_views",
    "pattern_of",
]

#: Every kind of difference, in the order they are looked for.
KINDS: Final = (
    "no-answer",
    "status",
    "content-type",
    "body-kind",
    "error-id",
    "header",
    "keys",
    "type",
    "value",
    "key-order",
    "effect",
)
_INDEX: Final = re.compile(r"/\d+(?=/|#|$)")


def pattern_of(location: str) -> str:
    """A location with its array indices folded (``/rows/3/name`` -> ``/rows/[]/name``)."""
    return _INDEX.sub("/[]", location)


@dataclass(frozen=True)
class ComparisonRules:
    """What is compared beyond the default (shape) level."""

    #: compare values too (``--values``)
    values: bool = False
    #: operation-qualified location patterns whose values may differ
    #: (``GetClientConfig:/Version``, ``*:/message``)
    allowed: tuple[str, ...] = ()
    #: compare the order of keys in JSON objects (``--key-order``)
    key_order: bool = False

    def allows(self, operation: str, location: str) -> bool:
        pattern = pattern_of(location)
        for rule in self.allowed:
            scope, sep, where = rule.partition(":")
            if not sep:
                scope, where = "*", rule
            if fnmatch.fnmatchcase(operation, scope) and (
                fnmatch.fnmatchcase(pattern, where) or fnmatch.fnmatchcase(location, where)
            ):
                return True
        return False


@dataclass(frozen=True)
class Difference:
    """One way two answers to the same request differ."""

    kind: str
    #: where: "" (the answer), a body location (``/a/[]/b``) or ``header:name``
    location: str
    #: what groups it with its like: the location and the change, without the data
    signature: str
    baseline: str
    candidate: str


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status(view: View) -> str:
    if view.error is not None:
        return f"no answer ({view.error})"
    return str(view.status) + (f" {view.error_id}" if view.error_id else "")


def compare_views(
    baseline: View, candidate: View, rules: ComparisonRules, operation: str
) -> list[Difference]:
    """Every difference between two answers to one request, by the rules above."""
    if (baseline.error is None) != (candidate.error is None):
        return [
            Difference(
                "no-answer",
                "",
                f"{'answer' if baseline.error is None else 'no answer'} → "
                f"{'answer' if candidate.error is None else 'no answer'}",
                _status(baseline),
                _status(candidate),
            )
        ]
    if baseline.error is not None:
        return []
    if baseline.status != candidate.status:
        return [
            Difference(
                "status",
                "",
                f"{baseline.status} → {candidate.status}",
                _status(baseline),
                _status(candidate),
            )
        ]
    out: list[Difference] = []
    if baseline.content_type != candidate.content_type:
        out.append(
            Difference(
                "content-type",
                "header:content-type",
                f"{baseline.content_type or 'none'} → {candidate.content_type or 'none'}",
                baseline.content_type or "none",
                candidate.content_type or "none",
            )
        )
    if baseline.body_kind != candidate.body_kind:
        out.append(
            Difference(
                "body-kind",
                "body",
                f"{baseline.body_kind} → {candidate.body_kind}",
                baseline.body_kind,
                candidate.body_kind,
            )
        )
        out.extend(_headers(baseline, candidate))
        return out
    if baseline.error_id != candidate.error_id:
        out.append(
            Difference(
                "error-id",
                "/id",
                f"{baseline.error_id} → {candidate.error_id}",
                str(baseline.error_id),
                str(candidate.error_id),
            )
        )
    out.extend(_headers(baseline, candidate))
    if baseline.shape is not None and candidate.shape is not None:
        out.extend(_shapes(baseline.shape, candidate.shape, ""))
    if rules.values:
        typed = {d.location for d in out if d.kind == "type"}
        out.extend(_values(baseline, candidate, rules, operation, typed))
    if rules.key_order:
        out.extend(_key_orders(baseline, candidate))
    return out


def _headers(baseline: View, candidate: View) -> Iterator[Difference]:
    for name in sorted(set(baseline.headers) | set(candidate.headers)):
        before = baseline.headers.get(name, "absent")
        after = candidate.headers.get(name, "absent")
        if before != after:
            yield Difference(
                "header", f"header:{name}", f"{name}: {before} → {after}", before, after
            )


def _kind(shape: Shape) -> str:
    return shape if isinstance(shape, str) else str(shape[0])


def _shapes(a: Shape, b: Shape, location: str) -> Iterator[Difference]:
    if a == b:
        return
    if _kind(a) == "object" and _kind(b) == "object":
        left, right = dict(a[1]), dict(b[1])
        missing = sorted(set(left) - set(right))
        extra = sorted(set(right) - set(left))
        if missing or extra:
            change = " ".join([*(f"-{k}" for k in missing), *(f"+{k}" for k in extra)])
            yield Difference(
                "keys",
                location or "/",
                f"{location or '/'}: {change}",
                ", ".join(missing) or "—",
                ", ".join(extra) or "—",
            )
        for key in sorted(set(left) & set(right)):
            yield from _shapes(left[key], right[key], f"{location}/{key}")
        return
    if _kind(a) == "array" and _kind(b) == "array":
        if a[1] is None or b[1] is None:
            return  # an empty list is data, not shape
        yield from _shapes(a[1], b[1], f"{location}/[]")
        return
    before, after = describe_shape(a), describe_shape(b)
    yield Difference(
        "type", location or "/", f"{location or '/'}: {before} → {after}", before, after
    )


def _values(
    baseline: View,
    candidate: View,
    rules: ComparisonRules,
    operation: str,
    typed: set[str],
) -> Iterator[Difference]:
    """Values that differ, once per folded location; not where the types differ already."""
    seen: set[str] = set()
    locations = set(baseline.values) & set(candidate.values)
    if baseline.body_digest and baseline.body_digest == candidate.body_digest:
        locations = {location for location in locations if location.startswith("header:")}
    for location in sorted(locations):
        before, after = baseline.values[location], candidate.values[location]
        if before == after or rules.allows(operation, location):
            continue
        pattern = pattern_of(location)
        if pattern in seen or pattern in typed or pattern.startswith(tuple(f"{t}/" for t in typed)):
            continue
        seen.add(pattern)
        yield Difference("value", pattern, f"{pattern}: value", _short(before), _short(after))


def _key_orders(baseline: View, candidate: View) -> Iterator[Difference]:
    if baseline.body_digest and baseline.body_digest == candidate.body_digest:
        return
    for location in sorted(set(baseline.key_orders) & set(candidate.key_orders)):
        before = baseline.key_orders[location]
        after = candidate.key_orders[location]
        common = set(before) & set(after)
        left = [k for k in before if k in common]
        right = [k for k in after if k in common]
        if left != right:
            pattern = pattern_of(location)
            yield Difference(
                "key-order",
                pattern,
                f"{pattern}: key order",
                _short(", ".join(left)),
                _short(", ".join(right)),
            )
