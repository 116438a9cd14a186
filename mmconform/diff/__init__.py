"""mmconform.diff: what changed between two servers, response by response, and which changes
the contract explains.

The contract's generated cases (schemathesis, deterministic) are sent to both sides as every
caller, each answer is reduced to what is compared (``docs/diff.md``), the differences are
grouped by operation, kind and signature, and each group is *explained* when the contract's
version or edition annotations or an erratum predict it between the two sides, *unexplained*
otherwise. A side may be a recording of an earlier run, so that a CI job needs one server at a
time.

>>> from mmconform.diff import main
>>> main(["baseline.toml", "candidate.toml"])       # doctest: +SKIP

Modules: ``_cases`` (generation), ``_plan`` (order and callers), ``_sides`` (targets and their
facts), ``_send`` (bounded sending), ``_sequences`` (request sequences played on each side),
``_normalise`` (the rules), ``_compare`` (differences), ``_explain`` (the contract's
predictions), ``_groups`` (grouping and reproduction), ``_recording`` (recordings), ``_run`` (a
comparison end to end), ``_report`` (diff.json and the reports folder), ``_pages`` (diff.md,
diff.html), ``_cli`` (the command line).
"""

from mmconform.diff._cases import DEFAULT_MAX_EXAMPLES, DEFAULT_SEED, Generation
from mmconform.diff._cli import main
from mmconform.diff._compare import KINDS, ComparisonRules, Difference
from mmconform.diff._exitcodes import (
    EXIT_OK,
    EXIT_RECORDING_REFUSED,
    EXIT_SIDE_MISCONFIGURED,
    EXIT_SIDE_UNREACHABLE,
    EXIT_UNEXPLAINED,
    EXIT_USAGE,
    DiffProblem,
)
from mmconform.diff._recording import RECORDING_FORMAT, RECORDING_FORMAT_VERSION, read_recording
from mmconform.diff._report import build_diff_report, diff_schema, schema_problems
from mmconform.diff._run import DiffOptions, DiffResult, compare_recording, compare_targets
from mmconform.diff._sides import LiveTarget, live_target

__all__ = [
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_SEED",
    "EXIT_OK",
    "EXIT_RECORDING_REFUSED",
    "EXIT_SIDE_MISCONFIGURED",
    "EXIT_SIDE_UNREACHABLE",
    "EXIT_UNEXPLAINED",
    "EXIT_USAGE",
    "KINDS",
    "RECORDING_FORMAT",
    "RECORDING_FORMAT_VERSION",
    "ComparisonRules",
    "DiffOptions",
    "DiffProblem",
    "DiffResult",
    "Difference",
    "Generation",
    "LiveTarget",
    "build_diff_report",
    "compare_recording",
    "compare_targets",
    "diff_schema",
    "live_target",
    "main",
    "read_recording",
    "schema_problems",
]
