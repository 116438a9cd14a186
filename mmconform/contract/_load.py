"""Reading ``spec/openapi.yaml`` and ``spec/errata.yaml`` into the model, checking every
annotation on the way: a malformed file raises :class:`ContractError` naming the file, the
operation (or erratum) and the field."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mmconform._version import Version
from mmconform.contract._errata import parse_errata
from mmconform.contract._model import (
    BODY_CURRENT,
    BODY_JSON,
    BODY_MULTIPART,
    BODY_NONE,
    BODY_TEXT,
    ConfigGate,
    EditionGate,
    Erratum,
    Operation,
    RequestExample,
)
from mmconform.contract._requirements import (
    REQUIREMENTS_FILE,
    Requirement,
    parse_requirements,
)
from mmconform.contract._roles import (
    ROLE_LICENSE_ANNOTATION,
    RoleLicenseRule,
    parse_role_license,
)
from mmconform.contract._vocabulary import (
    _ENV_VAR,
    _ERRATA_FILE,
    _OPENAPI_FILE,
    ANONYMOUS,
    AUTH_VALUES,
    DENIED_CELL_POLICIES,
    EDITION_VALUES,
    GLOBAL_STATE_VALUES,
    HTTP_METHODS,
    LICENSE_VALUES,
    OPERATION_ANNOTATIONS,
    PERMISSIONS,
    REQUEST_KEYS,
    ROLES,
    ContractError,
)
from mmconform.contract._yaml import load_yaml, parse_version


def default_spec_dir() -> Path:
    """``$MMCONFORM_SPEC_DIR``, else ``<repo>/spec``, else ``mmconform/_spec``."""
    env = os.environ.get(_ENV_VAR)
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]  # mmconform/
    repo_spec = package.parent / "spec"
    if (repo_spec / _OPENAPI_FILE).is_file():
        return repo_spec
    return package / "_spec"


@dataclass(frozen=True)
class LoadedSpec:
    """What the spec files say, checked."""

    spec_dir: Path
    openapi_path: Path
    errata_path: Path
    document: dict[str, Any]
    roles: Mapping[str, frozenset[str]]
    role_license: RoleLicenseRule
    operations: tuple[Operation, ...]
    raw_operations: Mapping[str, dict[str, Any]]
    errata: tuple[Erratum, ...]
    requirements: tuple[Requirement, ...]


def load_spec(spec_dir: Path) -> LoadedSpec:
    """Read and check the spec directory."""
    return _Parser(Path(spec_dir)).load()


class _Parser:
    """Parses one spec directory; each method checks one part and names it in its errors."""

    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = spec_dir
        self._openapi_path = spec_dir / _OPENAPI_FILE
        self._errata_path = spec_dir / _ERRATA_FILE
        self._raw_ops: dict[str, dict[str, Any]] = {}
        self._by_id: dict[str, Operation] = {}

    def load(self) -> LoadedSpec:
        raw = load_yaml(self._openapi_path)
        if not isinstance(raw, dict) or not isinstance(raw.get("paths"), dict):
            raise ContractError(f"{self._openapi_path}: not an OpenAPI document with 'paths'")
        roles = self._parse_roles(raw.get("x-mm-roles"))
        role_license = parse_role_license(raw.get(ROLE_LICENSE_ANNOTATION), self._openapi_path)
        ops: list[Operation] = []
        for path, item in raw["paths"].items():
            if not isinstance(item, dict):
                raise ContractError(f"{self._openapi_path}: path {path}: not a mapping")
            for method in HTTP_METHODS:
                if method in item:
                    ops.append(self._parse_operation(path, method, item))
        for operation in ops:
            if operation.operation_id in self._by_id:
                raise ContractError(
                    f"{self._openapi_path}: operationId {operation.operation_id} is used twice"
                )
            self._by_id[operation.operation_id] = operation
        for operation in ops:
            source = operation.request.body_from
            if source is not None and source not in self._by_id:
                raise self._fail(
                    f"operation {operation.operation_id}: x-mm-request.body-from",
                    f"unknown operationId {source!r}",
                )
        return LoadedSpec(
            spec_dir=self.spec_dir,
            openapi_path=self._openapi_path,
            errata_path=self._errata_path,
            document=raw,
            roles=roles,
            role_license=role_license,
            operations=tuple(ops),
            raw_operations=MappingProxyType(self._raw_ops),
            errata=parse_errata(self._errata_path, self._by_id),
            requirements=self._parse_requirements(),
        )

    def _parse_requirements(self) -> tuple[Requirement, ...]:
        path = self.spec_dir / REQUIREMENTS_FILE
        if not path.is_file():
            return ()
        return parse_requirements(load_yaml(path), path, self._by_id)

    def _fail(self, where: str, message: str) -> ContractError:
        return ContractError(f"{self._openapi_path}: {where}: {message}")

    def _parse_roles(self, raw: Any) -> Mapping[str, frozenset[str]]:
        if not isinstance(raw, dict):
            raise self._fail("x-mm-roles", "missing or not a mapping of role -> permissions")
        missing = [role for role in ROLES if role not in raw]
        if missing:
            raise self._fail("x-mm-roles", f"missing built-in roles {missing}")
        roles: dict[str, frozenset[str]] = {}
        for role, perms in raw.items():
            if role not in ROLES:
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
        min_version = parse_version(
            raw["x-mm-min-version"], f"{self._openapi_path}: {where}: x-mm-min-version"
        )
        removed_in = parse_version(
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
            pversion = parse_version(
                param["x-mm-min-version"], f"{self._openapi_path}: {pwhere}: x-mm-min-version"
            )
            param_names.append(str(param["name"]))
            if pversion is not None:
                params[str(param["name"])] = pversion
        destructive = flag("x-mm-destructive")
        request = self._parse_request(raw, where, destructive=destructive)
        edition_gates = self._parse_edition_gates(raw["x-mm-edition-gates"], where)
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
            destructive=destructive,
            global_state=names("x-mm-global-state", GLOBAL_STATE_VALUES),
            config_gates=gates,
            deprecated=bool(raw.get("deprecated", False)),
            parameters=tuple(param_names),
            local_mode=flag("x-mm-local-mode"),
            edition_gates=edition_gates,
            request=request,
            parameter_min_versions=MappingProxyType(params),
        )

    def _parse_gates(self, raw: Any, where: str) -> tuple[ConfigGate, ...]:
        name = f"{where}: x-mm-config-gates"
        if not isinstance(raw, list):
            raise self._fail(name, f"expected a list, got {raw!r}")
        gates = []
        keys = {"setting", "value", "default", "denies", "status"}
        allowed_roles = frozenset(ROLES) | {ANONYMOUS}
        for index, gate in enumerate(raw):
            gwhere = f"{name}[{index}]"
            if not isinstance(gate, dict) or not keys <= set(gate) <= keys | {"error_id"}:
                raise self._fail(
                    gwhere, f"expected the keys {sorted(keys)} and optionally 'error_id'"
                )
            if not isinstance(gate.get("error_id", ""), str):
                raise self._fail(gwhere, "error_id must be a string")
            denies = gate["denies"]
            if not isinstance(denies, list) or not set(denies) <= allowed_roles:
                raise self._fail(gwhere, f"denies: expected roles from {sorted(allowed_roles)}")
            if not isinstance(gate["status"], int) or not isinstance(gate["setting"], str):
                raise self._fail(gwhere, "setting must be a string and status an int")
            gates.append(
                ConfigGate(
                    gate["setting"],
                    gate["value"],
                    gate["default"],
                    tuple(denies),
                    gate["status"],
                    gate.get("error_id"),
                )
            )
        return tuple(gates)

    def _parse_edition_gates(self, raw: Any, where: str) -> tuple[EditionGate, ...]:
        name = f"{where}: x-mm-edition-gates"
        if not isinstance(raw, list):
            raise self._fail(name, f"expected a list, got {raw!r}")
        gates = []
        for index, gate in enumerate(raw):
            gwhere = f"{name}[{index}]"
            if not isinstance(gate, dict) or not {"edition", "status"} <= set(gate) <= {
                "edition",
                "status",
                "error_id",
            }:
                raise self._fail(
                    gwhere, "expected the keys edition, status and optionally error_id"
                )
            if gate["edition"] not in EDITION_VALUES:
                raise self._fail(gwhere, f"edition: expected one of {sorted(EDITION_VALUES)}")
            status = gate["status"]
            if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status < 600:
                raise self._fail(gwhere, "status: expected an error status (4xx or 5xx)")
            error_id = gate.get("error_id")
            if error_id is not None and not (isinstance(error_id, str) and error_id):
                raise self._fail(gwhere, "error_id: expected a non-empty string")
            gates.append(EditionGate(str(gate["edition"]), status, error_id))
        if len({gate.edition for gate in gates}) != len(gates):
            raise self._fail(name, "at most one gate per edition")
        return tuple(gates)

    def _parse_request(
        self, raw: dict[str, Any], where: str, *, destructive: bool
    ) -> RequestExample:
        """``x-mm-request``: a request every required parameter and body of the operation is
        given in, with the body in the media type the operation declares."""
        name = f"{where}: x-mm-request"
        example = raw["x-mm-request"]
        if not isinstance(example, dict):
            raise self._fail(name, f"expected a mapping, got {example!r}")
        unknown = set(example) - REQUEST_KEYS
        if unknown:
            raise self._fail(
                name, f"unknown key(s) {sorted(unknown)} (known: {sorted(REQUEST_KEYS)})"
            )

        def strings(key: str) -> dict[str, str]:
            value = example.get(key, {})
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise self._fail(f"{name}.{key}", "expected a mapping of strings to strings")
            return dict(value)

        declared = [p for p in raw.get("parameters", []) or [] if isinstance(p, dict)]
        path_names = {str(p["name"]) for p in declared if p.get("in") == "path"}
        query_names = {str(p["name"]) for p in declared if p.get("in") == "query"}
        required_query = {
            str(p["name"]) for p in declared if p.get("in") == "query" and p.get("required")
        }
        path_params = strings("path")
        if set(path_params) != path_names:
            raise self._fail(
                f"{name}.path", f"must give exactly the path parameters {sorted(path_names)}"
            )
        query = strings("query")
        if not set(query) <= query_names:
            raise self._fail(
                f"{name}.query", f"unknown parameter(s) {sorted(set(query) - query_names)}"
            )
        if not required_query <= set(query):
            raise self._fail(
                f"{name}.query",
                f"missing required parameter(s) {sorted(required_query - set(query))}",
            )
        bodies = [key for key in ("json", "text", "multipart", "body-from") if key in example]
        if len(bodies) > 1:
            raise self._fail(name, f"at most one body, got {bodies}")
        body = (raw.get("requestBody") or {}) if isinstance(raw.get("requestBody"), dict) else {}
        media = set((body.get("content") or {}).keys())
        wanted_media = {
            "json": "application/json",
            "text": "application/json",
            "body-from": "application/json",
            "multipart": "multipart/form-data",
        }
        if bodies:
            if wanted_media[bodies[0]] not in media:
                raise self._fail(
                    f"{name}.{bodies[0]}",
                    f"the operation takes no {wanted_media[bodies[0]]} body",
                )
        elif body.get("required"):
            raise self._fail(
                name, "the operation requires a body; give json, text, multipart or body-from"
            )
        kind = (
            {
                "json": BODY_JSON,
                "text": BODY_TEXT,
                "multipart": BODY_MULTIPART,
                "body-from": BODY_CURRENT,
            }[bodies[0]]
            if bodies
            else BODY_NONE
        )
        text = example.get("text", "")
        if not isinstance(text, str):
            raise self._fail(f"{name}.text", "expected a string")
        body_from = example.get("body-from")
        if body_from is not None and not isinstance(body_from, str):
            raise self._fail(f"{name}.body-from", "expected an operationId")
        overrides = example.get("set", {})
        if overrides and body_from is None:
            raise self._fail(f"{name}.set", "only with body-from")
        if not isinstance(overrides, dict) or not all(isinstance(k, str) and k for k in overrides):
            raise self._fail(f"{name}.set", "expected a mapping of dotted setting paths")
        policy = example.get("denied-cells")
        if destructive and policy is None:
            raise self._fail(
                f"{name}.denied-cells",
                "destructive operations must say where callers that must be refused may send "
                f"it: one of {sorted(DENIED_CELL_POLICIES)}",
            )
        if not destructive and policy is not None:
            raise self._fail(f"{name}.denied-cells", "only for destructive operations")
        if policy is not None and policy not in DENIED_CELL_POLICIES:
            raise self._fail(
                f"{name}.denied-cells",
                f"unknown value {policy!r} (expected one of {sorted(DENIED_CELL_POLICIES)})",
            )
        return RequestExample(
            path_params=MappingProxyType(path_params),
            query=MappingProxyType(query),
            body_kind=kind,
            json_body=example.get("json"),
            text_body=text,
            files=MappingProxyType(strings("multipart")),
            body_from=body_from,
            overrides=MappingProxyType(dict(overrides)),
            denied_cells=str(policy or "always"),
        )
