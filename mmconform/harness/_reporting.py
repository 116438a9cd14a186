"""The run's verdict and reports at its end: conformance.json/.html/.md, the permission matrix,
with ``--certify`` a certification bundle, and the exit code an INCOMPLETE verdict calls for.

A plugin object of its own, registered next to the session: it acts after every other
``pytest_sessionfinish`` (JUnit XML included, which the bundle holds) and before the terminal
summary, where it says the verdict, why a run is incomplete and what would complete it, and
where the reports are. The reports go to the run's own directory (``_report_folder``), which
it then points ``latest`` at.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mmconform._wire import redact
from mmconform.harness._completeness import incomplete_fails, narrowing
from mmconform.harness._exitcodes import EXIT_CERTIFICATION_REFUSED, EXIT_INCOMPLETE
from mmconform.harness._report_folder import ReportFolder
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


class ReportWriter:
    """Writes the reports of one run (in the xdist controller, or the only process)."""

    def __init__(self, session: ConformanceSession, folder: ReportFolder) -> None:
        self.session = session
        self.folder = folder
        self.verdict: str | None = None
        #: what an INCOMPLETE verdict did to the exit code, in words, and whether it failed it
        self.incomplete_note: str | None = None
        self.incomplete_failed = False
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
            unavailable_roles=dict(target.unavailable_roles),
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

    def note_worker(self, *, target: dict[str, Any] | None, deselections: list[Any]) -> None:
        """An xdist worker finished: what it knew of the target (the first one's), and what it
        deselected."""
        if target and self._worker_target is None:
            self._worker_target = dict(target)
        self._worker_deselections += deselections

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.session.is_worker:
            return  # the controller writes the reports (the xdist relay hands it the facts)
        try:
            self._conclude(session)
        finally:
            self.folder.finish()

    def _conclude(self, session: pytest.Session) -> None:
        """The verdict, the exit code it calls for, and the reports (with a reports folder)."""
        conformance = self.session
        if not conformance.results.tests:
            return
        target = self.report_target_facts()
        folder = self.folder.run_dir()
        if folder is not None and conformance.results.cells():
            self.written.append(conformance.results.write_matrix(folder / "permission-matrix.json"))
        if target is None:
            return
        narrowed = narrowing(conformance.config)
        report = build_report(
            contract=conformance.contract,
            target=target,
            run=self._run_facts(int(session.exitstatus), narrowed),
            tests=list(conformance.results.tests.values()),
            deselected=self.all_deselections(),
            selftest=_selftest(self.folder.base) if self.folder.base else None,
        )
        status = report["verdict"]["status"]
        self.verdict = f"{status} ({'; '.join(report['verdict']['reasons'])})"
        if status == INCOMPLETE and not conformance.options.certify:
            self._judge_incomplete(session, narrowed)
        report["run"]["exit_status"] = int(session.exitstatus)
        if folder is None:
            return
        self.written += write_report(report, folder)
        if conformance.options.certify:
            self._certify(session, report, target, folder)

    def _judge_incomplete(self, session: pytest.Session, narrowed: list[str]) -> None:
        """Exit 14 where --mm-incomplete says an INCOMPLETE verdict fails this run."""
        policy = self.session.options.incomplete
        target = self.session.target
        embedded = target is None or target.embedded
        if incomplete_fails(policy, narrowed, embedded=embedded):
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = EXIT_INCOMPLETE
                self.incomplete_failed = True
                self.incomplete_note = f"the run is incomplete: exit {EXIT_INCOMPLETE} " + (
                    "(--mm-incomplete=fail)"
                    if policy == "fail"
                    else "(the whole gate; --mm-incomplete=pass accepts an incomplete run)"
                )
            return
        if policy == "pass":
            why = "--mm-incomplete=pass"
        elif narrowed:
            why = (
                f"it was narrowed ({', '.join(narrowed)}); the whole gate, or "
                "--mm-incomplete=fail, fails on INCOMPLETE"
            )
        else:
            why = (
                "it ran against the embedded stub, which judges no server; the whole gate against "
                "a target, or --mm-incomplete=fail, fails on INCOMPLETE"
            )
        self.incomplete_note = "the run is incomplete, which does not fail it: " + why

    def _run_facts(self, exit_status: int, narrowed: list[str]) -> RunFacts:
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
            narrowed=tuple(narrowed),
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
        if self.verdict is not None:
            terminalreporter.write_sep("=", "mmconform: verdict", bold=True)
            terminalreporter.write_line(f"mmconform: {self.verdict}")
        if self.incomplete_note is not None:
            terminalreporter.write_line(
                f"mmconform: {self.incomplete_note}", red=self.incomplete_failed
            )
        if self.written:
            names = ", ".join(dict.fromkeys(path.name for path in self.written))
            where = self.written[0].parent
            latest = f" (also {self.folder.latest})" if self.folder.latest else ""
            terminalreporter.write_line(f"mmconform: reports in {where}{latest}: {names}")
        elif self.folder.latest is not None and self.folder.made is not None:
            terminalreporter.write_line(
                f"mmconform: run directory {self.folder.made} (also {self.folder.latest})"
            )
        if self.folder.problem is not None:
            terminalreporter.write_line(f"mmconform: note: {self.folder.problem}", yellow=True)
        if self.bundle is not None:
            terminalreporter.write_line(
                f"mmconform: certification bundle {self.bundle} "
                f"(check it with: python -m mmconform.certify verify {self.bundle})"
            )
        if self.refused is not None:
            terminalreporter.write_line(f"mmconform: {self.refused}", red=True)


def _selftest(folder: Path) -> dict[str, Any] | None:
    """The suite's own mutation score, when ``python -m mmconform.selftest`` left one in the
    reports folder (``selftest.json`` lies in the base, next to ``runs/``: it describes the
    suite, not one run)."""
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
        "unavailable_roles": dict(fields["unavailable_roles"]),
        "sources": {
            key: value for key, value in dict(fields["sources"]).items() if key != "tokens"
        },
    }
