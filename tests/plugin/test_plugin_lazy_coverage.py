"""Coverage-phase cases generated when their test runs: the same examples, in the same order,
produced once."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis.generation.hypothesis.builder as builder

from mmconform.harness import _lazy_coverage
from mmconform.harness._lazy_coverage import LazyExamples, install, materialize


def test_examples_are_produced_once_on_first_use_after_those_given() -> None:
    calls: list[int] = []

    def produce() -> list[Any]:
        calls.append(1)
        return ["c1", "c2"]

    examples = LazyExamples(["given"], produce)
    assert examples.pending
    assert calls == []
    assert list(reversed(examples)) == ["c2", "c1", "given"]
    assert len(examples) == 3
    assert examples
    assert examples[0] == "given"
    examples.append("later")
    assert list(examples) == ["given", "c1", "c2", "later"]
    assert calls == [1]
    assert not examples.pending


@pytest.mark.parametrize("first_use", ["append", "bool", "materialize"])
def test_any_first_use_produces_them(first_use: str) -> None:
    examples = LazyExamples([], lambda: ["c"])
    if first_use == "append":
        examples.append("x")
        assert list(examples) == ["c", "x"]
    elif first_use == "bool":
        assert examples
    else:
        materialize(SimpleTest(examples))
        assert not examples.pending
    assert examples[0] == "c"


class SimpleTest:
    def __init__(self, examples: LazyExamples) -> None:
        self.hypothesis_explicit_examples = examples


def test_install_defers_what_schemathesis_attaches(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[tuple[Any, ...]] = []

    def original(test: Any, *args: Any, **kwargs: Any) -> Any:
        received.append(args)
        for case in ("coverage-1", "coverage-2"):
            test = hypothesis.example(case=case)(test)
        builder.UnserializablePayloadMark.set(test, ["application/xml"])
        return test

    monkeypatch.setattr(_lazy_coverage, "_ORIGINAL", original)
    monkeypatch.setattr(builder, "add_coverage", builder.add_coverage)
    install()
    assert builder.add_coverage is _lazy_coverage._lazy_add_coverage

    def test() -> None: ...

    given = hypothesis.example(case="from-the-spec")(test)
    add_coverage: Any = builder.add_coverage
    wrapped = add_coverage(given, "operation", ["positive"])
    examples = wrapped.hypothesis_explicit_examples
    assert isinstance(examples, LazyExamples)
    assert received == []
    assert builder.UnserializablePayloadMark.get(wrapped) is None
    materialize(wrapped)
    assert received == [("operation", ["positive"])]
    assert [example.kwargs["case"] for example in examples] == [
        "from-the-spec",
        "coverage-1",
        "coverage-2",
    ]
    assert builder.UnserializablePayloadMark.get(wrapped) == ["application/xml"]
