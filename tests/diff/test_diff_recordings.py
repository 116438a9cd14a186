"""Comparing a server with itself, with a twin, and with recordings: what is volatile is really
ignored, a recording replays to zero differences, and a fault shows against one."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from mmconform.contract import load_contract
from mmconform.diff import compare_recording, live_target, read_recording
from mmconform.diff._compare import ComparisonRules
from mmconform.diff._exitcodes import EXIT_RECORDING_REFUSED, EXIT_USAGE, DiffProblem
from mmconform.diff._recording import RECORDING_FORMAT_VERSION
from mmconform.diff._run import record_target
from mmconform.diff._sides import CANDIDATE
from mmconform.stub import Fault, StubOptions, start_stub
from tests.diff._helpers import LICENSE, compare, describe, options, stubs

VALUES = ComparisonRules(values=True)
#: One or more operations of every kind of volatile value: build numbers and hashes, telemetry
#: ids, request ids, times, generated ids, listen addresses, socket and file paths, expiry
#: times, a zip's name; and operations that change state (busy, notices, logs, the license)
#: with the ones that read it.
SAMPLE = (
    "GetPing",
    "GetConfig",
    "GetClientConfig",
    "GetClientLicense",
    "UploadLicenseFile",
    "GetAudits",
    "GetLogs",
    "PostLog",
    "GetNotices",
    "MarkNoticesViewed",
    "SetServerBusy",
    "GetServerBusyExpires",
    "ClearServerBusy",
    "GenerateSupportPacket",
    "AcknowledgeNotification",
)
#: Operations whose answers a replay to the very stub that was recorded must repeat (they
#: change nothing, and nothing the comparison sends changes them).
STEADY = ("GetPing", "GetConfig", "GetClientLicense", "GetServerBusyExpires")


def _record(folder: Path, stub_options: StubOptions, name: str, **changes: object) -> Path:
    path = folder / name
    with start_stub(stub_options) as stub:
        stub.write_target(folder / f"{name}.toml")
        record_target(
            load_contract(),
            live_target(str(folder / f"{name}.toml"), CANDIDATE),
            options(**changes),
            record=path,
        )
    return path


def test_a_server_compared_with_itself_has_no_difference(tmp_path: Path) -> None:
    """Both sides are one stub: every volatile value (request ids, times, build numbers) is
    ignored by rule, twice in a row. Values are compared too, except on the two operations
    whose answers list what both sides' requests did to the one server (audits, log lines)."""
    steady = ("GetPing", "GetClientConfig", "GetServerBusyExpires")
    with start_stub(StubOptions()) as stub:
        stub.write_target(tmp_path / "baseline.toml")
        shutil.copy(tmp_path / "baseline.toml", tmp_path / "candidate.toml")
        for _ in range(2):
            shapes = compare(tmp_path, options(operations=(*steady, "GetAudits", "GetLogs")))
            assert not shapes.groups, describe(shapes.groups)
            values = compare(tmp_path, options(operations=steady, rules=VALUES))
            assert not values.groups, describe(values.groups)
            assert values.exchanges > 200


def test_twin_servers_have_no_difference_even_in_values(tmp_path: Path, case_cache: Path) -> None:
    """Two stubs started alike, destructive operations too: listen addresses, socket paths,
    request ids, times and generated ids differ, and none of it counts. (Every operation:
    benchmarks/diff_versions.py --values.)"""
    twin = StubOptions(license_file=LICENSE)
    with stubs(tmp_path, twin, twin):
        result = compare(
            tmp_path,
            options(operations=SAMPLE, allow_destructive=True, rules=VALUES, case_cache=case_cache),
        )
    assert not result.groups, describe(result.groups)
    assert len(result.operations) == len(SAMPLE)


def test_another_runs_recording_replays_with_no_difference(tmp_path: Path) -> None:
    recording = _record(
        tmp_path, StubOptions(), "run-1.jsonl", operations=SAMPLE, allow_destructive=True
    )
    with start_stub(StubOptions()) as fresh:
        fresh.write_target(tmp_path / "fresh.toml")
        result = compare_recording(
            load_contract(),
            read_recording(recording, load_contract()),
            live_target(str(tmp_path / "fresh.toml"), CANDIDATE),
            options(allow_destructive=True, rules=VALUES),
        )
    assert not result.groups, describe(result.groups)
    assert result.exchanges > 1000
    assert {
        item.request.operation
        for item in read_recording(recording, load_contract()).answers
        if item.sequence is None
    } == set(SAMPLE)


def test_a_recording_replayed_to_the_same_stub_has_no_difference(tmp_path: Path) -> None:
    with start_stub(StubOptions()) as stub:
        stub.write_target(tmp_path / "target.toml")
        target = live_target(str(tmp_path / "target.toml"), CANDIDATE)
        contract = load_contract()
        record_target(
            contract, target, options(operations=STEADY), record=tmp_path / "steady.jsonl"
        )
        result = compare_recording(
            contract,
            read_recording(tmp_path / "steady.jsonl", contract),
            target,
            options(rules=VALUES),
        )
    assert not result.groups, describe(result.groups)
    assert result.exchanges > 200


