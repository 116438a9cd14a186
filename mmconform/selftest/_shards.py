"""Splitting a selftest over several machines: deterministic shards, balanced by expected run
time, with no mutant in two shards and none left out.

A CI engine runs ``python -m mmconform.selftest --shard K/N`` on N runners (a GitHub Actions
matrix, ``examples/selftest-matrix.yml``); ``python -m mmconform.selftest merge`` combines
their files into one score. Every shard file carries the fingerprint of the catalogue and the
contract it was made from, so shards of different catalogues are never merged.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mmconform.selftest._catalogue import Mutant

__all__ = [
    "Shard",
    "catalogue_fingerprint",
    "expected_seconds",
    "split",
]

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

#: a child pytest's start: interpreter, collection of the narrowed suites, a stub
_START_SECONDS = 4.0
#: one operation's tests against the stub
_PER_OPERATION_SECONDS = 1.5
#: the whole gate against the stub (a benign mutant, a fault of every operation)
_WHOLE_GATE_SECONDS = 70.0
#: how much slower the whole gate runs behind the latency variant (50 ms per answer)
_LATENCY_FACTOR = 7.0


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` -> Shard(2, 4); ``ValueError`` naming what is wrong."""
        match = _SHARD.match(text)
        if match is None:
            raise ValueError(f"not a shard {text!r}: expected K/N, e.g. 2/4")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 1 <= index <= count:
            raise ValueError(f"shard {text!r}: K must be between 1 and N, and N at least 1")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def expected_seconds(mutant: Mutant, timings: Mapping[str, float] | None = None) -> float:
    """How long the mutant's run is expected to take: its time in an earlier selftest's file
    when one is given, else a model (a child run's start, plus each operation's tests, or the
    whole gate for a benign mutant or a fault of every operation)."""
    if timings and mutant.key in timings:
        return float(timings[mutant.key])
    if mutant.kind == "benign" or not mutant.operations:
        seconds = _START_SECONDS + _WHOLE_GATE_SECONDS
        return seconds * _LATENCY_FACTOR if mutant.mostly_waits else seconds
    return _START_SECONDS + _PER_OPERATION_SECONDS * len(mutant.operations)


def split(
    mutants: Sequence[Mutant], count: int, timings: Mapping[str, float] | None = None
) -> list[list[Mutant]]:
    """The mutants in ``count`` shards of about equal expected time: longest first, each to
    the shard with the least time so far (ties by shard number); catalogue order within a
    shard. The same mutants always give the same shards."""
    keys = {mutant.key: position for position, mutant in enumerate(mutants)}
    if len(keys) != len(mutants):
        raise ValueError("mutant keys are not unique")
    loads = [(0.0, shard) for shard in range(count)]
    heapq.heapify(loads)
    assigned: list[list[Mutant]] = [[] for _ in range(count)]
    for mutant in sorted(mutants, key=lambda m: (-expected_seconds(m, timings), m.key)):
        load, shard = heapq.heappop(loads)
        assigned[shard].append(mutant)
        heapq.heappush(loads, (load + expected_seconds(mutant, timings), shard))
    return [sorted(shard, key=lambda m: keys[m.key]) for shard in assigned]


def catalogue_fingerprint(mutants: Sequence[Mutant]) -> str:
    """sha256 over what defines each mutant (key, kind, area, operations, description,
    version): shards agree on it only when they were cut from the same selection of the same
    catalogue."""
    canonical = [
        [m.key, m.kind, m.area, list(m.operations), m.description, m.server_version]
        for m in mutants
    ]
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode("utf-8")).hexdigest()
