"""Writing a report to the reports folder, and checking one against its JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from mmconform.report._html import render_html
from mmconform.report._markdown import render_markdown

__all__ = ["REPORT_FILES", "report_schema", "schema_problems", "write_report"]

#: The files a run writes (besides junit.xml and allure-results/).
REPORT_FILES = ("conformance.json", "conformance.html", "conformance.md")


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema of conformance.json (shipped with the package)."""
    text = (
        resources.files("mmconform.report")
        .joinpath("conformance.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(report: Mapping[str, Any]) -> list[str]:
    """Where ``report`` departs from the schema ([] when it conforms)."""
    validator = Draft202012Validator(report_schema())
    return [
        f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    ]


def write_report(report: Mapping[str, Any], folder: Path) -> list[Path]:
    """Write conformance.json, .html and .md (and the schema next to them); the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("conformance.json", json.dumps(report, indent=2, sort_keys=True) + "\n"),
        ("conformance.html", render_html(report)),
        ("conformance.md", render_markdown(report)),
        ("conformance.schema.json", json.dumps(report_schema(), indent=2) + "\n"),
    ):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
