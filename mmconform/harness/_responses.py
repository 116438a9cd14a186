"""Any HTTP response held against the contract: the status is documented for the operation
(errata for the target's version included) and a JSON body fits the documented schema.

Scenario suites get clients that check every response as it arrives (a
:class:`ResponseChecker` is an httpx response hook that raises :class:`ContractViolation`);
the project's own tests record responses and check them in bulk (:class:`ResponseRecorder`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import httpx
from jsonschema import Draft202012Validator

from mmconform._version import Version
from mmconform._wire import Secret, redact
from mmconform.contract import Contract, Operation
from mmconform.harness._failures import curl_command, redirect_note

__all__ = ["ContractViolation", "ResponseChecker", "ResponseRecorder"]

_MAX_SCHEMA_ERRORS = 3


class ContractViolation(AssertionError):
    """A response the contract does not allow; the message says what and how to reproduce."""


class ResponseChecker:
    """Checks responses of a server of ``version`` against ``contract``.

    Responses to requests that are not operations of the contract (an undeclared method, a
    removed route) are not its business and pass unchecked.
    """

    def __init__(
        self,
        contract: Contract,
        version: Version | None,
        *,
        tokens: Mapping[str, Secret] = MappingProxyType({}),
    ) -> None:
        self.contract = contract
        self.version = version
        self._tokens = tokens
        self._routes = [
            (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path)) + "$"), op)
            for op in contract.operations
        ]
        self._validators: dict[tuple[str, int], Draft202012Validator | None] = {}

    def operation_for(self, method: str, path: str) -> Operation | None:
        for pattern, operation in self._routes:
            if operation.method == method.upper() and pattern.match(path):
                return operation
        return None

    def problems(
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> list[str]:
        """What is wrong with one answer ([] when the contract allows it)."""
        operation = self.operation_for(method, path)
        if operation is None:
            return []
        op_id = operation.operation_id
        documented = {s.upper() for s in self.contract.documented_statuses(op_id)}
        allowed = documented | set(self.contract.extra_statuses(op_id, self.version))
        if not {str(status), f"{str(status)[0]}XX", "DEFAULT"} & allowed:
            return [f"{op_id}: undocumented status {status} (documented: {sorted(allowed)})"]
        if "response_schema_conformance" in self.contract.exempt_checks(op_id, self.version):
            return []
        validator = self._validator(op_id, status)
        if validator is None or not content_type.startswith("application/json"):
            return []
        try:
            document = json.loads(body) if body else None
        except ValueError:
            return [f"{op_id} {status}: body is not JSON"]
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        return [
            f"{op_id} {status} at /{'/'.join(str(p) for p in error.absolute_path)}: "
            f"{error.message[:200]}"
            for error in errors[:_MAX_SCHEMA_ERRORS]
        ]

    def problems_of(self, response: httpx.Response) -> list[str]:
        response.read()
        return self.problems(
            response.request.method,
            response.request.url.path,
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
        )

    def __call__(self, response: httpx.Response) -> None:
        """httpx response hook: raise :class:`ContractViolation` for an answer the contract
        does not allow."""
        __tracebackhide__ = True
        found = self.problems_of(response)
        if found:
            request = response.request
            text = (
                f"{request.method} {request.url.path} answered {response.status_code}, which "
                f"the contract does not allow (server {self.version or 'of unknown version'}):\n"
                + "\n".join(f"  {problem}" for problem in found)
                + f"\nbody: {response.text[:500]}\n"
                f"Reproduce (credentials redacted):\n    {curl_command(response)}"
                f"{redirect_note(response)}"
            )
            raise ContractViolation(redact(text, self._tokens))

    def _validator(self, operation_id: str, status: int) -> Draft202012Validator | None:
        key = (operation_id, status)
        if key not in self._validators:
            schema = self.contract.response_schema(operation_id, status)
            self._validators[key] = None if schema is None else Draft202012Validator(schema)
        return self._validators[key]


@dataclass
class ResponseRecorder:
    """Records responses (an httpx response hook) and checks them all on demand."""

    contract: Contract
    version: Version | None
    seen: list[tuple[str, str, int, str, bytes]] = field(default_factory=list)
    #: operationIds of every checked response so far
    checked: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._checker = ResponseChecker(self.contract, self.version)

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

    def problems(self) -> list[str]:
        """Every problem of the responses recorded since the last call (which forgets them)."""
        found: list[str] = []
        for method, path, status, content_type, body in self.seen:
            operation = self._checker.operation_for(method, path)
            if operation is not None:
                self.checked.add(operation.operation_id)
            found += self._checker.problems(method, path, status, content_type, body)
        self.seen.clear()
        return found
