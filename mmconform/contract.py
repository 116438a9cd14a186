"""The contract: the only code that reads ``spec/``.

``spec/openapi.yaml`` describes what a correct Mattermost server answers for the 39 system
operations, with ``x-mm-*`` annotations on every operation; ``spec/errata.yaml`` lists where the
seed description and real servers disagree and what the suite does about it. Both formats are
documented in ``spec/README.md``. This module loads and checks them, then answers questions::

    from mmconform.contract import load_contract
    contract = load_contract()
    contract.operation("GetPing").auth            # 'none'
    contract.roles_granted("GetAudits")           # frozenset({'system_admin', ...})
    contract.response_schema("GetServerBusyExpires", 200)

Spec directory lookup: ``MMCONFORM_SPEC_DIR``, else ``<repo>/spec`` next to the package, else
``mmconform/_spec`` (wheel installs). Malformed input raises :class:`ContractError` naming the
file, the operation (or erratum) and the field.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml

from mmconform._components import connected_groups
from mmconform._version import Version

__all__ = [
    "ANONYMOUS",
    "API_PREFIX",
    "AUTH_VALUES",
    "BUILTIN_ROLES",
    "CHECK_NAMES",
    "DECISIONS",
    "ERRATA_TOPICS",
    "GLOBAL_STATE_VALUES",
    "GROUP_TOKENS",
    "LICENSE_VALUES",
    "LOCAL",
    "OPERATION_ANNOTATIONS",
    "PERMISSIONS",
    "ROLES",
    "ConfigGate",
    "Contract",
    "ContractEffects",
    "ContractError",
    "Erratum",
    "Expectation",
    "Operation",
    "Version",
    "VersionRule",
    "default_spec_dir",
    "load_contract",
    "reset_contract_cache",
]

# --------------------------------------------------------------------------- vocabulary

AUTH_VALUES: Final = frozenset({"none", "session", "local-only"})
LICENSE_VALUES: Final = frozenset({"none", "required"})
GROUP_TOKENS: Final = frozenset({"sysconsole_read_*", "sysconsole_write_*"})
PERMISSIONS: Final = frozenset(
    {
        "manage_system",
        "read_license_information",
        "manage_license_information",
        "get_logs",
        "get_analytics",
        "read_audits",
        "invalidate_caches",
        "reload_config",
        "test_site_url",
        "test_s3",
        "test_email",
        "recycle_database_connections",
    }
    | GROUP_TOKENS
)
GLOBAL_STATE_VALUES: Final = frozenset(
    {
        "server_busy",
        "config",
        "license",
        "caches",
        "database_connections",
        "server_process",
        "server_binary",
        "notice_views",
        "logs",
    }
)
#: Mattermost's built-in system role ids, most privileged first.
BUILTIN_ROLES: Final = (
    "system_admin",
    "system_manager",
    "system_user_manager",
    "system_read_only_admin",
    "system_user",
)
ROLES: Final = BUILTIN_ROLES
#: The caller without credentials.
ANONYMOUS: Final = "anonymous"
#: The local-mode unix socket: a transport, not a role, named like one where a name is needed.
LOCAL: Final = "local"
API_PREFIX: Final = "/api/v4"
DECISIONS: Final = frozenset({"strict", "accept-real", "version-dependent"})
ERRATA_TOPICS: Final = frozenset(
    {
        "status-code",
        "response-schema",
        "request-schema",
        "parameter",
        "permission",
        "path",
        "content-type",
        "availability",
        "deprecation",
        "behaviour",
    }
)
#: schemathesis 4.x check names an erratum may exempt.
CHECK_NAMES: Final = frozenset(
    {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
        "object_level_authorization",
    }
)
OPERATION_ANNOTATIONS: Final = (
    "x-mm-auth",
    "x-mm-permissions",
    "x-mm-restrict-system-admin",
    "x-mm-min-version",
    "x-mm-removed-in",
    "x-mm-license",
    "x-mm-destructive",
    "x-mm-global-state",
    "x-mm-config-gates",
    "x-mm-local-mode",
)
HTTP_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ALL_OPERATIONS: Final = "*"

_STATUS_RE: Final = re.compile(r"^[1-5](\d\d|XX)$")
_ENV_VAR: Final = "MMCONFORM_SPEC_DIR"
_OPENAPI_FILE: Final = "openapi.yaml"
_ERRATA_FILE: Final = "errata.yaml"
# OpenAPI 3.0 schema keywords that JSON Schema validators do not need.
_OPENAPI_ONLY_KEYWORDS: Final = frozenset(
    {"nullable", "example", "examples", "discriminator", "xml", "externalDocs", "deprecated"}
)


class ContractError(ValueError):
    """The spec files are malformed; the message names file, operation and field."""


# --------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class ConfigGate:
    """A configuration setting that, at ``value``, denies ``denies`` with ``status``."""

    setting: str
    value: Any
    default: Any
    denies: tuple[str, ...]
    status: int

    @property
    def active_by_default(self) -> bool:
        """True when a default install has the setting at the denying value."""
        return bool(self.default == self.value)


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
    release of a change is uncertain accepts the answers from both sides of it).
    """

    status: int
    error_id: str | None = None
    note: str | None = None
    also: tuple[Expectation, ...] = ()

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


