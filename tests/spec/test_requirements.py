"""spec/requirements.yaml: well formed, pointing at real operations, and shown in
docs/requirements.md exactly as generated."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform.contract import (
    ContractError,
    Version,
    load_contract,
    render_requirements,
)
from tests.spec._helpers import REPO, copy_spec, edit_yaml

REQUIREMENTS = REPO / "spec" / "requirements.yaml"


def test_the_catalogue_loads_and_every_entry_says_what_must_hold() -> None:
    requirements = load_contract().requirements
    assert requirements
    for requirement in requirements:
        assert "MUST" in requirement.must
        assert requirement.source
        assert requirement.operations


def test_docs_requirements_md_is_generated_from_the_catalogue() -> None:
    page = (REPO / "docs" / "requirements.md").read_text(encoding="utf-8")
    assert page == render_requirements(load_contract().requirements), (
        "docs/requirements.md is stale: run "
        "`python -m mmconform.contract requirements > docs/requirements.md`"
    )


def test_applicability_by_version_and_edition() -> None:
    from mmconform.contract import Requirement

    req = Requirement(
        id="x.y",
        must="It MUST.",
        operations=("GetPing",),
        source="s",
        from_version=Version(10, 1, 0),
        below=Version(11, 0, 0),
        editions=("enterprise",),
    )
    assert req.applies_to(Version(10, 5, 0), "enterprise") is None
    assert "applies from 10.1.0" in str(req.applies_to(Version(9, 5, 0), None))
    assert "applies below 11.0.0" in str(req.applies_to(Version(11, 1, 0), None))
    assert "team build" in str(req.applies_to(Version(10, 5, 0), "team"))
    assert req.applies_to(None, None) is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("- id: auth.token-accepted", "- id: Auth Token", "id must look like 'area.name'"),
        ("operations: [GetSupportedTimezone]", "operations: [NoSuchOp]", "unknown operationId"),
        ("features: [local_mode]", "features: [teleport]", "'features' must be a list from"),
        (
            "    source: behaviour.md 1.1 (token parsing)",
            "    source: behaviour.md 1.1 (token parsing)\n    from: soon",
            "'from'",
        ),
        (
            "    source: behaviour.md 1.1 (token parsing)",
            "    source: behaviour.md 1.1 (token parsing)\n    colour: blue",
            "unknown field(s) ['colour']",
        ),
    ],
)
def test_malformed_entries_are_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    spec = copy_spec(tmp_path)
    edit_yaml(spec / "requirements.yaml", old, new)
    with pytest.raises(ContractError) as info:
        load_contract(spec)
    assert message in str(info.value)


def test_a_requirement_without_must_is_refused(tmp_path: Path) -> None:
    spec = copy_spec(tmp_path)
    edit_yaml(
        spec / "requirements.yaml",
        "A valid personal access or session token sent as a bearer token MUST be accepted.",
        "A valid token is accepted.",
    )
    with pytest.raises(ContractError, match=r"requirement auth\.token-accepted: 'must'"):
        load_contract(spec)
