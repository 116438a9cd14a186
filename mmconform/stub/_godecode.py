"""Request bodies decoded the way Go's ``encoding/json`` decodes them, in one place.

Mattermost's handlers decode bodies into Go values: a ``map[string]string``, a ``[]string``, an
``int64`` field, a struct. Go's rules differ from Python's ``json`` module in ways a client can
see, and every handler of the stub relies on this module for them:

* ``null`` leaves the target at its zero value: a nil pointer, slice or map; in a slice or map
  element it gives the element's zero value (``""`` for a string).
* A value of the wrong JSON type is a *type error*, but decoding goes on: the mismatched target
  keeps its zero value (a pointer is still allocated first, so a mistyped pointer field ends up
  set to its zero value, not nil), the other fields and elements are decoded, and the first
  type error is reported once decoding ends.
* A number only fits an ``int64`` when it is written as an integer and lies in the int64 range.
* Struct fields match JSON keys exactly or, failing that, case-insensitively; unknown keys are
  ignored and the last of several matching keys wins.
* ``Decoder.Decode`` reads the first JSON value of the body and ignores what follows it;
  ``json.Unmarshal`` (``whole=True``) rejects anything after the value. An empty body is an
  error (Go's ``io.EOF``), as is text that is not JSON; in both cases nothing is decoded.

Decoded values are plain Python data: ``str``, ``int``, ``bool``, ``list``, ``dict``. A struct
becomes a ``dict`` holding only the fields the body set (an unset pointer field is simply
absent); a nil pointer, slice or map is ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "BOOL",
    "INT64",
    "RAW",
    "STRING",
    "Decoded",
    "GoSyntaxError",
    "GoType",
    "MapOf",
    "Pointer",
    "SliceOf",
    "Struct",
    "decode",
    "decode_body",
    "parse",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_JSON_WHITESPACE = " \t\r\n"


class GoSyntaxError(ValueError):
    """The body is not a JSON value at all (or is empty): Go decodes nothing."""


@dataclass(frozen=True)
class Decoded:
    """The decoded value and the first type error met on the way (None when there was none)."""

    value: Any
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Errors:
    """Collects type errors; like Go, only the first one is reported."""

    def __init__(self) -> None:
        self.first: str | None = None

    def add(self, found: str, target: str, where: str) -> None:
        if self.first is None:
            place = f" into {where}" if where else ""
            self.first = f"cannot unmarshal {found}{place} of type {target}"


def _kind(value: Any) -> str:
    """The JSON kind of a parsed value, in Go's words."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


class GoType:
    """What a JSON value is decoded into."""

    name = "value"

    def zero(self) -> Any:
        """The Go zero value, as the decoded form represents it."""
        return None

    def allocated(self) -> Any:
        """What a pointer to this type points to once Go has allocated it for a value that then
        did not fit: the zero value, except that an allocated struct is an empty ``dict``."""
        return self.zero()

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        """Decode a non-null parsed JSON value."""
        raise NotImplementedError

    def load_or_null(self, value: Any, errors: _Errors, where: str) -> Any:
        """Decode a parsed value; ``null`` gives the zero value."""
        if value is None:
            return self.zero()
        return self.load(value, errors, where)


class _Scalar(GoType):
    def __init__(self, name: str, kind: type, zero: Any) -> None:
        self.name = name
        self._kind = kind
        self._zero = zero

    def zero(self) -> Any:
        return self._zero

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        if type(value) is self._kind:
            return value
        errors.add(_kind(value), self.name, where)
        return self._zero


class _Int64(_Scalar):
    def __init__(self) -> None:
        super().__init__("int64", int, 0)

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        if type(value) is int:
            if INT64_MIN <= value <= INT64_MAX:
                return value
            errors.add(f"number {value}", self.name, where)
            return 0
        if isinstance(value, Decimal):
            errors.add(f"number {value}", self.name, where)
            return 0
        errors.add(_kind(value), self.name, where)
        return 0


class _Raw(GoType):
    """``json.RawMessage`` / ``interface{}``: any JSON value is kept as it is."""

    name = "any"

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        return _plain(value)


STRING: GoType = _Scalar("string", str, "")
BOOL: GoType = _Scalar("bool", bool, False)
INT64: GoType = _Int64()
RAW: GoType = _Raw()


