"""An answer as the comparison sees it: the rules of ``docs/diff.md``, one function each.

What is compared by default: the status, the content type, the kind of body, the AppError
``id``, the headers the API is responsible for, and the *shape* of a JSON body (its key sets and
the JSON types of its values, every number one type). Values are compared only at the
``--values`` level, and even then the volatile ones (request ids, dates, build numbers and
hashes, telemetry ids, timestamps, generated ids) are replaced by a placeholder by rule.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from mmconform._version import Version
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._shape import (
    ECHOED,
    Shape,
    describe_shape,
    json_type,
    kind_of,
    merge_shapes,
    shape_of,
)

__all__ = [
    "COMPARED_HEADERS",
    "ECHOED",
    "VOLATILE_HEADERS",
    "Shape",
    "View",
    "body_kind",
    "content_type",
    "describe_shape",
    "merge_shapes",
    "shape_of",
    "view_of",
    "volatile_form",
    "volatile_key",
    "volatile_text",
]

#: Headers the API itself sets, compared by presence (and by form where a rule says).
COMPARED_HEADERS: Final = (
    "x-request-id",
    "x-version-id",
    "location",
    "allow",
    "content-disposition",
)
#: Headers whose value is volatile by nature (never compared as a value).
VOLATILE_HEADERS: Final = frozenset({"x-request-id", "date", "etag", "last-modified"})

#: Keys whose values are volatile wherever they appear (compared without case).
_VOLATILE_KEYS: Final = frozenset(
    {
        "request_id",
        "requestid",
        "id",
        "diagnosticid",
        "telemetryid",
        "installationid",
        "buildnumber",
        "builddate",
        "buildhash",
        "buildhashenterprise",
        "buildhashboards",
        "buildhashplaybooks",
        "installationdate",
        "expires",
        "expires_ts",
        "timestamp",
        "time",
        "date",
        "issuedat",
        "startsat",
        "expiresat",
        "renewal_link",
        # where this server runs: its listen address and local socket
        "listenaddress",
        "localmodesocketlocation",
    }
)
_PATTERNS: Final = (
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    # ISO 8601 dates and times (and the same with dashes, as in file names), RFC 1123 dates
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+-]\d{2}:?\d{2})?(?:\s+[+-]\d{4}\s+\w+)?|[T-]\d{2}-\d{2}(?:-\d{2})?)"
        ),
        "<time>",
    ),
    (
        re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \w+"),
        "<time>",
    ),
    (re.compile(r"\b[0-9a-f]{32,64}\b"), "<hash>"),
    (re.compile(r"\b[a-z0-9]{26}\b"), "<id>"),
    (re.compile(r"\b1[5-9]\d{11}\b"), "<epoch-ms>"),
    (re.compile(r"\b1[5-9]\d{8}\b"), "<epoch-s>"),
    # where this server runs, as its logs say: a unix socket, a file in the temporary folder,
    # a host and port
    (re.compile(r"(?:/[\w.-]+)+\.sock(?:et)?\b"), "<socket path>"),
    (re.compile(r"(?<![\w.])(?:/var)?/tmp/[\w./-]+"), "<temporary path>"),
    (re.compile(r"\b(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-f:]+\]):\d{1,5}\b"), "<address>"),
)


def volatile_key(key: str) -> bool:
    """Whether a value under ``key`` is volatile by its name."""
    lowered = key.lower()
    if lowered in _VOLATILE_KEYS:
        return True
    return lowered.endswith(("_at", "_ts")) or lowered in ("createat", "updateat", "deleteat")


def volatile_text(text: str) -> str:
    """A string with its volatile parts (times, ids, hashes, epoch numbers) replaced."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def volatile_form(value: Any) -> str:
    """What a volatile value becomes: a placeholder naming its form, so that a change of form
    (Unix seconds to milliseconds, a time to a number) is still a difference."""
    if isinstance(value, bool) or value is None:
        return f"<volatile {json.dumps(value)}>"
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    replaced = volatile_text(text)
    if replaced.startswith("<") and replaced.endswith(">") and replaced.count("<") == 1:
        return replaced
    return "<volatile number>" if isinstance(value, (int, float)) else "<volatile text>"


def content_type(raw: str) -> str:
    """The Content-Type as compared: lower case, no spaces, parameters kept (a charset a
    client cannot decode is a difference)."""
    return ";".join(part.strip() for part in raw.lower().split(";") if part.strip())


def _media(raw: str) -> str:
    return raw.split(";", 1)[0].strip().lower()


