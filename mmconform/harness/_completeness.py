"""Whether a run is the whole gate or a part of it, and so what an INCOMPLETE verdict does to
its exit code (``--mm-incomplete``).

A run is *narrowed* when the person running it chose to leave tests out: ``-k``, ``-m``,
``--operation``, ``--deselect``, ``--ignore``/``--ignore-glob``, ``--lf``/``--sw``, node ids, or
paths that do not cover every conformance suites directory. What the target cannot run (an
operation newer than the server, a destructive one that is not allowed, a missing role) does not
narrow a run: that is the target's answer, and the verdict says so.

``--mm-incomplete=auto`` (the default) fails the whole gate against a target on INCOMPLETE (exit
14) and lets a narrowed run pass: someone running ``pytest -k GetLogs`` asked for part of the
gate and knows it. A run against the embedded stub (no target named) judges no server: it is the
suite running against its own reference, where an INCOMPLETE verdict (say, no Node.js on this
machine for the TypeScript client) is reported but does not fail the run. ``fail`` and ``pass``
decide for every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from mmconform.harness._run import suites_dirs

__all__ = ["INCOMPLETE_POLICIES", "incomplete_fails", "narrowing"]

#: The values of --mm-incomplete.
INCOMPLETE_POLICIES: Final = ("auto", "fail", "pass")


def narrowing(config: pytest.Config) -> list[str]:
    """How the run was narrowed, in the words of its options ([] for the whole gate)."""
    option = config.option
    out = []
    if getattr(option, "keyword", ""):
        out.append(f"-k {option.keyword!r}")
    if getattr(option, "markexpr", ""):
        out.append(f"-m {option.markexpr!r}")
    operations = config.getoption("mm_operations") or ()
    if operations:
        out.append("--operation " + " ".join(operations))
    for name, flag in (
        ("deselect", "--deselect"),
        ("ignore", "--ignore"),
        ("ignore_glob", "--ignore-glob"),
    ):
        values = getattr(option, name, None) or ()
        if values:
            out.append(f"{flag} " + " ".join(str(v) for v in values))
    for name, flag in (("lf", "--lf"), ("stepwise", "--sw")):
        if getattr(option, name, False):
            out.append(flag)
    out += _narrowing_arguments(config)
    return out


def _narrowing_arguments(config: pytest.Config) -> list[str]:
    """Node ids, and paths when together they leave part of a suites directory out."""
    folders = suites_dirs(config)
    base = config.invocation_params.dir
    node_ids = [str(arg) for arg in config.args if "::" in str(arg)]
    paths = [(base / str(arg)).resolve() for arg in config.args if "::" not in str(arg)]
    uncovered = [
        folder for folder in folders if not any(folder.is_relative_to(path) for path in paths)
    ]
    out = [f"node id {node_id}" for node_id in node_ids]
    if uncovered:
        inside = [
            _shown(path, base)
            for path in paths
            if any(path.is_relative_to(folder) for folder in uncovered)
        ]
        if inside:
            out.append("only " + ", ".join(inside))
    return out


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def incomplete_fails(policy: str, narrowed: list[str], *, embedded: bool = False) -> bool:
    """Whether an INCOMPLETE verdict fails this run (``embedded``: against the embedded stub)."""
    if policy == "fail":
        return True
    if policy == "pass":
        return False
    return not narrowed and not embedded
