"""The permission matrix: what every caller gets from every operation, computed from the contract.

A cell is one operation and one caller: a built-in role, ``anonymous`` (no credentials) or
``local`` (the local-mode unix socket). Its expectation follows from the operation's annotations
(``x-mm-auth``, ``x-mm-permissions`` with ``x-mm-roles``, ``x-mm-config-gates``,
``x-mm-license``, ``x-mm-edition-gates``, ``x-mm-local-mode``, ``x-mm-restrict-system-admin``)
and, where the answer depends on the server version, from the errata rules for that version, all
under the conditions of the target (:class:`MatrixConditions`: version, edition, license, the
RestrictSystemAdmin setting and the settings config gates read).

The checks run in the server's order: the route (local-only operations are absent over TCP, and
the socket serves only its own routes), the session (401), RestrictSystemAdmin, the permission
(403), then config gates, the license and edition gates, which refuse callers that passed the
permission check. Where a condition is unknown (``None``), both answers are accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from mmconform._version import Version
from mmconform._wire import ANONYMOUS, LOCAL, PERMISSION_ERROR_ID, ROLES, SESSION_ERROR_ID
from mmconform.contract._model import Erratum, Expectation, Operation

if TYPE_CHECKING:
    from mmconform.contract._contract import Contract

__all__ = [
    "ACCESS_KINDS",
    "ALLOWED",
    "CATCH_ALL_ERROR",
    "DENIED",
    "EITHER",
    "LOCAL_ORIGIN_ERROR",
    "MATRIX_COLUMNS",
    "NOT_SERVED",
    "NO_LICENSE_ERROR",
    "PERMISSION_ERROR_ID",
    "REFUSED",
    "SESSION_ERROR_ID",
    "UNAUTHENTICATED",
    "CellExpectation",
    "MatrixConditions",
    "expected_cell",
    "permission_matrix",
]

#: The callers of the matrix, least privileged first (``local`` is added where a socket is).
MATRIX_COLUMNS: Final = (
    ANONYMOUS,
    "system_user",
    "system_read_only_admin",
    "system_manager",
    "system_user_manager",
    "system_admin",
)

#: ``x-mm-license: required`` without a license
NO_LICENSE_ERROR: Final = "api.no_license"
#: the router's catch-all: a route that does not exist for this transport or version
CATCH_ALL_ERROR: Final = "api.context.404.app_error"
#: the local-mode router reached over TCP
LOCAL_ORIGIN_ERROR: Final = "api.context.local_origin_required.app_error"

#: passes the access check: any documented answer but 401 and 403
ALLOWED: Final = "allowed"
#: refused by the permission check (or RestrictSystemAdmin): the answers named
DENIED: Final = "denied"
#: no session: 401
UNAUTHENTICATED: Final = "unauthenticated"
#: passes the permission check, then a config gate, the license or the edition refuses it
REFUSED: Final = "refused"
#: the route does not exist for this caller: 404 from the catch-all
NOT_SERVED: Final = "not_served"
#: the conditions leave it open (an unknown setting, edition or license, or a release range
#: where either behaviour is correct): the answers of both sides
EITHER: Final = "either"
ACCESS_KINDS: Final = (ALLOWED, DENIED, UNAUTHENTICATED, REFUSED, NOT_SERVED, EITHER)

# Errata whose per-version cases the matrix reads, and the case each caller's answer is in.
_RESTRICTION: Final = "restricted-admin-error-codes"
#: the case of a caller holding the permission, where it is not ``restricted_admin``
_RESTRICTED_HOLDER_CASE: Final = MappingProxyType(
    {"ReloadConfig": "restricted_reload", "TestS3Connection": "restricted_s3_test"}
)
#: operations that older servers restrict before the permission check, the socket included
_RESTRICTED_EARLY: Final = frozenset({"GetLogs", "GenerateSupportPacket"})
_LOCAL_ROUTES: Final = "local-routes-by-version"
_LOCAL_ROUTE_CASE: Final = MappingProxyType(
    {"GetClientConfig": "local_client_config", "GetClientLicense": "local_client_license"}
)
_VALIDATION_FIRST: Final = "validation-before-permission"

#: Erratum id -> operation -> case names the matrix reads (checked by tests/spec).
ERRATA_CASES: Final = MappingProxyType(
    {
        _RESTRICTION: (
            "restricted_admin",
            "restricted_other_role",
            "restricted_early_check",
            "restricted_local_logs",
            *_RESTRICTED_HOLDER_CASE.values(),
        ),
        _LOCAL_ROUTES: tuple(_LOCAL_ROUTE_CASE.values()),
    }
)


@dataclass(frozen=True)
class MatrixConditions:
    """What the target is and how it is set up, as far as access is concerned.

    ``None`` means unknown: the cell then accepts the answers of every possibility.
    ``settings`` holds the current values of the settings config gates read (dotted paths,
    ``ServiceSettings.EnableDeveloper``); a setting not given is unknown.
    """

    version: Version | None = None
    edition: str | None = None
    licensed: bool | None = None
    restrict_system_admin: bool | None = False
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @classmethod
    def default_install(
        cls,
        contract: Contract,
        *,
        version: Version | None = None,
        edition: str | None = "enterprise",
        licensed: bool | None = False,
    ) -> MatrixConditions:
        """A server as installed: RestrictSystemAdmin off, every gated setting at its default."""
        settings = {
            gate.setting: gate.default
            for operation in contract.operations
            for gate in operation.config_gates
        }
        return cls(version, edition, licensed, False, MappingProxyType(settings))

    def replace(self, **changes: Any) -> MatrixConditions:
        """A copy with some conditions changed (``settings`` merged into the current ones)."""
        values: dict[str, Any] = {
            "version": self.version,
            "edition": self.edition,
            "licensed": self.licensed,
            "restrict_system_admin": self.restrict_system_admin,
            "settings": self.settings,
        }
        if "settings" in changes:
            changes["settings"] = MappingProxyType({**self.settings, **changes["settings"]})
        values.update(changes)
        return MatrixConditions(**values)


@dataclass(frozen=True)
class CellExpectation:
    """What a correct server answers one caller for one operation, and why."""

    operation: str
    role: str
    #: one of ACCESS_KINDS
    access: str
    #: answers accepted by status (and AppError id where one is named)
    answers: tuple[Expectation, ...] = ()
    #: whether passing the access check is right: any documented answer but 401 and 403
    passes: bool = False
    #: the statuses the expectation accepts (documented ones, for a caller that passes)
    statuses: tuple[int, ...] = ()
    #: how the contract decides it, one line per rule that applied
    reasons: tuple[str, ...] = ()
    #: facts worth showing beside the cell (input validated before the permission check...)
    notes: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        """A correct server acts on none of this caller's requests (only refusals accepted)."""
        return not self.passes

    def accepts(self, status: int, error_id: str | None) -> bool:
        """Whether an answer of ``status`` with AppError ``error_id`` is a correct one."""
        if self.passes and status not in (401, 403):
            return True
        return any(_matches(answer, status, error_id) for answer in self.answers)

    def describe(self) -> str:
        """``denied: 403 api.context.permissions.app_error`` and the like."""
        parts = []
        if self.passes:
            parts.append("any documented answer but 401/403")
        parts += [
            f"{answer.status}" + (f" {answer.error_id}" if answer.error_id else "")
            for answer in self.answers
        ]
        return f"{self.access}: " + " or ".join(parts)


