"""Sequences: request sequences played on each side on its own, compared step by step, with
what their steps observe. A fault that only shows across requests (time passing, a write and
the read of its effect, an outside service, a reconfiguration) shows as an unexplained group
naming the faulted operation; two correct servers show nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from mmconform.contract import load_contract
from mmconform.diff import compare_recording, live_target, read_recording
from mmconform.diff._cases import Generation
from mmconform.diff._model import Answer
from mmconform.diff._report import build_diff_report, schema_problems
from mmconform.diff._run import record_target
from mmconform.diff._send import Budget, Connection, SendOptions
from mmconform.diff._sequences import (
    SEQUENCES,
    SequenceContext,
    choose_sequences,
    play,
    sequence_named,
)
from mmconform.diff._sides import CANDIDATE, SideFacts
from mmconform.harness import SmtpSink, closed_port
from mmconform.stub import Fault, StubOptions, start_stub
from tests.diff._helpers import (
    caught,
    compare,
    describe,
    fault_stubs,
    options,
    stubs,
)

#: fault -> (the sequence that shows it, the kind of difference it shows as)
SEQUENCE_FAULTS = {
    Fault.BUSY_CLEAR_IGNORED: ("busy-set-and-cleared", "effect"),
    Fault.BUSY_EXPIRES_IN_MILLISECONDS: ("busy-set-and-cleared", "effect"),
    Fault.BUSY_NEVER_EXPIRES: ("busy-expires", "effect"),
    Fault.BUSY_SECONDS_IGNORED: ("busy-expires", "effect"),
    Fault.PING_IGNORES_REST_SEMANTICS: ("ping-rest-semantics", "status"),
    Fault.RESTRICT_SYSTEM_ADMIN_IGNORED: ("restrict-system-admin", "status"),
    Fault.TRIAL_LICENSE_GRANTED_TWICE: ("trial-once", "status"),
    Fault.NOTICE_VIEWED_SHOWN_AGAIN: ("notice-viewed", "effect"),
    Fault.CONFIG_PUT_DROPS_SECRETS: ("masked-secret-kept", "effect"),
    Fault.CONFIG_RELOAD_RESTORES_STARTUP: ("reload-keeps-saved", "effect"),
    Fault.POSTED_LOG_NEVER_APPEARS: ("posted-log-line", "effect"),
    Fault.IMAGE_OPAQUE_URL_ACCEPTED: ("image-opaque-url", "status"),
    Fault.AUDITS_LATER_PAGES_EMPTY: ("audits-later-page", "effect"),
    Fault.EMAIL_TEST_USES_POSTED_SETTINGS: ("email-test-stored-settings", "status"),
    Fault.S3_TEST_ALWAYS_OK: ("s3-test-unreachable", "status"),
}
#: no fuzzing cases: the sequences are the point here
QUICK = Generation(max_examples=0, large_bodies="scenario")
EVERY_CONCERN = tuple(sorted({op for sequence in SEQUENCES for op in sequence.concerns}))


@pytest.mark.parametrize("fault", list(SEQUENCE_FAULTS), ids=lambda fault: fault.name)
def test_a_fault_only_a_sequence_shows_is_an_unexplained_group_of_its_sequence(
    tmp_path: Path, case_cache: Path, fault: Fault
) -> None:
    name, kind = SEQUENCE_FAULTS[fault]
    sequence = sequence_named(name)
    assert sequence is not None
    with stubs(tmp_path, *fault_stubs(fault)):
        result = compare(
            tmp_path,
            options(
                operations=sequence.concerns,
                allow_destructive=True,
                generation=QUICK,
                case_cache=case_cache,
            ),
        )
    assert name in result.sequences, result.sequences_skipped
    found = [
        group
        for group in caught(result, fault)
        if group.reproduction is not None and f"sequence {name}," in group.reproduction.origin
    ]
    assert found, f"{fault.name} did not show in sequence {name}:\n{describe(result.groups)}"
    assert kind in {group.kind for group in found}, describe(found)
    assert not any(group.explanations for group in found)


def test_two_correct_servers_play_every_sequence_alike(tmp_path: Path, case_cache: Path) -> None:
    correct = fault_stubs(Fault.BUSY_NEVER_EXPIRES)[0]
    with stubs(tmp_path, correct, correct):
        result = compare(
            tmp_path,
            options(
                operations=EVERY_CONCERN,
                allow_destructive=True,
                generation=QUICK,
                case_cache=case_cache,
            ),
        )
    assert result.sequences == tuple(sequence.name for sequence in SEQUENCES)
    assert not result.sequences_skipped
    assert result.sequence_steps == sum(
        len([step for step in s.steps if not step.clean_up]) for s in SEQUENCES
    )
    assert not result.groups, describe(result.groups)
    report = build_diff_report(result, load_contract())
    assert not schema_problems(report)
    assert [item["name"] for item in report["sequences"]["played"]] == list(result.sequences)


def test_every_sequence_puts_back_the_settings_it_changes(tmp_path: Path) -> None:
    """Each sequence played on a correct server leaves its config and busy state as it found
    them (the trial's license is the one thing left changed, by design)."""
    contract = load_contract()
    with start_stub(StubOptions()) as stub, SmtpSink() as sink:
        stub.write_target(tmp_path / "stub.toml")
        side = live_target(str(tmp_path / "stub.toml"), CANDIDATE)
        context = SequenceContext(sink.port, closed_port())
        with Connection(
            name="stub",
            url=side.url,
            tokens=side.tokens,
            local_socket=side.local_socket,
            options=SendOptions(),
            budget=Budget(None),
        ) as connection:
            for sequence in SEQUENCES:
                before = copy.deepcopy(stub.state.config)
                played = play(contract, sequence, connection.send, context)
                assert not [step.unmet for step in played if step.unmet], sequence.name
                assert stub.state.config == before, sequence.name
                assert not stub.state.is_busy(), sequence.name
                changes = "license" if sequence.name == "trial-once" else ""
                assert sequence.leaves_changed == changes
    # the email sequence's probe and its test, both sent through the stored settings
    assert len(sink.messages) == 2


def _facts(version: str, callers: tuple[str, ...]) -> SideFacts:
    return SideFacts(
        url="http://127.0.0.1:1",
        server_version=version,
        edition="enterprise",
        licensed=True,
        callers=callers,
    )


def test_sequences_left_out_say_why() -> None:
    contract = load_contract()
    callers = ("system_admin", "system_user", "anonymous")
    sides = (_facts("11.1.0", callers), _facts("11.1.0", callers))
    chosen, skipped = choose_sequences(contract, sides, callers)
    names = {sequence.name for sequence in chosen}
    assert names == {
        "busy-set-and-cleared",
        "busy-expires",
        "notice-viewed",
        "posted-log-line",
        "audits-later-page",
        "image-opaque-url",
        "s3-test-unreachable",
    }
    assert "give --allow-destructive" in skipped["reload-keeps-saved"]
    assert "PatchConfig" in skipped["masked-secret-kept"]
    chosen, skipped = choose_sequences(contract, sides, callers, allow_destructive=True)
    assert "local-mode socket" in skipped["restrict-system-admin"]
    assert "test mail server" in skipped["email-test-stored-settings"]
    chosen, skipped = choose_sequences(
        contract, sides, callers, selected=("GetPing",), allow_destructive=True
    )
    assert [sequence.name for sequence in chosen] == ["ping-rest-semantics"]
    assert "not among the operations compared" in skipped["busy-expires"]
    old = (_facts("5.20.0", callers), _facts("11.1.0", callers))
    chosen, skipped = choose_sequences(contract, old, callers, selected=("GetNotices",))
    assert not chosen
    assert "lacks GetNotices" in skipped["notice-viewed"]


def test_a_sequence_that_cannot_read_the_config_changes_nothing() -> None:
    sequence = sequence_named("reload-keeps-saved")
    assert sequence is not None
    sent: list[str] = []

    def send(request: object, caller: str) -> Answer:
        sent.append(getattr(request, "operation", ""))
        return Answer(403, body=b'{"id": "api.context.permissions.app_error"}')

    played = play(load_contract(), sequence, send, SequenceContext(None, 1))
    assert sent == ["GetConfig"]
    assert str(played[0].unmet).startswith("the config readable")
    assert "not sent: the side lacks the config readable" in str(played[1].answer.error)
    last = played[-1]
    assert last.clean_up
    assert last.answer.status == 0
    assert "nothing was changed" in str(last.answer.error)


def test_a_setting_an_environment_variable_holds_leaves_the_sequence_unjudged() -> None:
    """The threshold does not read back as set (an environment variable holds it): the ping
    is not asked, the threshold is put back, and the sequence says why it was not judged."""
    sequence = sequence_named("ping-rest-semantics")
    assert sequence is not None
    sent: list[str] = []
    config = b'{"ServiceSettings": {"GoroutineHealthThreshold": -1}}'

    def send(request: object, caller: str) -> Answer:
        sent.append(getattr(request, "operation", ""))
        return Answer(200, body=config)

    played = play(load_contract(), sequence, send, SequenceContext(None, 1))
    assert sent == ["GetConfig", "PatchConfig", "GetConfig", "PatchConfig"]
    assert "GoroutineHealthThreshold settable through the API" in str(played[2].unmet)
    assert played[-1].request.body == b'{"ServiceSettings": {"GoroutineHealthThreshold": -1}}'


def test_a_recording_holds_its_sequences_and_replays_them(tmp_path: Path) -> None:
    contract = load_contract()
    chosen = ("SetServerBusy", "PostLog")
    path = tmp_path / "correct.jsonl"
    with start_stub(StubOptions()) as correct:
        correct.write_target(tmp_path / "correct.toml")
        recorded = record_target(
            contract,
            live_target(str(tmp_path / "correct.toml"), CANDIDATE),
            options(operations=chosen, generation=QUICK),
            record=path,
        )
    assert set(recorded.sequences) == {"busy-set-and-cleared", "busy-expires", "posted-log-line"}
    recording = read_recording(path, contract)
    steps = [item for item in recording.answers if item.sequence is not None]
    assert {item.sequence["name"] for item in steps if item.sequence} == set(recorded.sequences)
    observed = [item.sequence["observed"] for item in steps if item.sequence]
    assert {"the posted line in the log": True} in observed
    for faults, unexplained in ((frozenset(), False), ({Fault.BUSY_NEVER_EXPIRES}, True)):
        with start_stub(StubOptions(faults=frozenset(faults))) as live:
            live.write_target(tmp_path / "live.toml")
            result = compare_recording(
                contract,
                recording,
                live_target(str(tmp_path / "live.toml"), CANDIDATE),
                options(operations=chosen, generation=QUICK),
            )
        assert set(result.sequences) == set(recorded.sequences)
        signatures = [g.signature for g in result.unexplained]
        assert bool(signatures) == unexplained, describe(result.groups)
        if unexplained:
            assert any("busy-expires: busy once" in s for s in signatures), signatures


def test_a_sequence_a_side_lacks_the_means_for_is_played_but_not_judged(tmp_path: Path) -> None:
    """File logging off on one side: the posted line cannot reach its log, which says nothing
    of the server; the sequence is left unjudged, saying which side lacks what."""
    with stubs(tmp_path, StubOptions(), StubOptions()) as (_, candidate):
        config = copy.deepcopy(candidate.state.config)
        config["LogSettings"]["EnableFile"] = False
        candidate.state.save_config(config)
        result = compare(tmp_path, options(operations=("PostLog",), generation=QUICK))
    assert "posted-log-line" not in result.sequences
    reason = result.sequences_skipped["posted-log-line"]
    assert reason.startswith("played, not judged: the candidate lacks file logging on"), reason
    assert not [
        group
        for group in result.groups
        if group.reproduction is not None
        and "sequence posted-log-line" in group.reproduction.origin
    ], describe(result.groups)


def test_a_side_that_cannot_reach_the_mail_server_sends_only_the_clean_up() -> None:
    sequence = sequence_named("email-test-stored-settings")
    assert sequence is not None
    sent: list[str] = []

    def send(request: object, caller: str) -> Answer:
        operation = getattr(request, "operation", "")
        sent.append(operation)
        if operation == "TestEmail":
            return Answer(500, body=b'{"id": "app.admin.test_email.failure"}')
        return Answer(200, body=b'{"EmailSettings": {"SMTPServer": "", "SMTPPort": "10025"}}')

    played = play(load_contract(), sequence, send, SequenceContext(2525, 1))
    assert sent == ["GetConfig", "PatchConfig", "TestEmail", "PatchConfig"]
    probe = played[2]
    assert probe.unmet is not None
    assert probe.unmet.startswith("a way to the test mail server on this machine")
    assert "answered 500" in probe.unmet
    assert "not sent" in str(played[3].answer.error)
    assert played[4].clean_up
    assert played[4].answer.status == 200
