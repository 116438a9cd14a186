"""Running pytest on a scratch project in this process (pytest's ``pytester``), as
pytest-xdist and schemathesis test their plugins: no interpreter to start, nothing to import
again. The result looks like a finished child process (``returncode``, ``stdout``, ``stderr``),
so a test reads the same either way.

A fresh interpreter stays the tool where it is the point: entry-point autoloading switched off,
the rootdir chosen before any plugin loads, the whole gate of this checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

__all__ = ["InProcessRun", "clean_environment", "run_inprocess"]

#: variables of the outer run that must not leak into the inner one (as for a child run)
_OUTER = ("MMCONFORM_", "PYTEST_")


@dataclass(frozen=True)
class InProcessRun:
    returncode: int
    stdout: str
    stderr: str


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment a child run would get: no mmconform or pytest variables, no CI."""
    for name in list(os.environ):
        if name.startswith(_OUTER) or name == "CI":
            monkeypatch.delenv(name)


def run_inprocess(pytester: pytest.Pytester, *args: str) -> InProcessRun:
    """``pytest ARGS`` in the scratch project ``pytester.path``, in this process."""
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    return InProcessRun(int(result.ret), result.stdout.str(), result.stderr.str())
