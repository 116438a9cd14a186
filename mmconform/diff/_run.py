"""A comparison from start to end: learn both sides, generate the requests, send them to both
sides in the same order, compare every answer, explain and group the differences, and record
the candidate's answers when asked."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmconform._version import Version
from mmconform._wire import SmtpSink, closed_port, on_this_machine
from mmconform.contract import Contract
from mmconform.diff._cases import Generation
from mmconform.diff._compare import ComparisonRules, Difference, compare_views
from mmconform.diff._exitcodes import EXIT_USAGE, DiffProblem
from mmconform.diff._explain import Explainer, Instance
from mmconform.diff._groups import Found, Group, SideAddress, group_instances
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._normalise import View, view_of
from mmconform.diff._pipeline import Exchanged, Pipeline, scrub
from mmconform.diff._plan import Plan, common_callers, plan_operations
from mmconform.diff._recording import Recorded, Recorder, Recording
from mmconform.diff._send import Budget, Connection, SendOptions
from mmconform.diff._sequences import (
    PlayedStep,
    RequestSequence,
    SequenceContext,
    choose_sequences,
    play,
    sequence_named,
)
from mmconform.diff._sides import BASELINE, CANDIDATE, LiveTarget, SideFacts, learn_facts

__all__ = [
    "DiffOptions",
    "DiffResult",
    "compare_recording",
    "compare_targets",
    "record_target",
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DiffOptions:
    """What a comparison sends and how it compares."""

    operations: tuple[str, ...] = ()
    allow_destructive: bool = False
    generation: Generation = field(default_factory=Generation)
    rules: ComparisonRules = field(default_factory=ComparisonRules)
    send: SendOptions = field(default_factory=SendOptions)
    #: the most the whole comparison may take, in seconds (None: no limit)
    budget: float | None = 900.0
    #: where generated requests are kept between runs (None: generated every time)
    case_cache: Path | None = None


@dataclass
class DiffResult:
    """What a comparison found."""

    mode: str
    baseline: SideFacts
    candidate: SideFacts
    baseline_label: str
    candidate_label: str
    callers: tuple[str, ...]
    operations: tuple[str, ...]
    skipped: dict[str, str]
    requests: int
    exchanges: int
    sent: dict[str, int]
    groups: list[Group]
    seconds: float
    generation_seconds: float
    options: DiffOptions
    notes: list[str] = field(default_factory=list)
    recorded: Path | None = None
    #: the sequences played, and those left out with the reason
    sequences: tuple[str, ...] = ()
    sequences_skipped: dict[str, str] = field(default_factory=dict)
    #: sequence steps compared (each step as its one caller)
    sequence_steps: int = 0

    @property
    def unexplained(self) -> list[Group]:
        return [g for g in self.groups if not g.explained]


def _free_maps(contract: Contract) -> frozenset[str]:
    """Operations whose successful answer is a map whose keys are data (an echo of the body)."""
    out = set()
    document = contract.document
    for operation in contract.operations:
        raw = document["paths"][operation.path][operation.method.lower()]
        if not raw.get("requestBody"):
            continue
        schema = contract.response_schema(operation.operation_id, 200) or {}
        if "additionalProperties" in schema and not schema.get("properties"):
            out.add(operation.operation_id)
    return frozenset(out)


def _describe(answer: Answer) -> str:
    if answer.error is not None:
        return f"no answer: {answer.error}"
    text = answer.body[:300].decode("utf-8", errors="replace")
    more = "…" if len(answer.body) > 300 else ""
    kind = answer.content_type or "no content type"
    return f"{answer.status} ({kind}) {text}{more}".strip()


class _Comparer:
    """Compares exchanges one at a time, keeps what it found, and records the candidate's
    answers when asked."""

    def __init__(
        self,
        contract: Contract,
        baseline: SideFacts,
        candidate: SideFacts,
        rules: ComparisonRules,
        recorder: Recorder | None = None,
    ) -> None:
        self.rules = rules
        self.recorder = recorder
        self.explainer = Explainer(contract, baseline, candidate)
        self.versions = (baseline.version, candidate.version)
        self.free_maps = _free_maps(contract)
        self.found: list[Found] = []
        #: sequences played but not judged, with the reason (a precondition a side lacks)
        self.unjudged: dict[str, str] = {}
        self.answers: dict[tuple[str, str], tuple[str, str]] = {}

    def _view(
        self, answer: Answer, request: RequestSpec, version: Version | None, *, values: bool
    ) -> View:
        return view_of(
            answer,
            request,
            version=version,
            free_map=request.operation in self.free_maps,
            values=values,
        )

    def compare(
        self,
        request: RequestSpec,
        caller: str,
        baseline: Answer,
        candidate: Answer,
        *,
        shape_only: bool = False,
        report: bool = True,
        sequence: Mapping[str, Any] | None = None,
    ) -> list[Difference]:
        """Compare two answers to one request, keep what differs (unless ``report`` is off)
        and record the candidate's answer when recording. ``shape_only`` compares at the
        default level whatever the rules say (a sequence's steps)."""
        rules = ComparisonRules() if shape_only else self.rules
        detail = rules.values or rules.key_order
        if not report and self.recorder is None:
            return []
        recording = self.recorder is not None
        after = self._view(candidate, request, self.versions[1], values=detail or recording)
        if self.recorder is not None:
            self.recorder.answer(request, caller, candidate, after.volatile, sequence=sequence)
        if not report:
            return []
        before = self._view(baseline, request, self.versions[0], values=detail)
        differences = compare_views(before, after, rules, request.operation)
        for difference in differences:
            instance = Instance(
                operation=request.operation,
                caller=caller,
                method=request.method,
                target=request.target,
                difference=difference,
                baseline_status=before.status,
                baseline_error_id=before.error_id,
                candidate_status=after.status,
                candidate_error_id=after.error_id,
            )
            self._found(instance, request, baseline, candidate)
        return differences

    def _found(
        self, instance: Instance, request: RequestSpec, baseline: Answer, candidate: Answer
    ) -> None:
        self.answers.setdefault(
            (request.key, instance.caller), (_describe(baseline), _describe(candidate))
        )
        self.found.append(Found(instance, request, self.explainer.explain(instance)))

    def compare_sequence(
        self, sequence: RequestSequence, before: Sequence[PlayedStep], after: Sequence[PlayedStep]
    ) -> int:
        """Compare one sequence step by step (``docs/diff.md``, "Sequences"); the number of
        steps compared."""
        compared = 0
        settled = True
        unmet = [
            f"the {side} lacks {step.unmet}"
            for side, steps in (("baseline", before), ("candidate", after))
            for step in steps
            if step.unmet is not None
        ]
        if unmet:
            self.unjudged[sequence.name] = "played, not judged: " + "; ".join(unmet)
        for baseline, candidate in zip(before, after, strict=False):
            step = sequence.steps[candidate.index]
            record = _step_record(sequence, candidate)
            report = settled and not candidate.clean_up and not unmet
            differences = self.compare(
                candidate.request,
                candidate.caller,
                baseline.answer,
                candidate.answer,
                shape_only=True,
                report=report,
                sequence=record,
            )
            if not report:
                continue
            compared += 1
            if any(d.kind in ("status", "no-answer") for d in differences):
                settled = False
                continue
            for observation in step.observe:
                was = baseline.observed.get(observation.name)
                now = candidate.observed.get(observation.name)
                if was == now:
                    continue
                instance = Instance(
                    operation=observation.about,
                    caller=candidate.caller,
                    method=candidate.request.method,
                    target=candidate.request.target,
                    difference=Difference(
                        "effect",
                        f"sequence:{sequence.name}",
                        f"{sequence.name}: {observation.name}: {_shown(was)} → {_shown(now)}",
                        _shown(was),
                        _shown(now),
                    ),
                    baseline_status=baseline.answer.status,
                    baseline_error_id=None,
                    candidate_status=candidate.answer.status,
                    candidate_error_id=None,
                )
                self._found(instance, candidate.request, baseline.answer, candidate.answer)
        return compared


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:79] + "…"


