"""What a comparison sends: the contract's generated cases, the same in any program, without
credentials or test-case ids, once each; which operations, in which order, as whom."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mmconform.contract import load_contract
from mmconform.diff._case_cache import cached_requests
from mmconform.diff._cases import STRIPPED_HEADERS, Generation, generate_requests
from mmconform.diff._plan import (
    EVERYTHING_ELSE,
    common_callers,
    plan_operations,
    read_pass,
    tier_of,
)
from mmconform.diff._sides import SideFacts
from tests.diff._helpers import ROOT

OPERATIONS = ("GetPing", "UploadLicenseFile", "PostLog", "GetRedirectLocation")
#: where Hypothesis' constants showed (query strings), and a body
CHILD_OPERATIONS = ("PostLog", "GetRedirectLocation")
_KEYS_IN_A_CHILD = """
import json, sys
from mmconform.contract import load_contract
from mmconform.diff._cases import Generation, generate_requests
made = generate_requests(load_contract(), sys.argv[1].split(","), Generation(max_examples=3))
print(json.dumps({op: [r.key for r in requests] for op, requests in made.items()}))
"""


def _keys(generation: Generation | None = None) -> dict[str, list[str]]:
    made = generate_requests(load_contract(), OPERATIONS, generation or Generation(max_examples=5))
    return {op: [request.key for request in requests] for op, requests in made.items()}


def test_the_same_cases_are_generated_in_any_program() -> None:
    """Same seed, same cases: here (a pytest run with many modules loaded) and in a bare child
    process, although Hypothesis draws constants from the source of the modules loaded."""
    here = {
        op: keys for op, keys in _keys(Generation(max_examples=3)).items() if op in CHILD_OPERATIONS
    }
    child = subprocess.run(
        [sys.executable, "-c", _KEYS_IN_A_CHILD, ",".join(CHILD_OPERATIONS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert json.loads(child.stdout) == here
    assert all(here[op] for op in CHILD_OPERATIONS)


def test_another_seed_gives_other_cases() -> None:
    assert _keys(Generation(seed=1, max_examples=5)) != _keys()


def test_generated_requests_carry_no_credentials_nor_test_case_id_and_are_sent_once() -> None:
    made = generate_requests(load_contract(), OPERATIONS, Generation(max_examples=5))
    requests = [request for batch in made.values() for request in batch]
    assert len({request.key for request in requests}) == len(requests)
    for request in requests:
        names = {name.lower() for name, _ in request.headers}
        assert not names & STRIPPED_HEADERS, request
        assert request.origin.split(":")[0] in ("examples", "coverage", "fuzzing")
    uploads = [r for r in made["UploadLicenseFile"] if r.body and b"form-data" in r.body]
    assert uploads
    for upload in uploads:
        assert b"mmconform-diff-boundary" in (upload.body or b"")
    assert any(request.method not in ("GET",) for request in made["GetPing"]), (
        "the coverage phase sends the methods a path does not declare"
    )


def test_a_large_body_is_thinned_by_section_by_default() -> None:
    contract = load_contract()
    counts = {
        mode: len(
            generate_requests(
                contract, ("TestEmail",), Generation(max_examples=0, large_bodies=mode)
            )["TestEmail"]
        )
        for mode in ("section", "target")
    }
    assert 30 < counts["section"] < 150
    assert counts["target"] > 4 * counts["section"]


def test_generated_cases_are_kept_for_the_next_run(tmp_path: Path) -> None:
    contract = load_contract()
    generation = Generation(max_examples=3)
    first = list(cached_requests(contract, ("GetPing",), generation, folder=tmp_path))
    (kept,) = tmp_path.iterdir()
    again = list(cached_requests(contract, ("GetPing",), generation, folder=tmp_path))
    assert again == first
    other = list(
        cached_requests(contract, ("GetPing",), Generation(max_examples=4), folder=tmp_path)
    )
    assert len(list(tmp_path.iterdir())) == 2
    assert other != first
    kept.write_text("not json", encoding="utf-8")
    assert list(cached_requests(contract, ("GetPing",), generation, folder=tmp_path)) == first


def _facts(version: str, *callers: str) -> SideFacts:
    return SideFacts(version, "enterprise", False, callers)


def test_destructive_operations_are_sent_only_when_allowed() -> None:
    contract = load_contract()
    sides = [_facts("11.1.0")]
    safe = plan_operations(contract, sides)
    everything = plan_operations(contract, sides, allow_destructive=True)
    destructive = {op.operation_id for op in contract.operations if op.destructive}
    assert not destructive & set(safe.operations)
    assert destructive <= set(everything.operations)
    assert all("--allow-destructive" in safe.skipped[op] for op in destructive)
    assert "RequestLicenseRenewalLink" in everything.skipped  # no side has it (removed in 9.2)
    older = plan_operations(contract, [_facts("9.1.0"), _facts("11.1.0")])
    assert "RequestLicenseRenewalLink" in older.operations  # one side has it


def test_what_changes_everything_else_goes_last_and_the_restart_at_the_very_end() -> None:
    contract = load_contract()
    plan = plan_operations(contract, [_facts("11.1.0")], allow_destructive=True)
    tiers = [tier_of(contract.operation(op)) for op in plan.operations]
    assert tiers == sorted(tiers)
    assert plan.operations[-1] == "RestartServer"
    first_config = plan.operations.index("UpdateConfig")
    assert plan.operations.index("UploadLicenseFile") < first_config
    assert all(tier[0] == 2 for tier in tiers[first_config:])
    assert EVERYTHING_ELSE[-1] == "server_process"


def test_a_read_pass_reads_every_get_operation_that_changes_nothing() -> None:
    contract = load_contract()
    plan = plan_operations(contract, [_facts("11.1.0")], allow_destructive=True)
    reads = read_pass(contract, plan, "ClearServerBusy")
    operations = [request.operation for request in reads]
    assert "GetServerBusyExpires" in operations
    assert "GetClientLicense" in operations
    assert "SetServerBusy" not in operations
    assert all(contract.operation(op).method == "GET" for op in operations)
    assert all(request.origin == "read pass after ClearServerBusy" for request in reads)
    notices = next(request for request in reads if request.operation == "GetNotices")
    assert notices.target.startswith("/api/v4/system/notices/mmconformnoticeteam0000000?")


def test_the_callers_are_those_both_sides_can_be_asked_as() -> None:
    full = _facts("11.1.0", "system_admin", "system_user", "anonymous", "local")
    partial = _facts("11.1.0", "system_user", "anonymous")
    assert common_callers(full, partial) == ("system_user", "anonymous")
