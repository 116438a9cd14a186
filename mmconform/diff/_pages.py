"""``diff.md`` (for a CI job page) and ``diff.html`` (one self-contained page in the style of
``conformance.html``), both made from ``diff.json``."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Final

from mmconform.report import PAGE_STYLE

__all__ = [
    "MARKDOWN_GROUP_LIMIT",
    "render_diff_html",
    "render_diff_markdown",
    "render_diff_section",
]

#: Groups listed in full in diff.md (the rest are counted; diff.json and diff.html list all).
MARKDOWN_GROUP_LIMIT: Final = 40
_VERDICT_COLOURS: Final = {
    "NO DIFFERENCES": "#1a7f37",
    "ALL DIFFERENCES EXPLAINED": "#3d7fb8",
    "UNEXPLAINED DIFFERENCES": "#c62828",
}
_EXPLAINED = "#2e9b4f"
_UNEXPLAINED = "#d32f2f"


def _side_line(side: Mapping[str, Any]) -> str:
    licensed = {True: "licensed", False: "unlicensed", None: "license unknown"}[side["licensed"]]
    return (
        f"{side['server_version'] or 'version unknown'}, {side['edition'] or 'edition unknown'}, "
        f"{licensed}"
    )


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_diff_markdown(report: Mapping[str, Any]) -> str:
    """A short summary: the verdict, the sides, and the groups (unexplained first)."""
    verdict, totals, run = report["verdict"], report["totals"], report["run"]
    lines = [
        f"## mmconform diff: {verdict['status']}",
        "",
        *(f"- {reason}" for reason in verdict["reasons"]),
        "",
        "| side | what | version, edition, license |",
        "|---|---|---|",
        f"| baseline | `{_cell(report['baseline']['label'])}` | {_side_line(report['baseline'])} |",
        f"| candidate | `{_cell(report['candidate']['label'])}` | "
        f"{_side_line(report['candidate'])} |",
        "",
        f"{run['exchanges']} answers compared per side ({run['requests']} requests x "
        f"{len(run['callers'])} callers: {', '.join(run['callers'])}) in {run['seconds']} s; "
        f"{totals['differences']} differences in {totals['groups']} groups, "
        f"{totals['unexplained']} unexplained.",
        "",
        _sequence_line(report["sequences"]),
        "",
    ]
    groups = list(report["groups"])
    if groups:
        lines += [
            "| | operation | kind | difference | callers | n | explained by |",
            "|---|---|---|---|---|---|---|",
        ]
        for group in groups[:MARKDOWN_GROUP_LIMIT]:
            mark = "✅" if group["explained"] else "❌"
            sources = ", ".join(e["source"] for e in group["explanations"]) or "—"
            lines.append(
                f"| {mark} | {group['operation']} | {group['kind']} | "
                f"`{_cell(group['signature'])}` | {', '.join(group['callers'])} | "
                f"{group['count']} | {_cell(sources)} |"
            )
        if len(groups) > MARKDOWN_GROUP_LIMIT:
            lines.append(f"\n…and {len(groups) - MARKDOWN_GROUP_LIMIT} more groups (diff.json).")
        lines.append("")
        for group in [g for g in groups if not g["explained"]][:MARKDOWN_GROUP_LIMIT]:
            lines += _markdown_reproduction(group)
    skipped = report["operations"]["skipped"]
    sequences_skipped = report["sequences"]["skipped"]
    if skipped or sequences_skipped:
        lines += ["", "Not compared:", ""]
        lines += [f"- {item['operation']}: {item['reason']}" for item in skipped]
        lines += [f"- sequence {item['sequence']}: {item['reason']}" for item in sequences_skipped]
    for note in report["notes"]:
        lines.append(f"\nNote: {note}")
    return "\n".join(lines).rstrip() + "\n"


def _sequence_line(sequences: Mapping[str, Any]) -> str:
    played = [item["name"] for item in sequences["played"]]
    if not played:
        return "No sequence played."
    return (
        f"{len(played)} sequences played on both sides ({sequences['steps_compared']} steps "
        f"compared): {', '.join(played)}."
    )


def _markdown_reproduction(group: Mapping[str, Any]) -> list[str]:
    reproduction = group["reproduction"]
    if reproduction is None:
        return []
    return [
        "<details><summary>"
        + html.escape(f"{group['operation']}: {group['signature']}")
        + "</summary>",
        "",
        f"As {reproduction['caller']} ({reproduction['origin']}): "
        f"`{_cell(reproduction['request'])}`",
        "",
        "```bash",
        f"# baseline: {reproduction['baseline_answer'][:200]}",
        reproduction["baseline"],
        f"# candidate: {reproduction['candidate_answer'][:200]}",
        reproduction["candidate"],
        "```",
        "",
        "</details>",
        "",
    ]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _badge(explained: bool) -> str:
    colour, label = (_EXPLAINED, "explained") if explained else (_UNEXPLAINED, "unexplained")
    return f'<span class="badge" style="background:{colour}">{label}</span>'


def render_diff_section(report: Mapping[str, Any]) -> str:
    """The comparison as one section (banner, facts, groups, reproductions), for any page in
    the style of conformance.html."""
    verdict, totals, run = report["verdict"], report["totals"], report["run"]
    colour = _VERDICT_COLOURS.get(verdict["status"], "#616161")
    facts = [
        ("Baseline", f"{report['baseline']['label']} ({_side_line(report['baseline'])})"),
        ("Candidate", f"{report['candidate']['label']} ({_side_line(report['candidate'])})"),
        ("Callers", ", ".join(run["callers"])),
        (
            "Compared",
            f"{run['exchanges']} answers per side ({run['requests']} requests), "
            f"{len(report['operations']['compared'])} operations",
        ),
        (
            "Differences",
            f"{totals['differences']} in {totals['groups']} groups, "
            f"{totals['unexplained']} unexplained",
        ),
        ("Sequences", _sequence_line(report["sequences"])),
        ("Level", "values (and shape)" if report["options"]["values"] else "shape"),
        ("Duration", f"{run['seconds']} s (generation {run['generation_seconds']} s)"),
        ("Seed / examples", f"{report['options']['seed']} / {report['options']['max_examples']}"),
        ("Contract (sha256)", " ".join(f"{k}:{v[:12]}" for k, v in report["contract"].items())),
    ]
    parts = [
        '<section id="diff">',
        f'<div class="banner" id="diff-verdict" style="background:{colour}">',
        "<div>Differences between two servers</div>",
        f'<div class="status">{_e(verdict["status"])}</div><ul>',
        *(f"<li>{_e(reason)}</li>" for reason in verdict["reasons"]),
        "</ul></div>",
        '<div class="facts">'
        + "".join(f'<div class="fact"><b>{_e(k)}</b>{_e(v)}</div>' for k, v in facts)
        + "</div>",
        "<h2>Differences</h2>",
        _groups_table(report["groups"]),
        _reproductions(report["groups"]),
        _skipped(
            [
                *report["operations"]["skipped"],
                *(
                    {"operation": f"sequence {item['sequence']}", "reason": item["reason"]}
                    for item in report["sequences"]["skipped"]
                ),
            ]
        ),
        *(f"<p>{_e(note)}</p>" for note in report["notes"]),
        "</section>",
    ]
    return "\n".join(part for part in parts if part)


def _groups_table(groups: Sequence[Mapping[str, Any]]) -> str:
    if not groups:
        return "<p>None: the two sides answered every request alike.</p>"
    rows = []
    for index, group in enumerate(groups):
        explanation = "<br>".join(
            f'<span class="mono">{_e(e["source"])}</span>: {_e(e["text"])}'
            for e in group["explanations"]
        )
        rows.append(
            f'<tr data-explained="{str(group["explained"]).lower()}">'
            f"<td>{_badge(group['explained'])}</td>"
            f'<td class="mono">{_e(group["operation"])}</td><td>{_e(group["kind"])}</td>'
            f'<td class="mono"><a href="#group-{index}">{_e(group["signature"])}</a></td>'
            f"<td>{_e(group['baseline'])}</td><td>{_e(group['candidate'])}</td>"
            f"<td>{_e(', '.join(group['callers']))}</td><td>{group['count']}</td>"
            f"<td><small>{explanation or '—'}</small></td></tr>"
        )
    return (
        '<table id="diff-groups"><thead><tr><th></th><th>operation</th><th>kind</th>'
        "<th>difference</th><th>baseline</th><th>candidate</th><th>callers</th><th>n</th>"
        f"<th>explained by</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _reproductions(groups: Sequence[Mapping[str, Any]]) -> str:
    items = []
    for index, group in enumerate(groups):
        reproduction = group["reproduction"]
        if reproduction is None:
            continue
        items.append(
            f'<details id="group-{index}"{" open" if not group["explained"] else ""}>'
            f"<summary>{_badge(group['explained'])} "
            f'<span class="mono">{_e(group["operation"])}: {_e(group["signature"])}</span>'
            f"</summary><div><small>as {_e(reproduction['caller'])} "
            f"({_e(reproduction['origin'])}): "
            f'<span class="mono">{_e(reproduction["request"])}</span></small></div>'
            f"<pre># baseline answered: {_e(reproduction['baseline_answer'])}\n"
            f"{_e(reproduction['baseline'])}\n\n"
            f"# candidate answered: {_e(reproduction['candidate_answer'])}\n"
            f"{_e(reproduction['candidate'])}</pre></details>"
        )
    if not items:
        return ""
    return f'<h2>Reproductions</h2><div id="diff-reproductions">{"".join(items)}</div>'


def _skipped(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    items = "".join(
        f'<li><span class="mono">{_e(r["operation"])}</span>: {_e(r["reason"])}</li>' for r in rows
    )
    return (
        f"<h2>Not compared ({len(rows)})</h2><details><summary>show</summary>"
        f"<ul>{items}</ul></details>"
    )


def render_diff_html(report: Mapping[str, Any]) -> str:
    """``diff.html``: the section as one self-contained page."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>mmconform diff: {_e(report['verdict']['status'])}</title>\n"
        f"<style>{PAGE_STYLE}</style></head><body><main>\n"
        f"{render_diff_section(report)}\n"
        "</main></body></html>\n"
    )
