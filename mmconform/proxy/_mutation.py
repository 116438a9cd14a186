"""A mutation is two halves: ``Mutation``, the public description (a plain frozen value), and
``Effect``, the behaviour that changes requests and answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mmconform.proxy._exchange import Answer, Exchange

__all__ = ["Effect", "Mutation"]


@dataclass(frozen=True)
class Mutation:
    """One named change the proxy can apply."""

    name: str
    kind: Literal["fault", "benign"]
    area: str
    #: operationIds whose answers change; () = every operation
    operations: tuple[str, ...]
    #: one line, Markdown
    description: str
    #: answers are held back, so a run through the proxy mostly waits rather than works
    holds_answers: bool = False

    def applies_to(self, operation_id: str | None) -> bool:
        if not self.operations:
            return True
        return operation_id in self.operations


class Effect:
    """What a mutation does. ``before`` may change the request or answer it in the proxy's
    place (return an Answer: nothing is forwarded); ``after`` changes the upstream answer."""

    async def before(self, ex: Exchange) -> Answer | None:
        return None

    async def after(self, ex: Exchange, answer: Answer) -> None:
        return None