@contextmanager
def _sequence_context(mail: bool) -> Iterator[SequenceContext]:
    """What the sequences of one run share: a closed port and, when a sequence sends mail, a
    test mail server on this machine."""
    if not mail:
        yield SequenceContext(None, closed_port())
        return
    with SmtpSink() as sink:
        yield SequenceContext(sink.port, closed_port())


def _play(
    contract: Contract,
    sequence: RequestSequence,
    connection: Connection,
    context: SequenceContext,
    *,
    thorough: bool,
) -> list[PlayedStep]:
    return play(
        contract,
        sequence,
        connection.send,
        context,
        scrub=lambda answer: scrub(answer, connection.tokens, thorough=thorough),
        secrets=connection.tokens,
    )


class _Player:
    """Plays the chosen sequences on every live side: those that put back what they change
    before the generated cases (``first``), while the sides are as they started; those that
    leave a server-wide state changed (``last``) after them. ``judge`` takes each sequence with
    its plays (one per connection) and gives the steps it compared or recorded."""

    def __init__(
        self,
        stack: ExitStack,
        contract: Contract,
        sequences: Sequence[RequestSequence],
        connections: Sequence[Connection],
        judge: Callable[[RequestSequence, list[list[PlayedStep]]], int],
        *,
        thorough: bool,
        apart: bool,
        say: Progress,
    ) -> None:
        self.stack = stack
        self.contract = contract
        self.sequences = tuple(sequences)
        self.connections = tuple(connections)
        self.judge = judge
        self.thorough = thorough
        #: play the sides at once (False: one server named twice plays one side after the
        #: other, so that neither side's changes meet the other's)
        self.apart = apart
        self.say = say
        self.steps = 0
        self._context: SequenceContext | None = None

    def first(self) -> None:
        self._play_all([s for s in self.sequences if not s.leaves_changed], "")

    def last(self) -> None:
        self._play_all([s for s in self.sequences if s.leaves_changed], " that change state")

    def _play_all(self, sequences: Sequence[RequestSequence], what: str) -> None:
        if not sequences:
            return
        if self._context is None:
            self._context = self.stack.enter_context(
                _sequence_context(any(s.needs_mail for s in self.sequences))
            )
        context = self._context
        self.say(f"playing {len(sequences)} sequences{what}")
        workers = len(self.connections) if self.apart else 1
        with ThreadPoolExecutor(workers, thread_name_prefix="mmconform-sequence") as pool:
            for sequence in sequences:
                futures = [
                    pool.submit(
                        _play, self.contract, sequence, connection, context, thorough=self.thorough
                    )
                    for connection in self.connections
                ]
                self.steps += self.judge(sequence, [future.result() for future in futures])