def body_kind(answer: Answer) -> tuple[str, Any]:
    """What the body is (``empty``, ``json-object``, ``json-array``, ``json-string``,
    ``json-number``, ``json-boolean``, ``json-null``, ``not-json``, ``text``, ``html``,
    ``zip``, ``not-zip``, ``binary``) and its JSON value when it is JSON."""
    body = answer.body
    if not body:
        return "empty", None
    media = _media(answer.content_type)
    looks_json = media == "application/json" or media.endswith("+json")
    if looks_json or media in ("", "text/plain"):
        try:
            value = json.loads(body)
        except ValueError:
            if looks_json:
                return "not-json", None
        else:
            if looks_json or isinstance(value, (dict, list)):
                return f"json-{json_type(value)}", value
    if media == "application/zip":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                archive.namelist()
        except zipfile.BadZipFile:
            return "not-zip", None
        return "zip", None
    if media == "text/html":
        return "html", None
    if media.startswith("text/"):
        return "text", None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "binary", None
    return "text", None


@dataclass(frozen=True)
class View:
    """An answer as compared."""

    status: int
    error: str | None
    content_type: str
    body_kind: str
    error_id: str | None
    #: compared header -> its form ("present", or a rule's description)
    headers: Mapping[str, str]
    shape: Shape | None
    #: location -> value, volatile ones replaced by a placeholder (``--values``)
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: locations whose values are volatile (marked in recordings)
    volatile: tuple[str, ...] = ()
    #: object location -> its keys in the order received (``--key-order``)
    key_orders: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: equal for two bodies that reduce alike (same bytes, status, echo): their values are equal
    body_digest: bytes = b""


def _version_id(value: str, version: Version | None) -> tuple[str, dict[str, str]]:
    """X-Version-Id ``<version>.<build>.<config hash>.<licensed>``: its form, and its version
    and licensed flag as values (the build number and config hash are volatile)."""
    parts = value.strip().split(".")
    if len(parts) < 6 or not all(p.isdigit() for p in parts[:3]):
        return f"malformed ({len(parts)} dot-separated parts)", {}
    flag = parts[-1].lower()
    if flag not in ("true", "false"):
        return "malformed (no true/false licensed flag at the end)", {}
    said = ".".join(parts[:3])
    same = version is not None and Version.parse(said) == version
    return "version.build.hash.licensed", {
        "version": "<this side's version>" if same else said,
        "licensed": flag,
    }


def _flatten(
    value: Any, path: str, out: dict[str, Any], volatile: list[str], orders: dict[str, Any]
) -> None:
    if isinstance(value, dict):
        orders[path or "/"] = tuple(str(k) for k in value)
        for key, child in value.items():
            location = f"{path}/{_escape(str(key))}"
            if volatile_key(str(key)) and not isinstance(child, (dict, list)):
                out[location] = volatile_form(child)
                volatile.append(location)
                continue
            _flatten(child, location, out, volatile, orders)
        return
    if isinstance(value, list):
        out[f"{path}#length"] = len(value)
        for index, child in enumerate(value):
            _flatten(child, f"{path}/{index}", out, volatile, orders)
        return
    if isinstance(value, str):
        replaced = volatile_text(value)
        if replaced != value:
            volatile.append(path)
        out[path] = replaced
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        replaced_number = volatile_text(str(value))
        if replaced_number != str(value):
            volatile.append(path)
            out[path] = replaced_number
            return
        out[path] = float(value)
        return
    out[path] = value


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _echoed_keys(request: RequestSpec, free_map: bool) -> frozenset[str]:
    if not free_map:
        return frozenset()
    body = request.json_body()
    return frozenset(str(k) for k in body) if isinstance(body, dict) else frozenset()


def _self_consistent(value: Any, status: int, request_id: str | None) -> Any:
    """An AppError's ``status_code`` and ``request_id`` compared by their relation to the
    answer: equal to the HTTP status and to X-Request-Id, or not."""
    if not (isinstance(value, dict) and "id" in value and "message" in value):
        return value
    out = dict(value)
    if "status_code" in out:
        out["status_code"] = (
            "<equals the HTTP status>" if out["status_code"] == status else out["status_code"]
        )
    if "request_id" in out and request_id:
        out["request_id"] = (
            "<equals X-Request-Id>" if out["request_id"] == request_id else out["request_id"]
        )
    return out


