"""``diff.json``: what a comparison found, as data (with its JSON Schema, ``diff.schema.json``),
and the per-run folder the reports are written to."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator

from mmconform import __version__
from mmconform._wire import Secret, redact
from mmconform.contract import Contract
from mmconform.diff._exitcodes import EXIT_OK, EXIT_UNEXPLAINED, EXIT_USAGE, DiffProblem
from mmconform.diff._pages import render_diff_html, render_diff_markdown
from mmconform.diff._recording import contract_hashes
from mmconform.diff._run import DiffResult
from mmconform.diff._sequences import sequence_named
from mmconform.diff._sides import SideFacts

__all__ = [
    "ALL_EXPLAINED",
    "IDENTICAL",
    "REPORT_FORMAT",
    "UNEXPLAINED",
    "build_diff_report",
    "diff_schema",
    "fresh_reports_dir",
    "schema_problems",
    "verdict_of",
    "write_diff_reports",
]

REPORT_FORMAT: Final = 1
IDENTICAL: Final = "NO DIFFERENCES"
ALL_EXPLAINED: Final = "ALL DIFFERENCES EXPLAINED"
UNEXPLAINED: Final = "UNEXPLAINED DIFFERENCES"


def verdict_of(result: DiffResult) -> tuple[str, int]:
    """The verdict and the exit code it gives."""
    if not result.groups:
        return IDENTICAL, EXIT_OK
    if result.unexplained:
        return UNEXPLAINED, EXIT_UNEXPLAINED
    return ALL_EXPLAINED, EXIT_OK


def _proves(name: str) -> str:
    sequence = sequence_named(name)
    return sequence.proves if sequence is not None else ""


def _concerns(name: str) -> tuple[str, ...]:
    sequence = sequence_named(name)
    return sequence.concerns if sequence is not None else ()


def _side(label: str, facts: SideFacts) -> dict[str, Any]:
    return {"label": label, **facts.as_record()}


def build_diff_report(
    result: DiffResult, contract: Contract, *, started_at: datetime | None = None
) -> dict[str, Any]:
    """The comparison as ``diff.json``."""
    status, code = verdict_of(result)
    unexplained = result.unexplained
    reasons = []
    if unexplained:
        reasons.append(
            f"{len(unexplained)} of {len(result.groups)} groups of differences are not "
            "explained by the contract"
        )
    elif result.groups:
        reasons.append(
            f"every one of {len(result.groups)} groups of differences is explained by the "
            "contract's version and edition annotations or errata"
        )
    else:
        reasons.append("the two sides answered every request alike (by the rules of docs/diff.md)")
    rules = result.options.rules
    return {
        "format": "mmconform-diff-report",
        "format_version": REPORT_FORMAT,
        "mmconform": __version__,
        "contract": contract_hashes(contract),
        "mode": result.mode,
        "verdict": {"status": status, "exit_code": code, "reasons": reasons},
        "baseline": _side(result.baseline_label, result.baseline),
        "candidate": _side(result.candidate_label, result.candidate),
        "options": {
            "values": rules.values,
            "allowed_fields": list(rules.allowed),
            "key_order": rules.key_order,
            "allow_destructive": result.options.allow_destructive,
            "seed": result.options.generation.seed,
            "max_examples": result.options.generation.max_examples,
            "operations": list(result.options.operations),
        },
        "run": {
            "started_at": (started_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            "seconds": round(result.seconds, 2),
            "generation_seconds": round(result.generation_seconds, 2),
            "requests": result.requests,
            "exchanges": result.exchanges,
            "sent": dict(result.sent),
            "callers": list(result.callers),
            "recorded": str(result.recorded) if result.recorded else None,
        },
        "operations": {
            "compared": list(result.operations),
            "skipped": [
                {"operation": op, "reason": why} for op, why in sorted(result.skipped.items())
            ],
        },
        "sequences": {
            "played": [
                {"name": name, "proves": _proves(name), "concerns": list(_concerns(name))}
                for name in result.sequences
            ],
            "steps_compared": result.sequence_steps,
            "skipped": [
                {"sequence": name, "reason": why}
                for name, why in sorted(result.sequences_skipped.items())
            ],
        },
        "totals": {
            "groups": len(result.groups),
            "explained": len(result.groups) - len(unexplained),
            "unexplained": len(unexplained),
            "differences": sum(group.count for group in result.groups),
        },
        "groups": [group.as_dict() for group in result.groups],
        "notes": list(result.notes),
    }


@cache
def diff_schema() -> dict[str, Any]:
    """The JSON Schema of diff.json (shipped with the package)."""
    text = resources.files("mmconform.diff").joinpath("diff.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(report: Mapping[str, Any]) -> list[str]:
    """Where ``report`` departs from the schema ([] when it conforms)."""
    validator = Draft202012Validator(diff_schema())
    return [
        f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    ]


def fresh_reports_dir(wanted: Path | None, root: Path, now: datetime | None = None) -> Path:
    """The folder this run writes to, created now: ``wanted`` when it is new or empty (never a
    folder holding another run's files), else a new ``diff-<UTC time>[-n]`` under ``root``."""
    if wanted is not None:
        if wanted.exists() and (not wanted.is_dir() or any(wanted.iterdir())):
            raise DiffProblem(
                f"--reports-dir {wanted}: it exists and is not an empty folder; a comparison "
                "never writes over another run's files (name a new folder)",
                EXIT_USAGE,
            )
        wanted.mkdir(parents=True, exist_ok=True)
        return wanted
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        folder = root / (f"diff-{stamp}" + (f"-{attempt}" if attempt else ""))
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise DiffProblem(f"no free report folder name under {root}", EXIT_USAGE)


def write_diff_reports(
    report: Mapping[str, Any], folder: Path, secrets: Mapping[str, Secret] | None = None
) -> list[Path]:
    """diff.json, diff.md, diff.html and diff.schema.json in ``folder`` (each through the
    redactor with ``secrets``); the paths."""
    known = secrets or {}
    written = []
    for name, text in (
        ("diff.json", json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"),
        ("diff.md", render_diff_markdown(report)),
        ("diff.html", render_diff_html(report)),
        ("diff.schema.json", json.dumps(diff_schema(), indent=2) + "\n"),
    ):
        path = folder / name
        with path.open("x", encoding="utf-8") as handle:
            handle.write(redact(text, known))
        written.append(path)
    return written
