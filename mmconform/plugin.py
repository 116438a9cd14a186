"""The mmconform pytest plugin: point pytest at a Mattermost server and learn whether it honours
the system API contract.

All options live in one group (``mmconform``) and every hook is in this module. The plugin does
nothing costly unless conformance items (tests under ``suites/``, marked ``conformance``) are
collected: then it resolves the target (or starts the embedded stub), runs the preflight,
deselects what this target cannot or must not run, and at session end checks that the server's
config is what it was at the start.

Exit codes besides pytest's own (0-5): 10 target unreachable, 11 target misconfigured (bad
target file, invalid token, token of the wrong role, embedded stub failed), 12 the suite left the
server's state changed (config differs from the start snapshot, or the server is still busy).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from mmconform.harness import _profiles
from mmconform.harness._clients import DEFAULT_TIMEOUT, Transport, make_client
from mmconform.harness._embedded import EmbeddedStubError, embedded_stub
from mmconform.harness._preflight import (
    EXIT_STATE_NOT_RESTORED,
    EXIT_TARGET_MISCONFIGURED,
    EXIT_TARGET_UNREACHABLE,
    PreflightError,
    PreflightResult,
    run_preflight,
)
from mmconform.harness._safety import (
    OperationInfo,
    clear_server_busy,
    config_differences,
    destructive_exclusion,
    iter_operations,
    server_busy,
    snapshot_config,
    state_groups,
    version_exclusion,
)
from mmconform.harness._target import ROLES, Target, TargetError, resolve_target

__all__ = [
    "EXIT_STATE_NOT_RESTORED",
    "EXIT_TARGET_MISCONFIGURED",
    "EXIT_TARGET_UNREACHABLE",
    "SessionState",
    "current_session",
]

CONFORMANCE_MARK = "conformance"
SUITES_DIR = "suites"

_profiles.register_profiles()


@dataclass
class SessionState:
    """What the plugin knows about this session; fixtures read it through ``current_session``."""

    config: pytest.Config
    profile: _profiles.Profile
    seed: int
    transport: Transport
    allow_destructive_option: bool | None
    stub_version: str | None
    #: operationIds the contract suite is limited to (``--operation``), empty for all
    selected_operations: tuple[str, ...] = ()
    active: bool = False
    target: Target | None = None
    preflight: PreflightResult | None = None
    allow_destructive: bool = False
    deselected: dict[str, str] = field(default_factory=dict)
    config_snapshot: dict[str, Any] | None = None
    snapshot_role: str | None = None
    problems: list[str] = field(default_factory=list)
    #: generated requests the contract suite sent (schemathesis cases, stateful steps included)
    requests_sent: int = 0
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def server_version(self) -> str | None:
        return self.preflight.server_version if self.preflight else None

    def require_target(self) -> Target:
        if self.target is None:
            raise RuntimeError(
                "mmconform has no target: no conformance item was collected in this session"
            )
        return self.target

    @property
    def admin_role(self) -> str | None:
        """The role used for snapshots and cleanup: system_admin if given."""
        if self.target is not None and "system_admin" in self.target.tokens:
            return "system_admin"
        return None


_STATE_KEY = pytest.StashKey[SessionState]()
_CURRENT: list[SessionState] = []


def current_session() -> SessionState:
    """The plugin state of the running pytest session (for fixtures and suite modules)."""
    if not _CURRENT:
        raise RuntimeError("the mmconform plugin is not configured in this process")
    return _CURRENT[-1]


# --- options ---------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mmconform", "mmconform: Mattermost system API conformance")
    group.addoption(
        "--target-file",
        metavar="FILE",
        type=Path,
        default=None,
        help="TOML target file (URL, one token per role, local socket, server version), "
        "as written by `python -m mmconform.stub --write-target FILE`.",
    )
    group.addoption(
        "--target-url",
        metavar="URL",
        default=None,
        help="Base URL of the server under test (overrides the file and MMCONFORM_TARGET_URL). "
        "With no target at all, the embedded stub is started.",
    )
    group.addoption(
        "--allow-destructive",
        dest="mm_allow_destructive",
        action="store_const",
        const=True,
        default=None,
        help="Also test operations annotated x-mm-destructive (restart, license removal, full "
        "config PUT...). Default: on for the embedded stub only.",
    )
    group.addoption(
        "--no-destructive",
        dest="mm_allow_destructive",
        action="store_const",
        const=False,
        help="Never test destructive operations, even against the embedded stub.",
    )
    group.addoption(
        "--request-timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"Per-request timeout in seconds (default {DEFAULT_TIMEOUT:g}).",
    )
    group.addoption(
        "--ca-bundle",
        metavar="FILE",
        type=Path,
        default=None,
        help="CA bundle (PEM) to verify the target's TLS certificate.",
    )
    group.addoption(
        "--insecure",
        action="store_true",
        default=False,
        help="Do not verify the target's TLS certificate.",
    )
    group.addoption(
        "--mm-profile",
        metavar="NAME",
        default=None,
        choices=sorted(_profiles.PROFILES),
        help="Hypothesis profile for the suites: gate (default; deterministic), dev, deep. "
        "`--hypothesis-profile gate|dev|deep` is honoured too.",
    )
    group.addoption(
        "--mm-seed",
        metavar="INT",
        type=int,
        default=None,
        help="Seed for generated data (replays a run; printed in the header).",
    )
    group.addoption(
        "--operation",
        dest="mm_operations",
        metavar="OPERATION_ID",
        action="append",
        default=None,
        help="Limit the contract suite to this operationId (repeatable); the schema is only "
        "built for these, which also makes collection faster.",
    )
    group.addoption(
        "--reports-dir",
        dest="mm_reports_dir",
        metavar="DIR",
        type=Path,
        default=None,
        help="Where a suite run writes its JUnit XML (junit.xml) and Allure results "
        "(allure-results/) unless --junitxml / --alluredir say otherwise (default: "
        "<rootdir>/reports). Only for runs of the conformance suites.",
    )
    group.addoption(
        "--no-reports",
        dest="mm_no_reports",
        action="store_true",
        default=False,
        help="Write no report files unless --junitxml / --alluredir ask for them.",
    )
    group.addoption(
        "--stub-version",
        metavar="VERSION",
        default=None,
        help="Server version the embedded stub pretends to be (default: the stub's newest).",
    )


# --- early configuration ---------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    _repair_rootdir(early_config, parser, args)
    _split_parametrized_node_ids(early_config, args)


def _repair_rootdir(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Make ``--target-file FILE`` (with a space) work wherever FILE lives.

    pytest chooses its rootdir and configuration file before any plugin option is known, so it
    takes FILE for a test path: with FILE outside the project (``/tmp/target.toml``), the
    rootdir becomes FILE's folder and the project's configuration is lost. Now that the plugin's
    options are known, the choice is made again with FILE where it belongs; when the answer
    differs, the configuration pytest would have found is put in place before any conftest is
    loaded, and its ``addopts`` are applied as pytest would have applied them.
    """
    # This leans on pytest internals (pinned below 9.2 in pyproject.toml); should they change,
    # the repair is skipped and pytest behaves as it always would.
    try:
        from _pytest.config.findpaths import determine_setup  # pytest's own rootdir logic

        namespace = config.known_args_namespace
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


