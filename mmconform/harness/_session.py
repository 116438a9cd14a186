"""The conformance session: one object per pytest run, registered with pytest's plugin manager,
whose methods are the hooks of a conformance run.

It stays idle until the run collects a conformance test (an item marked ``conformance``; the
suites' conftest marks everything under ``suites/``). Then it *activates*: resolves the target
or starts the embedded stub, runs the preflight (a failure ends the run with a distinct exit
code), and takes a config snapshot. At the end it checks that the server was left as found.

Fixtures reach it with :func:`session_of` (``request.config``); a suite module that builds its
tests at import time, as the contract suite must, uses :func:`active_session`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import pytest

from mmconform._version import Version
from mmconform.contract import Contract, load_contract
from mmconform.harness._clients import Transport, make_client
from mmconform.harness._embedded import EmbeddedStubError, embedded_stub
from mmconform.harness._exitcodes import (
    EXIT_STATE_NOT_RESTORED,
    EXIT_TARGET_MISCONFIGURED,
    TargetProblem,
)
from mmconform.harness._preflight import PreflightResult, run_preflight
from mmconform.harness._profiles import Profile
from mmconform.harness._pytest_compat import narrow_to_wanted_ids, widen_parametrized_ids
from mmconform.harness._schemathesis import ContractRun, build_contract_run
from mmconform.harness._selection import CONFORMANCE_MARK, TargetFacts, select
from mmconform.harness._server_state import ServerState, config_differences
from mmconform.harness._target import Target, TargetError, resolve_target

__all__ = [
    "SUITES_DECLARATION",
    "ConformanceSession",
    "RunOptions",
    "active_session",
    "conformance_requested",
    "session_of",
    "suites_dirs",
]

#: A conftest.py that sets this to True declares its directory a conformance suites directory.
SUITES_DECLARATION = "MMCONFORM_SUITES"
SESSION_KEY = pytest.StashKey["ConformanceSession"]()
_ADMIN = "system_admin"
_WORKER_SEED = "mmconform_seed"
_WORKER_REQUESTS = "mmconform_requests"

_active: list[ConformanceSession] = []


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


def session_of(config: pytest.Config) -> ConformanceSession:
    """The conformance session of a pytest run."""
    return config.stash[SESSION_KEY]


def active_session() -> ConformanceSession:
    """The session that activated in this process (for suites built when their module is
    imported, which happens after activation)."""
    if not _active:
        raise RuntimeError(
            "no mmconform session is active in this process: a suite module was imported "
            "outside a conformance run"
        )
    return _active[-1]


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


class ConformanceSession:
    """The state of one conformance run, and the hooks that act on it."""

    def __init__(self, config: pytest.Config, options: RunOptions) -> None:
        self.config = config
        self.options = options
        self.active = False
        self.target: Target | None = None
        self.preflight: PreflightResult | None = None
        self.allow_destructive = False
        #: node id -> why it does not run against this target
        self.deselected: dict[str, str] = {}
        #: what the session-end check found
        self.problems: list[str] = []
        self._contract: Contract | None = None
        self._contract_run: ContractRun | None = None
        self._snapshot: dict[str, Any] | None = None
        self._requests_from_workers = 0
        self._profile_printed = False
        self._target_printed = False
        self._stack = contextlib.ExitStack()

    # --- facts ------------------------------------------------------------------------------

    @property
    def profile(self) -> Profile:
        return self.options.profile

    @property
    def seed(self) -> int:
        return self.options.seed

    @property
    def transport(self) -> Transport:
        return self.options.transport

    @property
    def contract(self) -> Contract:
        if self._contract is None:
            self._contract = load_contract()
        return self._contract

    @property
    def server_version(self) -> Version | None:
        return self.preflight.server_version if self.preflight else None

    def require_target(self) -> Target:
        if self.target is None:
            raise RuntimeError(
                "mmconform has no target: no conformance test was collected in this session"
            )
        return self.target

    @property
    def requests_sent(self) -> int:
        """Generated requests sent by the contract suite (all workers' under xdist)."""
        own = self._contract_run.runner.requests_sent if self._contract_run else 0
        return own + self._requests_from_workers

    def contract_run(self) -> ContractRun:
        """The contract suite's schema, runner and settings for this target (built once)."""
        if self._contract_run is None:
            self._contract_run = build_contract_run(
                contract=self.contract,
                target=self.require_target(),
                profile=self.profile,
                seed=self.seed,
                transport=self.transport,
                server_version=self.server_version,
            )
        return self._contract_run

    @contextlib.contextmanager
    def admin_state(self) -> Iterator[ServerState | None]:
        """The server's state, read as system_admin (None when that role was not given)."""
        target = self.require_target()
        if _ADMIN not in target.tokens:
            yield None
            return
        with make_client(target, _ADMIN, self.transport) as client:
            yield ServerState(client)

    # --- activation -------------------------------------------------------------------------

    def activate(self) -> None:
        """Prepare the target now (idempotent): resolve it or start the embedded stub, run the
        preflight, take the config snapshot. Ends the run with its exit code on failure."""
        if not self.active:
            self._adopt(self._resolve_target() or self._start_embedded_stub())

    def _adopt(self, target: Target) -> None:
        self.target = target
        try:
            self.preflight = run_preflight(target, self.transport, self.contract)
        except TargetProblem as exc:
            _exit(exc.message, exc.returncode)
        option = self.options.allow_destructive
        self.allow_destructive = target.embedded if option is None else option
        self.active = True
        _active.append(self)
        if self._guards_state_here():
            self._take_snapshot()

    def _resolve_target(self) -> Target | None:
        try:
            return resolve_target(
                target_file=self.config.getoption("target_file"),
                target_url=self.config.getoption("target_url"),
                environ=os.environ,
            )
        except TargetError as exc:
            _exit(f"target configuration error: {exc}", EXIT_TARGET_MISCONFIGURED)

    def _start_embedded_stub(self) -> Target:
        """Start the stub in a child process and describe it as a target."""
        try:
            target_file = self._stack.enter_context(embedded_stub(self.options.stub_version))
            target = resolve_target(target_file=target_file, target_url=None, environ={})
        except (EmbeddedStubError, TargetError, OSError) as exc:
            _exit(f"the embedded stub failed to start: {exc}", EXIT_TARGET_MISCONFIGURED)
        assert target is not None
        return dataclasses.replace(
            target,
            embedded=True,
            sources=MappingProxyType({"url": "embedded stub", "server_version": "embedded stub"}),
        )

    def _guards_state_here(self) -> bool:
        """Whether this process compares the server state at session end.

        Each xdist worker runs its own embedded stub and guards it; a shared real target is
        guarded once, by the xdist controller, around the whole run (a worker that finishes
        early would see the other workers' changes in flight)."""
        if self.target is None:
            return False
        return self.target.embedded or not is_xdist_worker(self.config)

    def _take_snapshot(self) -> None:
        with self.admin_state() as state:
            if state is None:
                return
            try:
                self._snapshot = state.config()
            except Exception as exc:  # reported at session end, not fatal
                self.problems.append(f"could not snapshot the config at session start: {exc}")

    # --- hooks: start -----------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        config = session.config
        if is_xdist_controller(config):
            # The controller collects nothing. A real target is checked here once (a fast
            # failure) and its state guarded around the whole run.
            if conformance_requested(config):
                target = self._resolve_target()
                if target is not None:
                    self._adopt(target)
            return
        widen_parametrized_ids(config, suites_dirs(config))

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller hook: every worker generates the data the controller printed."""
        node.workerinput[_WORKER_SEED] = self.seed

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if not (self.active or conformance_requested(config)):
            return []
        self._profile_printed = True
        lines = [self._profile_line()]
        if self.active:
            self._target_printed = True
            lines += list(self.describe_target())
        return lines

    def _profile_line(self) -> str:
        name = self.profile.name
        return (
            f"mmconform: profile {name} ({self.profile.description}); seed {self.seed} "
            f"(replay: --mm-profile {name} --mm-seed {self.seed})"
        )

    def describe_target(self) -> Iterator[str]:
        target = self.require_target()
        preflight = self.preflight
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
                "mmconform: roles not given (tests needing them are skipped): "
                f"{', '.join(target.missing_roles)}"
            )
        yield f"mmconform: local-mode socket: {target.local_socket or 'not given'}"
        allowed = "allowed" if self.allow_destructive else "excluded"
        yield f"mmconform: destructive operations: {allowed}"

    # --- hooks: collection ------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        narrow_to_wanted_ids(config, items)
        conformance = [item for item in items if item.get_closest_marker(CONFORMANCE_MARK)]
        if not conformance:
            return
        self.activate()
        target = self.require_target()
        facts = TargetFacts(
            server_version=self.server_version,
            allow_destructive=self.allow_destructive,
            roles=target.roles,
            selected_operations=self.options.selected_operations,
        )
        selection = select(conformance, self.contract, facts)
        for item, reason in selection.deselected.items():
            self.deselected[item.nodeid] = reason
        dropped = set(selection.deselected) | set(selection.not_selected)
        if dropped:
            config.hook.pytest_deselected(items=[item for item in items if item in dropped])
            items[:] = [item for item in items if item not in dropped]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if not self.active or self._target_printed or reporter is None:
            return
        lines = list(self.describe_target())
        if not self._profile_printed:
            lines.insert(0, self._profile_line())
        for line in lines:
            reporter.write_line(line)

    # --- hooks: end -------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist controller hook: add up the requests each worker sent."""
        output = getattr(node, "workeroutput", None) or {}
        self._requests_from_workers += int(output.get(_WORKER_REQUESTS, 0))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if is_xdist_worker(session.config):
            session.config.workeroutput[_WORKER_REQUESTS] = self.requests_sent  # type: ignore[attr-defined]
        if not self.active or not self._guards_state_here():
            return
        self._check_state_left()
        if self.problems and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.TESTS_FAILED,
        ):
            session.exitstatus = EXIT_STATE_NOT_RESTORED

    def _check_state_left(self) -> None:
        try:
            with self.admin_state() as state:
                if state is None:
                    return
                if state.busy():
                    state.clear_busy()
                    self.problems.append(
                        "the server was still busy at session end (cleared now): a test did "
                        "not clear it"
                    )
                if self._snapshot is not None:
                    diff = config_differences(self._snapshot, state.config())
                    if diff:
                        self.problems.append(
                            "the server's config differs from the snapshot taken at session "
                            "start:\n" + "\n".join(f"  {line}" for line in diff)
                        )
        except Exception as exc:
            self.problems.append(f"could not check the server state at session end: {exc}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.requests_sent:
            terminalreporter.write_line(
                f"mmconform: {self.requests_sent} generated requests sent "
                f"(profile {self.profile.name}, seed {self.seed})"
            )
        if not self.active:
            return
        if self.deselected:
            terminalreporter.write_sep("-", f"mmconform: {len(self.deselected)} deselected")
            for nodeid, reason in self.deselected.items():
                terminalreporter.write_line(f"{nodeid}: {reason}")
        if self.problems:
            terminalreporter.write_sep("=", "mmconform: server state not restored", red=True)
            for problem in self.problems:
                terminalreporter.write_line(problem, red=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._stack.close()
        if self in _active:
            _active.remove(self)


def _exit(message: str, returncode: int) -> NoReturn:
    pytest.exit(f"mmconform: {message}", returncode=returncode)
