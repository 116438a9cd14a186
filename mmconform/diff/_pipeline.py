"""Generating, sending and comparing at once: each operation's requests go to every side as soon
as they are generated (one thread per side, the same order on each), and each exchange is
handed over, in order, as soon as every side has answered it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from mmconform._wire import Secret, redact
from mmconform.contract import Contract
from mmconform.diff._case_cache import cached_requests
from mmconform.diff._cases import Generation
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._plan import Plan, read_pass, tier_of
from mmconform.diff._send import Connection

__all__ = ["Exchanged", "Pipeline", "scrub"]

#: Exchanges handed over at a time, at most.
_CHUNK: Final = 256


def scrub(answer: Answer, secrets: Mapping[str, Secret], *, thorough: bool = False) -> Answer:
    """An answer with every known token replaced by ``<redacted:ROLE>``; ``thorough`` also
    masks whatever looks like a credential or a secret setting (the redactor's full rules, for
    answers that are written to a recording or compared with one)."""
    body = answer.body
    if thorough:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            body = redact(text, secrets).encode("utf-8") if text else body
    for name, secret in secrets.items():
        value = secret.reveal().encode()
        if value in body:
            body = body.replace(value, f"<redacted:{name}>".encode())
    headers = {name: redact(value, secrets) for name, value in answer.headers.items()}
    return Answer(
        status=answer.status,
        headers=MappingProxyType(headers),
        body=body,
        seconds=answer.seconds,
        error=answer.error,
    )


@dataclass(frozen=True)
class Exchanged:
    """One request as one caller, with each side's answer (in the order of the connections)."""

    request: RequestSpec
    caller: str
    answers: tuple[Answer, ...]


class Pipeline:
    """Runs the generation, one sender per side and the hand-over, until every exchange is
    handed over; an error in any of them stops the others and is raised."""

    def __init__(
        self,
        contract: Contract,
        plan: Plan,
        callers: Sequence[str],
        generation: Generation,
        connections: Sequence[Connection],
        *,
        thorough: bool = False,
        case_cache: Path | None = None,
    ) -> None:
        self.contract = contract
        self.plan = plan
        self.callers = tuple(callers)
        self.generation = generation
        self.connections = tuple(connections)
        self.thorough = thorough
        self.case_cache = case_cache
        self.requests = 0
        self.exchanges = 0
        self.generation_seconds = 0.0
        self._pairs: list[tuple[RequestSpec, str]] = []
        self._answers: list[list[Answer]] = [[] for _ in connections]
        self._produced = False
        self._finished = [False for _ in connections]
        self._stop = threading.Event()
        self._changed = threading.Condition()

    # -- the producer -------------------------------------------------------------------------
    def _put(self, requests: Sequence[RequestSpec]) -> None:
        batch = [(request, caller) for request in requests for caller in self.callers]
        with self._changed:
            self._pairs.extend(batch)
            self._changed.notify_all()

    def _produce(self) -> None:
        started = time.monotonic()
        try:
            operations = cached_requests(
                self.contract, self.plan.operations, self.generation, folder=self.case_cache
            )
            for operation_id, requests in operations:
                if self._stop.is_set():
                    return
                self.requests += len(requests)
                self._put(requests)
                if tier_of(self.contract.operation(operation_id)) != (0, 0):
                    self._put(read_pass(self.contract, self.plan, operation_id))
        except BaseException:
            self._stop.set()
            raise
        finally:
            self.generation_seconds = time.monotonic() - started
            with self._changed:
                self._produced = True
                self._changed.notify_all()

    # -- one sender per side ------------------------------------------------------------------
    def _send(self, index: int) -> None:
        connection = self.connections[index]
        answers = self._answers[index]
        sent = 0
        try:
            while not self._stop.is_set():
                with self._changed:
                    while (
                        sent >= len(self._pairs) and not self._produced and not self._stop.is_set()
                    ):
                        self._changed.wait()
                    if sent >= len(self._pairs) or self._stop.is_set():
                        return
                    request, caller = self._pairs[sent]
                answer = scrub(
                    connection.send(request, caller), connection.tokens, thorough=self.thorough
                )
                with self._changed:
                    answers.append(answer)
                    self._changed.notify_all()
                sent += 1
        except BaseException:
            self._stop.set()
            raise
        finally:
            with self._changed:
                self._finished[index] = True
                self._changed.notify_all()

    # -- the hand-over, in the calling thread -------------------------------------------------
    def _ready(self, start: int) -> list[Exchanged]:
        with self._changed:
            while True:
                ready = min(len(answers) for answers in self._answers)
                if ready > start or self._stop.is_set() or all(self._finished):
                    break
                self._changed.wait()
            end = min(ready, start + _CHUNK)
            return [
                Exchanged(*self._pairs[i], tuple(answers[i] for answers in self._answers))
                for i in range(start, end)
            ]

    def run(self, handle: Callable[[Exchanged], None]) -> None:
        """Generate, send, and call ``handle`` for every exchange in order."""
        workers = len(self.connections) + 1
        with ThreadPoolExecutor(workers, thread_name_prefix="mmconform-diff") as pool:
            futures = [pool.submit(self._produce)]
            futures += [pool.submit(self._send, i) for i in range(len(self.connections))]
            try:
                while True:
                    chunk = self._ready(self.exchanges)
                    if not chunk:
                        break
                    for exchanged in chunk:
                        handle(exchanged)
                    self.exchanges += len(chunk)
            except BaseException:
                self._stop.set()
                with self._changed:
                    self._changed.notify_all()
                raise
            finally:
                for future in futures:
                    future.result()