def _matches(answer: Expectation, status: int, error_id: str | None) -> bool:
    """An answer naming an AppError id needs exactly that id; one naming none takes any id but
    the permission error (a permission refusal always says so)."""
    if answer.status != status:
        return False
    if answer.error_id is None:
        return error_id != PERMISSION_ERROR_ID
    return answer.error_id == error_id


def _holds(contract: Contract, role: str, operation: Operation) -> bool:
    """Whether ``role`` holds one of the operation's permissions (True when it checks none)."""
    if not operation.permissions:
        return True
    if role not in contract.roles:
        return False
    return bool(contract.roles[role] & set(operation.permissions))


def _documented(contract: Contract, operation: Operation, version: Version | None) -> set[int]:
    keys = set(contract.documented_statuses(operation.operation_id)) | set(
        contract.extra_statuses(operation.operation_id, version)
    )
    return {int(key) for key in keys if key.isdigit()}


class _Cell:
    """Accumulates one cell's expectation while the checks are applied in order."""

    def __init__(self, operation: Operation, role: str) -> None:
        self.operation = operation
        self.role = role
        self.answers: list[Expectation] = []
        self.reasons: list[str] = []
        self.notes: list[str] = []
        self.passes = True
        self.done = False

    def refuse(self, reason: str, *answers: Expectation) -> None:
        """A definite refusal: these answers only, and no later check matters."""
        self.answers.extend(answers)
        self.reasons.append(reason)
        self.passes = False
        self.done = True

    def maybe_refuse(self, reason: str, *answers: Expectation) -> None:
        """A refusal that may or may not happen: these answers accepted besides the others."""
        self.answers.extend(answers)
        self.reasons.append(reason)

    def access(self) -> str:
        kinds = {_kind(answer) for answer in self.answers}
        if self.passes:
            return EITHER if kinds else ALLOWED
        return kinds.pop() if len(kinds) == 1 else EITHER


