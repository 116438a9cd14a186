"""Two workarounds for pytest behaviour that conformance runs trip over.

Both reach into pytest internals (pytest is pinned below 9.2) and step aside should those
change. Neither acts outside a conformance run: the rootdir repair only when one of the plugin's
path options (``--target-file``, ``--reports-dir``, ``--ca-bundle``) was given, the node-id
widening only for paths inside a conformance suites directory.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

import pytest

__all__ = ["narrow_to_wanted_ids", "repair_rootdir", "widen_parametrized_ids"]

_WANTED_IDS_KEY = pytest.StashKey[set[tuple[Path, str]]]()
#: the destinations of the plugin's options that take a path (pytest takes a path given after
#: a space for a test path when it chooses its rootdir)
_PATH_OPTIONS = ("target_file", "mm_reports_dir", "mm_ca_bundle")


def repair_rootdir(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Make ``--target-file FILE`` (and the other path options, with a space) work wherever
    FILE lives.

    pytest chooses its rootdir and configuration file before any plugin option is known, so it
    takes FILE for a test path: with FILE outside the project (``/tmp/target.toml``), the
    rootdir becomes FILE's folder and the project's configuration is lost. Now that the plugin's
    options are known, the choice is made again with FILE where it belongs; when the answer
    differs, the configuration pytest would have found is put in place before any conftest is
    loaded, and its ``addopts`` are applied as pytest would have applied them.
    """
    namespace = config.known_args_namespace
    if all(getattr(namespace, dest, None) is None for dest in _PATH_OPTIONS):
        return
    try:
        from _pytest.config.findpaths import determine_setup  # pytest's own rootdir logic

        rootpath, inipath, inicfg, ignored = determine_setup(
            inifile=namespace.inifilename,
            override_ini=namespace.override_ini,
            args=namespace.file_or_dir,
            rootdir_cmd_arg=namespace.rootdir or None,
            invocation_dir=config.invocation_params.dir,
        )
    except (ImportError, AttributeError, TypeError, ValueError):
        return
    if not all(hasattr(config, name) for name in ("_rootpath", "_inipath", "_inicfg", "_inicache")):
        return
    if rootpath == config.rootpath and inipath == config.inipath:
        return
    wrong_confcutdir = str(config.inipath.parent if config.inipath else config.rootpath)
    config._rootpath = rootpath
    config._inipath = inipath
    config._inicfg = inicfg
    config._ignored_config_files = ignored
    config._inicache.clear()
    parser.extra_info["rootdir"] = str(rootpath)
    parser.extra_info["inifile"] = str(inipath)
    args[:] = [*config.getini("addopts"), *args]
    config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
    if config.known_args_namespace.confcutdir in (None, wrong_confcutdir):
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)


def widen_parametrized_ids(config: pytest.Config, suites_dirs: Iterable[Path]) -> None:
    """Let ``file.py::test_operation[GET /api/v4/system/ping]`` select one generated test.

    schemathesis collects an operation's tests under one collector, so pytest cannot match a
    node id with a parametrization against it. Such an argument inside a conformance suites
    directory is widened to the test function here, and :func:`narrow_to_wanted_ids` keeps
    exactly the requested items after collection, as pytest itself would have.
    """
    dirs = [path.resolve() for path in suites_dirs]
    wanted: set[tuple[Path, str]] = set()
    args = list(config.args)
    for index, arg in enumerate(args):
        if "::" not in arg or not arg.endswith("]"):
            continue
        path, _, rest = arg.partition("::")
        resolved = (config.invocation_params.dir / path).resolve()
        if not any(resolved.is_relative_to(folder) for folder in dirs):
            continue
        *outer, last = rest.split("::")
        name, bracket, _ = last.partition("[")
        if not bracket:
            continue
        wanted.add((resolved, last))
        args[index] = "::".join([path, *outer, name])
    if wanted:
        config.args[:] = args
        config.stash[_WANTED_IDS_KEY] = wanted


def narrow_to_wanted_ids(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep only the parametrized items asked for (see :func:`widen_parametrized_ids`)."""
    wanted = config.stash.get(_WANTED_IDS_KEY, set())
    if not wanted:
        return
    widened = {(path, name.partition("[")[0]) for path, name in wanted}
    found = {(item.path, item.name) for item in items}
    missing = sorted(f"{path}::{name}" for path, name in wanted - found)
    if missing:
        raise pytest.UsageError("not found: " + ", ".join(missing))
    items[:] = [
        item
        for item in items
        if (item.path, getattr(item, "originalname", item.name.partition("[")[0])) not in widened
        or (item.path, item.name) in wanted
    ]
