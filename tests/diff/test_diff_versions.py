"""The stub at one version against the stub at the next one (the version matrix of
tests/suite_validation/test_validation_versions.py), and a Team Edition build against an
Enterprise one: every difference is explained by the contract, and the comparison exits 0.

By default one version pair and the editions run, with every operation (destructive ones too:
the stubs are disposable), the schema's examples and the coverage phase (one case per scenario
on a config body, no fuzzing cases);
``MMCONFORM_FULL_VERSION_MATRIX=1`` runs every adjacent pair. ``benchmarks/diff_versions.py``
runs the whole matrix with the default generation.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from mmconform.diff._cases import Generation
from mmconform.diff._report import verdict_of
from mmconform.diff._sequences import SEQUENCES
from mmconform.stub import StubOptions
from tests.diff._helpers import NEWEST, VERSIONS, compare, describe, options, stubs

#: the schema's examples and coverage phase, one coverage case per scenario on a config body
QUICK = Generation(max_examples=0, large_bodies="scenario")

FULL = os.environ.get("MMCONFORM_FULL_VERSION_MATRIX") == "1"
DEFAULT_PAIRS = {("10.11.0", "11.0.0")}


def _pairs() -> list[object]:
    params: list[object] = []
    for older, newer in itertools.pairwise(VERSIONS):
        marks = []
        if not FULL and (older, newer) not in DEFAULT_PAIRS:
            marks.append(
                pytest.mark.skip(reason="full version matrix: MMCONFORM_FULL_VERSION_MATRIX=1")
            )
        params.append(pytest.param(older, newer, id=f"{older}-{newer}", marks=marks))
    return params


@pytest.mark.parametrize(("older", "newer"), _pairs())
def test_adjacent_versions_differ_only_as_the_contract_explains(
    tmp_path: Path, case_cache: Path, older: str, newer: str
) -> None:
    with stubs(tmp_path, StubOptions(server_version=older), StubOptions(server_version=newer)):
        result = compare(
            tmp_path,
            options(allow_destructive=True, case_cache=case_cache, generation=QUICK),
        )
    assert not result.unexplained, describe(result.groups)
    assert verdict_of(result)[1] == 0
    assert {"busy-expires", "restrict-system-admin", "reload-keeps-saved"} <= set(
        result.sequences
    ), result.sequences_skipped
    assert result.baseline.server_version == older
    assert result.candidate.server_version == newer
    assert len(result.callers) == 7
    if (older, newer) == ("10.11.0", "11.0.0"):
        sources = {e.source for g in result.groups for e in g.explanations.values()}
        assert "erratum client-config-format" in sources, describe(result.groups)
        assert "x-mm-min-version (IsAllowedToUpgradeToEnterprise)" in sources


def test_team_and_enterprise_builds_differ_only_as_the_contract_explains(
    tmp_path: Path, case_cache: Path
) -> None:
    with stubs(
        tmp_path,
        StubOptions(server_version=NEWEST, edition="enterprise"),
        StubOptions(server_version=NEWEST, edition="team"),
    ):
        result = compare(
            tmp_path,
            options(allow_destructive=True, case_cache=case_cache, generation=QUICK),
        )
    assert result.groups, "a Team Edition build answers the trial and upgrade operations otherwise"
    assert not result.unexplained, describe(result.groups)
    assert len(result.sequences) == len(SEQUENCES), result.sequences_skipped
    explained = {g.operation: {e.source for e in g.explanations.values()} for g in result.groups}
    for operation in (
        "RequestTrialLicense",
        "GetPrevTrialLicense",
        "IsAllowedToUpgradeToEnterprise",
        "UpgradeToEnterprise",
    ):
        assert f"x-mm-edition-gates ({operation})" in explained.get(operation, set()), explained
