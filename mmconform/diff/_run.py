"""A comparison from start to end: learn both sides, generate the requests, send them to both
sides in the same order, compare every answer, explain and group the differences, and record
the candidate's answers when asked."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mmconform._version import Version
from mmconform._wire import Secret, redact
from mmconform.contract import Contract
from mmconform.diff._cases import Generation, iter_requests
from mmconform.diff._compare import ComparisonRules, compare_views
from mmconform.diff._exitcodes import EXIT_USAGE, DiffProblem
from mmconform.diff._explain import Explainer, Instance
from mmconform.diff._groups import Found, Group, SideAddress, group_instances
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._normalise import View, view_of
from mmconform.diff._plan import (
    EVERYTHING_ELSE,
    Plan,
    common_callers,
    plan_operations,
    read_pass,
    tier_of,
)
from mmconform.diff._recording import Recorder, Recording
from mmconform.diff._send import Budget, Connection, SendOptions
from mmconform.diff._sides import BASELINE, CANDIDATE, LiveTarget, SideFacts, learn_facts

__all__ = [
    "DiffOptions",
    "DiffResult",
    "compare_recording",
    "compare_targets",
    "record_target",
    "scrub",
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
    skipped: Mapping[str, str]
    requests: int
    exchanges: int
    sent: Mapping[str, int]
    groups: list[Group]
    seconds: float
    generation_seconds: float
    options: DiffOptions
    notes: list[str] = field(default_factory=list)
    recorded: Path | None = None

    @property
    def unexplained(self) -> list[Group]:
        return [g for g in self.groups if not g.explained]


def scrub(answer: Answer, secrets: Mapping[str, Secret]) -> Answer:
    """An answer with every known token (and anything that looks like a credential)
    redacted, before it is compared, printed or written."""
    if not secrets and not answer.body:
        return answer
    body = answer.body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        for name, secret in secrets.items():
            body = body.replace(secret.reveal().encode(), f"<redacted:{name}>".encode())
    else:
        body = redact(text, secrets).encode("utf-8") if text else body
    headers = {name: redact(value, secrets) for name, value in answer.headers.items()}
    return Answer(
        status=answer.status,
        headers=MappingProxyType(headers),
        body=body,
        seconds=answer.seconds,
        error=answer.error,
    )


def _free_maps(contract: Contract) -> frozenset[str]:
    """Operations whose successful answer is a map whose keys are data (an echo of the body)."""
    out = set()
    for operation in contract.operations:
        raw = contract.document["paths"][operation.path][operation.method.lower()]
        if not raw.get("requestBody"):
            continue
        schema = contract.response_schema(operation.operation_id, 200) or {}
        if "additionalProperties" in schema and not schema.get("properties"):
            out.add(operation.operation_id)
    return frozenset(out)


class _Comparer:
    """Compares exchanges one at a time and keeps what it found."""

    def __init__(
        self,
        contract: Contract,
        baseline: SideFacts,
        candidate: SideFacts,
        rules: ComparisonRules,
    ) -> None:
        self.contract = contract
        self.rules = rules
        self.explainer = Explainer(contract, baseline, candidate)
        self.versions = (baseline.version, candidate.version)
        self.free_maps = _free_maps(contract)
        self.found: list[Found] = []
        self.answers: dict[tuple[str, str], tuple[str, str]] = {}

    def view(self, answer: Answer, request: RequestSpec, version: Version | None) -> View:
        return view_of(
            answer, request, version=version, free_map=request.operation in self.free_maps
        )

    def compare(
        self, request: RequestSpec, caller: str, baseline: Answer, candidate: Answer
    ) -> View:
        before = self.view(baseline, request, self.versions[0])
        after = self.view(candidate, request, self.versions[1])
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
        return after


def _describe(answer: Answer) -> str:
    if answer.error is not None:
        return f"no answer: {answer.error}"
    text = answer.body[:300].decode("utf-8", errors="replace")
    more = "…" if len(answer.body) > 300 else ""
    kind = answer.content_type or "no content type"
    return f"{answer.status} ({kind}) {text}{more}".strip()


def _group_name(tier: tuple[int, int]) -> str:
    if tier[0] == 1:
        return "the operations that change only their own state"
    return f"the operations that change the {EVERYTHING_ELSE[tier[1]].replace('_', ' ')}"


@dataclass
class _Sent:
    """What generating and sending produced: the (request, caller) pairs in the order sent,
    each connection's answers in that order, and how long generation took."""

    pairs: list[tuple[RequestSpec, str]]
    answers: list[list[Answer]]
    requests: int
    generation_seconds: float


