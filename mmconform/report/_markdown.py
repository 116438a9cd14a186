"""``conformance.md``: a short summary for a CI job page (GitHub's ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["render_markdown"]

_ICONS = {
    "CONFORMANT": "✅",
    "CONFORMANT WITH UNSUPPORTED FEATURES": "✅",
    "NOT CONFORMANT": "❌",
    "INCOMPLETE": "⚠️",
}
_MAX_FAILURES = 15


def render_markdown(report: Mapping[str, Any]) -> str:
    verdict, target, run, totals = (
        report["verdict"],
        report["target"],
        report["run"],
        report["totals"],
    )
    licensed = {True: "licensed", False: "unlicensed", None: "license unknown"}[target["licensed"]]
    lines = [
        f"## {_ICONS.get(verdict['status'], '')} Mattermost system API: {verdict['status']}",
        "",
        *(f"- {reason}" for reason in verdict["reasons"]),
        "",
        f"**Target** {target['url']} — Mattermost {target['server_version'] or 'unknown'}, "
        f"{target['edition'] or 'edition unknown'} build, {licensed}",
        f"**Run** profile `{run['profile']}`, seed `{run['seed']}`, {run['duration_seconds']} s, "
        f"mmconform {report['suite']['version']}, exit {run['exit_status']}",
        *(
            [f"**Partial run**: narrowed with {', '.join(run['narrowed'])}"]
            if run.get("narrowed")
            else []
        ),
        "",
        "| passed | failed | error | skipped | unsupported |",
        "|---:|---:|---:|---:|---:|",
        "| "
        + " | ".join(
            str(totals[k]) for k in ("passed", "failed", "error", "skipped", "unsupported")
        )
        + " |",
        "",
    ]
    areas: dict[str, dict[str, int]] = {}
    for requirement in report["requirements"]:
        counts = areas.setdefault(requirement["area"], {})
        counts[requirement["status"]] = counts.get(requirement["status"], 0) + 1
    if areas:
        lines += ["| requirement area | results |", "|---|---|"]
        for area, counts in sorted(areas.items()):
            summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            lines.append(f"| {area} | {summary} |")
        lines.append("")
    failures = report["failures"]
    if failures:
        lines += [f"### Failures ({len(failures)})", ""]
        for failure in failures[:_MAX_FAILURES]:
            first = next((ln for ln in failure["message"].splitlines() if ln.strip()), "")
            lines.append(f"- `{failure['nodeid']}`: {first[:200]}")
        if len(failures) > _MAX_FAILURES:
            lines.append(f"- … and {len(failures) - _MAX_FAILURES} more (see conformance.html)")
        lines.append("")
    lines.append("Full report: `conformance.html`; machine-readable: `conformance.json`.")
    return "\n".join(lines) + "\n"