def view_of(
    answer: Answer,
    request: RequestSpec,
    *,
    version: Version | None,
    free_map: bool = False,
    values: bool = True,
) -> View:
    """The comparable view of one answer (``free_map``: the operation answers a map whose keys
    are data, so keys the request body sent are folded to :data:`ECHOED`; ``values``: also
    its values, volatile locations and key orders, which the shape level does not need)."""
    headers: dict[str, str] = {}
    leaves: dict[str, Any] = {}
    volatile: list[str] = []
    for name in COMPARED_HEADERS:
        raw = answer.headers.get(name)
        if raw is None:
            continue
        location = f"header:{name}"
        if name == "x-version-id":
            form, parts = _version_id(raw, version)
            headers[name] = form
            for part, part_value in parts.items():
                leaves[f"{location}#{part}"] = part_value
            volatile.append(f"{location}#build")
            continue
        headers[name] = "present"
        if name in VOLATILE_HEADERS:
            volatile.append(location)
            continue
        replaced = volatile_text(raw)
        if replaced != raw:
            volatile.append(location)
        leaves[location] = replaced
    echoed = _echoed_keys(request, free_map) if 200 <= answer.status < 300 else frozenset()
    body = _body_view(answer, echoed, values)
    leaves.update(body.leaves)
    volatile.extend(body.volatile)
    return View(
        status=answer.status,
        error=answer.error,
        content_type=content_type(answer.content_type) if answer.body else "",
        body_kind=body.kind,
        error_id=body.error_id,
        headers=MappingProxyType(headers),
        shape=body.shape,
        values=MappingProxyType(leaves),
        volatile=tuple(volatile),
        key_orders=body.orders,
        body_digest=body.digest,
    )


@dataclass(frozen=True)
class _Body:
    """What the body of an answer gives a view."""

    digest: bytes
    kind: str
    error_id: str | None
    shape: Shape | None
    leaves: Mapping[str, Any]
    volatile: tuple[str, ...]
    orders: Mapping[str, tuple[str, ...]]


def _reduce_body(answer: Answer, echoed: frozenset[str], values: bool, digest: bytes) -> _Body:
    kind, parsed = body_kind(answer)
    error_id, shape, consistent = _body_shape(kind, parsed, answer, echoed)
    leaves: dict[str, Any] = {}
    volatile: list[str] = []
    orders: dict[str, Any] = {}
    if values and kind.startswith("json-"):
        folded = (
            {(ECHOED if k in echoed else k): v for k, v in consistent.items()}
            if echoed and isinstance(consistent, dict)
            else consistent
        )
        _flatten(folded, "", leaves, volatile, orders)
    elif values and kind in ("text", "html"):
        text = answer.body.decode("utf-8", "replace")
        replaced = volatile_text(text)
        if replaced != text:
            volatile.append("body")
        leaves["body"] = replaced
    elif kind in ("zip", "binary", "not-zip", "not-json"):
        leaves["body#length"] = "<bytes>"
    return _Body(
        digest,
        kind,
        error_id,
        shape,
        MappingProxyType(leaves),
        tuple(volatile),
        MappingProxyType(orders),
    )


def _body_shape(
    kind: str, parsed: Any, answer: Answer, echoed: frozenset[str]
) -> tuple[str | None, Shape | None, Any]:
    """The AppError id, the shape of a JSON body and the body with its AppError relations."""
    if not kind.startswith("json-"):
        return None, None, None
    error_id = None
    if isinstance(parsed, dict) and answer.status >= 400 and isinstance(parsed.get("id"), str):
        error_id = parsed["id"]
    consistent = _self_consistent(parsed, answer.status, answer.headers.get("x-request-id"))
    return error_id, _consistency_shape(shape_of(consistent, echoed), consistent), consistent


#: (body digest, status, X-Request-Id, content type, echoed keys, values) -> the body's part of
#: a view: equal answers (every caller's GET /config, say) are reduced once.
_BODIES: dict[tuple[bytes, int, str, str, frozenset[str], bool], _Body] = {}
_BODIES_LIMIT: Final = 2048


def _body_view(answer: Answer, echoed: frozenset[str], values: bool) -> _Body:
    """The body's part of a view, remembered for equal answers."""
    # X-Request-Id only matters to a body that may repeat it (an AppError's request_id).
    request_id = answer.headers.get("x-request-id", "") if b"request_id" in answer.body else ""
    key = (
        hashlib.blake2b(answer.body, digest_size=16).digest(),
        answer.status,
        request_id,
        answer.content_type,
        echoed,
        values,
    )
    found = _BODIES.get(key)
    if found is None:
        digest = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
        found = _reduce_body(answer, echoed, values, digest)
        if len(_BODIES) >= _BODIES_LIMIT:
            _BODIES.clear()
        _BODIES[key] = found
    return found


def _consistency_shape(shape: Shape, value: Any) -> Shape:
    """The AppError relations are part of the shape: ``status_code`` equal to the HTTP status
    is another shape than a number that is not."""
    if not (isinstance(value, dict) and kind_of(shape) == "object"):
        return shape
    items = dict(shape[1])
    for key in ("status_code", "request_id"):
        if isinstance(value.get(key), str) and value[key].startswith("<equals"):
            items[key] = value[key].strip("<>")
    return ("object", tuple(sorted(items.items())))
