"""The tolerance policy of spec/README.md: where real servers are more lenient than the seed, the
contract accepts both the lenient answer and the seed's stricter one, and the README lists every
such place."""

from __future__ import annotations

import re

import pytest

from mmconform._version import Version
from mmconform.contract import Contract, load_contract
from tests.spec._helpers import README

ACCEPTING = {"accept-real", "version-dependent"}
ROW = re.compile(r"^\| `(\w+)` \| (.+?) \| (\d{3})(?: (.+?))? \| `([a-z0-9-]+)` \|$", re.MULTILINE)
# Versions at which the lenient answer may be given, to find each erratum's exemptions.
PROBE_VERSIONS = (None, Version(7, 0, 0), Version(9, 5, 0), Version(10, 11, 0), Version(11, 10, 0))


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def _table() -> list[tuple[str, str, str, str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Tolerance policy", 1)[1].split("\nErrata ids", 1)[0]
    rows = [
        (op, real, status, form or "", erratum)
        for op, real, status, form, erratum in ROW.findall(section)
    ]
    assert rows, "spec/README.md has no tolerance table"
    return rows


def _lenient_exemptions(contract: Contract) -> set[tuple[str, str]]:
    """(operation, erratum) for every accepting erratum that, on some version, lets the
    operation accept input the seed's schema calls invalid."""
    found = set()
    for erratum in contract.errata:
        if erratum.decision not in ACCEPTING:
            continue
        if not any(
            "negative_data_rejection" in erratum.effects_for(version).skip_checks
            for version in PROBE_VERSIONS
        ):
            continue
        for op_id in erratum.operations:
            found.add((op_id, erratum.id))
    return found


def test_every_row_names_an_accepting_erratum_of_its_operation(contract: Contract) -> None:
    for op_id, _, _, _, erratum_id in _table():
        erratum = contract.erratum(erratum_id)
        assert erratum.applies_to_operation(op_id), (op_id, erratum_id)
        assert erratum.decision in ACCEPTING, (op_id, erratum_id)


def test_the_stricter_answer_is_documented(contract: Contract) -> None:
    for op_id, _, status, form, _ in _table():
        assert status in contract.documented_statuses(op_id), (op_id, status)
        media = contract.response_media_types(op_id, status)
        assert "application/json" in media, (op_id, status)
        schema = contract.response_schema(op_id, status)
        assert schema is not None, op_id
        assert {"id", "message"} <= set(schema.get("required", [])), op_id
        if "AppError" in form:
            # the real answer is another form of the same status: both must be documented
            assert len(media) > 1, (op_id, media)


def test_the_lenient_answer_passes_where_input_is_refused_by_the_seed(
    contract: Contract,
) -> None:
    for op_id, _, _, form, erratum_id in _table():
        if "AppError" in form:
            continue  # a content-type difference, not lenient input
        assert (op_id, erratum_id) in _lenient_exemptions(contract), (op_id, erratum_id)


def test_every_lenient_operation_is_in_the_table(contract: Contract) -> None:
    listed = {(op_id, erratum_id) for op_id, _, _, _, erratum_id in _table()}
    missing = sorted(_lenient_exemptions(contract) - listed)
    assert not missing, f"accepting errata exempt these without a tolerance row: {missing}"


def test_the_seeds_promise_for_post_log_is_a_400(contract: Contract) -> None:
    """The policy's own example: a server rejecting a malformed POST /logs body is conformant."""
    assert "400" in contract.documented_statuses("PostLog")
    assert "negative_data_rejection" in contract.exempt_checks("PostLog", None)
