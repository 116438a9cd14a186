"""Certification bundles: the reports of a run, packed with what a reviewer needs to trust them.

A bundle (``certification-<server version>-<date>.zip``) holds the reports (conformance.json,
.html, .md, JUnit XML, the permission matrix, Allure results), the redacted target
configuration, the environment (suite version, Python, package versions) and a manifest with
the sha256 of every file.

:func:`verify_bundle` checks a bundle the way a reviewer would, with their own copy of the suite:
every file the manifest names is there and intact and nothing else is; the report fits its
schema; the spec it was run against is the reviewer's spec (same hashes); the verdict it states
is the verdict its raw test results give; the JUnit results agree with the report; and no token
is in the target configuration. It is a consistency check, not a signature: it proves a bundle
was not edited by hand after the fact, within what one file can say about another.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from mmconform import __version__
from mmconform._version import Version
from mmconform.contract import Contract, load_contract, spec_hashes
from mmconform.report._build import _applicable_requirements
from mmconform.report._model import verdict_of
from mmconform.report._write import schema_problems

__all__ = ["MANIFEST", "REQUIRED", "make_bundle", "verify_bundle"]

MANIFEST = "MANIFEST.sha256"
REQUIRED = ("conformance.json", "junit.xml", "target.json", "environment.json")
_OPTIONAL = (
    "conformance.html",
    "conformance.md",
    "conformance.schema.json",
    "permission-matrix.json",
)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_bundle(
    reports: Path, report: Mapping[str, Any], target_configuration: Mapping[str, Any], out: Path
) -> Path:
    """Pack the run's reports from ``reports`` into a bundle in ``out``; its path."""
    version = report["target"]["server_version"] or "unknown"
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    path = out / f"certification-{version}-{stamp}.zip"
    files: dict[str, bytes] = {}
    for name in (*REQUIRED, *_OPTIONAL):
        if (reports / name).is_file():
            files[name] = (reports / name).read_bytes()
    for result in sorted((reports / "allure-results").glob("*")):
        if result.is_file():
            files[f"allure-results/{result.name}"] = result.read_bytes()
    files["target.json"] = _json(target_configuration)
    files["environment.json"] = _json(_environment())
    missing = [name for name in REQUIRED if name not in files]
    if missing:
        raise FileNotFoundError(f"cannot make a bundle: {', '.join(missing)} not in {reports}")
    manifest = "".join(f"{_sha256(data)}  {name}\n" for name, data in sorted(files.items()))
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in sorted(files.items()):
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, manifest)
    return path


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _environment() -> dict[str, Any]:
    import platform

    packages = {
        dist.metadata["Name"]: dist.version
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    }
    return {
        "suite": {"name": "mmconform", "version": __version__},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
    }


def verify_bundle(path: Path, contract: Contract | None = None) -> list[str]:
    """Why the bundle must be rejected ([] when it is complete, intact and consistent)."""
    contract = contract or load_contract()
    try:
        with zipfile.ZipFile(path) as bundle:
            contents = {name: bundle.read(name) for name in bundle.namelist()}
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"not a readable bundle: {exc}"]
    problems = _manifest_problems(contents)
    if problems:
        return problems
    try:
        report = json.loads(contents["conformance.json"])
    except ValueError as exc:
        return [f"conformance.json is not JSON: {exc}"]
    problems += [f"conformance.json does not fit its schema: {p}" for p in schema_problems(report)]
    if problems:
        return problems
    problems += _spec_problems(report, contract)
    problems += _verdict_problems(report, contract)
    problems += _junit_problems(report, contents["junit.xml"])
    problems += _secret_problems(contents["target.json"])
    return problems


def _manifest_problems(contents: Mapping[str, bytes]) -> list[str]:
    if MANIFEST not in contents:
        return [f"{MANIFEST} is missing"]
    listed: dict[str, str] = {}
    for line in contents[MANIFEST].decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        if name:
            listed[name] = digest
    problems = [f"{name} is missing" for name in REQUIRED if name not in listed]
    for name, digest in sorted(listed.items()):
        if name not in contents:
            problems.append(f"{name} is listed in the manifest but missing from the bundle")
        elif _sha256(contents[name]) != digest:
            problems.append(f"{name} was changed after the bundle was made (sha256 differs)")
    extra = sorted(set(contents) - set(listed) - {MANIFEST})
    problems += [f"{name} is in the bundle but not in the manifest" for name in extra]
    return problems


def _spec_problems(report: Mapping[str, Any], contract: Contract) -> list[str]:
    ours = spec_hashes(contract.spec_dir)
    theirs = report["suite"]["spec_sha256"]
    return [
        f"the run used a different {name} (sha256 {theirs.get(name, 'none')[:12]}, this suite's "
        f"is {digest[:12]}): it was not run against this contract"
        for name, digest in sorted(ours.items())
        if theirs.get(name) != digest
    ]


def _verdict_problems(report: Mapping[str, Any], contract: Contract) -> list[str]:
    target = report["target"]
    applicable = _applicable_requirements(
        contract, Version.lenient(target["server_version"]), target["edition"]
    )
    recomputed = verdict_of(
        report["tests"],
        requirements=applicable,
        claimed_features=target["features"],
        missing_roles=target["missing_roles"],
        stopped=report["run"]["stopped"],
        narrowed=report["run"].get("narrowed", ()),
    )
    problems = []
    if recomputed.status != report["verdict"]["status"]:
        problems.append(
            f"the stated verdict {report['verdict']['status']!r} is not what the results give "
            f"({recomputed.status!r}: {'; '.join(recomputed.reasons)})"
        )
    totals = dict.fromkeys(report["totals"], 0)
    for test in report["tests"]:
        totals[test["outcome"]] = totals.get(test["outcome"], 0) + 1
    if totals != report["totals"]:
        problems.append(f"the totals {report['totals']} do not add up from the tests ({totals})")
    return problems


def _junit_problems(report: Mapping[str, Any], junit: bytes) -> list[str]:
    """The JUnit results and the report must tell the same story, test by test."""
    try:
        root = ElementTree.parse(io.BytesIO(junit)).getroot()
    except ElementTree.ParseError as exc:
        return [f"junit.xml is not XML: {exc}"]
    failed_in_junit = set()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed_in_junit.add(case.get("name", ""))
    failed_in_report = {
        test["nodeid"].split("::")[-1]
        for test in report["tests"]
        if test["outcome"] in ("failed", "error")
    }
    if failed_in_junit != failed_in_report:
        only_junit = sorted(failed_in_junit - failed_in_report)[:5]
        only_report = sorted(failed_in_report - failed_in_junit)[:5]
        return [
            "junit.xml and conformance.json disagree on which tests failed "
            f"(only in junit.xml: {only_junit}; only in the report: {only_report})"
        ]
    return []


def _secret_problems(target_json: bytes) -> list[str]:
    try:
        configuration = json.loads(target_json)
    except ValueError:
        return ["target.json is not JSON"]
    tokens = configuration.get("tokens", {}) if isinstance(configuration, dict) else {}
    clear = sorted(role for role, value in tokens.items() if not str(value).startswith("<redacted"))
    return [f"target.json carries the {role} token in clear" for role in clear]
