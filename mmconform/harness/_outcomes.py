"""Every test report passes here before anyone reads it (the terminal, JUnit, Allure, the
reports): its outcome put in the failure's own words, and every secret of the target redacted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from mmconform._wire import Secret, redact
from mmconform.harness._clients import TargetTransportError
from mmconform.harness._results import MESSAGE

if TYPE_CHECKING:
    from mmconform.harness._session import ConformanceSession

__all__ = ["OutcomeWriter"]


class OutcomeWriter:
    """A plugin object next to the session: it rewrites test reports as they are made."""

    def __init__(self, session: ConformanceSession) -> None:
        self.session = session

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Any:
        """Every report passes the redactor before anyone reads it (terminal, JUnit, Allure):
        whatever a failure or captured output carries, no token is written."""
        report = yield
        excinfo = getattr(call, "excinfo", None)
        if excinfo is not None and isinstance(excinfo.value, TargetTransportError):
            # Where in the HTTP library the connection broke is of no use to the reader.
            report.longrepr = f"{item.nodeid}\n{excinfo.value}"
        secrets = self.session.target.secrets if self.session.target is not None else {}
        if report.failed or report.skipped:
            # What the reports say about the outcome: the failure's own words, not its traceback.
            report.user_properties = [
                *report.user_properties,
                (MESSAGE, redact(_outcome_message(report, excinfo), secrets)),
            ]
        if secrets:
            _redact_report(report, secrets)
        return report


def _outcome_message(report: pytest.TestReport, excinfo: Any) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        # pytest words a skip "Skipped: <reason>"; the reason is what the reports read
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if excinfo is not None:
        value = excinfo.value
        text = str(getattr(value, "message", "") or value)
        return f"{type(value).__name__}: {text}" if text else type(value).__name__
    return str(report.longrepr or "")


def _redact_report(report: pytest.TestReport, secrets: Mapping[str, Secret]) -> None:
    longrepr = report.longrepr
    if longrepr is not None:
        text = str(longrepr)
        clean = redact(text, secrets)
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, redact(content, secrets)) for title, content in report.sections]