def _generate_and_send(
    contract: Contract,
    plan: Plan,
    callers: Sequence[str],
    generation: Generation,
    connections: Sequence[Connection],
) -> _Sent:
    """Generate the requests operation by operation and send each operation's requests to
    every side as soon as they are made (one thread per side, the same order everywhere)."""
    batches: list[queue.SimpleQueue[list[tuple[RequestSpec, str]] | None]] = [
        queue.SimpleQueue() for _ in connections
    ]
    stop = threading.Event()
    sent = _Sent([], [], 0, 0.0)

    def put(requests: Sequence[RequestSpec]) -> None:
        batch = [(request, caller) for request in requests for caller in callers]
        sent.pairs.extend(batch)
        for pending in batches:
            pending.put(batch)

    def produce() -> None:
        started = time.monotonic()
        group: tuple[int, int] = (0, 0)
        try:
            for operation_id, requests in iter_requests(contract, plan.operations, generation):
                if stop.is_set():
                    return
                tier = tier_of(contract.operation(operation_id))
                if tier != group and group != (0, 0):
                    put(read_pass(contract, plan, _group_name(group)))
                group = tier
                sent.requests += len(requests)
                put(requests)
            if group != (0, 0):
                put(read_pass(contract, plan, _group_name(group)))
        except BaseException:
            stop.set()
            raise
        finally:
            sent.generation_seconds = time.monotonic() - started
            for pending in batches:
                pending.put(None)

    def consume(index: int) -> list[Answer]:
        connection, pending = connections[index], batches[index]
        answers: list[Answer] = []
        try:
            while (batch := pending.get()) is not None:
                for request, caller in batch:
                    if stop.is_set():
                        return answers
                    answers.append(scrub(connection.send(request, caller), connection.tokens))
        except BaseException:
            stop.set()
            raise
        return answers

    with ThreadPoolExecutor(len(connections) + 1, thread_name_prefix="mmconform-diff") as pool:
        producer = pool.submit(produce)
        consumers = [pool.submit(consume, index) for index in range(len(connections))]
        sent.answers = [future.result() for future in consumers]
        producer.result()
    return sent


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


def _generation_record(options: DiffOptions, plan: Plan, callers: Sequence[str]) -> dict[str, Any]:
    return {
        "seed": options.generation.seed,
        "max_examples": options.generation.max_examples,
        "allow_destructive": options.allow_destructive,
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
                contract, facts[1], generation=_generation_record(options, plan, callers)
            )
        say(
            f"sending the generated cases to both sides as {len(callers)} callers: "
            f"{', '.join(callers)}"
        )
        sent = _generate_and_send(contract, plan, callers, options.generation, connections)
        comparer = _Comparer(contract, *facts, options.rules)
        for (request, caller), before, after in zip(
            sent.pairs, sent.answers[0], sent.answers[1], strict=True
        ):
            view = comparer.compare(request, caller, before, after)
            if recorder is not None:
                recorder.answer(request, caller, after, view.volatile)
        sides = (
            SideAddress(baseline.url, baseline.local_socket),
            SideAddress(candidate.url, candidate.local_socket),
        )
        groups = group_instances(comparer.found, sides, comparer.answers)
        return DiffResult(
            mode="targets",
            baseline=facts[0],
            candidate=facts[1],
            baseline_label=baseline.url,
            candidate_label=candidate.url,
            callers=callers,
            operations=plan.operations,
            skipped=plan.skipped,
            requests=sent.requests,
            exchanges=len(sent.pairs),
            sent={BASELINE: connections[0].sent, CANDIDATE: connections[1].sent},
            groups=groups,
            seconds=time.monotonic() - started,
            generation_seconds=sent.generation_seconds,
            options=options,
            recorded=record,
        )


