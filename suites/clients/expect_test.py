"""What a correct server answers a client call, for one caller: the contract's permission ladder
(``mmconform.contract.expected_cell``, the same cell the permission matrix holds the target to),
plus what depends on the call itself.

The cell decides who passes and what everyone else gets (401, 403, a config gate, the license,
an edition gate, a route the socket does not serve, RestrictSystemAdmin...), under the target's
conditions (``matrix_conditions``, shared with the matrix). A case adds only what its call
decides for a caller that passes: whether a value may come back, and which answers the target's
own state chooses between (an SMTP test against the stored settings, a trial the licensing
service refuses). A caller that passes may also get any error the contract documents for the
operation (not 401 or 403), so the client suites accept every answer the matrix accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mmconform.contract import (
    LOCAL,
    UNAUTHENTICATED,
    CellExpectation,
    Contract,
    Expectation,
    MatrixConditions,
    Version,
    expected_cell,
)

__all__ = [
    "ErrorAnswer",
    "Expected",
    "Granted",
    "expected_answer",
    "granted_from_erratum",
]


@dataclass(frozen=True)
class ErrorAnswer:
    """One acceptable answer that is not a value: a status and (when it matters) an error id."""

    status: int
    error_id: str | None = None
    why: str = ""

    def matches(self, status: int | None, error_id: str | None) -> bool:
        return status == self.status and (self.error_id is None or self.error_id == error_id)

    def __str__(self) -> str:
        text = f"{self.status} {self.error_id or '(any error id)'}"
        return f"{text} ({self.why})" if self.why else text


@dataclass(frozen=True)
class Granted:
    """What a caller that passes the access check may get from this call: a value (unless
    ``value`` is False) or one of ``answers``, which the target's own state decides between."""

    value: bool = True
    answers: tuple[ErrorAnswer, ...] = ()
    #: answers a server stricter than upstream may give any caller with a session, because it
    #: refuses the call's input before it checks the permission (spec/README.md, "Tolerance
    #: policy"): a call that sends input the seed calls invalid, as some client methods must
    strict: tuple[ErrorAnswer, ...] = ()


@dataclass(frozen=True)
class Expected:
    """The verdict for one call: a value is right when ``value`` is set; an error when the
    contract's cell accepts it (for a caller that passes, among the statuses the contract
    documents) or when it matches one of ``answers``, which the call adds. ``reason`` says how
    the cell was decided."""

    value: bool
    #: answers the call adds to the cell's: what the target's state decides, a stricter
    #: server's refusal of the input
    answers: tuple[ErrorAnswer, ...]
    reason: str
    #: the contract's cell for this operation and caller
    cell: CellExpectation

    @property
    def passes(self) -> bool:
        """Whether the caller passes the access check (and so may change what the call
        changes)."""
        return self.cell.passes

    def allows_error(self, status: int | None, error_id: str | None) -> bool:
        if any(answer.matches(status, error_id) for answer in self.answers):
            return True
        if status is None or (self.cell.passes and status not in self.cell.statuses):
            return False
        return self.cell.accepts(status, error_id)

    def describe(self) -> str:
        options = ["a value of the declared shape"] if self.value else []
        options.append(f"what the contract accepts ({self.cell.describe()})")
        options += [f"an error {answer}" for answer in self.answers]
        return " or ".join(options) + f" [{self.reason}]"


def granted_from_erratum(
    contract: Contract, erratum_id: str, case: str, version: Version | None
) -> Granted:
    """The answers an erratum's rule for ``version`` gives for ``case``: a 2xx is a value."""
    expectation = contract.erratum(erratum_id).expectation(case, version)
    if expectation is None:
        raise LookupError(f"erratum {erratum_id} has no rule for {case!r} at {version}")
    options: Iterable[Expectation] = (expectation, *expectation.also)
    value = False
    answers: list[ErrorAnswer] = []
    for option in options:
        if 200 <= option.status < 400 and option.status != 302:
            value = True
        else:
            answers.append(ErrorAnswer(option.status, option.error_id, f"erratum {erratum_id}"))
    return Granted(value=value, answers=tuple(answers))


def expected_answer(
    contract: Contract,
    operation_id: str,
    role: str,
    *,
    conditions: MatrixConditions,
    granted: Granted,
) -> Expected:
    """What a correct server under ``conditions`` answers ``role`` for this call."""
    cell = expected_cell(contract, operation_id, role, conditions)
    reason = "; ".join((*cell.reasons, *cell.notes))
    answers = granted.answers if cell.passes else ()
    value = granted.value and cell.passes
    if granted.strict and role != LOCAL and cell.access != UNAUTHENTICATED:
        answers = (*answers, *granted.strict)
        reason += "; or a stricter server's refusal of the input"
    return Expected(value, answers, reason, cell)
