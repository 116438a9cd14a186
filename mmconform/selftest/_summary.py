"""The selftest's verdict: the table, the score, and the files it leaves in the reports folder.

``selftest.json`` carries a ``summary`` object (``killed``, ``total``, ``score``,
``benign_failures``, ...) that the conformance report shows as the suite's own mutation score,
and one entry per mutant; ``selftest.md`` is the same as a table a reviewer can read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mmconform.selftest._catalogue import AREAS
from mmconform.selftest._runner import Outcome
from mmconform.selftest._shards import Shard

__all__ = [
    "FORMAT",
    "Provenance",
    "Score",
    "format_row",
    "format_summary",
    "header",
    "results_name",
    "score_of",
    "write_results",
]

#: the version of the selftest file's layout
FORMAT = 2

_KEY_WIDTH = 46


@dataclass(frozen=True)
class Score:
    """Counts over one selftest run."""

    killed: int
    total: int
    benign_passed: int
    benign_total: int
    errors: int

    @property
    def ratio(self) -> float:
        """Killed faults over all faults (1.0 when there were none)."""
        return self.killed / self.total if self.total else 1.0

    @property
    def benign_failures(self) -> int:
        """Benign mutants the suites wrongly failed."""
        return self.benign_total - self.benign_passed


def score_of(outcomes: Sequence[Outcome]) -> Score:
    """Count kills, benign passes and runs that went wrong."""
    faults = [o for o in outcomes if o.mutant.kind == "fault"]
    benign = [o for o in outcomes if o.mutant.kind == "benign"]
    return Score(
        killed=sum(o.verdict == "killed" for o in faults),
        total=len(faults),
        benign_passed=sum(o.verdict == "passed" for o in benign),
        benign_total=len(benign),
        errors=sum(o.verdict == "error" for o in outcomes),
    )


def format_row(outcome: Outcome) -> str:
    """One line of the table: verdict, mutant, area, time to detection, what caught it."""
    mutant = outcome.mutant
    key = mutant.key if len(mutant.key) <= _KEY_WIDTH else mutant.key[: _KEY_WIDTH - 1] + "…"
    caught = outcome.caught_by
    if outcome.verdict == "survived" and mutant.survivor_reason:
        caught = f"(known: {mutant.survivor_reason})"
    elif outcome.verdict == "error":
        caught = outcome.detail.splitlines()[0] if outcome.detail else "error"
    return (
        f"{outcome.verdict:<11} {key:<{_KEY_WIDTH}} {mutant.area:<14} "
        f"{outcome.seconds:6.1f} s  {caught}"
    )


def header() -> str:
    """The table's column names."""
    return f"{'verdict':<11} {'mutant':<{_KEY_WIDTH}} {'area':<14} {'time':>8}  caught by"


def format_summary(outcomes: Sequence[Outcome], wall_seconds: float) -> str:
    """Score, per-area counts, survivors with their reasons, false alarms and errors."""
    score = score_of(outcomes)
    lines = [
        "",
        f"mutation score: {score.killed}/{score.total} faults killed ({score.ratio:.1%}); "
        f"benign variants: {score.benign_passed}/{score.benign_total} passed, "
        f"{score.benign_failures} false alarm(s); {score.errors} run error(s); "
        f"{len(outcomes)} runs in {wall_seconds:.0f} s",
        "",
        "by area (killed/faults):",
    ]
    for area in AREAS:
        faults = [o for o in outcomes if o.mutant.area == area and o.mutant.kind == "fault"]
        if faults:
            killed = sum(o.verdict == "killed" for o in faults)
            lines.append(f"  {area:<15} {killed}/{len(faults)}")
    for title, verdicts in (
        ("survived", ("survived",)),
        ("false alarms", ("false alarm",)),
        ("errors", ("error",)),
    ):
        listed = [o for o in outcomes if o.verdict in verdicts]
        if listed:
            lines += ["", f"{title}:"]
            for outcome in listed:
                reason = outcome.mutant.survivor_reason or "no test noticed it"
                if outcome.verdict != "survived":
                    reason = outcome.caught_by or outcome.detail.splitlines()[0]
                lines.append(f"  {outcome.mutant.key}: {outcome.mutant.description} - {reason}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Provenance:
    """What a selftest file was made from, so that shards of one selection can be merged and
    shards of another refused: the fingerprint of the selection (before it was sharded), the
    contract's spec hashes, and which shard this is."""

    selection: str
    selected: int
    contract: dict[str, str]
    shard: Shard | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "selection": self.selection,
            "selected": self.selected,
            "contract": dict(self.contract),
            "shard": None
            if self.shard is None
            else {"index": self.shard.index, "count": self.shard.count},
        }