def test_a_recording_replayed_to_a_faulty_stub_shows_the_fault(tmp_path: Path) -> None:
    recording = _record(
        tmp_path, StubOptions(), "correct.jsonl", operations=("GetServerBusyExpires", "GetPing")
    )
    faulty = StubOptions(faults=frozenset({Fault.BUSY_EXPIRES_AS_STRING}))
    with start_stub(faulty) as stub:
        stub.write_target(tmp_path / "faulty.toml")
        result = compare_recording(
            load_contract(),
            read_recording(recording, load_contract()),
            live_target(str(tmp_path / "faulty.toml"), CANDIDATE),
            options(),
        )
    signatures = [(g.operation, g.signature) for g in result.unexplained]
    assert ("GetServerBusyExpires", "/expires: number → string") in signatures, describe(
        result.groups
    )
    assert {g.operation for g in result.groups} == {"GetServerBusyExpires"}
    reproduction = result.unexplained[0].reproduction
    assert reproduction is not None
    assert reproduction.baseline.startswith("(recorded answer:")
    assert reproduction.candidate.startswith("curl ")


def test_a_recording_holds_requests_and_answers_without_tokens(tmp_path: Path) -> None:
    with start_stub(StubOptions()) as stub:
        stub.write_target(tmp_path / "target.toml")
        tokens = [token for token in stub.tokens.values() if token]
        record_target(
            load_contract(),
            live_target(str(tmp_path / "target.toml"), CANDIDATE),
            options(operations=("GetPing", "GetSupportedTimezone")),
            record=tmp_path / "ping.jsonl.gz",
        )
    recording = read_recording(tmp_path / "ping.jsonl.gz", load_contract())
    assert recording.header["format_version"] == RECORDING_FORMAT_VERSION
    assert set(recording.header["contract"]) == {"openapi.yaml", "errata.yaml"}
    assert recording.facts.callers[-1] == "local"
    assert {item.caller for item in recording.answers} == set(recording.facts.callers)
    text = gzip.decompress((tmp_path / "ping.jsonl.gz").read_bytes()).decode()
    assert tokens
    for token in tokens:
        assert token not in text
    lines = [json.loads(line) for line in text.splitlines()]
    kinds = {line["type"] for line in lines}
    assert kinds == {"header", "request", "answer"}
    answers = [line for line in lines if line["type"] == "answer"]
    with_request_id = [line for line in answers if "x-request-id" in line["headers"]]
    assert with_request_id
    assert all("header:x-request-id" in line["volatile"] for line in with_request_id)
    assert any("/request_id" in line["volatile"] for line in answers)
    requests = [line for line in lines if line["type"] == "request"]
    assert len(requests) == len({line["key"] for line in requests})
    assert all("Authorization" not in dict(line["headers"]) for line in requests)


def _rewrite_header(path: Path, **changes: object) -> Path:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header.update(changes)
    changed = path.with_name("changed-" + path.name)
    changed.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    return changed


@pytest.fixture(scope="module")
def small_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _record(
        tmp_path_factory.mktemp("recording"),
        StubOptions(),
        "small.jsonl",
        operations=("GetSupportedTimezone",),
    )


def test_a_recording_of_another_contract_is_refused(small_recording: Path) -> None:
    changed = _rewrite_header(small_recording, contract={"openapi.yaml": "0" * 64})
    with pytest.raises(DiffProblem) as refused:
        read_recording(changed, load_contract())
    assert refused.value.returncode == EXIT_RECORDING_REFUSED
    assert "recorded with another contract (" in refused.value.message
    assert "openapi.yaml" in refused.value.message


def test_a_recording_of_another_format_version_is_refused(small_recording: Path) -> None:
    changed = _rewrite_header(small_recording, format_version=RECORDING_FORMAT_VERSION + 1)
    with pytest.raises(DiffProblem) as refused:
        read_recording(changed, load_contract())
    assert refused.value.returncode == EXIT_RECORDING_REFUSED
    assert f"format version {RECORDING_FORMAT_VERSION + 1}" in refused.value.message


def test_a_recording_of_format_version_1_is_still_read_and_holds_no_sequence(
    small_recording: Path,
) -> None:
    """Version 1 was written before sequences were recorded; its answers are read alike."""
    lines = small_recording.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["format_version"] = 1
    kept = [lines[0]]
    for line in lines[1:]:
        record = json.loads(line)
        if record.get("type") == "answer" and "sequence" in record:
            continue  # what version 1 never held
        kept.append(line)
    older = small_recording.with_name("v1-" + small_recording.name)
    older.write_text("\n".join([json.dumps(header), *kept[1:]]) + "\n", encoding="utf-8")
    recording = read_recording(older, load_contract())
    assert recording.answers
    assert all(item.sequence is None for item in recording.answers)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("{not json\n", "line 1 is not JSON"),
        ('{"format": "something else"}\n', "not an mmconform diff recording"),
    ],
)
def test_what_is_no_recording_is_refused(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DiffProblem) as refused:
        read_recording(path, load_contract())
    assert refused.value.returncode == EXIT_RECORDING_REFUSED
    assert says in refused.value.message


def test_a_recording_never_replaces_a_file(small_recording: Path) -> None:
    before = small_recording.read_bytes()
    with pytest.raises(DiffProblem) as refused:
        _record(small_recording.parent, StubOptions(), small_recording.name)
    assert refused.value.returncode == EXIT_USAGE
    assert small_recording.read_bytes() == before
    assert not list(small_recording.parent.glob(".*.partial"))
