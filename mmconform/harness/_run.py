"""What kind of run this is: its checked options, whether it reaches a conformance suites
directory, and where it sits in an xdist run."""

from __future__ import annotations

import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmconform.harness._clients import Transport
from mmconform.harness._health import DEFAULT_BUDGET, DEFAULT_THRESHOLD
from mmconform.harness._profiles import Profile

__all__ = [
    "SUITES_DECLARATION",
    "RunOptions",
    "conformance_requested",
    "is_xdist_controller",
    "is_xdist_worker",
    "suite_of",
    "suites_dirs",
]

#: A conftest.py that sets this to True declares its directory a conformance suites directory.
SUITES_DECLARATION = "MMCONFORM_SUITES"


@dataclass(frozen=True)
class RunOptions:
    """The run's mmconform options, checked."""

    profile: Profile
    seed: int
    transport: Transport
    #: --allow-destructive / --no-destructive (None: the default for the target)
    allow_destructive: bool | None
    stub_version: str | None
    #: operationIds given with --operation (empty: all)
    selected_operations: tuple[str, ...]
    #: seconds the whole run may take (None: no limit)
    budget: float | None = DEFAULT_BUDGET
    #: consecutive transport failures after which the target is asked whether it is alive
    breaker_threshold: int = DEFAULT_THRESHOLD
    #: --certify: write a certification bundle (gate profile and every role required)
    certify: bool = False
    #: --mm-incomplete: what an INCOMPLETE verdict does to the exit code (auto, fail, pass)
    incomplete: str = "auto"


def suites_dirs(config: pytest.Config) -> list[Path]:
    """Directories whose loaded conftest.py declares them conformance suites directories."""
    dirs = []
    for plugin in config.pluginmanager.get_plugins():
        if (
            isinstance(plugin, types.ModuleType)
            and getattr(plugin, SUITES_DECLARATION, False) is True
            and plugin.__file__
        ):
            dirs.append(Path(plugin.__file__).resolve().parent)
    return dirs


def _argument_paths(config: pytest.Config) -> list[Path]:
    return [
        (config.invocation_params.dir / str(arg).split("::", 1)[0]).resolve() for arg in config.args
    ]


def conformance_requested(config: pytest.Config, *, only: bool = False) -> bool:
    """Whether the run's arguments reach a conformance suites directory (``only``: every
    argument lies inside one). Known once the initial conftests are loaded."""
    dirs = suites_dirs(config)
    paths = _argument_paths(config)
    if not dirs or not paths:
        return False

    def inside(path: Path) -> bool:
        return any(path.is_relative_to(folder) for folder in dirs)

    if only:
        return all(inside(path) for path in paths)
    return any(inside(path) or any(d.is_relative_to(path) for d in dirs) for path in paths)


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    if is_xdist_worker(config):
        return False
    try:
        workers = config.getoption("numprocesses")
    except ValueError:
        return False
    return bool(workers) and config.getoption("dist", "no") != "no"


def suite_of(item: pytest.Item, config: pytest.Config) -> str:
    """The suite a test belongs to: the first folder below its suites directory (``custom``
    for a test marked ``conformance`` elsewhere)."""
    path = Path(item.path).resolve()
    for folder in suites_dirs(config):
        if path.is_relative_to(folder):
            parts = path.relative_to(folder).parts
            return parts[0] if len(parts) > 1 else "suites"
    return "custom"
