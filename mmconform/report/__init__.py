"""Reports of a conformance run: what a CI gate, a vendor and a person each receive.

From the results the harness gathers, a run writes ``conformance.json`` (machine-readable, with
its JSON Schema), ``conformance.html`` (one self-contained page) and ``conformance.md`` (a CI
job summary); with ``--certify`` it also packs a certification bundle that
``python -m mmconform.certify verify BUNDLE`` checks. Modules: ``_model`` (statuses and the
verdict), ``_build`` (the report as data), ``_html``, ``_markdown``, ``_write`` (files and
schema), ``_bundle`` (certification bundles).
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
    Cell,
    TestResult,
    Verdict,
    highest,
    verdict_of,
)
from mmconform.report._write import REPORT_FILES, report_schema, schema_problems, write_report

__all__ = [
    "CONFORMANT",
    "CONFORMANT_WITH_UNSUPPORTED",
    "INCOMPLETE",
    "LADDER",
    "NOT_CONFORMANT",
    "PAGE_STYLE",
    "REPORT_FILES",
    "REPORT_FORMAT",
    "UNSUPPORTED_PREFIX",
    "Cell",
    "Deselection",
    "RunFacts",
    "TargetFacts",
    "TestResult",
    "Verdict",
    "build_report",
    "highest",
    "make_bundle",
    "render_html",
    "render_markdown",
    "report_schema",
    "schema_problems",
    "spec_hashes",
    "verdict_of",
    "verify_bundle",
    "write_report",
]