def _kind(answer: Expectation) -> str:
    if answer.status == 404 or answer.error_id == LOCAL_ORIGIN_ERROR:
        return NOT_SERVED
    if answer.status == 401:
        return UNAUTHENTICATED
    if answer.error_id in (PERMISSION_ERROR_ID, "api.restricted_system_admin"):
        return DENIED
    return REFUSED


def expected_cell(
    contract: Contract, operation_id: str, role: str, conditions: MatrixConditions
) -> CellExpectation:
    """What a correct server under ``conditions`` answers ``role`` for ``operation_id``."""
    operation = contract.operation(operation_id)
    if role not in (*ROLES, ANONYMOUS, LOCAL):
        raise KeyError(f"no matrix column {role!r} (roles, {ANONYMOUS!r} or {LOCAL!r})")
    cell = _Cell(operation, role)
    if role == LOCAL:
        _local_route(contract, cell, conditions)
    else:
        _tcp_route_and_session(cell)
    if not cell.done:
        _restriction(contract, cell, conditions)
    if not cell.done:
        _permission(contract, cell)
    if not cell.done:
        _gates(cell, conditions)
    if _erratum_applies(contract, _VALIDATION_FIRST, operation_id):
        cell.notes.append(
            "the server validates the body before the permission check (erratum "
            f"{_VALIDATION_FIRST}): the request carries a well-formed one"
        )
    statuses = {answer.status for answer in cell.answers}
    if cell.passes:
        statuses |= _documented(contract, operation, conditions.version) - {401, 403}
    if not cell.reasons:
        cell.reasons.append(_passing_reason(contract, cell))
    return CellExpectation(
        operation=operation_id,
        role=role,
        access=cell.access(),
        answers=tuple(dict.fromkeys(cell.answers)),
        passes=cell.passes,
        statuses=tuple(sorted(statuses)),
        reasons=tuple(cell.reasons),
        notes=tuple(cell.notes),
    )


def _passing_reason(contract: Contract, cell: _Cell) -> str:
    operation = cell.operation
    if cell.role == LOCAL:
        return "the local-mode socket serves it (x-mm-local-mode) and passes every permission check"
    if not operation.permissions:
        if operation.auth == "none":
            return "x-mm-auth none and no permission check: every caller passes"
        return "x-mm-auth session and no permission check: every logged-in caller passes"
    held = sorted(contract.roles[cell.role] & set(operation.permissions))
    return f"{cell.role} holds {', '.join(held)} (x-mm-roles), which x-mm-permissions accepts"


def _erratum(contract: Contract, erratum_id: str) -> Erratum | None:
    try:
        return contract.erratum(erratum_id)
    except KeyError:
        return None


def _erratum_applies(contract: Contract, erratum_id: str, operation_id: str) -> bool:
    entry = _erratum(contract, erratum_id)
    return entry is not None and entry.applies_to_operation(operation_id)


def _options(expectation: Expectation) -> tuple[Expectation, ...]:
    return tuple(
        Expectation(option.status, option.error_id, option.note)
        for option in (expectation, *expectation.also)
    )


def _case_options(
    contract: Contract, erratum_id: str, case: str, version: Version | None
) -> tuple[Expectation, ...] | None:
    entry = _erratum(contract, erratum_id)
    expectation = None if entry is None else entry.expectation(case, version)
    return None if expectation is None else _options(expectation)


def _local_route(contract: Contract, cell: _Cell, conditions: MatrixConditions) -> None:
    operation = cell.operation
    not_served = Expectation(404, CATCH_ALL_ERROR)
    if not operation.local_mode:
        cell.refuse("not served on the local-mode socket (x-mm-local-mode false): 404", not_served)
        return
    case = _LOCAL_ROUTE_CASE.get(operation.operation_id)
    options = (
        None if case is None else _case_options(contract, _LOCAL_ROUTES, case, conditions.version)
    )
    if options is None:
        return
    refusals = [option for option in options if option.status == 404]
    why = f"the local-mode route by version (erratum {_LOCAL_ROUTES}, case {case})"
    if len(refusals) == len(options):
        cell.refuse(f"{why}: not served on this version", not_served)
    elif refusals:
        cell.maybe_refuse(f"{why}: served or not in this release range", not_served)


