"""A comparison from start to end: learn both sides, generate the requests, send them to both
sides in the same order, compare every answer, explain and group the differences, and record
the candidate's answers when asked."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from mmconform._version import Version
from mmconform.contract import Contract
from mmconform.diff._cases import Generation
from mmconform.diff._compare import ComparisonRules, compare_views
from mmconform.diff._exitcodes import EXIT_USAGE, DiffProblem
from mmconform.diff._explain import Explainer, Instance
from mmconform.diff._groups import Found, Group, SideAddress, group_instances
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._normalise import View, view_of
from mmconform.diff._pipeline import Exchanged, Pipeline, scrub
from mmconform.diff._plan import Plan, common_callers, plan_operations
from mmconform.diff._recording import Recorder, Recording
from mmconform.diff._send import Budget, Connection, SendOptions
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
        self, request: RequestSpec, caller: str, baseline: Answer, candidate: Answer
    ) -> None:
        detail = self.rules.values or self.rules.key_order
        recording = self.recorder is not None
        before = self._view(baseline, request, self.versions[0], values=detail)
        after = self._view(candidate, request, self.versions[1], values=detail or recording)
        if self.recorder is not None:
            self.recorder.answer(request, caller, candidate, after.volatile)
        differences = compare_views(before, after, self.rules, request.operation)
        if differences:
            self.answers.setdefault(
                (request.key, caller), (_describe(baseline), _describe(candidate))
            )
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
            self.found.append(Found(instance, request, self.explainer.explain(instance)))


class _NoRecorder:
    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


def _recorder(path: Path | None) -> Any:
    return _NoRecorder() if path is None else Recorder(path)


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
        )


def _replayed(
    recording: Recording, plan: Plan, callers: Sequence[str]
) -> Iterator[tuple[RequestSpec, str, Answer]]:
    """The recorded exchanges of the planned operations and callers, in the recording's
    order."""
    wanted = set(plan.operations)
    for item in recording.answers:
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
        for request, caller, before in replay:
            answer = connection.send(request, caller)
            comparer.compare(
                request, caller, before, scrub(answer, connection.tokens, thorough=True)
            )
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
        )