def _step_record(sequence: RequestSequence, step: PlayedStep) -> dict[str, Any]:
    """What a recording keeps of a step beside its answer."""
    return {
        "name": sequence.name,
        "step": step.index,
        "observed": dict(step.observed),
        "clean_up": step.clean_up,
        "unmet": step.unmet,
    }


def _from_recording(items: Sequence[Recorded]) -> list[PlayedStep]:
    """A sequence's recorded steps, as if just played."""
    out = []
    for item in sorted(items, key=lambda i: int((i.sequence or {})["step"])):
        step = item.sequence or {}
        out.append(
            PlayedStep(
                int(step["step"]),
                item.request,
                item.caller,
                item.answer,
                dict(step.get("observed") or {}),
                bool(step.get("clean_up")),
                step.get("unmet"),
            )
        )
    return out


def _recorder(path: Path | None) -> Any:
    return nullcontext() if path is None else Recorder(path)


def _connect(
    stack: ExitStack, target: LiveTarget, options: DiffOptions, budget: Budget
) -> Connection:
    return stack.enter_context(
        Connection(
            name=target.name,
            url=target.url,
            tokens=target.tokens,
            local_socket=target.local_socket,
            options=options.send,
            budget=budget,
        )
    )


def _plan(contract: Contract, sides: Sequence[SideFacts], options: DiffOptions) -> Plan:
    try:
        return plan_operations(
            contract,
            sides,
            selected=options.operations,
            allow_destructive=options.allow_destructive,
        )
    except KeyError as exc:
        raise DiffProblem(str(exc.args[0]), EXIT_USAGE) from None