class _NoRecorder:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _recorder(path: Path | None) -> Any:
    if path is None:
        return _NoRecorder()
    return Recorder(path)


def _replayed(
    recording: Recording, plan: Plan, callers: Sequence[str]
) -> Iterator[tuple[RequestSpec, str, Answer]]:
    wanted = set(plan.operations)
    order = {op: index for index, op in enumerate(plan.operations)}
    kept = [
        item
        for item in recording.answers
        if item.request.operation in wanted and item.caller in callers
    ]
    kept.sort(key=lambda item: (order[item.request.operation], item.line))
    for item in kept:
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
    """Replay a recording's requests, in its order, to a live target; compare the answers."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    budget = Budget(options.budget)
    with ExitStack() as stack:
        connection = _connect(stack, candidate, options, budget)
        facts = learn_facts(candidate, connection)
        say(f"baseline  {recording.path} (recorded): {recording.facts.describe()}")
        say(f"candidate {candidate.url}: {facts.describe()}")
        recorded_ops = {item.request.operation for item in recording.answers}
        selected = options.operations or tuple(
            op.operation_id for op in contract.operations if op.operation_id in recorded_ops
        )
        plan = _plan(
            contract,
            (recording.facts, facts),
            DiffOptions(
                operations=tuple(selected),
                allow_destructive=options.allow_destructive,
                generation=options.generation,
                rules=options.rules,
                send=options.send,
                budget=options.budget,
            ),
        )
        callers = common_callers(recording.facts, facts)
        notes = []
        missing = [c for c in recording.facts.callers if c not in callers]
        if missing:
            notes.append(
                f"recorded callers the candidate cannot be asked as, not compared: "
                f"{', '.join(missing)}"
            )
        absent = sorted(set(options.operations) - recorded_ops)
        if absent:
            notes.append(f"operations not in the recording: {', '.join(absent)}")
        recorder = stack.enter_context(_recorder(record))
        if recorder is not None:
            recorder.header(contract, facts, generation=_generation_record(options, plan, callers))
        replay = list(_replayed(recording, plan, callers))
        say(f"replaying {len(replay)} recorded requests")
        comparer = _Comparer(contract, recording.facts, facts, options.rules)
        for request, caller, before in replay:
            after = scrub(connection.send(request, caller), connection.tokens)
            view = comparer.compare(request, caller, before, after)
            if recorder is not None:
                recorder.answer(request, caller, after, view.volatile)
        sides = (
            SideAddress(None, recorded=str(recording.path)),
            SideAddress(candidate.url, candidate.local_socket),
        )
        groups = group_instances(comparer.found, sides, comparer.answers)
        return DiffResult(
            mode="recording",
            baseline=recording.facts,
            candidate=facts,
            baseline_label=f"{recording.path} (recorded from {recording.facts.url})",
            candidate_label=candidate.url,
            callers=callers,
            operations=plan.operations,
            skipped=plan.skipped,
            requests=len({request.key for request, _, _ in replay}),
            exchanges=len(replay),
            sent={CANDIDATE: connection.sent},
            groups=groups,
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
        recorder.header(contract, facts, generation=_generation_record(options, plan, callers))
        say(f"sending the generated cases as {len(callers)} callers: {', '.join(callers)}")
        sent = _generate_and_send(contract, plan, callers, options.generation, (connection,))
        free_maps = _free_maps(contract)
        for (request, caller), answer in zip(sent.pairs, sent.answers[0], strict=True):
            view = view_of(
                answer, request, version=facts.version, free_map=request.operation in free_maps
            )
            recorder.answer(request, caller, answer, view.volatile)
        return DiffResult(
            mode="record",
            baseline=facts,
            candidate=facts,
            baseline_label=target.url,
            candidate_label=target.url,
            callers=callers,
            operations=plan.operations,
            skipped=plan.skipped,
            requests=sent.requests,
            exchanges=len(sent.pairs),
            sent={CANDIDATE: connection.sent},
            groups=[],
            seconds=time.monotonic() - started,
            generation_seconds=sent.generation_seconds,
            options=options,
            recorded=record,
        )
