"""The suite proving itself: a mutation score over a catalogue of deliberate faults.

``python -m mmconform.selftest`` starts a target for every mutant of the catalogue (the stub
with a fault or a wrongly answered permission cell, the fault proxy in front of a faithful stub,
or a correct-but-different variant), runs the suites against it in a child pytest, and reports
which faults were caught, by which test, how fast, and whether any benign variant was wrongly
failed. The score and the table go to the reports folder (``selftest.json``, ``selftest.md``),
where the conformance report picks the score up.

Modules: ``_catalogue`` (the mutants), ``_runner`` (one run per mutant, in parallel),
``_preload`` and ``_preload_server`` (children forked from one preloaded interpreter),
``_summary`` (score, table and files), ``_shards`` (splitting a selection over machines),
``_merge`` (their files back into one score), ``__main__`` (the command line).
"""

from mmconform.selftest._catalogue import (
    AREAS,
    KNOWN_SURVIVORS,
    SAMPLE_BENIGN_OPERATIONS,
    Mutant,
    build_catalogue,
    sample,
)
from mmconform.selftest._merge import MergeError, merge_shards
from mmconform.selftest._runner import (
    MutantRunOptions,
    Outcome,
    child_environment,
    run_mutant,
    run_mutants,
)
from mmconform.selftest._shards import Shard, catalogue_fingerprint, expected_seconds, split
from mmconform.selftest._summary import Provenance, Score, score_of, write_results

__all__ = [
    "AREAS",
    "KNOWN_SURVIVORS",
    "SAMPLE_BENIGN_OPERATIONS",
    "MergeError",
    "Mutant",
    "MutantRunOptions",
    "Outcome",
    "Provenance",
    "Score",
    "Shard",
    "build_catalogue",
    "catalogue_fingerprint",
    "child_environment",
    "expected_seconds",
    "merge_shards",
    "run_mutant",
    "run_mutants",
    "sample",
    "score_of",
    "split",
    "write_results",
]