def _generation_record(
    generation: Generation, allow_destructive: bool, plan: Plan, callers: Sequence[str]
) -> dict[str, Any]:
    return {
        "seed": generation.seed,
        "max_examples": generation.max_examples,
        "large_bodies": generation.large_bodies,
        "allow_destructive": allow_destructive,
        "operations": list(plan.operations),
        "callers": list(callers),
    }


def compare_targets(
    contract: Contract,
    baseline: LiveTarget,
    candidate: LiveTarget,
    options: DiffOptions,
    *,
    record: Path | None = None,
    progress: Progress | None = None,
) -> DiffResult:
    """Send the contract's generated cases to both targets as every caller; compare."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    budget = Budget(options.budget)
    with ExitStack() as stack:
        connections = (
            _connect(stack, baseline, options, budget),
            _connect(stack, candidate, options, budget),
        )
        facts = (learn_facts(baseline, connections[0]), learn_facts(candidate, connections[1]))
        say(f"baseline  {baseline.url}: {facts[0].describe()}")
        say(f"candidate {candidate.url}: {facts[1].describe()}")
        plan = _plan(contract, facts, options)
        callers = common_callers(*facts)
        recorder = stack.enter_context(_recorder(record))
        if recorder is not None:
            recorder.header(
                contract,
                facts[1],
                generation=_generation_record(
                    options.generation, options.allow_destructive, plan, callers
                ),
            )
        say(f"comparing {len(plan.operations)} operations as {len(callers)} callers")
        comparer = _Comparer(contract, *facts, options.rules, recorder)
        sequences, sequences_skipped = choose_sequences(
            contract,
            facts,
            callers,
            selected=options.operations,
            allow_destructive=options.allow_destructive,
            mail=on_this_machine(baseline.url) and on_this_machine(candidate.url),
        )
        player = _Player(
            stack,
            contract,
            sequences,
            connections,
            lambda sequence, plays: comparer.compare_sequence(sequence, *plays),
            thorough=recorder is not None,
            apart=baseline.url != candidate.url,
            say=say,
        )
        player.first()
        pipeline = Pipeline(
            contract,
            plan,
            callers,
            options.generation,
            connections,
            thorough=recorder is not None,
            case_cache=options.case_cache,
        )

        def handle(exchanged: Exchanged) -> None:
            comparer.compare(exchanged.request, exchanged.caller, *exchanged.answers)

        pipeline.run(handle)
        player.last()
        sequences_skipped.update(comparer.unjudged)
        sides = (
            SideAddress(baseline.url, baseline.local_socket),
            SideAddress(candidate.url, candidate.local_socket),
        )
        return DiffResult(
            mode="targets",
            baseline=facts[0],
            candidate=facts[1],
            baseline_label=baseline.url,
            candidate_label=candidate.url,
            callers=callers,
            operations=plan.operations,
            skipped=dict(plan.skipped),
            requests=pipeline.requests,
            exchanges=pipeline.exchanges,
            sent={BASELINE: connections[0].sent, CANDIDATE: connections[1].sent},
            groups=group_instances(comparer.found, sides, comparer.answers),
            seconds=time.monotonic() - started,
            generation_seconds=pipeline.generation_seconds,
            options=options,
            recorded=record,
            sequences=tuple(s.name for s in sequences if s.name not in sequences_skipped),
            sequences_skipped=sequences_skipped,
            sequence_steps=player.steps,
        )


def _replayed(
    recording: Recording, plan: Plan, callers: Sequence[str]
) -> Iterator[tuple[RequestSpec, str, Answer]]:
    """The recorded exchanges of the planned operations and callers, in the recording's
    order."""
    wanted = set(plan.operations)
    for item in recording.answers:
        if item.sequence is not None:
            continue
        if item.request.operation in wanted and item.caller in callers:
            yield item.request, item.caller, item.answer


def compare_recording(
    contract: Contract,
    recording: Recording,
    candidate: LiveTarget,
    options: DiffOptions,
    *,
    record: Path | None = None,
    progress: Progress | None = None,
) -> DiffResult:
    """Replay a recording's requests, in its order and as its callers, to a live target;
    compare the recorded answers with the live ones."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    budget = Budget(options.budget)
    with ExitStack() as stack:
        connection = _connect(stack, candidate, options, budget)
        facts = learn_facts(candidate, connection)
        say(f"baseline  {recording.path} (recorded): {recording.facts.describe()}")
        say(f"candidate {candidate.url}: {facts.describe()}")
        recorded_ops = {item.request.operation for item in recording.answers}
        absent = sorted(set(options.operations) - recorded_ops)
        selected = tuple(op for op in options.operations if op in recorded_ops) or tuple(
            op.operation_id for op in contract.operations if op.operation_id in recorded_ops
        )
        plan = _plan(
            contract,
            (recording.facts, facts),
            DiffOptions(operations=selected, allow_destructive=options.allow_destructive),
        )
        callers = common_callers(recording.facts, facts)
        notes = []
        missing = [c for c in recording.facts.callers if c not in callers]
        if missing:
            notes.append(
                "recorded callers the candidate cannot be asked as, not compared: "
                + ", ".join(missing)
            )
        if absent:
            notes.append(f"operations not in the recording, not compared: {', '.join(absent)}")
        recorder = stack.enter_context(_recorder(record))
        recorded_generation = recording.header.get("generation") or {}
        if recorder is not None:
            generation = Generation(
                seed=int(recorded_generation.get("seed", options.generation.seed)),
                max_examples=int(
                    recorded_generation.get("max_examples", options.generation.max_examples)
                ),
                large_bodies=str(
                    recorded_generation.get("large_bodies", options.generation.large_bodies)
                ),
            )
            recorder.header(
                contract,
                facts,
                generation=_generation_record(generation, options.allow_destructive, plan, callers),
            )
        replay = list(_replayed(recording, plan, callers))
        say(f"replaying {len(replay)} recorded requests")
        comparer = _Comparer(contract, recording.facts, facts, options.rules, recorder)
        recorded: dict[str, list[Recorded]] = {}
        for item in recording.answers:
            if item.sequence is not None:
                recorded.setdefault(str(item.sequence["name"]), []).append(item)
        sequences, sequences_skipped = choose_sequences(
            contract,
            (recording.facts, facts),
            callers,
            selected=options.operations,
            allow_destructive=options.allow_destructive,
            mail=on_this_machine(candidate.url),
        )
        unknown = sorted(name for name in recorded if sequence_named(name) is None)
        if unknown:
            notes.append(
                "recorded sequences this mmconform does not know, not compared: "
                + ", ".join(unknown)
            )
        for sequence in sequences:
            if sequence.name not in recorded:
                sequences_skipped[sequence.name] = "not in the recording"
        sequences = [sequence for sequence in sequences if sequence.name in recorded]
        player = _Player(
            stack,
            contract,
            sequences,
            (connection,),
            lambda sequence, plays: comparer.compare_sequence(
                sequence, _from_recording(recorded[sequence.name]), plays[0]
            ),
            thorough=True,
            apart=True,
            say=say,
        )
        player.first()
        for request, caller, before in replay:
            answer = connection.send(request, caller)
            comparer.compare(
                request, caller, before, scrub(answer, connection.tokens, thorough=True)
            )
        player.last()
        sequences_skipped.update(comparer.unjudged)
        sides = (
            SideAddress(None, recorded=str(recording.path)),
            SideAddress(candidate.url, candidate.local_socket),
        )
        return DiffResult(
            mode="recording",
            baseline=recording.facts,
            candidate=facts,
            baseline_label=f"{recording.path} (recorded from {recording.facts.url})",
            candidate_label=candidate.url,
            callers=callers,
            operations=plan.operations,
            skipped=dict(plan.skipped),
            requests=len({request.key for request, _, _ in replay}),
            exchanges=len(replay),
            sent={CANDIDATE: connection.sent},
            groups=group_instances(comparer.found, sides, comparer.answers),
            seconds=time.monotonic() - started,
            generation_seconds=0.0,
            options=options,
            notes=notes,
            recorded=record,
            sequences=tuple(s.name for s in sequences if s.name not in sequences_skipped),
            sequences_skipped=sequences_skipped,
            sequence_steps=player.steps,
        )


