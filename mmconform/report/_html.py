"""``conformance.html``: the report as one self-contained page (no network, no external assets).

A verdict banner; results per area as a small bar chart; the permission matrix as a coloured
grid (hover or click a cell for expected and observed); tables per requirement and per
operation; every failure with what was expected, what came back, and how to reproduce it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["PAGE_STYLE", "render_html"]

_VERDICT_COLOURS = {
    "CONFORMANT": "#1a7f37",
    "CONFORMANT WITH UNSUPPORTED FEATURES": "#3d7fb8",
    "NOT CONFORMANT": "#c62828",
    "INCOMPLETE": "#b26a00",
}
_STATUS_COLOURS = {
    "passed": "#2e9b4f",
    "failed": "#d32f2f",
    "error": "#8e24aa",
    "skipped": "#9e9e9e",
    "unsupported": "#c7c7c7",
}
_STATUS_ORDER = ("passed", "failed", "error", "skipped", "unsupported")

_CSS = """
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; }
body { margin: 0; background: #f6f7f9; }
main { max-width: 1280px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #d9dde3; padding-bottom: 4px; }
.banner { color: #fff; border-radius: 8px; padding: 18px 22px; margin-bottom: 16px; }
.banner .status { font-size: 28px; font-weight: 700; letter-spacing: .5px; }
.banner ul { margin: 6px 0 0 18px; padding: 0; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 8px; }
.fact { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px; padding: 8px 10px;
  overflow-wrap: anywhere; }
.fact b { display: block; font-size: 11px; color: #57606a; text-transform: uppercase; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
th, td { border: 1px solid #e1e4e8; padding: 4px 6px; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th { background: #f0f2f5; position: sticky; top: 0; }
.badge { display: inline-block; border-radius: 10px; padding: 1px 8px; color: #fff;
  font-size: 12px; font-weight: 600; white-space: nowrap; }
th { white-space: nowrap; }
td.mono { font-family: ui-monospace, monospace; overflow-wrap: normal; word-break: normal;
  min-width: 14em; }
.grid td.cell { text-align: center; cursor: pointer; min-width: 86px; font-size: 12px;
  color: #fff; font-weight: 600; }
.grid td.cell.empty { background: #f3f3f3; color: #9a9a9a; font-weight: 400; }
.grid td.op { font-family: ui-monospace, monospace; white-space: nowrap; }
#cell-detail { position: sticky; bottom: 0; background: #fffbe6; border: 1px solid #e6d690;
  padding: 8px 12px; margin-top: 8px; font-size: 13px; min-height: 20px; }
pre { background: #0f1720; color: #e6edf3; padding: 10px; border-radius: 6px; overflow-x: auto;
  font-size: 12px; white-space: pre-wrap; word-break: break-word; }
details summary { cursor: pointer; font-weight: 600; margin: 6px 0; }
.legend span { margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  vertical-align: -1px; margin-right: 4px; }
.mono { font-family: ui-monospace, monospace; }
"""

#: The page style, for other pages of mmconform that should look like this one.
PAGE_STYLE = _CSS

_JS = """
document.querySelectorAll('td.cell[data-detail]').forEach(function (cell) {
  cell.addEventListener('click', function () {
    document.getElementById('cell-detail').textContent = cell.getAttribute('data-detail');
  });
});
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _badge(status: str) -> str:
    colour = _STATUS_COLOURS.get(status, "#616161")
    return f'<span class="badge" style="background:{colour}">{_e(status)}</span>'


def render_html(report: Mapping[str, Any]) -> str:
    """The page for one report (as built by ``build_report``)."""
    verdict = report["verdict"]
    colour = _VERDICT_COLOURS.get(verdict["status"], "#616161")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>mmconform: {_e(verdict['status'])} — {_e(report['target']['url'])}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f'<div class="banner" id="verdict" style="background:{colour}">',
        "<div>Mattermost system API conformance</div>",
        f'<div class="status">{_e(verdict["status"])}</div><ul>',
        *(f"<li>{_e(reason)}</li>" for reason in verdict["reasons"]),
        "</ul></div>",
        _facts(report),
        "<h2>Results per area</h2>",
        _chart(report["tests"]),
        _matrix(report["matrix"]),
        "<h2>Requirements</h2>",
        _requirements(report["requirements"]),
        "<h2>Operations</h2>",
        _operations(report["operations"]),
        _failures(report["failures"]),
        _deselected(report["deselected"]),
        _selftest(report.get("selftest")),
        f"<script>{_JS}</script>",
        "</main></body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _facts(report: Mapping[str, Any]) -> str:
    target, run, suite = report["target"], report["run"], report["suite"]
    licensed = {True: "licensed", False: "unlicensed", None: "unknown"}[target["licensed"]]
    if target["license_sku"]:
        licensed += f" ({target['license_sku']})"
    totals = report["totals"]
    facts = [
        ("Target", target["url"] + (" (embedded stub)" if target["embedded_stub"] else "")),
        ("Server version", f"{target['server_version'] or 'unknown'} ({target['version_source']})"),
        ("Edition / license", f"{target['edition'] or 'unknown'} / {licensed}"),
        ("Roles", ", ".join(target["roles"]) or "none"),
        ("Features claimed", ", ".join(target["features"]) or "none"),
        ("Profile / seed", f"{run['profile']} / {run['seed']}"),
        ("Tests", ", ".join(f"{totals[s]} {s}" for s in _STATUS_ORDER if totals.get(s))),
        ("Duration", f"{run['duration_seconds']} s, {run['requests_sent']} generated requests"),
        ("Suite", f"mmconform {suite['version']}"),
        (
            "Spec (sha256)",
            " ".join(f"{name}:{digest[:12]}" for name, digest in suite["spec_sha256"].items()),
        ),
    ]
    cells = "".join(f'<div class="fact"><b>{_e(k)}</b>{_e(v)}</div>' for k, v in facts)
    return f'<div class="facts">{cells}</div>'


def _chart(tests: Sequence[Mapping[str, Any]]) -> str:
    """Stacked horizontal bars: one per area, segments per status (inline SVG)."""
    by_area: dict[str, dict[str, int]] = {}
    for test in tests:
        counts = by_area.setdefault(str(test["category"]), dict.fromkeys(_STATUS_ORDER, 0))
        counts[str(test["outcome"])] += 1
    if not by_area:
        return "<p>No test ran.</p>"
    width, bar, gap, label = 760, 22, 10, 110
    height = len(by_area) * (bar + gap) + 30
    most = max(sum(c.values()) for c in by_area.values())
    rows = []
    for index, (area, counts) in enumerate(sorted(by_area.items())):
        y = index * (bar + gap)
        rows.append(f'<text x="0" y="{y + 16}" font-size="13">{_e(area)}</text>')
        x = float(label)
        for status in _STATUS_ORDER:
            if not counts[status]:
                continue
            w = (width - label - 60) * counts[status] / most
            rows.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1.5):.1f}" height="{bar}" '
                f'fill="{_STATUS_COLOURS[status]}"><title>{_e(area)}: {counts[status]} '
                f"{status}</title></rect>"
            )
            x += w
        rows.append(
            f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="12">{sum(counts.values())}</text>'
        )
    legend = "".join(
        f'<span><i style="background:{_STATUS_COLOURS[s]}"></i>{s}</span>' for s in _STATUS_ORDER
    )
    svg = (
        f'<svg id="chart" role="img" aria-label="results per area" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>'
    )
    return f'{svg}<div class="legend">{legend}</div>'


def _cell_colour(cell: Mapping[str, Any]) -> tuple[str, str]:
    """(background, label) of a matrix cell: allowed green, denied slate, failed red."""
    if cell["verdict"] == "failed":
        return "#d32f2f", "FAILED"
    if cell["verdict"] in ("skipped", "unsupported", "not run"):
        return "#bdbdbd", "not tested"
    if cell["expected"] == "allowed":
        return "#2e9b4f", "allowed"
    return "#546e7a", str(cell["expected"])


def _matrix(matrix: Mapping[str, Any]) -> str:
    cells = matrix["cells"]
    if not cells:
        return "<h2>Permission matrix</h2><p>No permission-matrix test ran.</p>"
    roles = list(matrix["roles"])
    operations = sorted({cell["operation"] for cell in cells})
    by_key = {(cell["operation"], cell["role"]): cell for cell in cells}
    head = "".join(f"<th>{_e(role)}</th>" for role in roles)
    rows = []
    for operation in operations:
        tds = [f'<td class="op">{_e(operation)}</td>']
        for role in roles:
            cell = by_key.get((operation, role))
            if cell is None:
                tds.append('<td class="cell empty">not tested</td>')
                continue
            colour, label = _cell_colour(cell)
            detail = (
                f"{operation} as {role}: expected {cell['expected']} "
                f"{cell['expected_statuses']}, observed {cell['observed']}"
                + (f" ({cell['observed_error_id']})" if cell.get("observed_error_id") else "")
                + f"; {cell['verdict']}"
                + (f". {cell['note']}" if cell.get("note") else "")
            )
            tds.append(
                f'<td class="cell" style="background:{colour}" title="{_e(detail)}" '
                f'data-detail="{_e(detail)}" data-verdict="{_e(cell["verdict"])}">'
                f"{_e(label)}<br>{_e(cell['observed'] if cell['observed'] is not None else '—')}"
                "</td>"
            )
        rows.append("<tr>" + "".join(tds) + "</tr>")
    legend = (
        '<div class="legend"><span><i style="background:#2e9b4f"></i>allowed</span>'
        '<span><i style="background:#546e7a"></i>denied as expected</span>'
        '<span><i style="background:#d32f2f"></i>failed</span>'
        '<span><i style="background:#bdbdbd"></i>not tested</span></div>'
    )
    return (
        "<h2>Permission matrix</h2>"
        "<p>Each cell: what the role got for the operation (status observed). "
        "Hover or click a cell for the expectation.</p>"
        f'{legend}<table class="grid" id="matrix"><thead><tr><th>operation</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        '<div id="cell-detail">Click a cell to see expected and observed.</div>'
    )


def _requirements(rows: Sequence[Mapping[str, Any]]) -> str:
    body = "".join(
        f'<tr><td class="mono">{_e(r["id"])}</td><td>{_e(r["must"])}</td>'
        f"<td>{_badge(r['status'])}</td><td>{r['tests']}</td>"
        f"<td>{'<br>'.join(_e(reason) for reason in r['reasons'])}</td></tr>"
        for r in rows
    )
    return (
        '<table id="requirements"><thead><tr><th>id</th><th>requirement</th><th>status</th>'
        f"<th>tests</th><th>reasons</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _operations(rows: Sequence[Mapping[str, Any]]) -> str:
    categories = ("contract", "permissions", "scenarios", "clients")
    head = "".join(f"<th>{c}</th>" for c in categories)
    body = []
    for row in rows:
        cells = []
        for category in categories:
            entry = row["categories"].get(category)
            cells.append(
                f"<td>{_badge(entry['status'])} {entry['tests']}</td>" if entry else "<td>—</td>"
            )
        errata = ", ".join(e["id"] for e in row["errata"] if e["skips"] or e["also_accepts"])
        note = f"<br><small>{_e(row['not_applicable'])}</small>" if row["not_applicable"] else ""
        body.append(
            f'<tr><td class="mono">{_e(row["operation"])}{note}</td>'
            f'<td class="mono">{_e(row["method"])} {_e(row["path"])}</td>'
            f"<td>{_badge(row['status'])}</td>{''.join(cells)}<td><small>{_e(errata)}</small></td>"
            "</tr>"
        )
    return (
        '<table id="operations"><thead><tr><th>operation</th><th>route</th><th>status</th>'
        f"{head}<th>errata applied</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _failures(failures: Sequence[Mapping[str, Any]]) -> str:
    if not failures:
        return "<h2>Failures</h2><p>None.</p>"
    items = []
    for failure in failures:
        about = ", ".join(failure["operations"] + failure["roles"] + failure["requirements"])
        items.append(
            f"<details open><summary>{_badge(failure['outcome'])} "
            f'<span class="mono">{_e(failure["nodeid"])}</span></summary>'
            f"<div><small>{_e(about)}</small></div><pre>{_e(failure['message'])}</pre></details>"
        )
    return f'<h2>Failures ({len(failures)})</h2><div id="failures">{"".join(items)}</div>'


def _deselected(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    items = "".join(
        f'<li><span class="mono">{_e(r["nodeid"])}</span>: {_e(r["reason"])}</li>' for r in rows
    )
    return (
        f"<h2>Not run against this target ({len(rows)})</h2>"
        f"<details><summary>show</summary><ul>{items}</ul></details>"
    )


def _selftest(selftest: Mapping[str, Any] | None) -> str:
    if not selftest:
        return ""
    return (
        "<h2>The suite's own mutation score</h2>"
        f"<p>{selftest['killed']} of {selftest['total']} deliberate faults caught "
        f"({selftest['score'] * 100:.1f}%), {selftest['benign_failures']} false alarms on "
        f"correct variants.</p><pre>{_e(json.dumps(selftest, indent=2))}</pre>"
    )
