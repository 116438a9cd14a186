"""The contract run's economies: one coverage case per target on large request bodies (every
variant with the deep profile), and follow-up requests of checks on the run's keep-alive
session."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import requests

from mmconform._version import Version
from mmconform.contract import load_contract
from mmconform.harness._clients import Transport
from mmconform.harness._profiles import PROFILES
from mmconform.harness._schemathesis import (
    LARGE_BODY_PROPERTIES,
    CaseRunner,
    SharedSessionTransport,
    build_contract_run,
    coverage_target,
)
from mmconform.harness._target import resolve_target

CONTRACT = load_contract()


def _runner(profile: str = "gate") -> CaseRunner:
    target = resolve_target(
        target_file=None,
        target_url="http://127.0.0.1:9",
        environ={"MMCONFORM_TOKEN_SYSTEM_ADMIN": "token-of-admin"},
    )
    assert target is not None
    return CaseRunner(
        contract=CONTRACT,
        target=target,
        role="system_admin",
        profile=PROFILES[profile],
        seed=1,
        server_version=Version(11, 1, 0),
    )


def _case(phase: str, scenario: str, description: str, mode: str = "negative") -> Any:
    return SimpleNamespace(
        meta=SimpleNamespace(
            phase=SimpleNamespace(
                name=phase,
                data=SimpleNamespace(scenario=scenario, description=description),
            ),
            generation=SimpleNamespace(mode=SimpleNamespace(value=mode)),
        )
    )


def test_the_configuration_bodies_are_large_and_the_small_ones_are_not() -> None:
    for large in ("UpdateConfig", "PatchConfig", "TestEmail", "TestS3Connection"):
        assert CONTRACT.request_body_property_count(large) > LARGE_BODY_PROPERTIES, large
    assert CONTRACT.request_body_property_count("GetPing") == 0
    assert (
        0
        < CONTRACT.request_body_property_count("SetServerBusy")
        + CONTRACT.request_body_property_count("TestSiteURL")
        <= LARGE_BODY_PROPERTIES
    )


def test_coverage_target_names_mode_scenario_and_description() -> None:
    case = _case("coverage", "incorrect_type", "LogSettings -> FileLevel: Incorrect type")
    assert coverage_target(case) == (
        "negative",
        "incorrect_type",
        "LogSettings -> FileLevel: Incorrect type",
    )
    assert coverage_target(_case("fuzzing", "", "")) is None
    assert coverage_target(SimpleNamespace(meta=None)) is None


def test_large_bodies_get_one_coverage_case_per_target() -> None:
    runner = _runner()
    wrong = _case("coverage", "incorrect_type", "LogSettings -> FileLevel: Incorrect type")
    assert not runner.is_repeated_variant(wrong, "PatchConfig")
    # Another wrong type for the same setting: the target is covered.
    assert runner.is_repeated_variant(wrong, "PatchConfig")
    # The same target on another operation, another setting, another mode: not covered yet.
    assert not runner.is_repeated_variant(wrong, "UpdateConfig")
    other = _case("coverage", "incorrect_type", "LogSettings -> FileJson: Incorrect type")
    assert not runner.is_repeated_variant(other, "PatchConfig")
    positive = _case(
        "coverage", "incorrect_type", "LogSettings -> FileLevel: Incorrect type", mode="positive"
    )
    assert not runner.is_repeated_variant(positive, "PatchConfig")
    # Fuzzing cases are never dropped, nor coverage cases of small bodies.
    fuzz = _case("fuzzing", "", "")
    assert not runner.is_repeated_variant(fuzz, "PatchConfig")
    assert not runner.is_repeated_variant(fuzz, "PatchConfig")
    small = _case("coverage", "incorrect_type", "seconds: Incorrect type")
    assert not runner.is_repeated_variant(small, "SetServerBusy")
    assert not runner.is_repeated_variant(small, "SetServerBusy")


def test_the_deep_profile_sends_every_variant() -> None:
    runner = _runner("deep")
    wrong = _case("coverage", "incorrect_type", "LogSettings -> FileLevel: Incorrect type")
    assert not runner.is_repeated_variant(wrong, "PatchConfig")
    assert not runner.is_repeated_variant(wrong, "PatchConfig")


def test_a_repeated_variant_is_not_sent_nor_counted() -> None:
    runner = _runner()
    operation = SimpleNamespace(method="PUT", path="/api/v4/config/patch")
    sent: list[Any] = []

    def call(**_: Any) -> None:
        sent.append(True)
        raise requests.ConnectionError("nothing listens")

    first = _case("coverage", "valid_object", "Object with valid 'LogSettings' value")
    first.operation, first.call, first.headers = operation, call, {}
    with pytest.raises(AssertionError, match="PatchConfig"):
        runner.run(first)
    again = _case("coverage", "valid_object", "Object with valid 'LogSettings' value")
    again.operation, again.call, again.headers = operation, call, {}
    assert runner.run(again) is None
    assert len(sent) == 1
    assert runner.variants_skipped == 1


class _RecordingTransport:
    def __init__(self) -> None:
        self.sessions: list[requests.Session | None] = []
        self.serializers = "the inner transport's"

    def send(self, case: Any, *, session: requests.Session | None = None, **kwargs: Any) -> str:
        self.sessions.append(session)
        if session is not None:
            session.cookies.set("MMAUTHTOKEN", "from-a-response")
        return "response"


def test_requests_without_a_session_go_out_on_the_run_session() -> None:
    inner = _RecordingTransport()
    shared = requests.Session()
    transport = SharedSessionTransport(inner, lambda: shared)  # type: ignore[arg-type]
    assert transport.send(object()) == "response"
    assert inner.sessions == [shared]
    # A cookie a follow-up answer set does not ride on the next request.
    assert not shared.cookies
    own = requests.Session()
    transport.send(object(), session=own)
    assert inner.sessions[-1] is own
    assert transport.serializers == "the inner transport's"


def test_the_contract_schema_and_its_narrowed_copies_send_on_the_run_session() -> None:
    runner = _runner()
    run = build_contract_run(
        contract=CONTRACT,
        target=runner.target,
        profile=PROFILES["gate"],
        seed=1,
        transport=Transport(),
        server_version=Version(11, 1, 0),
    )
    narrowed = run.schema.include(operation_id=["PatchConfig"])
    for schema in (run.schema, narrowed):
        assert isinstance(schema.transport, SharedSessionTransport)
    operation = next(iter(narrowed.get_all_operations())).ok()
    assert isinstance(operation.schema.transport, SharedSessionTransport)
    assert operation.schema.transport._session() is run.runner.session
