"""One request through the proxy and the answer it gets, as mutations see and change them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from mmconform.contract import Operation

__all__ = ["NOT_JSON", "Answer", "Exchange", "new_request_id"]

# Mattermost's id alphabet (model.NewId): 26 characters of lower-case letters and digits.
_ID_ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769"


def new_request_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


#: what Answer.json() gives for a body that is not JSON
NOT_JSON: Any = _NotJson()


@dataclass
class Answer:
    """An answer on its way back to the client. Headers keep their order and letter case; the
    body is always decoded (no Content-Encoding); framing headers are the proxy's business."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    #: set by benign wire mutations
    chunked: bool = False
    gzip: bool = False
    header_case: Callable[[str], str] | None = None
    delay: float = 0.0
    #: Content-Length of a HEAD answer, which has no body to count
    head_length: str | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def remove_header(self, name: str) -> None:
        lowered = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lowered]

    def set_header(self, name: str, value: str) -> None:
        lowered = name.lower()
        for index, (key, _) in enumerate(self.headers):
            if key.lower() == lowered:
                self.headers[index] = (key, value)
                self.headers = self.headers[: index + 1] + [
                    (k, v) for k, v in self.headers[index + 1 :] if k.lower() != lowered
                ]
                return
        self.headers.append((name, value))

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def is_json(self) -> bool:
        media = self.media_type
        return media == "application/json" or media.endswith("+json")

    def json(self) -> Any:
        """The body as JSON, or NOT_JSON when it is not labelled or not parsable as JSON."""
        if not self.is_json or not self.body:
            return NOT_JSON
        try:
            return json.loads(self.body)
        except ValueError:
            return NOT_JSON

    def set_json(self, value: Any) -> None:
        # Compact, like Go's encoding/json; non-ASCII kept as UTF-8.
        self.body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if not self.is_json:
            self.set_header("Content-Type", "application/json")

    def app_error(self) -> dict[str, Any] | None:
        """The AppError of an error answer (an object with ``id`` and ``status_code``)."""
        if self.status < 400:
            return None
        data = self.json()
        if isinstance(data, dict) and "id" in data and "status_code" in data:
            return data
        return None


Fetch = Callable[["Exchange", str | None], Awaitable[Answer]]


@dataclass
class Exchange:
    """A request as the proxy received it, with what it knows about it. Mutations may change
    ``headers`` (lower-case names), ``body`` and ``query`` before it is forwarded."""

    method: str
    #: path below the proxy's root, as received (percent-encoding kept)
    raw_path: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    operation: Operation | None
    caller: str
    token: str | None
    #: role -> token of the target file
    tokens: dict[str, str] = field(default_factory=dict)
    #: the client's Accept-Encoding (the upstream request carries the proxy's own)
    accept_encoding: str = ""
    #: scratch space for mutations that act before and after forwarding
    notes: dict[str, str] = field(default_factory=dict)
    #: forwards a copy of this request with another token (None: no credentials)
    refetch: Fetch | None = None
    #: answers built by the proxy itself take their headers from here
    synthetic: Callable[[int, bytes, str], Awaitable[Answer]] | None = None

    @property
    def operation_id(self) -> str | None:
        return None if self.operation is None else self.operation.operation_id

    def param(self, name: str) -> str | None:
        for key, value in parse_qsl(self.query, keep_blank_values=True):
            if key == name:
                return value
        return None

    def use_token(self, token: str | None) -> None:
        """Send the request with ``token`` (as a bearer token) instead of its own credentials."""
        self.headers.pop("authorization", None)
        cookie = self.headers.get("cookie")
        if cookie is not None:
            kept = [
                part
                for part in cookie.split(";")
                if part.strip() and not part.strip().upper().startswith("MMAUTHTOKEN=")
            ]
            if kept:
                self.headers["cookie"] = ";".join(kept)
            else:
                self.headers.pop("cookie")
        if self.query:
            self.query = "&".join(
                part for part in self.query.split("&") if not part.startswith("access_token=")
            )
        if token is not None:
            self.headers["authorization"] = f"Bearer {token}"
