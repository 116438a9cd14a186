"""The conformance report as data: what was tested against which target, and with what result,
per requirement, per operation and category, per permission cell, and overall.

The result is a plain JSON document (``conformance.json``, described by
``conformance.schema.json``); the HTML and Markdown pages are drawn from it.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from mmconform import __version__
from mmconform._version import Version
from mmconform.contract import ALL_OPERATIONS, Contract, spec_hashes
from mmconform.report._model import TestResult, highest, verdict_of

__all__ = [
    "REPORT_FORMAT",
    "Deselection",
    "RunFacts",
    "TargetFacts",
    "build_report",
    "spec_hashes",
]

#: Version of the report format (conformance.schema.json's ``format`` value).
REPORT_FORMAT = 1
#: The suite directories, in the order reports show them.
CATEGORIES = ("contract", "permissions", "scenarios", "clients")
_PACKAGES = ("schemathesis", "hypothesis", "pytest", "httpx", "jsonschema")


@dataclass(frozen=True)
class TargetFacts:
    """What the run knew about the target (secrets already redacted)."""

    url: str
    server_version: str | None
    version_source: str
    edition: str | None
    licensed: bool | None
    license_sku: str | None
    embedded: bool
    roles: tuple[str, ...]
    missing_roles: tuple[str, ...]
    features: tuple[str, ...]
    destructive_allowed: bool
    #: the effective target configuration, tokens and license contents redacted
    configuration: Mapping[str, Any] = field(default_factory=dict)
    #: role -> why the target cannot hold it (its tests are unsupported, not missing)
    unavailable_roles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Deselection:
    """A test that did not run against this target, and why."""

    nodeid: str
    reason: str
    operations: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunFacts:
    profile: str
    seed: int
    started: datetime
    duration: float
    exit_status: int
    requests_sent: int
    stopped: str | None = None
    arguments: tuple[str, ...] = ()
    #: how the person running it left tests out (``-k ...``; empty for the whole gate)
    narrowed: tuple[str, ...] = ()


def build_report(
    *,
    contract: Contract,
    target: TargetFacts,
    run: RunFacts,
    tests: Sequence[TestResult],
    deselected: Sequence[Deselection],
    selftest: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The conformance report of one run."""
    version = Version.lenient(target.server_version)
    raw = [test.as_dict() for test in tests]
    applicable = _applicable_requirements(contract, version, target.edition)
    verdict = verdict_of(
        raw,
        requirements=applicable,
        claimed_features=target.features,
        missing_roles=target.missing_roles,
        stopped=run.stopped,
        narrowed=run.narrowed,
    )
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "suite": {
            "name": "mmconform",
            "version": __version__,
            "spec_sha256": spec_hashes(contract.spec_dir),
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "packages": {name: _package_version(name) for name in _PACKAGES},
        },
        "run": {
            "profile": run.profile,
            "seed": run.seed,
            "started": run.started.isoformat(timespec="seconds"),
            "duration_seconds": round(run.duration, 2),
            "exit_status": run.exit_status,
            "requests_sent": run.requests_sent,
            "stopped": run.stopped,
            "arguments": list(run.arguments),
            "narrowed": list(run.narrowed),
        },
        "target": _target(target),
        "verdict": verdict.as_dict(),
        "totals": _totals(raw),
        "requirements": _requirements(contract, raw, applicable, target.features),
        "operations": _operations(contract, raw, deselected, version),
        "matrix": _matrix(tests),
        "failures": [_failure(test) for test in raw if test["outcome"] in ("failed", "error")],
        "deselected": [asdict(d) | {"operations": list(d.operations)} for d in deselected],
        "tests": raw,
    }
    if selftest is not None:
        report["selftest"] = dict(selftest)
    return report


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _target(target: TargetFacts) -> dict[str, Any]:
    return {
        "url": target.url,
        "server_version": target.server_version,
        "version_source": target.version_source,
        "edition": target.edition,
        "licensed": target.licensed,
        "license_sku": target.license_sku,
        "embedded_stub": target.embedded,
        "roles": list(target.roles),
        "missing_roles": list(target.missing_roles),
        "unavailable_roles": dict(target.unavailable_roles),
        "features": list(target.features),
        "destructive_allowed": target.destructive_allowed,
        "configuration": dict(target.configuration),
    }


