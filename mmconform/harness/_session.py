"""The conformance session: one object per pytest run, registered with pytest's plugin manager,
whose methods are the hooks of a conformance run.

It stays idle until the run collects a conformance test (an item marked ``conformance``; the
suites' conftest marks everything under ``suites/``). Then it *activates*: resolves the target
or starts the embedded stub, runs the preflight (a failure ends the run with a distinct exit
code), and takes a config snapshot. At the end it checks that the server was left as found.

Fixtures and suites reach it with :func:`session_of` (``request.config``, or
``metafunc.config`` in a ``pytest_generate_tests`` hook that plans a suite's parameters).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx
import pytest

from mmconform._version import Version
from mmconform.contract import ANONYMOUS, LOCAL, Contract, load_contract
from mmconform.harness._clients import (
    Transport,
    describe_transport_error,
    make_client,
)
from mmconform.harness._embedded import EmbeddedStubError, embedded_target
from mmconform.harness._exitcodes import (
    EXIT_STATE_NOT_RESTORED,
    EXIT_TARGET_MISCONFIGURED,
    EXIT_TARGET_UNREACHABLE,
    TargetProblem,
)
from mmconform.harness._health import TargetHealth
from mmconform.harness._lazy_coverage import materialize
from mmconform.harness._preflight import PreflightResult, run_preflight
from mmconform.harness._profiles import Profile
from mmconform.harness._pytest_compat import narrow_to_wanted_ids, widen_parametrized_ids
from mmconform.harness._results import Results
from mmconform.harness._roles import learn_unavailable_roles
from mmconform.harness._run import (
    RunOptions,
    conformance_requested,
    is_xdist_controller,
    is_xdist_worker,
    suite_of,
    suites_dirs,
)
from mmconform.harness._schemathesis import ContractRun, build_contract_run
from mmconform.harness._selection import (
    CONFORMANCE_MARK,
    SelectionFacts,
    in_feedback_order,
    item_operations,
    select,
)
from mmconform.harness._server_facts import ServerFacts
from mmconform.harness._server_state import ServerState
from mmconform.harness._target import Target, TargetError, resolve_target
from mmconform.harness._terminal import describe_target, profile_line, write_summary

__all__ = ["SESSION_KEY", "ConformanceSession", "session_of"]

SESSION_KEY = pytest.StashKey["ConformanceSession"]()
_ADMIN = "system_admin"


def session_of(config: pytest.Config) -> ConformanceSession:
    """The conformance session of a pytest run."""
    return config.stash[SESSION_KEY]


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
        #: why the session-end check could not be made
        self.unchecked: str | None = None
        #: every conformance test's outcome, for the reports
        self.results = Results()
        self.started = datetime.now(UTC)
        self._clock_start = time.monotonic()
        #: node id -> operations of each deselected test (for the reports)
        self.deselected_operations: dict[str, tuple[str, ...]] = {}

        self._contract: Contract | None = None
        self._contract_run: ContractRun | None = None
        self._snapshot: dict[str, Any] | None = None
        self._requests_from_workers = 0
        self._profile_printed = False
        self._target_printed = False
        self._stack = contextlib.ExitStack()
        self._pytest_session: pytest.Session | None = None
        #: why workers stopped talking to the target (xdist controller)
        self._worker_stops: list[str] = []
        self.health = TargetHealth(
            threshold=options.breaker_threshold,
            budget=options.budget,
            alive=self._answers_ping,
            on_stop=self._stop_run,
            notify=self._note,
        )

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

    @property
    def server_facts(self) -> ServerFacts:
        """Edition and license state of the target (all unknown before the preflight)."""
        return self.preflight.facts if self.preflight else ServerFacts()

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
                health=self.health,
            )
        return self._contract_run

    @contextlib.contextmanager
    def admin_state(self) -> Iterator[ServerState | None]:
        """The server's state, read as system_admin (None when that role was not given)."""
        target = self.require_target()
        if _ADMIN not in target.tokens:
            yield None
            return
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(make_client(target, _ADMIN, self.transport))
            local = (
                stack.enter_context(make_client(target, LOCAL, self.transport))
                if target.local_socket
                else None
            )
            license = target.license_file.read_bytes() if target.license_file else None
            yield ServerState(client, local, license)

    @property
    def is_worker(self) -> bool:
        return is_xdist_worker(self.config)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._clock_start

    @property
    def stopped(self) -> str | None:
        """Why the run stopped talking to the target (None while it has not)."""
        if self.health.stopped is not None:
            return self.health.stopped
        return self._worker_stops[0] if self._worker_stops else None

    def _answers_ping(self) -> bool:
        """Whether the target still answers GET /system/ping as a Mattermost server does."""
        with make_client(self.require_target(), ANONYMOUS, self.transport) as client:
            try:
                response = client.get("/system/ping")
            except httpx.TransportError:
                return False
        return response.status_code in (200, 500) and response.headers.get(
            "content-type", ""
        ).startswith("application/json")

    def _stop_run(self, reason: str) -> None:
        if self._pytest_session is not None:
            self._pytest_session.shouldstop = "mmconform stopped talking to the target"

    def _note(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line)

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
        # Which roles it cannot hold at all is known once the edition and license are.
        target = target.with_unavailable_roles(
            learn_unavailable_roles(self.contract, target, self.preflight.facts)
        )
        self.target = target
        if self.options.certify and target.missing_roles:
            _exit(
                "--certify needs a token for every role the target can hold; missing: "
                + ", ".join(target.missing_roles)
                + " (mmconform provision creates the users and tokens)",
                EXIT_TARGET_MISCONFIGURED,
            )
        option = self.options.allow_destructive
        self.allow_destructive = target.embedded if option is None else option
        self.active = True
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
            return self._stack.enter_context(embedded_target(self.options.stub_version))
        except (EmbeddedStubError, TargetError, OSError) as exc:
            _exit(f"the embedded stub failed to start: {exc}", EXIT_TARGET_MISCONFIGURED)

    def _guards_state_here(self) -> bool:
        """Whether this process compares the server state at session end.

        Each xdist worker runs its own embedded stub and guards it; a shared real target is
        guarded once, by the xdist controller, around the whole run (a worker that finishes
        early would see the other workers' changes in flight)."""
        if self.target is None:
            return False
        return self.target.embedded or not is_xdist_worker(self.config)

    def _take_snapshot(self) -> None:
        """The config at the start, to compare with at the end; without it the run could not
        tell whether it left the server as found, so a failure stops the run here."""
        with self.admin_state() as state:
            if state is None:
                return
            try:
                self._snapshot = state.config()
            except httpx.TransportError as exc:
                _exit(
                    "could not read the config at session start (GET /api/v4/config as "
                    f"system_admin): {describe_transport_error(exc)}",
                    EXIT_TARGET_UNREACHABLE,
                )
            except (httpx.HTTPStatusError, ValueError) as exc:
                _exit(
                    "could not read the config at session start (GET /api/v4/config as "
                    f"system_admin): {_short(exc)}",
                    EXIT_TARGET_MISCONFIGURED,
                )

    # --- hooks: start -----------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._pytest_session = session
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

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if not (self.active or conformance_requested(config)):
            return []
        self._profile_printed = True
        lines = [profile_line(self)]
        if self.active:
            self._target_printed = True
            lines += list(describe_target(self))
        return lines

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
        facts = SelectionFacts(
            server_version=self.server_version,
            allow_destructive=self.allow_destructive,
            roles=target.roles,
            selected_operations=self.options.selected_operations,
            edition=self.server_facts.edition,
            features=target.features,
            shared_target=not target.embedded,
            unavailable_roles=target.unavailable_roles,
        )
        selection = select(
            conformance, self.contract, facts, lambda item: suite_of(item, self.config)
        )
        for item, reason in selection.deselected.items():
            self.deselected[item.nodeid] = reason
            self.deselected_operations[item.nodeid] = tuple(
                op.operation_id for op in item_operations(item, self.contract)
            )
        dropped = set(selection.deselected) | set(selection.not_selected)
        if dropped:
            config.hook.pytest_deselected(items=[item for item in items if item in dropped])
            items[:] = [item for item in items if item not in dropped]
        items[:] = in_feedback_order(
            items,
            lambda item: item.get_closest_marker(CONFORMANCE_MARK) is not None,
            lambda item: suite_of(item, self.config),
        )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if not self.active or self._target_printed or reporter is None:
            return
        lines = list(describe_target(self))
        if not self._profile_printed:
            lines.insert(0, profile_line(self))
        for line in lines:
            reporter.write_line(line)

    # --- hooks: end -------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results.add(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        """Generate a contract test's coverage-phase cases just before it runs (not inside its
        Hypothesis run; see ``_lazy_coverage``)."""
        materialize(getattr(item, "obj", None))

    def note_worker(self, *, requests: int, stopped: str | None) -> None:
        """An xdist worker finished: the generated requests it sent, and why it stopped talking
        to the target (None when it did not)."""
        self._requests_from_workers += requests
        if stopped:
            self._worker_stops.append(stopped)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.active:
            return
        ordinary = session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.TESTS_FAILED,
            pytest.ExitCode.INTERRUPTED,
        )
        if self.stopped is not None:
            # The target is gone: there is nothing to check, and the verdict is "unreachable".
            if ordinary:
                session.exitstatus = EXIT_TARGET_UNREACHABLE
            return
        if not self._guards_state_here():
            return
        outcome = self._check_state_left()
        if outcome is not None and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.TESTS_FAILED,
        ):
            session.exitstatus = outcome

    def _check_state_left(self) -> int | None:
        """Compare the server with how the run found it: the exit code the comparison calls
        for (12 when it differs, 10 when the target would not answer), or None."""
        try:
            with self.admin_state() as state:
                if state is None:
                    return None
                self.problems += state.changes_since(self._snapshot)
        except (httpx.TransportError, httpx.HTTPStatusError, ValueError) as exc:
            self.unchecked = (
                "could not check the server state at session end (the target did not answer "
                f"as it should: {_short(exc)}); whether the run left it changed is unknown"
            )
            return EXIT_TARGET_UNREACHABLE
        return EXIT_STATE_NOT_RESTORED if self.problems else None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write_summary(self, terminalreporter)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._stack.close()


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:300] or 'no detail'}"


def _exit(message: str, returncode: int) -> NoReturn:
    """End the run with one message (no chained traceback of the problem that led here)."""
    raise pytest.exit.Exception(f"mmconform: {message}", returncode=returncode) from None
