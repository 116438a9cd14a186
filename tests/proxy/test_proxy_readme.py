"""The README's catalogue table is MUTATIONS, row for row."""

from __future__ import annotations

import re
from pathlib import Path

from mmconform.contract import load_contract
from mmconform.proxy import MUTATIONS, Mutation

README = Path(__file__).resolve().parents[2] / "mmconform" / "proxy" / "README.md"


def _operations_cell(mutation: Mutation) -> str:
    """`all`, the operations, or (for most of them) `all but` the ones left out."""
    if not mutation.operations:
        return "all"
    every = [op.operation_id for op in load_contract().operations]
    if len(mutation.operations) > len(every) // 2:
        left_out = [op for op in every if op not in mutation.operations]
        return "all but " + ", ".join(f"`{op}`" for op in left_out)
    return ", ".join(f"`{op}`" for op in mutation.operations)


def test_readme_catalogue_is_mutations() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Catalogue", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| ([\w-]+) \| (.+?) \| (.+?) \|$", table, re.M)
    assert rows == [
        (m.name, m.kind, m.area, _operations_cell(m), m.description) for m in MUTATIONS.values()
    ]