class SliceOf(GoType):
    """A Go slice; ``None`` is the nil slice."""

    def __init__(self, elem: GoType) -> None:
        self.elem = elem
        self.name = f"[]{elem.name}"

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        if not isinstance(value, list):
            errors.add(_kind(value), self.name, where)
            return None
        return [self.elem.load_or_null(item, errors, where) for item in value]


class MapOf(GoType):
    """A Go ``map[string]T``; ``None`` is the nil map. Every key is kept, a mismatched or null
    element as its zero value."""

    def __init__(self, elem: GoType) -> None:
        self.elem = elem
        self.name = f"map[string]{elem.name}"

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        if not isinstance(value, dict):
            errors.add(_kind(value), self.name, where)
            return None
        return {key: self.elem.load_or_null(item, errors, where) for key, item in value.items()}


class Pointer(GoType):
    """A pointer: ``null`` is nil (``None``); any other value allocates the target first, so a
    mismatched value leaves a pointer to the zero value rather than nil."""

    def __init__(self, elem: GoType) -> None:
        self.elem = elem
        self.name = f"*{elem.name}"

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        result = self.elem.load(value, errors, where)
        return self.elem.allocated() if result is None else result


class Struct(GoType):
    """A Go struct. ``fields`` maps each JSON field name to its type; the names in ``pointers``
    are pointer fields (null leaves them nil; a mismatched value leaves them set to the zero
    value). The decoded form is a ``dict`` of the fields the body set."""

    def __init__(
        self, name: str, fields: Mapping[str, GoType], pointers: frozenset[str] = frozenset()
    ) -> None:
        self.name = name
        self.fields = dict(fields)
        self.pointers = pointers
        self._folded: dict[str, str] = {}
        for key in self.fields:
            self._folded.setdefault(key.lower(), key)

    def allocated(self) -> Any:
        return {}

    def match(self, key: str) -> str | None:
        """The field a JSON key sets: the exact name first, then case-insensitively."""
        if key in self.fields:
            return key
        return self._folded.get(key.lower())

    def load(self, value: Any, errors: _Errors, where: str) -> Any:
        if not isinstance(value, dict):
            errors.add(_kind(value), self.name, where)
            return None
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = self.match(key)
            if name is None:
                continue  # unknown keys are ignored
            kind = self.fields[name]
            here = f"Go struct field {self.name}.{name}"
            if item is None:
                # null: a nil pointer, slice or map; a plain value is left as it was
                out.pop(name, None)
                continue
            if name in self.pointers:
                decoded = Pointer(kind).load(item, errors, here)
            else:
                decoded = kind.load(item, errors, here)
                if decoded is None:
                    decoded = kind.allocated()  # an embedded struct stays (zero); nil otherwise
            if decoded is None:
                out.pop(name, None)
            else:
                out[name] = decoded
        return out


def _plain(value: Any) -> Any:
    """A parsed value with Go's float64 for every non-integer number."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[:1]!r} looking for beginning of value")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def parse(raw: bytes, *, whole: bool = False) -> Any:
    """The JSON value at the start of ``raw`` (Go's ``Decoder.Decode``), or of all of ``raw``
    with ``whole`` (Go's ``json.Unmarshal``). Invalid UTF-8 becomes U+FFFD, as in Go.

    Raises :class:`GoSyntaxError` for an empty body or text that is not JSON.
    """
    text = raw.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
    if start == len(text):
        raise GoSyntaxError("EOF" if not whole else "unexpected end of JSON input")
    try:
        value, end = _DECODER.raw_decode(text, start)
    except ValueError as exc:  # json.JSONDecodeError and rejected constants
        raise GoSyntaxError(str(exc)) from None
    if whole and text[end:].strip(_JSON_WHITESPACE):
        raise GoSyntaxError("invalid character after top-level value")
    return value


def decode(value: Any, target: GoType) -> Decoded:
    """Decode an already parsed JSON value into ``target`` (``null`` gives the zero value)."""
    errors = _Errors()
    result = target.load_or_null(value, errors, "")
    return Decoded(result, errors.first)


def decode_body(raw: bytes, target: GoType, *, whole: bool = False) -> Decoded:
    """Parse ``raw`` and decode it into ``target``. Raises :class:`GoSyntaxError` when the body
    is not JSON (Go then decodes nothing at all)."""
    return decode(parse(raw, whole=whole), target)