# --------------------------------------------------------------------------- helpers


def default_spec_dir() -> Path:
    """``$MMCONFORM_SPEC_DIR``, else ``<repo>/spec``, else ``mmconform/_spec``."""
    env = os.environ.get(_ENV_VAR)
    if env:
        return Path(env)
    repo_spec = Path(__file__).resolve().parents[1] / "spec"
    if (repo_spec / _OPENAPI_FILE).is_file():
        return repo_spec
    return Path(__file__).resolve().parent / "_spec"


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(f"{path}: cannot read: {exc}") from exc
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: invalid YAML: {exc}") from exc


def _parse_version(value: Any, where: str) -> Version | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractError(
            f"{where}: expected a version string like '5.20.0' or null, got {value!r}"
        )
    try:
        return Version.parse(value)
    except ValueError as exc:
        raise ContractError(f"{where}: {exc}") from exc


def _status_key(status: int | str) -> str:
    return str(status).upper()


def _effects(raw: Any, where: str) -> ContractEffects:
    if raw is None:
        return ContractEffects()
    if not isinstance(raw, Mapping):
        raise ContractError(f"{where}: expected a mapping with skip_checks/extra_status")
    unknown = set(raw) - {"skip_checks", "extra_status"}
    if unknown:
        raise ContractError(f"{where}: unknown keys {sorted(unknown)}")
    skip = raw.get("skip_checks", []) or []
    extra = raw.get("extra_status", []) or []
    if not isinstance(skip, list) or not all(isinstance(c, str) for c in skip):
        raise ContractError(f"{where}.skip_checks: expected a list of check names")
    bad = sorted(set(skip) - CHECK_NAMES)
    if bad:
        raise ContractError(
            f"{where}.skip_checks: unknown check names {bad} (known: {sorted(CHECK_NAMES)})"
        )
    if not isinstance(extra, list):
        raise ContractError(f"{where}.extra_status: expected a list of status codes")
    statuses = [_status_key(code) for code in extra]
    for code in statuses:
        if not _STATUS_RE.match(code):
            raise ContractError(f"{where}.extra_status: not a status code: {code!r}")
    return ContractEffects(frozenset(skip), frozenset(statuses))


def _expectation(raw: Any, where: str, *, nested: bool) -> Expectation:
    if not isinstance(raw, dict) or not isinstance(raw.get("status"), int):
        raise ContractError(f"{where}: needs an integer 'status'")
    allowed = {"status", "error_id", "note"} | (set() if nested else {"also"})
    extra = set(raw) - allowed
    if extra:
        raise ContractError(f"{where}: unknown key(s) {sorted(extra)}")
    also_raw = raw.get("also", []) or []
    if not isinstance(also_raw, list):
        raise ContractError(f"{where}.also: expected a list of {{status, error_id?, note?}}")
    also = tuple(
        _expectation(option, f"{where}.also[{index}]", nested=True)
        for index, option in enumerate(also_raw)
    )
    return Expectation(raw["status"], raw.get("error_id"), raw.get("note"), also)


