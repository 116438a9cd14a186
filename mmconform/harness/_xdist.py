"""What the xdist controller and its workers tell each other, in one plugin object registered
only when pytest-xdist spreads the run (as schemathesis and pytest-xdist do): the session, the
report writer and the reports folder keep no xdist branches of their own.

Controller to workers (``workerinput``): the seed every worker generates with, and the run's
reports directory. Workers to controller (``workeroutput``): the generated requests each sent,
why it stopped talking to the target, what it knew of the target and what it deselected (with
the embedded stub the controller never sees a target of its own).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Final

import pytest

from mmconform.harness._run import is_xdist_controller, is_xdist_worker

if TYPE_CHECKING:
    from mmconform.harness._report_folder import ReportFolder
    from mmconform.harness._reporting import ReportWriter
    from mmconform.harness._session import ConformanceSession

__all__ = ["SEED", "XdistRelay", "from_controller", "spreads"]

SEED: Final = "mmconform_seed"
RUN_DIR: Final = "mmconform_run_dir"
REQUESTS: Final = "mmconform_requests"
STOPPED: Final = "mmconform_stopped"
TARGET: Final = "mmconform_target"
DESELECTIONS: Final = "mmconform_deselected"


def spreads(config: pytest.Config) -> bool:
    """Whether this process is an xdist controller with workers, or one of the workers."""
    return is_xdist_worker(config) or is_xdist_controller(config)


def from_controller(config: pytest.Config, key: str, default: Any = None) -> Any:
    """What the controller handed this worker under ``key`` (``default`` outside a worker)."""
    given: dict[str, Any] = getattr(config, "workerinput", None) or {}
    return given.get(key, default)


class XdistRelay:
    """The run's messages between the xdist controller and its workers."""

    def __init__(
        self, session: ConformanceSession, reports: ReportWriter, folder: ReportFolder
    ) -> None:
        self.session = session
        self.reports = reports
        self.folder = folder

    # --- controller -------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Every worker generates the data the controller printed, and writes its Allure
        results into this run's directory."""
        node.workerinput[SEED] = self.session.seed
        if self.folder.made is not None:
            node.workerinput[RUN_DIR] = str(self.folder.made)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output: dict[str, Any] = getattr(node, "workeroutput", None) or {}
        self.session.note_worker(
            requests=int(output.get(REQUESTS, 0)),
            stopped=str(output[STOPPED]) if output.get(STOPPED) else None,
        )
        self.reports.note_worker(
            target=output.get(TARGET), deselections=list(output.get(DESELECTIONS) or ())
        )

    # --- worker -----------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not is_xdist_worker(session.config):
            return
        output: dict[str, Any] = session.config.workeroutput  # type: ignore[attr-defined]
        output[REQUESTS] = self.session.requests_sent
        output[STOPPED] = self.session.health.stopped
        facts = self.reports.report_target_facts()
        if facts is not None:
            output[TARGET] = {
                field.name: getattr(facts, field.name) for field in dataclasses.fields(facts)
            }
        output[DESELECTIONS] = [
            {"nodeid": d.nodeid, "reason": d.reason, "operations": list(d.operations)}
            for d in self.reports.all_deselections()
        ]