def results_name(shard: Shard | None) -> str:
    """``selftest.json``, or ``selftest-shard-K-of-N.json`` for one shard."""
    return (
        "selftest.json" if shard is None else f"selftest-shard-{shard.index}-of-{shard.count}.json"
    )


def write_results(
    folder: Path,
    outcomes: Sequence[Outcome],
    *,
    wall_seconds: float,
    sample: bool,
    jobs: int,
    provenance: Provenance,
) -> Path:
    """Write the JSON file (``results_name``) and its Markdown table into ``folder``; return
    the JSON's path."""
    folder.mkdir(parents=True, exist_ok=True)
    score = score_of(outcomes)
    document: dict[str, Any] = {
        "format": FORMAT,
        "provenance": provenance.as_dict(),
        "summary": {
            "killed": score.killed,
            "total": score.total,
            "score": round(score.ratio, 4),
            "benign_failures": score.benign_failures,
            "benign_total": score.benign_total,
            "errors": score.errors,
            "sample": sample,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "wall_seconds": round(wall_seconds, 1),
        "jobs": jobs,
        "mutants": [_entry(outcome) for outcome in outcomes],
    }
    path = folder / results_name(provenance.shard)
    _replace(path, json.dumps(document, indent=2) + "\n")
    _replace(path.with_suffix(".md"), _markdown(outcomes, wall_seconds))
    return path


def _replace(path: Path, text: str) -> None:
    """Write ``path`` in one rename, so that a conformance run reading the score meanwhile sees
    the old file or the new one, never half of one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _entry(outcome: Outcome) -> dict[str, Any]:
    mutant = outcome.mutant
    entry: dict[str, Any] = {
        "key": mutant.key,
        "kind": mutant.kind,
        "source": mutant.source,
        "area": mutant.area,
        "operations": list(mutant.operations),
        "description": mutant.description,
        "verdict": outcome.verdict,
        "caught_by": outcome.caught_by,
        "seconds": round(outcome.seconds, 2),
        "returncode": outcome.returncode,
    }
    if mutant.server_version:
        entry["server_version"] = mutant.server_version
    if mutant.survivor_reason:
        entry["survivor_reason"] = mutant.survivor_reason
    if outcome.detail and not outcome.ok:
        entry["detail"] = outcome.detail
    return entry


def _markdown(outcomes: Sequence[Outcome], wall_seconds: float) -> str:
    score = score_of(outcomes)
    lines = [
        "# mmconform selftest",
        "",
        f"{score.killed} of {score.total} faults killed ({score.ratio:.1%}); "
        f"{score.benign_failures} false alarm(s) in {score.benign_total} benign variants; "
        f"{score.errors} run error(s); {wall_seconds:.0f} s.",
        "",
        "| verdict | mutant | area | what it breaks | caught by | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        mutant = outcome.mutant
        caught = outcome.caught_by or (mutant.survivor_reason or "")
        cells = [
            outcome.verdict,
            f"`{mutant.key}`",
            mutant.area,
            mutant.description,
            f"`{caught}`" if outcome.caught_by else caught,
            f"{outcome.seconds:.1f}",
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