_WANTED_IDS_KEY = pytest.StashKey[set[tuple[Path, str]]]()


def _split_parametrized_node_ids(config: pytest.Config, args: list[str]) -> None:
    """Let ``file.py::test_operation[GET /api/v4/system/ping]`` select one generated test.

    schemathesis collects an operation's tests under one collector, so pytest cannot match a
    node id with a parametrization against it. The argument is widened to the test function
    here and narrowed back to exactly the requested items after collection.
    """
    wanted: set[tuple[Path, str]] = set()
    for index, arg in enumerate(args):
        if arg.startswith("-") or "::" not in arg or not arg.endswith("]"):
            continue
        path, _, rest = arg.partition("::")
        *outer, last = rest.split("::")
        name, bracket, _ = last.partition("[")
        if not bracket:
            continue
        wanted.add(((config.invocation_params.dir / path).resolve(), last))
        args[index] = "::".join([path, *outer, name])
    config.stash[_WANTED_IDS_KEY] = wanted


def _narrow_to_wanted_ids(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.stash.get(_WANTED_IDS_KEY, set())
    if not wanted:
        return
    widened = {(path, name.partition("[")[0]) for path, name in wanted}
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        base = getattr(item, "originalname", item.name.partition("[")[0])
        if (item.path, base) in widened and (item.path, item.name) not in wanted:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


# --- configure -------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # tryfirst: the JUnit and Allure plugins read their output options in their own configure.
    _default_report_outputs(config)
    for line in (
        f"{CONFORMANCE_MARK}: a conformance test (collected under suites/; needs a target)",
        "mm_operation(*operation_ids): the spec operations a test exercises",
        "mm_role(*roles): roles whose tokens the test needs (skipped, with the reason, if absent)",
        "mm_destructive: the test changes state a real server cannot afford to lose",
        "mm_global_state(*states): server-wide states the test changes (decides its xdist group)",
    ):
        config.addinivalue_line("markers", line)

    timeout = config.getoption("request_timeout")
    if timeout is None or timeout <= 0:
        raise pytest.UsageError("--request-timeout must be a positive number of seconds")
    ca_bundle = config.getoption("ca_bundle")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise pytest.UsageError(f"--ca-bundle {ca_bundle}: no such file")
    try:
        profile = _profiles.select_profile(
            config.getoption("mm_profile"), _hypothesis_profile_option(config)
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    seed = _profiles.choose_seed(profile, config.getoption("mm_seed"))
    if _is_xdist_worker(config):
        # Every worker must generate the same data as the controller printed.
        seed = int(config.workerinput.get("mmconform_seed", seed))  # type: ignore[attr-defined]
    state = SessionState(
        config=config,
        profile=profile,
        seed=seed,
        transport=Transport(
            timeout=float(timeout),
            ca_bundle=ca_bundle,
            insecure=bool(config.getoption("insecure")),
        ),
        allow_destructive_option=config.getoption("mm_allow_destructive"),
        stub_version=config.getoption("stub_version"),
        selected_operations=tuple(config.getoption("mm_operations") or ()),
    )
    config.stash[_STATE_KEY] = state
    _CURRENT.append(state)


def _runs_only_suites(config: pytest.Config) -> bool:
    """True when every path this run was given lies under ``<rootdir>/suites``."""
    suites = (config.rootpath / SUITES_DIR).resolve()
    paths = [str(arg).split("::", 1)[0] for arg in config.args]
    if not paths:
        return False
    for raw in paths:
        path = (config.invocation_params.dir / raw).resolve()
        if not path.is_relative_to(suites):
            return False
    return True


def _default_report_outputs(config: pytest.Config) -> None:
    """A suite run writes JUnit XML and Allure results to ``reports/`` unless told otherwise."""
    if config.getoption("mm_no_reports") or not _runs_only_suites(config):
        return
    reports = config.getoption("mm_reports_dir") or config.rootpath / "reports"
    reports = Path(reports)
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(reports / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        allure_dir = reports / "allure-results"
        if not _is_xdist_worker(config):
            # Results of an earlier run would be merged into this one's report: start clean.
            # Workers share the controller's folder and must not wipe each other's files.
            shutil.rmtree(allure_dir, ignore_errors=True)
        config.option.allure_report_dir = str(allure_dir)


def _hypothesis_profile_option(config: pytest.Config) -> str | None:
    try:
        value = config.getoption("hypothesis_profile")
    except ValueError:
        return None
    return str(value) if value else None


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller hook: hand the chosen seed to each worker."""
    state = node.config.stash.get(_STATE_KEY, None)
    if state is not None:
        node.workerinput["mmconform_seed"] = state.seed


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE_KEY, None)
    if state is not None:
        state._stack.close()
        if state in _CURRENT:
            _CURRENT.remove(state)


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        return []
    return [
        f"mmconform: profile {state.profile.name} ({state.profile.description}); "
        f"seed {state.seed} (replay: --mm-profile {state.profile.name} --mm-seed {state.seed})"
    ]


# --- collection ------------------------------------------------------------------------------


def _is_conformance_item(item: pytest.Item) -> bool:
    if item.get_closest_marker(CONFORMANCE_MARK) is not None:
        return True
    return _in_suites(item.config, item.path)


def _in_suites(config: pytest.Config, path: Path) -> bool:
    try:
        path.relative_to(config.rootpath / SUITES_DIR)
    except ValueError:
        return False
    return True


def activate(config: pytest.Config) -> None:
    """Prepare the target now (idempotent): resolve it or start the embedded stub, run the
    preflight (exiting with a distinct code on failure), take the config snapshot.

    ``suites/conftest.py`` calls it before the first suite module is imported, because suite
    modules build their schemathesis schema (base URL, auth, version-specific expectations) at
    import time."""
    state = config.stash.get(_STATE_KEY, None)
    if state is not None:
        _activate(state)


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Fallback for suites without the suites/ conftest: a module under ``<rootdir>/suites``."""
    if isinstance(collector, pytest.Module) and _in_suites(collector.config, collector.path):
        activate(collector.config)


def item_operation_label(item: pytest.Item) -> str | None:
    """``GET /api/v4/system/ping`` for schemathesis items, None for others."""
    label = getattr(item, "operation_label", None)
    return label if isinstance(label, str) else None


def _operations_by_label() -> dict[str, OperationInfo]:
    from mmconform.contract import load_contract

    return {info.label: info for info in iter_operations(load_contract().document)}


def _item_operations(item: pytest.Item, by_label: dict[str, OperationInfo]) -> list[OperationInfo]:
    infos: list[OperationInfo] = []
    label = item_operation_label(item)
    if label is not None and label in by_label:
        infos.append(by_label[label])
    by_id = {info.operation_id: info for info in by_label.values()}
    for mark in item.iter_markers("mm_operation"):
        for op_id in mark.args:
            if op_id not in by_id:
                raise pytest.UsageError(
                    f"{item.nodeid}: mm_operation names {op_id!r}, which is not an operationId "
                    "of spec/openapi.yaml"
                )
            infos.append(by_id[op_id])
    return infos


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    _narrow_to_wanted_ids(config, items)
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        return
    conformance = [item for item in items if _is_conformance_item(item)]
    if not conformance:
        return
    for item in conformance:
        if item.get_closest_marker(CONFORMANCE_MARK) is None:
            item.add_marker(CONFORMANCE_MARK)
    _activate(state)

    by_label = _operations_by_label()
    item_states = {
        item: _item_states(item, _item_operations(item, by_label)) for item in conformance
    }
    groups = state_groups(
        [info.grouping_states for info in by_label.values()] + list(item_states.values())
    )
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if item not in item_states:
            keep.append(item)
            continue
        reason = _exclusion(state, item, _item_operations(item, by_label))
        if reason is not None:
            state.deselected[item.nodeid] = reason
            dropped.append(item)
            continue
        _add_group_marker(item, item_states[item], groups)
        _add_role_skips(state, item)
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _exclusion(state: SessionState, item: pytest.Item, infos: list[OperationInfo]) -> str | None:
    for info in infos:
        reason = version_exclusion(info, state.server_version) or destructive_exclusion(
            info, state.allow_destructive
        )
        if reason is not None:
            return reason
        if info.auth == "local-only" and item_operation_label(item) is not None:
            return (
                f"{info.operation_id} is served only on the local-mode unix socket "
                "(x-mm-auth local-only); the HTTP contract run cannot reach it"
            )
    if item.get_closest_marker("mm_destructive") is not None and not state.allow_destructive:
        return "destructive test and --allow-destructive is off for this target"
    return None


def _item_states(item: pytest.Item, infos: list[OperationInfo]) -> tuple[str, ...]:
    states = {state for info in infos for state in info.grouping_states}
    for mark in item.iter_markers("mm_global_state"):
        states.update(str(arg) for arg in mark.args)
    return tuple(sorted(states))


def _add_group_marker(item: pytest.Item, states: tuple[str, ...], groups: dict[str, str]) -> None:
    if not states or item.get_closest_marker("xdist_group") is not None:
        return
    # Every state of one item is in the same connected component, hence one group name.
    item.add_marker(pytest.mark.xdist_group(groups[states[0]]))


def _add_role_skips(state: SessionState, item: pytest.Item) -> None:
    target = state.require_target()
    for mark in item.iter_markers("mm_role"):
        for role in mark.args:
            if role in ROLES and role not in target.tokens:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"role {role} not given: add it to [tokens] of the target file "
                        f"or set MMCONFORM_TOKEN_{role.upper()}"
                    )
                )
                return


def _exit(message: str, returncode: int) -> None:
    pytest.exit(f"mmconform: {message}", returncode=returncode)


def _resolve_target_or_exit(config: pytest.Config) -> Target | None:
    """The target the options and environment describe (None: none given); a bad description
    ends the run with EXIT_TARGET_MISCONFIGURED."""
    try:
        return resolve_target(
            target_file=config.getoption("target_file"),
            target_url=config.getoption("target_url"),
            environ=os.environ,
        )
    except TargetError as exc:
        _exit(f"target configuration error: {exc}", EXIT_TARGET_MISCONFIGURED)
        return None


def _check_target(state: SessionState, target: Target) -> None:
    """Adopt ``target`` and run the preflight; a failed preflight ends the run with its code."""
    state.target = target
    try:
        state.preflight = run_preflight(target, state.transport)
    except PreflightError as exc:
        _exit(exc.message, exc.returncode)


def _activate(state: SessionState) -> None:
    """Resolve the target (or start the stub), run the preflight, take the config snapshot."""
    if state.active:
        return
    config = state.config
    target = _resolve_target_or_exit(config)
    if target is None:
        target = _start_embedded_stub(state)
    _check_target(state, target)
    option = state.allow_destructive_option
    state.allow_destructive = target.embedded if option is None else option
    state.active = True
    if _guards_state_here(state):
        _take_snapshot(state)


def _guards_state_here(state: SessionState) -> bool:
    """Whether this process compares the server state at session end.

    Each xdist worker runs its own embedded stub and guards it; a shared real target is guarded
    once, by the xdist controller, around the whole run (a worker that finishes early would see
    the other workers' changes in flight)."""
    if state.target is None:
        return False
    return state.target.embedded or not _is_xdist_worker(state.config)


def _take_snapshot(state: SessionState) -> None:
    admin = state.admin_role
    if admin is None or state.target is None:
        return
    with make_client(state.target, admin, state.transport) as client:
        try:
            state.config_snapshot = snapshot_config(client)
            state.snapshot_role = admin
        except Exception as exc:  # reported at session end, not fatal
            state.problems.append(f"could not snapshot the config at session start: {exc}")


def _is_xdist_controller(config: pytest.Config) -> bool:
    if _is_xdist_worker(config):
        return False
    try:
        workers = config.getoption("numprocesses")
    except ValueError:
        return False
    return bool(workers) and config.getoption("dist", "no") != "no"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist the controller collects nothing; when a real target is named it runs the
    preflight once (fast failure) and guards the target's state for the whole run."""
    config = session.config
    state = config.stash.get(_STATE_KEY, None)
    if state is None or not _is_xdist_controller(config):
        return
    target = _resolve_target_or_exit(config)
    if target is None:
        return
    _check_target(state, target)
    state.active = True
    _take_snapshot(state)


def _start_embedded_stub(state: SessionState) -> Target:
    """Start the stub in a child process and describe it as a target (see ``_embedded``)."""
    try:
        target_file = state._stack.enter_context(embedded_stub(state.stub_version))
        target = resolve_target(target_file=target_file, target_url=None, environ={})
    except (EmbeddedStubError, TargetError, OSError) as exc:
        _exit(f"the embedded stub failed to start: {exc}", EXIT_TARGET_MISCONFIGURED)
        raise
    assert target is not None
    return dataclasses.replace(
        target,
        embedded=True,
        sources=MappingProxyType({"url": "embedded stub", "server_version": "embedded stub"}),
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash.get(_STATE_KEY, None)
    if state is None or not state.active:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    for line in describe_target(state):
        reporter.write_line(line)


def describe_target(state: SessionState) -> Iterator[str]:
    target = state.require_target()
    preflight = state.preflight
    kind = "embedded stub" if target.embedded else target.sources.get("url", "?")
    yield f"mmconform: target {target.url} ({kind})"
    if preflight is not None:
        yield (
            f"mmconform: server version {preflight.server_version or 'unknown'} "
            f"({preflight.version_source})"
        )
        yield from (f"mmconform: note: {note}" for note in preflight.notes)
    yield f"mmconform: roles verified: {', '.join(target.roles) or 'none'}"
    if target.missing_roles:
        yield (
            f"mmconform: roles not given (tests needing them are skipped): "
            f"{', '.join(target.missing_roles)}"
        )
    yield f"mmconform: local-mode socket: {target.local_socket or 'not given'}"
    yield (
        f"mmconform: destructive operations: {'allowed' if state.allow_destructive else 'excluded'}"
    )


# --- run ---------------------------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller hook: add up the requests each worker sent."""
    state = node.config.stash.get(_STATE_KEY, None)
    output = getattr(node, "workeroutput", None) or {}
    if state is not None:
        state.requests_sent += int(output.get("mmconform_requests", 0))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        return
    if state.requests_sent:
        terminalreporter.write_line(
            f"mmconform: {state.requests_sent} generated requests sent "
            f"(profile {state.profile.name}, seed {state.seed})"
        )
    if not state.active:
        return
    if state.deselected:
        terminalreporter.write_sep("-", f"mmconform: {len(state.deselected)} deselected")
        for nodeid, reason in state.deselected.items():
            terminalreporter.write_line(f"{nodeid}: {reason}")
    if state.problems:
        terminalreporter.write_sep("=", "mmconform: server state not restored", red=True)
        for problem in state.problems:
            terminalreporter.write_line(problem, red=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_STATE_KEY, None)
    if state is not None and _is_xdist_worker(session.config):
        session.config.workeroutput["mmconform_requests"] = state.requests_sent  # type: ignore[attr-defined]
    if state is None or not state.active or not _guards_state_here(state):
        return
    assert state.target is not None
    admin = state.admin_role
    if admin is None:
        return
    try:
        with make_client(state.target, admin, state.transport) as client:
            if server_busy(client):
                clear_server_busy(client)
                state.problems.append(
                    "the server was still busy at session end (cleared now): a test did not "
                    "clear it"
                )
            if state.config_snapshot is not None:
                now = snapshot_config(client)
                diff = config_differences(state.config_snapshot, now)
                if diff:
                    state.problems.append(
                        "the server's config differs from the snapshot taken at session start:\n"
                        + "\n".join(f"  {line}" for line in diff)
                    )
    except Exception as exc:
        state.problems.append(f"could not check the server state at session end: {exc}")
    if state.problems and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = EXIT_STATE_NOT_RESTORED
