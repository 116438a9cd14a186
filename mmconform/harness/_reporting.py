"""Writing the run's reports at its end: conformance.json/.html/.md, the permission matrix, and
with ``--certify`` a certification bundle.

A plugin object of its own, registered next to the session: it writes after every other
``pytest_sessionfinish`` (JUnit XML included, which the bundle holds) and before the terminal
summary, where it says what it wrote and the verdict.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mmconform._wire import redact
from mmconform.harness._exitcodes import EXIT_CERTIFICATION_REFUSED
from mmconform.report import (
    INCOMPLETE,
    Deselection,
    RunFacts,
    TargetFacts,
    build_report,
    make_bundle,
    write_report,
)

if TYPE_CHECKING:
    from mmconform.harness._session import ConformanceSession

__all__ = ["ReportWriter", "target_configuration"]

_WORKER_TARGET = "mmconform_target"
_WORKER_DESELECTIONS = "mmconform_deselected"


class ReportWriter:
    """Writes the reports of one run (in the xdist controller, or the only process)."""

    def __init__(self, session: ConformanceSession) -> None:
        self.session = session
        self.verdict: str | None = None
        self.written: list[Path] = []
        self.bundle: Path | None = None
        self.refused: str | None = None
        #: what xdist workers said about their target and their deselections (controller)
        self._worker_target: dict[str, Any] | None = None
        self._worker_deselections: list[dict[str, Any]] = []

    def report_target_facts(self) -> TargetFacts | None:
        """What the reports say about the target (from a worker under xdist with the embedded
        stub, where the controller never saw one)."""
        target = self.session.target
        if target is None:
            if self._worker_target is None:
                return None
            values: dict[str, Any] = {
                key: tuple(value) if isinstance(value, list) else value
                for key, value in self._worker_target.items()
            }
            return TargetFacts(**values)
        preflight = self.session.preflight
        facts = self.session.server_facts
        return TargetFacts(
            url=target.url,
            server_version=str(preflight.server_version)
            if preflight and preflight.server_version
            else None,
            version_source=preflight.version_source if preflight else "unknown",
            edition=facts.edition,
            licensed=facts.licensed,
            license_sku=facts.license_sku,
            embedded=target.embedded,
            roles=target.roles,
            missing_roles=target.missing_roles,
            features=tuple(sorted(target.features)),
            destructive_allowed=self.session.allow_destructive,
            configuration=target_configuration(target),
        )

    def all_deselections(self) -> list[Deselection]:
        own = [
            Deselection(nodeid, reason, self.session.deselected_operations.get(nodeid, ()))
            for nodeid, reason in self.session.deselected.items()
        ]
        seen = {d.nodeid for d in own}
        for entry in self._worker_deselections:
            if entry["nodeid"] not in seen:
                seen.add(entry["nodeid"])
                own.append(
                    Deselection(entry["nodeid"], entry["reason"], tuple(entry["operations"]))
                )
        return sorted(own, key=lambda d: d.nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist controller: keep what a worker said about its target and deselections."""
        output = getattr(node, "workeroutput", None) or {}
        if output.get(_WORKER_TARGET) and self._worker_target is None:
            self._worker_target = dict(output[_WORKER_TARGET])
        self._worker_deselections += list(output.get(_WORKER_DESELECTIONS) or ())

    def _hand_over(self, session: pytest.Session) -> None:
        """xdist worker: tell the controller, which writes the reports, about the target."""
        output = session.config.workeroutput  # type: ignore[attr-defined]
        facts = self.report_target_facts()
        if facts is not None:
            output[_WORKER_TARGET] = {
                field.name: getattr(facts, field.name) for field in dataclasses.fields(facts)
            }
        output[_WORKER_DESELECTIONS] = [
            {"nodeid": d.nodeid, "reason": d.reason, "operations": list(d.operations)}
            for d in self.all_deselections()
        ]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        conformance = self.session
        if conformance.is_worker:
            self._hand_over(session)
            return
        folder = conformance.reports_dir
        if folder is None or not conformance.results.tests:
            return
        if conformance.results.cells():
            self.written.append(conformance.results.write_matrix(folder / "permission-matrix.json"))
        target = self.report_target_facts()
        if target is None:
            return
        report = build_report(
            contract=conformance.contract,
            target=target,
            run=self._run_facts(int(session.exitstatus)),
            tests=list(conformance.results.tests.values()),
            deselected=self.all_deselections(),
            selftest=_selftest(folder),
        )
        self.written += write_report(report, folder)
        self.verdict = f"{report['verdict']['status']} ({'; '.join(report['verdict']['reasons'])})"
        if conformance.options.certify:
            self._certify(session, report, target, folder)

    def _run_facts(self, exit_status: int) -> RunFacts:
        conformance = self.session
        arguments = tuple(
            redact(str(arg), conformance.target.secrets if conformance.target else {})
            for arg in conformance.config.invocation_params.args
        )
        return RunFacts(
            profile=conformance.profile.name,
            seed=conformance.seed,
            started=conformance.started,
            duration=conformance.elapsed,
            exit_status=exit_status,
            requests_sent=conformance.requests_sent,
            stopped=conformance.stopped,
            arguments=arguments,
        )

    def _certify(
        self, session: pytest.Session, report: dict[str, Any], target: TargetFacts, folder: Path
    ) -> None:
        if report["verdict"]["status"] == INCOMPLETE:
            self.refused = (
                "no certification bundle: the run is incomplete ("
                + "; ".join(report["verdict"]["reasons"])
                + ")"
            )
            session.exitstatus = EXIT_CERTIFICATION_REFUSED
            return
        self.bundle = make_bundle(folder, report, dict(target.configuration), folder)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.verdict is None:
            return
        terminalreporter.write_sep("=", "mmconform: verdict", bold=True)
        terminalreporter.write_line(f"mmconform: {self.verdict}")
        names = ", ".join(path.name for path in self.written)
        if self.written:
            terminalreporter.write_line(f"mmconform: reports in {self.written[0].parent}: {names}")
        if self.bundle is not None:
            terminalreporter.write_line(
                f"mmconform: certification bundle {self.bundle} "
                f"(check it with: python -m mmconform.certify verify {self.bundle})"
            )
        if self.refused is not None:
            terminalreporter.write_line(f"mmconform: {self.refused}", red=True)


def _selftest(folder: Path) -> dict[str, Any] | None:
    """The suite's own mutation score, when ``python -m mmconform.selftest`` left one."""
    import json

    path = folder / "selftest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    summary = data.get("summary") if isinstance(data, dict) else None
    return summary if isinstance(summary, dict) else None


def target_configuration(target: Any) -> dict[str, Any]:
    """The effective target configuration, as a reviewer may see it: tokens redacted, the
    license file named but not included."""
    fields = {f.name: getattr(target, f.name) for f in dataclasses.fields(target)}
    return {
        "url": fields["url"],
        "server_version": fields["server_version"],
        "edition": fields["edition"],
        "licensed": fields["licensed"],
        "local_socket": fields["local_socket"],
        "features": sorted(fields["features"]),
        "license_file": fields["license_file"].name if fields["license_file"] else None,
        "tokens": {role: repr(secret) for role, secret in fields["tokens"].items()},
        "sources": {
            key: value for key, value in dict(fields["sources"]).items() if key != "tokens"
        },
    }
