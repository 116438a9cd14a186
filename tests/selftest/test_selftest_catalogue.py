"""The catalogue holds enough faults, on every operation and area, and a sample that touches
every area."""

from __future__ import annotations

from collections import Counter

import pytest

from mmconform.contract import load_contract
from mmconform.proxy import MUTATIONS
from mmconform.selftest import AREAS, Mutant, _catalogue, build_catalogue, sample
from mmconform.stub import Fault, Variant

CONTRACT = load_contract()
CATALOGUE = build_catalogue(CONTRACT)
FAULTS = [m for m in CATALOGUE if m.kind == "fault"]
NAMED_FAULTS = [m for m in FAULTS if m.source in ("stub", "proxy")]


def test_catalogue_has_at_least_eighty_named_faults_besides_the_matrix_cells() -> None:
    assert len(NAMED_FAULTS) >= 80, Counter(m.source for m in NAMED_FAULTS)


def test_every_operation_of_the_contract_has_a_named_fault() -> None:
    touched = {op for m in NAMED_FAULTS for op in m.operations}
    every = {op.operation_id for op in CONTRACT.operations}
    assert every - touched == set()


def test_every_area_but_benign_has_a_fault_and_only_benign_mutants_are_in_benign() -> None:
    areas = {m.area for m in FAULTS}
    assert set(AREAS) - {"benign"} <= areas
    assert all(m.kind == "benign" for m in CATALOGUE if m.area == "benign")


def test_every_stub_fault_proxy_mutation_and_variant_is_in_the_catalogue_once() -> None:
    keys = Counter(m.key for m in CATALOGUE)
    assert max(keys.values()) == 1
    assert {f"stub:{f.name}" for f in Fault} <= set(keys)
    assert {f"proxy:{name}" for name in MUTATIONS} <= set(keys)
    assert {f"variant:{v.value}" for v in Variant} <= set(keys)


def test_operations_named_by_mutants_are_operations_of_the_contract() -> None:
    every = {op.operation_id for op in CONTRACT.operations}
    unknown = {(m.key, op) for m in CATALOGUE for op in m.operations if op not in every}
    assert unknown == set()


def test_every_matrix_cell_is_flipped_once_against_its_expectation() -> None:
    cells = [m for m in FAULTS if m.source == "cell"]
    assert len(cells) == len({(m.operations, m.name.split(":")[2]) for m in cells})
    assert len(cells) >= 39 * 6
    deny = next(m for m in cells if m.name == "deny:GetPing:system_user")
    grant = next(m for m in cells if m.name == "grant:GetLogs:system_user")
    assert (deny.kind, grant.kind) == ("fault", "fault")


def test_benign_mutants_include_the_stricter_variants_and_the_proxy_changes_of_form() -> None:
    benign = {m.key for m in CATALOGUE if m.kind == "benign"}
    assert {"proxy:reorder-keys", "proxy:gzip", "proxy:chunked", "variant:strict-postlog"} <= benign


def test_sample_touches_every_area_and_source_and_stays_small() -> None:
    picked = sample(CATALOGUE)
    assert {m.area for m in picked} == {m.area for m in CATALOGUE}
    assert {m.source for m in picked} == {"stub", "cell", "proxy", "variant"}
    assert {m.name.split(":")[0] for m in picked if m.source == "cell"} == {"grant", "deny"}
    assert len(picked) <= 40


def test_catalogue_refuses_a_duplicate_key(monkeypatch: pytest.MonkeyPatch) -> None:
    twice = Mutant("stub:X", "fault", "stub", "X", "busy", (), "x")
    monkeypatch.setattr(_catalogue, "_stub_faults", lambda: [twice, twice])
    with pytest.raises(ValueError, match="not unique: stub:X"):
        build_catalogue(CONTRACT)


def test_catalogue_refuses_an_unknown_area(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = Mutant("stub:Y", "fault", "stub", "Y", "weather", (), "y")
    monkeypatch.setattr(_catalogue, "_stub_faults", lambda: [odd])
    with pytest.raises(ValueError, match="unknown areas: weather"):
        build_catalogue(CONTRACT)
