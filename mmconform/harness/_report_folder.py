"""Where this run writes its reports: a directory of its own under the reports base.

The base is ``--reports-dir DIR`` or ``<rootdir>/reports``; the run's directory is
``BASE/runs/<UTC time>-<id>/`` (see :mod:`mmconform.report._runs`), made by the process that
writes the reports (the only one, or the xdist controller) and handed to the xdist workers,
which write their Allure results into it and never make one of their own. At the end of the
run ``BASE/latest`` is pointed at it; a run that wrote nothing leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform.harness._run import is_xdist_worker
from mmconform.harness._xdist import RUN_DIR, from_controller
from mmconform.report import finish_run, new_run_directory

__all__ = ["ReportFolder"]


class ReportFolder:
    """The run's reports base and its own directory in it (None with ``--no-reports``)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        option = config.getoption("mm_reports_dir")
        self.base: Path | None = (
            None
            if config.getoption("mm_no_reports")
            else Path(option or config.rootpath / "reports")
        )
        self._run: Path | None = None
        self._finished = False
        #: ``BASE/latest`` once the run is finished and pointed to
        self.latest: Path | None = None
        #: why ``latest`` could not be pointed at this run
        self.problem: str | None = None

    @property
    def made(self) -> Path | None:
        """The run's directory if it exists yet (nothing is made here)."""
        return self._run

    def run_dir(self) -> Path | None:
        """The run's directory, made on first use (an xdist worker gets the controller's);
        None with ``--no-reports``, or in a worker the controller gave none."""
        if self.base is None:
            return None
        if self._run is None:
            if is_xdist_worker(self.config):
                given = from_controller(self.config, RUN_DIR)
                self._run = Path(given) if given else None
            else:
                self._run = new_run_directory(self.base)
        return self._run

    def finish(self) -> None:
        """The run is done writing: point ``latest`` at its directory (or remove the directory
        when nothing was written into it). Only where the directory was made."""
        if self._run is None or self._finished or is_xdist_worker(self.config):
            return
        self._finished = True
        try:
            self.latest = finish_run(self._run)
        except OSError as exc:
            self.problem = f"{self.base}/latest was not pointed at this run: {exc}"

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """A run that ended before its session did (an error while starting) is finished
        here, so no directory stays marked as being written."""
        self.finish()