# --------------------------------------------------------------------------- the contract


class Contract:
    """The loaded, checked contract. Build it with :func:`load_contract`."""

    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = Path(spec_dir)
        self._openapi_path = self.spec_dir / _OPENAPI_FILE
        self._errata_path = self.spec_dir / _ERRATA_FILE
        raw = _load_yaml(self._openapi_path)
        if not isinstance(raw, dict) or not isinstance(raw.get("paths"), dict):
            raise ContractError(f"{self._openapi_path}: not an OpenAPI document with 'paths'")
        self._document: dict[str, Any] = raw
        self._roles = self._parse_roles(raw.get("x-mm-roles"))
        ops: list[Operation] = []
        self._raw_ops: dict[str, dict[str, Any]] = {}
        for path, item in raw["paths"].items():
            if not isinstance(item, dict):
                raise ContractError(f"{self._openapi_path}: path {path}: not a mapping")
            for method in HTTP_METHODS:
                if method in item:
                    ops.append(self._parse_operation(path, method, item))
        self._operations = tuple(ops)
        self._by_id: dict[str, Operation] = {}
        for operation in ops:
            if operation.operation_id in self._by_id:
                raise ContractError(
                    f"{self._openapi_path}: operationId {operation.operation_id} is used twice"
                )
            self._by_id[operation.operation_id] = operation
        self._by_route = {(o.method, o.path): o for o in ops}
        self._errata = self._parse_errata()

    # ----------------------------------------------------------------- parsing

    def _fail(self, where: str, message: str) -> ContractError:
        return ContractError(f"{self._openapi_path}: {where}: {message}")

    def _parse_roles(self, raw: Any) -> Mapping[str, frozenset[str]]:
        if not isinstance(raw, dict):
            raise self._fail("x-mm-roles", "missing or not a mapping of role -> permissions")
        missing = [role for role in BUILTIN_ROLES if role not in raw]
        if missing:
            raise self._fail("x-mm-roles", f"missing built-in roles {missing}")
        roles: dict[str, frozenset[str]] = {}
        for role, perms in raw.items():
            if role not in BUILTIN_ROLES:
                raise self._fail("x-mm-roles", f"unknown role {role!r}")
            if not isinstance(perms, list):
                raise self._fail(f"x-mm-roles.{role}", "expected a list of permission ids")
            bad = sorted(set(map(str, perms)) - PERMISSIONS)
            if bad:
                raise self._fail(f"x-mm-roles.{role}", f"unknown permission ids {bad}")
            roles[role] = frozenset(perms)
        return MappingProxyType(roles)

    def _parse_operation(self, path: str, method: str, item: dict[str, Any]) -> Operation:
        raw = item[method]
        if not isinstance(raw, dict):
            raise self._fail(f"{method.upper()} {path}", "operation is not a mapping")
        op_id = raw.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            raise self._fail(f"{method.upper()} {path}", "operationId missing")
        where = f"operation {op_id}"
        missing = [name for name in OPERATION_ANNOTATIONS if name not in raw]
        if missing:
            raise self._fail(where, f"missing annotation(s) {missing}")

        def choice(name: str, allowed: frozenset[str]) -> str:
            value = raw[name]
            if value not in allowed:
                raise self._fail(
                    f"{where}: {name}",
                    f"unknown value {value!r} (expected one of {sorted(allowed)})",
                )
            return str(value)

        def flag(name: str) -> bool:
            value = raw[name]
            if not isinstance(value, bool):
                raise self._fail(f"{where}: {name}", f"expected true or false, got {value!r}")
            return value

        def names(name: str, allowed: frozenset[str]) -> tuple[str, ...]:
            value = raw[name]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self._fail(f"{where}: {name}", f"expected a list of strings, got {value!r}")
            bad = sorted(set(value) - allowed)
            if bad:
                raise self._fail(
                    f"{where}: {name}", f"unknown value(s) {bad} (expected from {sorted(allowed)})"
                )
            return tuple(value)

        auth = choice("x-mm-auth", AUTH_VALUES)
        permissions = names("x-mm-permissions", PERMISSIONS)
        if auth == "local-only" and permissions:
            raise self._fail(f"{where}: x-mm-permissions", "local-only operations check none")
        if auth == "local-only" and raw["x-mm-local-mode"] is not True:
            raise self._fail(f"{where}: x-mm-local-mode", "must be true for local-only operations")
        min_version = _parse_version(
            raw["x-mm-min-version"], f"{self._openapi_path}: {where}: x-mm-min-version"
        )
        removed_in = _parse_version(
            raw["x-mm-removed-in"], f"{self._openapi_path}: {where}: x-mm-removed-in"
        )
        if min_version and removed_in and removed_in <= min_version:
            raise self._fail(f"{where}: x-mm-removed-in", "not after x-mm-min-version")
        gates = self._parse_gates(raw["x-mm-config-gates"], where)
        params: dict[str, Version] = {}
        param_names: list[str] = []
        for index, param in enumerate(raw.get("parameters", []) or []):
            pwhere = f"{where}: parameters[{index}]"
            if not isinstance(param, dict) or "name" not in param:
                raise self._fail(pwhere, "expected an inline parameter with a name")
            pwhere = f"{where}: parameter {param['name']}"
            if "x-mm-min-version" not in param:
                raise self._fail(pwhere, "missing annotation x-mm-min-version")
            pversion = _parse_version(
                param["x-mm-min-version"], f"{self._openapi_path}: {pwhere}: x-mm-min-version"
            )
            param_names.append(str(param["name"]))
            if pversion is not None:
                params[str(param["name"])] = pversion
        self._raw_ops[op_id] = raw
        return Operation(
            operation_id=op_id,
            method=method.upper(),
            path=path,
            auth=auth,
            permissions=permissions,
            restrict_system_admin=flag("x-mm-restrict-system-admin"),
            min_version=min_version,
            removed_in=removed_in,
            license=choice("x-mm-license", LICENSE_VALUES),
            destructive=flag("x-mm-destructive"),
            global_state=names("x-mm-global-state", GLOBAL_STATE_VALUES),
            config_gates=gates,
            deprecated=bool(raw.get("deprecated", False)),
            parameters=tuple(param_names),
            local_mode=flag("x-mm-local-mode"),
            parameter_min_versions=MappingProxyType(params),
        )

    def _parse_gates(self, raw: Any, where: str) -> tuple[ConfigGate, ...]:
        name = f"{where}: x-mm-config-gates"
        if not isinstance(raw, list):
            raise self._fail(name, f"expected a list, got {raw!r}")
        gates = []
        keys = {"setting", "value", "default", "denies", "status"}
        allowed_roles = frozenset(BUILTIN_ROLES) | {ANONYMOUS}
        for index, gate in enumerate(raw):
            gwhere = f"{name}[{index}]"
            if not isinstance(gate, dict) or set(gate) != keys:
                raise self._fail(gwhere, f"expected exactly the keys {sorted(keys)}")
            denies = gate["denies"]
            if not isinstance(denies, list) or not set(denies) <= allowed_roles:
                raise self._fail(gwhere, f"denies: expected roles from {sorted(allowed_roles)}")
            if not isinstance(gate["status"], int) or not isinstance(gate["setting"], str):
                raise self._fail(gwhere, "setting must be a string and status an int")
            gates.append(
                ConfigGate(
                    gate["setting"], gate["value"], gate["default"], tuple(denies), gate["status"]
                )
            )
        return tuple(gates)

    def _parse_errata(self) -> tuple[Erratum, ...]:
        path = self._errata_path
        if not path.is_file():
            return ()
        raw = _load_yaml(path)
        entries = raw.get("errata") if isinstance(raw, dict) else raw
        if not isinstance(entries, list):
            raise ContractError(f"{path}: expected a list of errata (or a mapping 'errata:')")
        seen: set[str] = set()
        out = []
        required = ("id", "operations", "topic", "seed", "server", "decision", "why")
        optional = ("contract", "versions")
        for index, entry in enumerate(entries):
            where = f"{path}: errata[{index}]"
            if not isinstance(entry, dict):
                raise ContractError(f"{where}: not a mapping")
            if isinstance(entry.get("id"), str):
                where = f"{path}: erratum {entry['id']}"
            for key in required:
                if key not in entry:
                    raise ContractError(f"{where}: missing field {key!r}")
            unknown = set(entry) - set(required) - set(optional)
            if unknown:
                raise ContractError(f"{where}: unknown field(s) {sorted(unknown)}")
            for key in ("id", "topic", "seed", "server", "decision", "why"):
                if not isinstance(entry[key], str) or not entry[key].strip():
                    raise ContractError(f"{where}: field {key!r} must be a non-empty string")
            if entry["id"] in seen:
                raise ContractError(f"{where}: duplicate id")
            seen.add(entry["id"])
            if entry["decision"] not in DECISIONS:
                raise ContractError(
                    f"{where}: field 'decision': unknown value {entry['decision']!r} "
                    f"(expected one of {sorted(DECISIONS)})"
                )
            if entry["topic"] not in ERRATA_TOPICS:
                raise ContractError(
                    f"{where}: field 'topic': unknown value {entry['topic']!r} "
                    f"(expected one of {sorted(ERRATA_TOPICS)})"
                )
            ops = entry["operations"]
            if not isinstance(ops, list) or not ops:
                raise ContractError(f"{where}: field 'operations' must be a non-empty list")
            for op_id in ops:
                if op_id != ALL_OPERATIONS and op_id not in self._by_id:
                    raise ContractError(
                        f"{where}: field 'operations': unknown operationId {op_id!r}"
                    )
            versions = self._parse_rules(entry.get("versions"), where)
            if entry["decision"] == "version-dependent" and not versions:
                raise ContractError(f"{where}: version-dependent entries need 'versions' rules")
            out.append(
                Erratum(
                    id=entry["id"],
                    operations=tuple(ops),
                    topic=entry["topic"],
                    seed=entry["seed"].strip(),
                    server=entry["server"].strip(),
                    decision=entry["decision"],
                    why=entry["why"].strip(),
                    contract=_effects(entry.get("contract"), f"{where}: contract"),
                    versions=versions,
                )
            )
        return tuple(out)

    @staticmethod
    def _parse_rules(raw: Any, where: str) -> tuple[VersionRule, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise ContractError(f"{where}: field 'versions' must be a list of rules")
        rules = []
        for index, rule in enumerate(raw):
            rwhere = f"{where}: versions[{index}]"
            if not isinstance(rule, dict):
                raise ContractError(f"{rwhere}: not a mapping")
            unknown = set(rule) - {"from", "below", "expect", "contract"}
            if unknown:
                raise ContractError(f"{rwhere}: unknown key(s) {sorted(unknown)}")
            if "from" not in rule and "below" not in rule:
                raise ContractError(f"{rwhere}: needs 'from' and/or 'below'")
            lower = _parse_version(rule.get("from"), f"{rwhere}.from")
            upper = _parse_version(rule.get("below"), f"{rwhere}.below")
            if lower and upper and upper <= lower:
                raise ContractError(f"{rwhere}: 'below' must be after 'from'")
            expect_raw = rule.get("expect", {}) or {}
            if not isinstance(expect_raw, dict):
                raise ContractError(f"{rwhere}.expect: expected a mapping case -> expectation")
            expect: dict[str, Expectation] = {}
            for case, exp in expect_raw.items():
                expect[str(case)] = _expectation(exp, f"{rwhere}.expect.{case}", nested=False)
            rules.append(
                VersionRule(
                    lower,
                    upper,
                    MappingProxyType(expect),
                    _effects(rule.get("contract"), f"{rwhere}.contract"),
                )
            )
        return tuple(rules)

    # ----------------------------------------------------------------- queries

    @property
    def document(self) -> dict[str, Any]:
        """The OpenAPI document (a deep copy; safe to hand to schemathesis)."""
        return copy.deepcopy(self._document)

    @property
    def operations(self) -> tuple[Operation, ...]:
        return self._operations

    @property
    def errata(self) -> tuple[Erratum, ...]:
        return self._errata

    @property
    def roles(self) -> Mapping[str, frozenset[str]]:
        """Built-in role -> permissions on a default install (group tokens kept)."""
        return self._roles

    def operation(self, operation_id: str) -> Operation:
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise KeyError(
                f"no operation {operation_id!r} in {self._openapi_path} "
                f"(known: {', '.join(sorted(self._by_id))})"
            ) from None

    def find(self, method: str, path_template: str) -> Operation:
        try:
            return self._by_route[(method.upper(), path_template)]
        except KeyError:
            raise KeyError(
                f"no operation {method.upper()} {path_template} in {self._openapi_path}"
            ) from None

    def errata_for(self, operation_id: str) -> tuple[Erratum, ...]:
        self.operation(operation_id)
        return tuple(e for e in self._errata if e.applies_to_operation(operation_id))

    def erratum(self, erratum_id: str) -> Erratum:
        for entry in self._errata:
            if entry.id == erratum_id:
                return entry
        raise KeyError(f"no erratum {erratum_id!r} in {self._errata_path}")

    def _responses(self, operation_id: str) -> dict[str, Any]:
        self.operation(operation_id)
        responses = self._raw_ops[operation_id].get("responses", {})
        return {str(k).upper(): v for k, v in responses.items()}

    def documented_statuses(self, operation_id: str) -> frozenset[str]:
        """Status keys as written in the spec (``"200"``, ``"4XX"``, ``"default"``)."""
        return frozenset(
            key if key != "DEFAULT" else "default" for key in self._responses(operation_id)
        )

    def _response(self, operation_id: str, status: int | str) -> dict[str, Any] | None:
        responses = self._responses(operation_id)
        key = _status_key(status)
        for candidate in (key, f"{key[:1]}XX", "DEFAULT"):
            if candidate in responses:
                resolved = self._resolve(responses[candidate], set())
                return resolved if isinstance(resolved, dict) else None
        return None

    def response_media_types(self, operation_id: str, status: int | str) -> tuple[str, ...]:
        response = self._response(operation_id, status)
        if response is None:
            return ()
        return tuple(response.get("content", {}) or {})

    def response_schema(self, operation_id: str, status: int | str) -> dict[str, Any] | None:
        """The JSON Schema of the JSON body for ``status``, fully resolved, or None.

        ``$ref`` are inlined and OpenAPI 3.0 ``nullable`` is turned into ``"null"`` types, so
        the result works with any ``jsonschema`` validator (Draft 4 to 2020-12). Falls back to
        ``"2XX"``-style keys and ``default`` like OpenAPI does. None when the response has no
        JSON body (or the status is not documented).
        """
        response = self._response(operation_id, status)
        if response is None:
            return None
        for media, body in (response.get("content", {}) or {}).items():
            mtype = media.split(";")[0].strip().lower()
            if (mtype == "application/json" or mtype.endswith("+json")) and "schema" in body:
                schema = _to_json_schema(body["schema"])
                return schema if isinstance(schema, dict) else None
        return None

    def _resolve(self, node: Any, seen: set[str]) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                ref = node["$ref"]
                if not isinstance(ref, str) or not ref.startswith("#/"):
                    raise ContractError(f"{self._openapi_path}: unsupported $ref {ref!r}")
                if ref in seen:
                    raise ContractError(f"{self._openapi_path}: recursive $ref {ref}")
                target: Any = self._document
                for part in ref[2:].split("/"):
                    part = part.replace("~1", "/").replace("~0", "~")
                    if not isinstance(target, dict) or part not in target:
                        raise ContractError(f"{self._openapi_path}: dangling $ref {ref}")
                    target = target[part]
                return self._resolve(target, seen | {ref})
            return {key: self._resolve(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [self._resolve(value, seen) for value in node]
        return node

    def json_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """An OpenAPI schema of this document as plain JSON Schema (refs inlined)."""
        converted = _to_json_schema(self._resolve(copy.deepcopy(dict(schema)), set()))
        if not isinstance(converted, dict):
            raise ContractError(f"{self._openapi_path}: not a schema object: {schema!r}")
        return converted

    def roles_granted(self, operation_id: str) -> frozenset[str]:
        """Built-in roles (and ``anonymous``) that pass the access check on a default install.

        Session operations without a permission check admit every logged-in role; ``none``
        operations also admit ``anonymous``; ``local-only`` operations admit no role (local mode
        is a transport, not a role). Config gates active on a default install remove the roles
        they deny.
        """
        operation = self.operation(operation_id)
        if operation.auth == "local-only":
            return frozenset()
        if operation.permissions:
            wanted = set(operation.permissions)
            granted = {role for role, perms in self._roles.items() if perms & wanted}
        else:
            granted = set(self._roles)
        if operation.auth == "none":
            granted.add(ANONYMOUS)
        for gate in operation.config_gates:
            if gate.active_by_default:
                granted -= set(gate.denies)
        return frozenset(granted)

    def exempt_checks(self, operation_id: str, version: Version | None) -> frozenset[str]:
        """schemathesis checks to skip for this operation on a server of ``version``."""
        return self._effects(operation_id, version).skip_checks

    def extra_statuses(self, operation_id: str, version: Version | None) -> frozenset[str]:
        """Statuses accepted beyond the documented ones (from errata)."""
        return self._effects(operation_id, version).extra_status

    def _effects(self, operation_id: str, version: Version | None) -> ContractEffects:
        effects = ContractEffects()
        for entry in self.errata_for(operation_id):
            effects = effects | entry.effects_for(version)
        return effects

    def is_available(self, operation_id: str, version: Version | None) -> bool:
        """Whether a server of ``version`` has the operation (True when the version is unknown)."""
        return self.operation(operation_id).available_in(version)

    def parameter_min_versions(self, operation_id: str) -> Mapping[str, Version]:
        """Parameter name -> minimum server version (parameters with a known minimum only)."""
        return self.operation(operation_id).parameter_min_versions

    def available_parameters(self, operation_id: str, version: Version | None) -> frozenset[str]:
        """Parameters a server of ``version`` understands (all of them when unknown)."""
        operation = self.operation(operation_id)
        return frozenset(operation.parameters) - set(operation.unsupported_parameters(version))

    def bearer_scheme(self) -> str | None:
        """The name of the document's HTTP bearer security scheme (None when it has none)."""
        schemes = (self._document.get("components") or {}).get("securitySchemes") or {}
        for name, scheme in schemes.items():
            if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
                return str(name)
        return None

    def link_edges(self) -> tuple[tuple[str, str], ...]:
        """(source, target) operationIds of every OpenAPI link in the document."""
        edges: list[tuple[str, str]] = []
        for op_id, raw in self._raw_ops.items():
            for response in (raw.get("responses") or {}).values():
                links = response.get("links") if isinstance(response, dict) else None
                for link in (links or {}).values():
                    if isinstance(link, dict) and link.get("operationId"):
                        edges.append((op_id, str(link["operationId"])))
        return tuple(edges)

    def link_families(self) -> tuple[tuple[str, ...], ...]:
        """Operations connected by links, one sorted tuple per connected family, sorted."""
        return tuple(sorted(connected_groups(self.link_edges())))

    def __repr__(self) -> str:
        return f"Contract({str(self.spec_dir)!r}, {len(self._operations)} operations)"


def _to_json_schema(node: Any) -> Any:
    """Convert a resolved OpenAPI 3.0 schema into plain JSON Schema."""
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _OPENAPI_ONLY_KEYWORDS or key.startswith("x-"):
            continue
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [_to_json_schema(sub) for sub in value]
        else:
            out[key] = copy.deepcopy(value)
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif "type" not in out:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _default_contract(spec_dir: str) -> Contract:
    return Contract(Path(spec_dir))


def load_contract(spec_dir: Path | None = None) -> Contract:
    """Load and check the contract. The default location is cached (per resolved directory)."""
    if spec_dir is not None:
        return Contract(Path(spec_dir))
    return _default_contract(str(default_spec_dir().resolve()))


def reset_contract_cache() -> None:
    """Forget cached contracts (after changing ``MMCONFORM_SPEC_DIR`` or the files)."""
    _default_contract.cache_clear()
