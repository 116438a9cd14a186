"""What a comparison sends and receives: a request without credentials (the caller it is sent
as is named beside it) and the answer a side gave."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Answer", "RequestSpec", "body_fields", "body_from_fields", "json_or_none"]


def json_or_none(body: bytes | None) -> Any:
    """A body decoded as JSON (None when it is absent or not JSON)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def body_fields(body: bytes | None) -> dict[str, Any]:
    """A body as JSON fields: ``text`` when it is UTF-8, ``base64`` otherwise, nothing when
    there is none."""
    if body is None:
        return {}
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def body_from_fields(data: Mapping[str, Any]) -> bytes | None:
    """The inverse of :func:`body_fields`."""
    if "text" in data:
        return str(data["text"]).encode("utf-8")
    if "base64" in data:
        return base64.b64decode(str(data["base64"]))
    return None


@dataclass(frozen=True)
class RequestSpec:
    """One generated request, as every caller sends it: no credentials, no test-case id.

    ``target`` is the path with its query string (``/api/v4/system/ping?get_server_status=x``);
    ``operation`` is the contract operation the request was generated for (an undeclared method
    on its path keeps the operation of that path, and ``method`` says which method was sent).
    """

    operation: str
    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    #: how it was generated: ``coverage``, ``fuzzing`` or ``examples`` and the mode
    origin: str = ""

    @property
    def key(self) -> str:
        """A short stable digest of everything sent: equal requests have equal keys."""
        digest = hashlib.sha256()
        digest.update(self.method.encode())
        digest.update(b"\0" + self.target.encode())
        for name, value in self.headers:
            digest.update(b"\0" + name.lower().encode() + b":" + value.encode())
        digest.update(b"\0" + (self.body or b""))
        return digest.hexdigest()[:16]

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None

    def json_body(self) -> Any:
        """The body decoded as JSON (None when it is absent or not JSON)."""
        return json_or_none(self.body)

    def as_record(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "method": self.method,
            "target": self.target,
            "headers": [list(pair) for pair in self.headers],
            "body": body_fields(self.body),
            "origin": self.origin,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> RequestSpec:
        return cls(
            operation=str(data["operation"]),
            method=str(data["method"]),
            target=str(data["target"]),
            headers=tuple((str(name), str(value)) for name, value in data.get("headers", [])),
            body=body_from_fields(data.get("body") or {}),
            origin=str(data.get("origin", "")),
        )


@dataclass(frozen=True)
class Answer:
    """What one side answered (``error`` set, ``status`` 0, when no answer came)."""

    status: int
    #: header name (lower case) -> value, as received
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    body: bytes = b""
    seconds: float = 0.0
    #: why no answer came ("timed out", "connection refused", ...)
    error: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json_body(self) -> Any:
        """The body decoded as JSON (None when it is empty or not JSON)."""
        return json_or_none(self.body)

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "status": self.status,
            "headers": dict(sorted(self.headers.items())),
            "body": body_fields(self.body) if self.body else {},
            "seconds": round(self.seconds, 4),
        }
        if self.error is not None:
            record["error"] = self.error
        return record

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Answer:
        return cls(
            status=int(data["status"]),
            headers=MappingProxyType(
                {str(k).lower(): str(v) for k, v in (data.get("headers") or {}).items()}
            ),
            body=body_from_fields(data.get("body") or {}) or b"",
            seconds=float(data.get("seconds", 0.0)),
            error=data.get("error"),
        )
