"""The shape of a JSON value, as the comparison sees it by default: its key sets and the JSON
types of its values (every number one type), arrays by the merged shape of their elements."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ECHOED", "Shape", "describe_shape", "json_type", "kind_of", "merge_shapes", "shape_of"]

#: What an echoed request key becomes.
ECHOED: Final = "<echoed>"

#: A JSON shape: a scalar type name, ("object", ((key, shape), ...)), ("array", shape or None
#: for an empty array), or ("union", frozenset of shapes).
Shape = Any


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def merge_shapes(a: Shape, b: Shape) -> Shape:
    """One shape for two values found at the same place (array elements)."""
    if a == b:
        return a
    if kind_of(a) == "object" and kind_of(b) == "object":
        merged: dict[str, Shape] = dict(a[1])
        for key, shape in b[1]:
            merged[key] = merge_shapes(merged[key], shape) if key in merged else shape
        return ("object", tuple(sorted(merged.items())))
    if kind_of(a) == "array" and kind_of(b) == "array":
        if a[1] is None:
            return b
        if b[1] is None:
            return a
        return ("array", merge_shapes(a[1], b[1]))
    options: set[Shape] = set()
    for shape in (a, b):
        options |= set(shape[1]) if kind_of(shape) == "union" else {shape}
    return ("union", frozenset(options))


def kind_of(shape: Shape) -> str:
    """``object``, ``array``, ``union`` or the scalar type name."""
    return shape if isinstance(shape, str) else str(shape[0])


def shape_of(value: Any, echoed: frozenset[str] = frozenset()) -> Shape:
    """The shape of a JSON value; keys in ``echoed`` (top level only) become one placeholder."""
    if isinstance(value, dict):
        items: dict[str, Shape] = {}
        for key, child in value.items():
            name = ECHOED if key in echoed else str(key)
            shape = shape_of(child)
            items[name] = merge_shapes(items[name], shape) if name in items else shape
        return ("object", tuple(sorted(items.items())))
    if isinstance(value, list):
        element: Shape | None = None
        for child in value:
            shape = shape_of(child)
            element = shape if element is None else merge_shapes(element, shape)
        return ("array", element)
    return json_type(value)


def describe_shape(shape: Shape) -> str:
    """A shape in a few words: ``object``, ``array of string``, ``number|null``."""
    kind = kind_of(shape)
    if kind == "object":
        return "object"
    if kind == "array":
        return "array" if shape[1] is None else f"array of {describe_shape(shape[1])}"
    if kind == "union":
        return "|".join(sorted(describe_shape(option) for option in shape[1]))
    return str(shape)
