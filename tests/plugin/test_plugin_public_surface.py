"""The harness's public face is exactly what it exports: fixtures and suites import nothing else
(import-linter holds them to it), so a name added or dropped here is a visible decision."""

from __future__ import annotations

import types

import mmconform.harness as harness


def test_the_harness_exports_exactly_its_public_names() -> None:
    public = {
        name
        for name, value in vars(harness).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(harness.__all__) == public


def test_every_exported_name_is_documented() -> None:
    for name in harness.__all__:
        value = getattr(harness, name)
        if callable(value):
            assert value.__doc__, f"mmconform.harness.{name} has no docstring"
