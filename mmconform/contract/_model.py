"""The contract as data: an operation with its annotations, errata with their rules."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mmconform._version import Version
from mmconform.contract._vocabulary import ALL_OPERATIONS, API_PREFIX


@dataclass(frozen=True)
class ConfigGate:
    """A configuration setting that, at ``value``, denies ``denies`` with ``status`` (and the
    AppError id ``error_id``, when the gate names one)."""

    setting: str
    value: Any
    default: Any
    denies: tuple[str, ...]
    status: int
    error_id: str | None = None

    @property
    def active_by_default(self) -> bool:
        """True when a default install has the setting at the denying value."""
        return bool(self.default == self.value)


@dataclass(frozen=True)
class EditionGate:
    """Builds of ``edition`` answer every caller that passes the permission check with
    ``status``; ``error_id`` None means any AppError id but the permission error."""

    edition: str
    status: int
    error_id: str | None = None


#: The body kinds of a request example.
BODY_NONE = "none"
BODY_JSON = "json"
BODY_TEXT = "text"
BODY_MULTIPART = "multipart"
BODY_CURRENT = "current"


@dataclass(frozen=True)
class RequestExample:
    """The minimal request of ``x-mm-request``: one that reaches the operation's permission
    check, and that a server which wrongly accepted it could act on only harmlessly (or in a way
    the run's guards put back), as ``denied_cells`` records for destructive operations."""

    path_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    query: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: one of BODY_NONE, BODY_JSON, BODY_TEXT, BODY_MULTIPART, BODY_CURRENT
    body_kind: str = BODY_NONE
    #: the JSON body (BODY_JSON)
    json_body: Any = field(default=None, hash=False)
    #: the raw body, sent as application/json (BODY_TEXT)
    text_body: str = ""
    #: form field name -> file content (BODY_MULTIPART)
    files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: the operation whose current answer (read by a caller that sees everything) is the body
    #: (BODY_CURRENT)
    body_from: str | None = None
    #: dotted setting path -> value, applied to the ``body_from`` document
    overrides: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: where a caller the server must refuse may send it, for destructive operations
    denied_cells: str = "always"

    def body_for(self, current: Mapping[str, Any]) -> dict[str, Any]:
        """The BODY_CURRENT body: a copy of ``current`` with the overrides applied."""
        body: dict[str, Any] = json.loads(json.dumps(dict(current)))
        for dotted, value in self.overrides.items():
            node: Any = body
            *parents, leaf = dotted.split(".")
            for part in parents:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
            node[leaf] = value
        return body


@dataclass(frozen=True)
class Operation:
    """One operation of the contract with its parsed ``x-mm-*`` annotations."""

    operation_id: str
    method: str
    path: str
    auth: str
    permissions: tuple[str, ...]
    restrict_system_admin: bool
    min_version: Version | None
    removed_in: Version | None
    license: str
    destructive: bool
    global_state: tuple[str, ...]
    config_gates: tuple[ConfigGate, ...] = ()
    deprecated: bool = False
    parameters: tuple[str, ...] = ()
    local_mode: bool = False
    edition_gates: tuple[EditionGate, ...] = ()
    request: RequestExample = field(default_factory=RequestExample, hash=False)
    #: parameter name -> first server version that knows it (parameters with a known minimum)
    parameter_min_versions: Mapping[str, Version] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    @property
    def label(self) -> str:
        """``GET /api/v4/system/ping``: how schemathesis and failure messages name it."""
        return f"{self.method} {self.path}"

    @property
    def grouping_states(self) -> tuple[str, ...]:
        """Server-wide states that tests of this operation must not share with concurrent ones:
        what it changes, plus ``config`` when config settings decide who may call it."""
        states = set(self.global_state)
        if self.config_gates:
            states.add("config")
        return tuple(sorted(states))

    def available_in(self, version: Version | None) -> bool:
        """Whether a server of ``version`` has the operation (True when the version is unknown)."""
        return self.unavailability(version) is None

    def unavailability(self, version: Version | None) -> str | None:
        """Why a server of ``version`` does not have the operation, or None when it has it."""
        if version is None:
            return None
        if self.min_version is not None and version < self.min_version:
            return (
                f"{self.operation_id} needs server {self.min_version}+ (x-mm-min-version); "
                f"target is {version}"
            )
        if self.removed_in is not None and version >= self.removed_in:
            return (
                f"{self.operation_id} was removed in {self.removed_in} (x-mm-removed-in); "
                f"target is {version}"
            )
        return None

    def unsupported_parameters(self, version: Version | None) -> tuple[str, ...]:
        """Parameters a server of ``version`` does not know yet (none when it is unknown)."""
        if version is None:
            return ()
        return tuple(
            sorted(name for name, first in self.parameter_min_versions.items() if version < first)
        )

    def client_path(self, **values: str) -> str:
        """The path relative to ``/api/v4`` with its ``{parameters}`` filled in, for clients
        rooted at the API base: ``client_path(teamId=...)`` -> ``/system/notices/<id>``."""
        names = re.findall(r"\{([^}]+)\}", self.path)
        missing = [name for name in names if name not in values]
        if missing:
            raise KeyError(f"{self.operation_id} ({self.path}) needs values for {missing}")
        path = self.path
        for name in names:
            path = path.replace("{" + name + "}", values[name])
        return path.removeprefix(API_PREFIX)


@dataclass(frozen=True)
class Expectation:
    """What a server in a version range answers for one named case of an erratum.

    ``also`` lists other answers that are equally correct in that range (a range where the
    release of a change is uncertain accepts the answers from both sides of it). ``fields``
    names the fields of the answer (``/database_status``) whose presence the case is about, where
    the case changes what an answer holds rather than its status.
    """

    status: int
    error_id: str | None = None
    note: str | None = None
    also: tuple[Expectation, ...] = ()
    fields: tuple[str, ...] = ()

    def allows(self, status: int, error_id: str | None = None) -> bool:
        """Whether ``status`` (and ``error_id``, when both name one) is an accepted answer."""
        return any(
            option.status == status
            and (option.error_id is None or error_id is None or option.error_id == error_id)
            for option in (self, *self.also)
        )


@dataclass(frozen=True)
class ContractEffects:
    """Adjustments to the automated contract checks."""

    skip_checks: frozenset[str] = frozenset()
    extra_status: frozenset[str] = frozenset()

    def __or__(self, other: ContractEffects) -> ContractEffects:
        return ContractEffects(
            self.skip_checks | other.skip_checks, self.extra_status | other.extra_status
        )


@dataclass(frozen=True)
class VersionRule:
    """Applies to servers with ``from_version <= version < below`` (either bound optional)."""

    from_version: Version | None
    below: Version | None
    expect: Mapping[str, Expectation] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    contract: ContractEffects = ContractEffects()

    def applies_to(self, version: Version) -> bool:
        if self.from_version is not None and version < self.from_version:
            return False
        return not (self.below is not None and version >= self.below)


@dataclass(frozen=True)
class Erratum:
    """One disagreement between the seed and real servers, with the decision taken."""

    id: str
    operations: tuple[str, ...]
    topic: str
    seed: str
    server: str
    decision: str
    why: str
    contract: ContractEffects = ContractEffects()
    versions: tuple[VersionRule, ...] = ()

    def applies_to_operation(self, operation_id: str) -> bool:
        return ALL_OPERATIONS in self.operations or operation_id in self.operations

    def rule_for(self, version: Version | None) -> VersionRule | None:
        """The version rule for ``version``; for ``None`` (unknown) the newest servers' rule."""
        if not self.versions:
            return None
        if version is None:
            newest = [rule for rule in self.versions if rule.below is None]
            return newest[-1] if newest else self.versions[-1]
        for rule in self.versions:
            if rule.applies_to(version):
                return rule
        return None

    def expectation(self, case: str, version: Version | None) -> Expectation | None:
        """What a server of ``version`` answers for ``case`` (None when no rule says)."""
        rule = self.rule_for(version)
        if rule is None:
            return None
        return rule.expect.get(case)

    def effects_for(self, version: Version | None) -> ContractEffects:
        """Effects for ``version``: the base ones plus the matching rule's.

        For an unknown version (``None``) the effects of every rule are merged, so that the
        suite stays lenient where it cannot tell which behaviour to expect.
        """
        effects = self.contract
        for rule in self.versions:
            if version is None or rule.applies_to(version):
                effects = effects | rule.contract
        return effects
