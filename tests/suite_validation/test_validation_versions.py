"""The conformance suites pass against a correct server of every version they claim to support.

Each case starts the stub imitating one Mattermost version in one edition (Team Edition, or
Enterprise with the project's test license), runs the suites against it in a separate pytest
process (as a user would: ``pytest --target-file``, destructive operations allowed since the stub
is disposable), and checks that the run passes and that exactly the tests the contract says this
version cannot run are deselected, each for the right reason.

By default only the newest version (Enterprise, licensed) and one old one (8.1, Team Edition)
run, so the project's own test run stays fast; ``MMCONFORM_FULL_VERSION_MATRIX=1`` (``tox -e
versions``) runs the whole matrix.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from mmconform._version import Version
from mmconform.contract import SUPPORTED_VERSIONS, Contract, load_contract
from mmconform.stub import DEFAULT_SERVER_VERSION, StubOptions, start_stub
from tests._faithful import EDITION as SHARED_EDITION
from tests._faithful import GROUP, GateRun
from tests._faithful import VERSION as SHARED_VERSION
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
LICENSE = ROOT / "fixtures" / "licenses" / "valid.mattermost-license"
CONTRACT = "suites/contract/test_contract.py"
FULL = os.environ.get("MMCONFORM_FULL_VERSION_MATRIX") == "1"

NEWEST = DEFAULT_SERVER_VERSION
VERSIONS = SUPPORTED_VERSIONS
EDITIONS = ("team", "enterprise")
DEFAULT_CASES = {(NEWEST, "enterprise"), ("8.1.0", "team")}

_DESELECTED = re.compile(r"^(suites/\S+?(?:\[[^\]]*\])?): (.+)$")
_SUMMARY = re.compile(r"^=*\s*(\d+ \w+(?:, \d+ \w+)*) in [\d.]+s", re.MULTILINE)


def _cases() -> list[object]:
    params: list[object] = []
    for version in VERSIONS:
        for edition in EDITIONS:
            marks = []
            if not FULL and (version, edition) not in DEFAULT_CASES:
                marks.append(
                    pytest.mark.skip(reason="full version matrix: MMCONFORM_FULL_VERSION_MATRIX=1")
                )
            if (version, edition) == (SHARED_VERSION, SHARED_EDITION):
                # read from the shared run of the whole gate (one worker makes it)
                marks.append(pytest.mark.xdist_group(GROUP))
            params.append(pytest.param(version, edition, id=f"{version}-{edition}", marks=marks))
    return params


def expected_deselections(contract: Contract, version: Version) -> dict[str, str]:
    """nodeid -> the annotation its deselection must name, from the contract alone."""
    expected: dict[str, str] = {}
    unavailable: set[str] = set()
    for op in contract.operations:
        label = f"{CONTRACT}::test_operation[{op.method} {op.path}]"
        if op.min_version is not None and version < op.min_version:
            why = "x-mm-min-version"
        elif op.removed_in is not None and version >= op.removed_in:
            why = "x-mm-removed-in"
        else:
            if op.auth == "local-only":
                expected[label] = "x-mm-auth local-only"
            continue
        unavailable.add(op.operation_id)
        expected[label] = why
        if op.auth == "session":
            expected[f"{CONTRACT}::test_session_required[{op.operation_id}]"] = why
        if op.auth != "local-only":
            expected[f"{CONTRACT}::test_undeclared_methods_refused[{op.path}]"] = why
    for family in contract.link_families():
        if unavailable & set(family):
            expected[f"{CONTRACT}::test_stateful_links[{'+'.join(family)}]"] = "x-mm-"
    return expected


def _deselections(output: str) -> dict[str, str]:
    section = output.split(" deselected ---", 1)
    if len(section) == 1:
        return {}
    found: dict[str, str] = {}
    for line in section[1].splitlines()[1:]:
        match = _DESELECTED.match(line)
        if match is None:
            break
        found[match.group(1)] = match.group(2)
    return found


def _counts(output: str) -> dict[str, int]:
    summary = [m.group(1) for m in _SUMMARY.finditer(output)]
    assert summary, output[-3000:]
    counts: dict[str, int] = {}
    for part in summary[-1].split(", "):
        number, _, word = part.partition(" ")
        counts[word] = int(number)
    return counts


def _assert_deselected_by_version(
    contract: Contract, version: Version, nodeid: str, reason: str, edition: str
) -> None:
    """A test of another suite may be deselected only because an operation it names is not
    on a server of this version (or a requirement it cites does not apply to this version or
    edition)."""
    if f"target is a {edition} build" in reason:
        return
    assert f"target is {version}" in reason, (nodeid, reason)
    op_id = reason.split(" ", 1)[0]
    if op_id in {op.operation_id for op in contract.operations}:
        assert contract.operation(op_id).unavailability(version) is not None, (nodeid, reason)


def _run_gate(tmp_path: Path, version: str, edition: str) -> tuple[int, str]:
    options = StubOptions(
        server_version=version,
        edition="team" if edition == "team" else "enterprise",
        license_file=LICENSE if edition == "enterprise" else None,
    )
    with start_stub(options) as stub:
        target = tmp_path / "target.toml"
        stub.write_target(target)
        result = run_pytest(
            ROOT,
            "-p",
            "no:randomly",
            "-q",
            "--no-header",
            "-rfE",
            f"--target-file={target}",
            "--allow-destructive",
            timeout=900,
        )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(("version", "edition"), _cases())
def test_suites_pass_against_a_correct_server(
    tmp_path: Path, version: str, edition: str, request: pytest.FixtureRequest
) -> None:
    started = time.monotonic()
    if (version, edition) == (SHARED_VERSION, SHARED_EDITION):
        shared: GateRun = request.getfixturevalue("faithful_gate")
        returncode, output = shared.returncode, shared.output
    else:
        returncode, output = _run_gate(tmp_path, version, edition)
    elapsed = time.monotonic() - started
    assert returncode == 0, output[-8000:]
    counts = _counts(output)
    assert not counts.get("failed"), counts
    assert not counts.get("error"), counts
    everything = _deselections(output)
    contract = load_contract()
    for nodeid, reason in everything.items():
        if not nodeid.startswith(CONTRACT):
            _assert_deselected_by_version(contract, Version.parse(version), nodeid, reason, edition)
    deselected = {k: v for k, v in everything.items() if k.startswith(CONTRACT)}
    expected = expected_deselections(contract, Version.parse(version))
    assert set(deselected) == set(expected), (
        f"deselected but not expected: {sorted(set(deselected) - set(expected))}\n"
        f"expected but not deselected: {sorted(set(expected) - set(deselected))}"
    )
    for nodeid, reason in deselected.items():
        assert expected[nodeid] in reason, (nodeid, reason)
        if "x-mm-auth" not in reason:
            assert f"target is {version}" in reason, (nodeid, reason)
    assert counts.get("deselected", 0) == len(everything), counts
    assert counts["passed"] > 0
    print(
        f"{version} {edition}: {counts['passed']} passed, {counts.get('deselected', 0)} "
        f"deselected, {elapsed:.1f}s"
    )


def test_every_claimed_version_and_edition_is_in_the_matrix() -> None:
    claimed = {"7.0.0", "8.1.0", "9.5.0", "10.3.0", "10.11.0", "11.0.0", NEWEST}
    assert claimed <= set(VERSIONS)
    assert set(EDITIONS) == {"team", "enterprise"}
    matrix = {(v, e) for v in VERSIONS for e in EDITIONS}
    assert matrix >= DEFAULT_CASES
    assert LICENSE.is_file()


def test_expected_deselections_follow_the_contract() -> None:
    contract = load_contract()
    old = expected_deselections(contract, Version(7, 0, 0))
    assert old[f"{CONTRACT}::test_session_required[TestNotification]"] == "x-mm-min-version"
    assert f"{CONTRACT}::test_session_required[RequestLicenseRenewalLink]" not in old
    new = expected_deselections(contract, Version.parse(NEWEST))
    assert new[f"{CONTRACT}::test_session_required[RequestLicenseRenewalLink]"] == (
        "x-mm-removed-in"
    )
    assert f"{CONTRACT}::test_session_required[TestNotification]" not in new
    assert new[f"{CONTRACT}::test_operation[POST /api/v4/integrity]"] == "x-mm-auth local-only"