def _totals(tests: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    totals = dict.fromkeys(("passed", "failed", "error", "skipped", "unsupported"), 0)
    for test in tests:
        totals[str(test["outcome"])] += 1
    return totals


def _applicable_requirements(
    contract: Contract, version: Version | None, edition: str | None
) -> dict[str, tuple[str, ...]]:
    """Requirements that apply to this target (version, edition, operations it has), with the
    features each needs."""
    out = {}
    for requirement in contract.requirements:
        if requirement.applies_to(version, edition) is not None:
            continue
        operations = [op for op in requirement.operations if op != ALL_OPERATIONS]
        if any(not contract.operation(op).available_in(version) for op in operations):
            continue
        out[requirement.id] = requirement.features
    return out


def _requirements(
    contract: Contract,
    tests: Sequence[Mapping[str, Any]],
    applicable: Mapping[str, Sequence[str]],
    claimed: Sequence[str],
) -> list[dict[str, Any]]:
    rows = []
    for requirement in contract.requirements:
        cited = [t for t in tests if requirement.id in t["requirements"]]
        if requirement.id not in applicable:
            status, reasons = "unsupported", ["does not apply to this target's version or edition"]
        elif not set(requirement.features) <= set(claimed):
            missing = sorted(set(requirement.features) - set(claimed))
            status, reasons = "unsupported", [f"the target does not claim {', '.join(missing)}"]
        elif not cited:
            status, reasons = "skipped", ["no test of it ran"]
        else:
            status = highest(t["outcome"] for t in cited)
            reasons = _reasons(cited, status)
        rows.append(
            {
                "id": requirement.id,
                "area": requirement.area,
                "must": requirement.must,
                "status": status,
                "tests": len(cited),
                "reasons": reasons,
            }
        )
    return rows


def _reasons(tests: Sequence[Mapping[str, Any]], status: str) -> list[str]:
    """Why a group of tests has its status: the first line of each telling message."""
    if status == "passed":
        return []
    out = []
    for test in tests:
        if test["outcome"] == status:
            first = next((line for line in str(test["message"]).splitlines() if line.strip()), "")
            out.append(f"{test['nodeid']}: {first[:300]}")
    return out[:10]


def _operations(
    contract: Contract,
    tests: Sequence[Mapping[str, Any]],
    deselected: Sequence[Deselection],
    version: Version | None,
) -> list[dict[str, Any]]:
    rows = []
    for operation in contract.operations:
        op_id = operation.operation_id
        categories: dict[str, Any] = {}
        for category in CATEGORIES:
            cited = [t for t in tests if t["category"] == category and op_id in t["operations"]]
            if cited:
                status = highest(t["outcome"] for t in cited)
                categories[category] = {
                    "status": status,
                    "tests": len(cited),
                    "reasons": _reasons(cited, status),
                }
        unavailable = operation.unavailability(version)
        errata = []
        for erratum in contract.errata_for(op_id):
            effects = erratum.effects_for(version)
            errata.append(
                {
                    "id": erratum.id,
                    "decision": erratum.decision,
                    "skips": sorted(effects.skip_checks),
                    "also_accepts": sorted(effects.extra_status),
                }
            )
        rows.append(
            {
                "operation": op_id,
                "method": operation.method,
                "path": operation.path,
                "status": highest(
                    (c["status"] for c in categories.values()),
                    default="unsupported" if unavailable else "skipped",
                ),
                "not_applicable": unavailable,
                "categories": categories,
                "errata": errata,
                "deselected": sum(1 for d in deselected if op_id in d.operations),
            }
        )
    return rows


#: The matrix's columns, from no credentials to the local socket.
_CALLERS = (
    "anonymous",
    "system_user",
    "system_read_only_admin",
    "system_user_manager",
    "system_manager",
    "system_admin",
    "local",
)


def _matrix(tests: Sequence[TestResult]) -> dict[str, Any]:
    cells = sorted(
        (cell for test in tests for cell in test.cells), key=lambda c: (c.operation, c.role)
    )
    present = {cell.role for cell in cells}
    roles = [role for role in _CALLERS if role in present]
    roles += sorted(present - set(_CALLERS))
    return {
        "roles": roles,
        "cells": [
            {**asdict(cell), "expected_statuses": list(cell.expected_statuses)} for cell in cells
        ],
    }


def _failure(test: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nodeid": test["nodeid"],
        "outcome": test["outcome"],
        "category": test["category"],
        "operations": test["operations"],
        "roles": test["roles"],
        "requirements": test["requirements"],
        "message": test["message"],
    }