def record_target(
    contract: Contract,
    target: LiveTarget,
    options: DiffOptions,
    *,
    record: Path,
    progress: Progress | None = None,
) -> DiffResult:
    """Send the generated cases to one target as every caller and record its answers."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    budget = Budget(options.budget)
    with ExitStack() as stack:
        connection = _connect(stack, target, options, budget)
        facts = learn_facts(target, connection)
        say(f"recording {target.url}: {facts.describe()}")
        plan = _plan(contract, (facts,), options)
        callers = facts.callers
        recorder = stack.enter_context(Recorder(record))
        recorder.header(
            contract,
            facts,
            generation=_generation_record(
                options.generation, options.allow_destructive, plan, callers
            ),
        )
        free_maps = _free_maps(contract)
        sequences, sequences_skipped = choose_sequences(
            contract,
            (facts,),
            callers,
            selected=options.operations,
            allow_destructive=options.allow_destructive,
            mail=on_this_machine(target.url),
        )

        def keep(sequence: RequestSequence, plays: list[list[PlayedStep]]) -> int:
            for step in plays[0]:
                view = view_of(
                    step.answer,
                    step.request,
                    version=facts.version,
                    free_map=step.request.operation in free_maps,
                )
                recorder.answer(
                    step.request,
                    step.caller,
                    step.answer,
                    view.volatile,
                    sequence=_step_record(sequence, step),
                )
            return len(plays[0])

        player = _Player(
            stack, contract, sequences, (connection,), keep, thorough=True, apart=True, say=say
        )
        player.first()
        pipeline = Pipeline(
            contract,
            plan,
            callers,
            options.generation,
            (connection,),
            thorough=True,
            case_cache=options.case_cache,
        )

        def handle(exchanged: Exchanged) -> None:
            (answer,) = exchanged.answers
            view = view_of(
                answer,
                exchanged.request,
                version=facts.version,
                free_map=exchanged.request.operation in free_maps,
            )
            recorder.answer(exchanged.request, exchanged.caller, answer, view.volatile)

        pipeline.run(handle)
        player.last()
        return DiffResult(
            mode="record",
            baseline=facts,
            candidate=facts,
            baseline_label=target.url,
            candidate_label=target.url,
            callers=callers,
            operations=plan.operations,
            skipped=dict(plan.skipped),
            requests=pipeline.requests,
            exchanges=pipeline.exchanges,
            sent={CANDIDATE: connection.sent},
            groups=[],
            seconds=time.monotonic() - started,
            generation_seconds=pipeline.generation_seconds,
            options=options,
            recorded=record,
            sequences=tuple(s.name for s in sequences if s.name not in sequences_skipped),
            sequences_skipped=sequences_skipped,
            sequence_steps=player.steps,
        )
