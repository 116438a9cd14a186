"""The contract's queries: operations, errata effects, roles, response schemas."""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmconform._components import connected_groups
from mmconform._version import Version
from mmconform.contract._load import default_spec_dir, load_spec
from mmconform.contract._model import ContractEffects, Erratum, Operation
from mmconform.contract._requirements import Requirement
from mmconform.contract._roles import RoleLicenseRule
from mmconform.contract._vocabulary import _OPENAPI_ONLY_KEYWORDS, ANONYMOUS, ContractError
from mmconform.contract._yaml import parse_version, status_key


class Contract:
    """The loaded, checked contract. Build it with :func:`load_contract`."""

    def __init__(self, spec_dir: Path) -> None:
        spec = load_spec(Path(spec_dir))
        self.spec_dir = spec.spec_dir
        self._openapi_path = spec.openapi_path
        self._errata_path = spec.errata_path
        self._document: dict[str, Any] = spec.document
        self._roles = spec.roles
        self._role_license = spec.role_license
        self._operations = spec.operations
        self._raw_ops = spec.raw_operations
        self._by_id = {operation.operation_id: operation for operation in spec.operations}
        self._by_route = {(o.method, o.path): o for o in spec.operations}
        self._errata = spec.errata
        self._requirements = {req.id: req for req in spec.requirements}

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
    def requirements(self) -> tuple[Requirement, ...]:
        """The requirements catalogue (``spec/requirements.yaml``), in file order."""
        return tuple(self._requirements.values())

    def requirement(self, requirement_id: str) -> Requirement:
        try:
            return self._requirements[requirement_id]
        except KeyError:
            raise KeyError(
                f"no requirement {requirement_id!r} in {self.spec_dir / 'requirements.yaml'}"
            ) from None

    @property
    def roles(self) -> Mapping[str, frozenset[str]]:
        """Built-in role -> permissions on a default install (group tokens kept)."""
        return self._roles

    @property
    def role_license(self) -> RoleLicenseRule:
        """The roles a server assigns only under a license with a feature (x-mm-role-license)."""
        return self._role_license

    def role_unavailability(
        self,
        role: str,
        *,
        edition: str | None,
        licensed: bool | None,
        license_features: Mapping[str, bool] | None = None,
    ) -> str | None:
        """Why a target with these facts cannot hold ``role`` at all (None: it can, or that is
        not known)."""
        return self._role_license.unavailability(
            role, edition=edition, licensed=licensed, license_features=license_features
        )

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
        found = self._errata_by_operation.get(operation_id)
        if found is None:
            self.operation(operation_id)
            found = tuple(e for e in self._errata if e.applies_to_operation(operation_id))
            self._errata_by_operation[operation_id] = found
        return found

    @functools.cached_property
    def _errata_by_operation(self) -> dict[str, tuple[Erratum, ...]]:
        return {}

    @functools.cached_property
    def _errata_by_id(self) -> dict[str, Erratum]:
        return {entry.id: entry for entry in self._errata}

    def erratum(self, erratum_id: str) -> Erratum:
        try:
            return self._errata_by_id[erratum_id]
        except KeyError:
            raise KeyError(f"no erratum {erratum_id!r} in {self._errata_path}") from None

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
        key = status_key(status)
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

    def response_field_versions(
        self, operation_id: str, status: int | str
    ) -> Mapping[str, Version]:
        """Fields of the JSON answer for ``status`` that only servers from some version send
        (``x-mm-min-version`` on the property): location (``/root_status``, ``/rows/[]/name``)
        -> the first version that sends it. Empty when no field says."""
        response = self._response(operation_id, status)
        found: dict[str, Version] = {}
        for media, body in ((response or {}).get("content", {}) or {}).items():
            mtype = media.split(";")[0].strip().lower()
            if (mtype == "application/json" or mtype.endswith("+json")) and "schema" in body:
                _field_versions(body["schema"], "", found, f"{operation_id} {status}")
        return found

    def json_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """An OpenAPI schema of this document as plain JSON Schema (refs inlined)."""
        converted = _to_json_schema(self._resolve(copy.deepcopy(dict(schema)), set()))
        if not isinstance(converted, dict):
            raise ContractError(f"{self._openapi_path}: not a schema object: {schema!r}")
        return converted

    def request_body_property_count(self, operation_id: str) -> int:
        """How many properties the JSON request body schema of an operation declares, counted
        at every depth (0 without a JSON body): what makes a body large for case generation."""
        raw = self._raw_ops[self.operation(operation_id).operation_id]
        body = raw.get("requestBody")
        if not isinstance(body, dict):
            return 0
        content = self.json_schema(body).get("content", {}) or {}
        schemas = [
            value.get("schema")
            for media, value in content.items()
            if isinstance(value, dict) and media.split(";")[0].strip().lower().endswith("json")
        ]
        return max((_count_properties(schema) for schema in schemas), default=0)

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
        key = (operation_id, version)
        if key not in self._effects_cache:
            effects = ContractEffects()
            for entry in self.errata_for(operation_id):
                effects = effects | entry.effects_for(version)
            self._effects_cache[key] = effects
        return self._effects_cache[key]

    @functools.cached_property
    def _effects_cache(self) -> dict[tuple[str, Version | None], ContractEffects]:
        return {}

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


def spec_hashes(spec_dir: Path) -> dict[str, str]:
    """sha256 of each file of the contract (openapi, errata, requirements): what a report, a
    certification bundle, a selftest shard or a recording was made against."""
    out = {}
    for name in ("openapi.yaml", "errata.yaml", "requirements.yaml"):
        path = Path(spec_dir) / name
        if path.is_file():
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def reset_contract_cache() -> None:
    """Forget cached contracts (after changing ``MMCONFORM_SPEC_DIR`` or the files)."""
    _default_contract.cache_clear()


def _count_properties(node: Any) -> int:
    if isinstance(node, dict):
        own = node.get("properties")
        count = len(own) if isinstance(own, dict) else 0
        return count + sum(_count_properties(value) for value in node.values())
    if isinstance(node, list):
        return sum(_count_properties(value) for value in node)
    return 0


def _field_versions(node: Any, location: str, found: dict[str, Version], where: str) -> None:
    """Collect ``x-mm-min-version`` of the properties of a resolved schema."""
    if not isinstance(node, dict):
        return
    for name, child in (node.get("properties") or {}).items():
        child_location = f"{location}/{name}"
        if isinstance(child, dict) and "x-mm-min-version" in child:
            version = parse_version(
                child["x-mm-min-version"], f"{where}: response field {child_location}"
            )
            if version is not None:
                found[child_location] = version
        _field_versions(child, child_location, found, where)
    if isinstance(node.get("items"), dict):
        _field_versions(node["items"], f"{location}/[]", found, where)
    for key in ("allOf", "anyOf", "oneOf"):
        for option in node.get(key) or ():
            _field_versions(option, location, found, where)