def _tcp_route_and_session(cell: _Cell) -> None:
    operation = cell.operation
    if operation.auth == "local-only":
        cell.refuse(
            "served only on the local-mode socket (x-mm-auth local-only): over TCP the route "
            "does not exist",
            Expectation(404, CATCH_ALL_ERROR),
            Expectation(401, LOCAL_ORIGIN_ERROR),
        )
    elif cell.role == ANONYMOUS and operation.auth == "session":
        cell.refuse(
            "no credentials on a session operation (x-mm-auth session): 401",
            Expectation(401, SESSION_ERROR_ID),
        )


def _restriction(contract: Contract, cell: _Cell, conditions: MatrixConditions) -> None:
    """ExperimentalSettings.RestrictSystemAdmin, as the erratum gives it for the version."""
    operation = cell.operation
    if conditions.restrict_system_admin is False or cell.role == ANONYMOUS:
        return
    if not _erratum_applies(contract, _RESTRICTION, operation.operation_id):
        return
    op_id = operation.operation_id
    if cell.role == LOCAL:
        if op_id not in _RESTRICTED_EARLY:
            return
        case = "restricted_local_logs"
    elif op_id in _RESTRICTED_EARLY and not _holds(contract, cell.role, operation):
        case = "restricted_early_check"
    elif _holds(contract, cell.role, operation):
        case = _RESTRICTED_HOLDER_CASE.get(op_id, "restricted_admin")
    else:
        case = "restricted_other_role"
    options = _case_options(contract, _RESTRICTION, case, conditions.version)
    if options is None:
        return
    # An option without an AppError id is the operation's usual outcome: not restricted there.
    refusals = [option for option in options if option.error_id is not None]
    usual = len(refusals) < len(options)
    why = (
        f"RestrictSystemAdmin {'may be ' if conditions.restrict_system_admin is None else ''}on "
        f"(erratum {_RESTRICTION}, case {case})"
    )
    if not refusals:
        return
    if usual or conditions.restrict_system_admin is None:
        cell.maybe_refuse(f"{why}: restricted or not on this version", *refusals)
    else:
        cell.refuse(why, *refusals)


def _permission(contract: Contract, cell: _Cell) -> None:
    operation = cell.operation
    if cell.role == LOCAL or not operation.permissions:
        return
    if _holds(contract, cell.role, operation):
        return
    held = "no permission" if cell.role == ANONYMOUS else "none of them (x-mm-roles)"
    cell.refuse(
        f"needs one of {', '.join(operation.permissions)} (x-mm-permissions); {cell.role} holds "
        f"{held}",
        Expectation(403, PERMISSION_ERROR_ID),
    )


def _gates(cell: _Cell, conditions: MatrixConditions) -> None:
    operation = cell.operation
    for gate in operation.config_gates:
        if cell.role not in gate.denies:
            continue
        answer = Expectation(gate.status, gate.error_id)
        if gate.setting not in conditions.settings:
            cell.maybe_refuse(f"{gate.setting} unknown (x-mm-config-gates)", answer)
        elif conditions.settings[gate.setting] == gate.value:
            cell.refuse(
                f"{gate.setting} is {gate.value!r} (x-mm-config-gates): {cell.role} refused",
                answer,
            )
            return
    if operation.license == "required":
        answer = Expectation(403, NO_LICENSE_ERROR)
        if conditions.licensed is None:
            cell.maybe_refuse("license state unknown (x-mm-license required)", answer)
        elif not conditions.licensed:
            cell.refuse("unlicensed server (x-mm-license required): 403", answer)
            return
    for edition_gate in operation.edition_gates:
        answer = Expectation(edition_gate.status, edition_gate.error_id)
        if conditions.edition is None:
            cell.maybe_refuse(
                f"edition unknown (x-mm-edition-gates: {edition_gate.edition} builds refuse)",
                answer,
            )
        elif conditions.edition == edition_gate.edition:
            cell.refuse(
                f"{edition_gate.edition} build (x-mm-edition-gates): {edition_gate.status}",
                answer,
            )
            return


def permission_matrix(
    contract: Contract,
    conditions: MatrixConditions,
    columns: Iterable[str] = (*MATRIX_COLUMNS, LOCAL),
) -> dict[tuple[str, str], CellExpectation]:
    """(operationId, caller) -> expectation, for every operation the version has."""
    wanted = tuple(columns)
    return {
        (operation.operation_id, role): expected_cell(
            contract, operation.operation_id, role, conditions
        )
        for operation in contract.operations
        if operation.available_in(conditions.version)
        for role in wanted
    }
