"""Checks HTTP responses against spec/openapi.yaml: the status is documented for the operation
(errata included) and a JSON body fits the documented schema.

The stub's tests route every response they receive through a :class:`Recorder`, so the stub and
the contract, written independently, are shown to agree on everything those tests exercise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import httpx
from jsonschema import Draft202012Validator

from mmconform._version import Version
from mmconform.contract import Contract, Operation


@dataclass
class Recorder:
    """Collects the driver's responses (an httpx response hook) and checks them on demand."""

    contract: Contract
    version: Version
    seen: list[tuple[str, str, int, str, bytes]] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], Operation]] = []
        for operation in self.contract.operations:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(operation.path))
            self._routes.append((re.compile(f"^{pattern}$"), operation))

    def hook(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        self.seen.append(
            (
                request.method,
                request.url.path,
                response.status_code,
                response.headers.get("content-type", ""),
                response.content,
            )
        )

    def operation_for(self, method: str, path: str) -> Operation | None:
        for pattern, operation in self._routes:
            if operation.method.upper() == method.upper() and pattern.match(path):
                return operation
        return None

    def problems(self) -> list[str]:
        found: list[str] = []
        for method, path, status, content_type, body in self.seen:
            operation = self.operation_for(method, path)
            if operation is None:
                continue  # e.g. the removed /license/renewal: not an operation of this version
            op_id = operation.operation_id
            self.checked.add(op_id)
            documented = {s.upper() for s in self.contract.documented_statuses(op_id)}
            extra = {s.upper() for s in self.contract.extra_statuses(op_id, self.version)}
            allowed = documented | extra
            if not ({str(status), f"{str(status)[0]}XX", "DEFAULT"} & allowed):
                found.append(f"{op_id}: undocumented status {status}")
                continue
            skip = self.contract.exempt_checks(op_id, self.version)
            if "response_schema_conformance" in skip:
                continue
            schema = self.contract.response_schema(op_id, status)
            if schema is None or not content_type.startswith("application/json"):
                continue
            try:
                document = json.loads(body) if body else None
            except ValueError:
                found.append(f"{op_id} {status}: body is not JSON")
                continue
            errors = sorted(
                Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path)
            )
            for error in errors[:3]:
                where = "/".join(str(p) for p in error.absolute_path)
                found.append(f"{op_id} {status} at /{where}: {error.message[:200]}")
        self.seen.clear()
        return found
