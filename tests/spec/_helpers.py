"""Shared helpers for the spec tests (no conftest: these tests must run on their own)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = REPO / "spec"
OPENAPI = SPEC_DIR / "openapi.yaml"
ERRATA = SPEC_DIR / "errata.yaml"
README = SPEC_DIR / "README.md"
# The original flattened API description the spec was derived from. It is not part of the
# repository; MMCONFORM_REFERENCE_DIR points at it (default: ../shared/reference).
REFERENCE_DIR = Path(
    os.environ.get("MMCONFORM_REFERENCE_DIR", str(REPO.parent / "shared" / "reference"))
)
SEED = REFERENCE_DIR / "seed-system-api.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def iter_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of an OpenAPI document."""
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def copy_spec(dest: Path) -> Path:
    """Copy spec/ into ``dest`` and return the copy's directory."""
    target = dest / "spec"
    shutil.copytree(SPEC_DIR, target)
    return target


def edit_yaml(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence of ``old`` in a YAML file (text-level edit)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
