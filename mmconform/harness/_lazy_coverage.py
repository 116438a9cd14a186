"""schemathesis' coverage-phase cases, generated when their test runs rather than when it is
collected.

schemathesis builds every case of its coverage phase while pytest collects the tests (they
become Hypothesis explicit examples), for every operation. Under xdist every worker collects
every test, so every worker generated every operation's cases, most of them for tests another
worker runs: on the configuration bodies, seconds per worker. :func:`install` makes the
generation lazy: the examples list of each test is filled on first use, with the same cases in
the same order. :func:`materialize` fills it ahead of the test (the contract suite calls it from
a fixture), so that the generation, which itself runs Hypothesis, does not run inside the test's
own Hypothesis run.

One difference from generating at collection: schemathesis gives the methods a path does not
declare to the first operation of that path it generates cases for, so under xdist each worker
that runs an operation of a path sends those few cases once (serially, exactly as before).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, SupportsIndex

import schemathesis.generation.hypothesis.builder as _builder

__all__ = ["LazyExamples", "install", "materialize"]

#: schemathesis' own function, or None when a release no longer has it: the cases are then
#: generated at collection, as schemathesis does by itself (slower under xdist, same cases).
_ORIGINAL: Callable[..., Any] | None = getattr(_builder, "add_coverage", None)


class LazyExamples(list[Any]):
    """A test's Hypothesis explicit examples: those given so far, then the coverage cases
    ``produce()`` returns, produced on first use."""

    def __init__(self, given: list[Any], produce: Callable[[], list[Any]]) -> None:
        super().__init__(given)
        self._produce: Callable[[], list[Any]] | None = produce

    def materialize(self) -> None:
        if self._produce is not None:
            produce, self._produce = self._produce, None
            super().extend(produce())

    @property
    def pending(self) -> bool:
        return self._produce is not None

    def __iter__(self) -> Iterator[Any]:
        self.materialize()
        return super().__iter__()

    def __reversed__(self) -> Iterator[Any]:
        self.materialize()
        return super().__reversed__()

    def __len__(self) -> int:
        self.materialize()
        return super().__len__()

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, index: Any) -> Any:
        self.materialize()
        return super().__getitem__(index)

    def append(self, item: Any) -> None:
        self.materialize()
        super().append(item)

    def extend(self, items: Any) -> None:
        self.materialize()
        super().extend(items)

    def insert(self, index: SupportsIndex, item: Any) -> None:
        self.materialize()
        super().insert(index, item)


def _lazy_add_coverage(test: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    given = list(getattr(test, "hypothesis_explicit_examples", []))

    def produce() -> list[Any]:
        def collector() -> None:  # pragma: no cover - never called, it only holds the examples
            """Receives the examples schemathesis attaches."""

        assert _ORIGINAL is not None  # install() replaces nothing otherwise
        collected = _ORIGINAL(collector, *args, **kwargs)
        unserializable = _builder.UnserializablePayloadMark.get(collected)
        if unserializable is not None:
            _builder.UnserializablePayloadMark.set(test, unserializable)
        return list(getattr(collected, "hypothesis_explicit_examples", []))

    test.hypothesis_explicit_examples = LazyExamples(given, produce)  # type: ignore[attr-defined]
    return test


def install() -> None:
    """Make schemathesis generate coverage-phase cases lazily (idempotent; nothing to do when
    this schemathesis release lacks the function it replaces)."""
    if _ORIGINAL is not None and hasattr(_builder, "UnserializablePayloadMark"):
        _builder.add_coverage = _lazy_add_coverage


def materialize(test: Any) -> None:
    """Generate the coverage-phase cases of ``test`` (a collected test function) now."""
    examples = getattr(test, "hypothesis_explicit_examples", None)
    if isinstance(examples, LazyExamples):
        examples.materialize()
