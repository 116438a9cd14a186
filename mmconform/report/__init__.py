"""Reports of a conformance run: what a CI gate, a vendor and a person each receive.

From the results the harness gathers, a run writes ``conformance.json`` (machine-readable, with
its JSON Schema), ``conformance.html`` (one self-contained page) and ``conformance.md`` (a CI
job summary); with ``--certify`` it also packs a certification bundle that
``python -m mmconform.certify verify BUNDLE`` checks. Modules: ``_model`` (statuses and the
verdict), ``_build`` (the report as data), ``_html``, ``_markdown``, ``_write`` (files and
schema), ``_bundle`` (certification bundles), ``_runs`` (one directory per run under a reports
base, the ``latest`` link, and pruning old runs: ``python -m mmconform.report prune --keep N``).
"""

from mmconform.report._build import (
    REPORT_FORMAT,
    Deselection,
    RunFacts,
    TargetFacts,
    build_report,
    spec_hashes,
)
from mmconform.report._bundle import make_bundle, verify_bundle
from mmconform.report._html import PAGE_STYLE, render_html
from mmconform.report._markdown import render_markdown
from mmconform.report._model import (
    CONFORMANT,
    CONFORMANT_WITH_UNSUPPORTED,
    INCOMPLETE,
    LADDER,
    NOT_CONFORMANT,
    UNSUPPORTED_PREFIX,
    CellResult,
    TestResult,
    Verdict,
    highest,
    unavailable_role_reason,
    verdict_of,
)
from mmconform.report._runs import (
    LATEST,
    RUNS,
    RunDirectory,
    finish_run,
    latest_run,
    list_runs,
    new_run_directory,
    point_latest,
    prune,
)
from mmconform.report._write import REPORT_FILES, report_schema, schema_problems, write_report

__all__ = [
    "CONFORMANT",
    "CONFORMANT_WITH_UNSUPPORTED",
    "INCOMPLETE",
    "LADDER",
    "LATEST",
    "NOT_CONFORMANT",
    "PAGE_STYLE",
    "REPORT_FILES",
    "REPORT_FORMAT",
    "RUNS",
    "UNSUPPORTED_PREFIX",
    "CellResult",
    "Deselection",
    "RunDirectory",
    "RunFacts",
    "TargetFacts",
    "TestResult",
    "Verdict",
    "build_report",
    "finish_run",
    "highest",
    "latest_run",
    "list_runs",
    "make_bundle",
    "new_run_directory",
    "point_latest",
    "prune",
    "render_html",
    "render_markdown",
    "report_schema",
    "schema_problems",
    "spec_hashes",
    "unavailable_role_reason",
    "verdict_of",
    "verify_bundle",
    "write_report",
]
