"""The requirements catalogue (``spec/requirements.yaml``): what a correct server MUST do beyond
what a schema can say, each promise with an id that the tests proving it cite
(``@pytest.mark.mm_requirement("busy.expires")``), and that the reports list results by.

Every entry has an id (``area.name``), one MUST sentence, the operations it concerns, the
versions and editions it applies to, the optional features it needs, and its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from mmconform._version import Version
from mmconform.contract._vocabulary import ALL_OPERATIONS, ContractError

__all__ = [
    "EDITIONS",
    "FEATURES",
    "Requirement",
    "parse_requirements",
    "render_requirements",
]

REQUIREMENTS_FILE: Final = "requirements.yaml"
#: Builds a requirement may be limited to.
EDITIONS: Final = ("enterprise", "team")
#: Optional capabilities of a target; a target file claims the ones it has.
FEATURES: Final = frozenset(
    {
        "license",
        "local_mode",
        "smtp",
        "s3",
        "push_proxy",
        "enterprise_upgrade",
        "developer_mode",
        "restart",
    }
)
_ID: Final = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$")
_KEYS: Final = frozenset(
    {"id", "must", "operations", "from", "below", "editions", "features", "source"}
)


@dataclass(frozen=True)
class Requirement:
    """One promise a correct server keeps."""

    id: str
    must: str
    operations: tuple[str, ...]
    source: str
    from_version: Version | None = None
    below: Version | None = None
    editions: tuple[str, ...] = EDITIONS
    features: tuple[str, ...] = ()

    def concerns(self, operation_id: str) -> bool:
        return ALL_OPERATIONS in self.operations or operation_id in self.operations

    @property
    def area(self) -> str:
        """The part of the id before the first dot (``busy`` for ``busy.expires``)."""
        return self.id.split(".", 1)[0]

    def applies_to(self, version: Version | None, edition: str | None) -> str | None:
        """Why the requirement does not apply to such a server, or None when it does (an
        unknown version or edition is given the benefit of the doubt)."""
        if version is not None:
            if self.from_version is not None and version < self.from_version:
                return (
                    f"requirement {self.id} applies from {self.from_version}; target is {version}"
                )
            if self.below is not None and version >= self.below:
                return f"requirement {self.id} applies below {self.below}; target is {version}"
        if edition is not None and edition not in self.editions:
            return (
                f"requirement {self.id} applies to {' and '.join(self.editions)} builds; "
                f"target is a {edition} build"
            )
        return None

    @property
    def versions_text(self) -> str:
        if self.from_version and self.below:
            return f"{self.from_version} to {self.below} (excluded)"
        if self.from_version:
            return f"{self.from_version} and later"
        if self.below:
            return f"before {self.below}"
        return "all"


def parse_requirements(
    raw: Any, path: Path, operation_ids: Iterable[str]
) -> tuple[Requirement, ...]:
    """Check the catalogue's entries and build them (ContractError naming entry and field)."""
    known_ops = frozenset(operation_ids)
    entries = raw.get("requirements") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ContractError(f"{path}: expected a mapping with a list 'requirements'")
    seen: set[str] = set()
    out = []
    for index, entry in enumerate(entries):
        where = f"{path}: requirements[{index}]"
        if not isinstance(entry, dict):
            raise ContractError(f"{where}: not a mapping")
        if isinstance(entry.get("id"), str):
            where = f"{path}: requirement {entry['id']}"
        out.append(_requirement(entry, where, known_ops, seen))
    return tuple(out)


def _requirement(
    entry: Mapping[str, Any], where: str, known_ops: frozenset[str], seen: set[str]
) -> Requirement:
    unknown = set(entry) - _KEYS
    if unknown:
        raise ContractError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key in ("id", "must", "operations", "source"):
        if key not in entry:
            raise ContractError(f"{where}: missing field {key!r}")
    req_id, must, source = entry["id"], entry["must"], entry["source"]
    if not isinstance(req_id, str) or not _ID.match(req_id):
        raise ContractError(f"{where}: id must look like 'area.name' (lower case, dotted)")
    if req_id in seen:
        raise ContractError(f"{where}: duplicate id")
    seen.add(req_id)
    if not isinstance(must, str) or "MUST" not in must:
        raise ContractError(f"{where}: 'must' must be one sentence saying what the server MUST do")
    if not isinstance(source, str) or not source.strip():
        raise ContractError(f"{where}: 'source' must say where the requirement comes from")
    operations = entry["operations"]
    if not isinstance(operations, list) or not operations:
        raise ContractError(f"{where}: 'operations' must be a non-empty list of operationIds")
    bad = sorted(set(map(str, operations)) - known_ops - {ALL_OPERATIONS})
    if bad:
        raise ContractError(f"{where}: unknown operationId(s) {bad}")
    editions = entry.get("editions", list(EDITIONS))
    if not isinstance(editions, list) or not editions or not set(editions) <= set(EDITIONS):
        raise ContractError(f"{where}: 'editions' must be a non-empty list from {list(EDITIONS)}")
    features = entry.get("features", [])
    if not isinstance(features, list) or not set(features) <= FEATURES:
        raise ContractError(f"{where}: 'features' must be a list from {sorted(FEATURES)}")
    lower, upper = (
        _version(entry.get("from"), where, "from"),
        _version(entry.get("below"), where, "below"),
    )
    if lower and upper and upper <= lower:
        raise ContractError(f"{where}: 'below' must be after 'from'")
    return Requirement(
        id=req_id,
        must=" ".join(must.split()),
        operations=tuple(operations),
        source=" ".join(source.split()),
        from_version=lower,
        below=upper,
        editions=tuple(editions),
        features=tuple(features),
    )


def _version(value: Any, where: str, key: str) -> Version | None:
    if value is None:
        return None
    try:
        return Version.parse(str(value))
    except ValueError as exc:
        raise ContractError(f"{where}: {key!r}: {exc}") from None


def render_requirements(requirements: Iterable[Requirement]) -> str:
    """``docs/requirements.md``: the catalogue as a page, grouped by area."""
    by_area: dict[str, list[Requirement]] = {}
    for requirement in requirements:
        by_area.setdefault(requirement.area, []).append(requirement)
    lines = [
        "# Requirements",
        "",
        "What a correct server MUST do beyond what its schema says. Each requirement is proved by",
        "the tests that cite its id (`@pytest.mark.mm_requirement(...)`), and the reports give a",
        "result per requirement.",
        "",
        "This page is generated from `spec/requirements.yaml`:",
        "`python -m mmconform.contract requirements > docs/requirements.md`.",
        "",
    ]
    total = sum(len(group) for group in by_area.values())
    lines += [f"{total} requirements in {len(by_area)} areas.", ""]
    for area in sorted(by_area):
        lines += [f"## {area}", "", "| id | requirement | operations | applies to | source |"]
        lines.append("|---|---|---|---|---|")
        for req in sorted(by_area[area], key=lambda r: r.id):
            applies = req.versions_text
            if set(req.editions) != set(EDITIONS):
                applies += f"; {', '.join(req.editions)} builds"
            if req.features:
                applies += f"; needs {', '.join(req.features)}"
            operations = (
                "every operation" if ALL_OPERATIONS in req.operations else ", ".join(req.operations)
            )
            cells = [f"`{req.id}`", req.must, operations, applies, req.source]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)
