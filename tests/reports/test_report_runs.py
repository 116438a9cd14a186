"""What a run writes, as a CI gate, a vendor and a person receive it: JUnit and Allure results,
conformance.json (valid against its schema), conformance.html (looked at in a real browser),
conformance.md, and with --certify a bundle that the verify command accepts fresh and rejects
once tampered with. No secret of the run appears in anything written.

One full certification run against the stub (every suite, every role, destructive operations
allowed) is shared by the tests of this module; the faulty-target runs are narrowed with
--operation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmconform.report import schema_problems
from mmconform.stub import Fault, StubOptions, start_stub
from mmconform.stub import CellSpec, parse_cell_fault
from tests._faithful import DATA_SOURCE, GROUP, SMTP_PASSWORD, TOKENS, GateRun
from tests._pytest_run import run_pytest

# The shared runs below are made once per process: keep this module on one xdist worker.
# The certified run is the shared run of the whole gate (tests/_faithful.py): one xdist group.
pytestmark = pytest.mark.xdist_group(GROUP)

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    #: the run's own reports directory (``latest`` in the reports folder it was given)
    reports: Path
    license_text: str

    def written(self) -> str:
        """Every file the run wrote, bundles unpacked, as one text."""
        texts = []
        for path in sorted(self.reports.rglob("*")):
            if not path.is_file():
                continue
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as bundle:
                    texts += [bundle.read(n).decode("utf-8", "replace") for n in bundle.namelist()]
            elif path.suffix != ".png":
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(texts)


def run_suites(
    folder: Path, faults: frozenset[Fault], *args: str, cells: frozenset[CellSpec] = frozenset()
) -> Run:
    overrides = {
        "EmailSettings": {"SMTPPassword": SMTP_PASSWORD},
        "SqlSettings": {"DataSource": DATA_SOURCE},
    }
    options = StubOptions(
        tokens=TOKENS, faults=faults, cell_faults=cells, config_overrides=overrides
    )
    with start_stub(options) as stub:
        target = stub.write_target(folder / "target.toml")
        described = stub.target_file()
        reports = folder / "reports"
        result = run_pytest(
            ROOT,
            f"--target-file={target}",
            f"--reports-dir={reports}",
            "--allow-destructive",
            *args,
            timeout=600,
        )
    assert described.license_file is not None
    license_path = described.license_file
    return Run(
        result.returncode,
        result.stdout + result.stderr,
        (reports / "latest").resolve(),
        license_path.read_text(encoding="utf-8").strip(),
    )


@pytest.fixture(scope="module")
def certified(faithful_gate: GateRun) -> Run:
    """The shared run of the whole gate, with --certify, against the faithful stub."""
    return Run(
        faithful_gate.returncode,
        faithful_gate.output,
        faithful_gate.reports,
        faithful_gate.license_text,
    )


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_suites(
        tmp_path_factory.mktemp("faulty"),
        frozenset({Fault.TIMEZONES_AS_TEXT, Fault.CONFIG_LEAKS_SECRETS}),
        "--operation=GetSupportedTimezone",
        "--operation=GetConfig",
        "--operation=GetAnalyticsOld",
        cells=frozenset({parse_cell_fault("grant:GetAnalyticsOld:system_user")}),
    )


def report_of(run: Run) -> dict[str, object]:
    data = json.loads((run.reports / "conformance.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def bundle_of(run: Run) -> Path:
    bundles = sorted(run.reports.glob("certification-*.zip"))
    assert len(bundles) == 1, bundles
    return bundles[0]


def verify(bundle: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mmconform.certify", "verify", str(bundle)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_a_run_writes_every_report(certified: Run) -> None:
    assert certified.returncode == 0, certified.output[-5000:]
    for name in (
        "junit.xml",
        "conformance.json",
        "conformance.html",
        "conformance.md",
        "conformance.schema.json",
    ):
        assert (certified.reports / name).is_file(), name
    assert list((certified.reports / "allure-results").glob("*-result.json"))
    report = report_of(certified)
    assert schema_problems(report) == []
    assert report["verdict"] == {"status": "CONFORMANT", "reasons": report["verdict"]["reasons"]}  # type: ignore[index]
    assert "mmconform: CONFORMANT" in certified.output
    summary = (certified.reports / "conformance.md").read_text(encoding="utf-8")
    assert "Mattermost system API: CONFORMANT" in summary


def test_the_published_schema_is_the_one_reports_follow() -> None:
    published = json.loads((ROOT / "reports" / "conformance.schema.json").read_text())
    from mmconform.report import report_schema

    assert published == report_schema()


def test_a_fresh_bundle_is_accepted(certified: Run) -> None:
    result = verify(bundle_of(certified))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": OK — CONFORMANT for http://127.0.0.1:" in result.stdout


def _rewrite(source: Path, dest: Path, change: dict[str, bytes | None], *, manifest: bool) -> Path:
    """A copy of a bundle with files replaced (bytes) or removed (None); with ``manifest`` the
    manifest is recomputed, as a careful forger would."""
    import hashlib

    with zipfile.ZipFile(source) as bundle:
        files = {name: bundle.read(name) for name in bundle.namelist()}
    for name, data in change.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    if manifest:
        files["MANIFEST.sha256"] = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {name}\n"
            for name, data in sorted(files.items())
            if name != "MANIFEST.sha256"
        ).encode()
    with zipfile.ZipFile(dest, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return dest


def _edited_report(source: Path, edit: object) -> bytes:
    with zipfile.ZipFile(source) as bundle:
        report = json.loads(bundle.read("conformance.json"))
    edit(report)  # type: ignore[operator]
    return json.dumps(report).encode()


def _fail_first_test(report: dict[str, object]) -> None:
    report["tests"][0]["outcome"] = "failed"  # type: ignore[index]


def _change_spec_hash(report: dict[str, object]) -> None:
    report["suite"]["spec_sha256"]["openapi.yaml"] = "0" * 64  # type: ignore[index]


def _claim_conformance(report: dict[str, object]) -> None:
    report["verdict"] = {"status": "CONFORMANT", "reasons": ["all good"]}


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "edited-result",
            lambda b: {"conformance.json": _edited_report(b, _fail_first_test)},
            "conformance.json was changed after the bundle was made",
        ),
        (
            "removed-file",
            lambda b: {"junit.xml": None},
            "junit.xml is listed in the manifest but missing",
        ),
    ],
)
def test_a_tampered_bundle_is_rejected(
    certified: Run, tmp_path: Path, name: str, make: object, message: str
) -> None:
    source = bundle_of(certified)
    tampered = _rewrite(source, tmp_path / f"{name}.zip", make(source), manifest=False)  # type: ignore[operator]
    result = verify(tampered)
    assert result.returncode == 1, result.stdout
    assert "REJECTED" in result.stdout
    assert message in result.stdout


def test_a_bundle_with_a_changed_spec_hash_is_rejected_even_with_a_new_manifest(
    certified: Run, tmp_path: Path
) -> None:
    source = bundle_of(certified)
    edited = _edited_report(source, _change_spec_hash)
    tampered = _rewrite(source, tmp_path / "spec.zip", {"conformance.json": edited}, manifest=True)
    result = verify(tampered)
    assert result.returncode == 1, result.stdout
    assert "the run used a different openapi.yaml" in result.stdout


def test_a_verdict_the_results_do_not_give_is_rejected(faulty: Run, tmp_path: Path) -> None:
    # A non-conformant run's report, its verdict rewritten and the manifest recomputed: the
    # verify command recomputes the verdict from the raw results. (The faulty run is narrowed
    # with --operation, so its bundle is built here from its reports.)
    from mmconform.report import make_bundle

    report = report_of(faulty)
    bundle = make_bundle(faulty.reports, report, {"tokens": {}}, tmp_path)
    edited = _edited_report(bundle, _claim_conformance)
    tampered = _rewrite(
        bundle, tmp_path / "verdict.zip", {"conformance.json": edited}, manifest=True
    )
    result = verify(tampered)
    assert result.returncode == 1, result.stdout
    assert "the stated verdict 'CONFORMANT' is not what the results give" in result.stdout


def test_a_faulty_target_is_not_conformant(faulty: Run) -> None:
    assert faulty.returncode == 1, faulty.output[-5000:]
    report = report_of(faulty)
    assert schema_problems(report) == []
    assert report["verdict"]["status"] == "NOT CONFORMANT"  # type: ignore[index]
    page = (faulty.reports / "conformance.html").read_text(encoding="utf-8")
    assert "NOT CONFORMANT" in page
    assert 'id="failures"' in page
    assert "GetSupportedTimezone" in page
    # The wrongly granted cell is the one failed (red) cell of the matrix grid.
    failed = [c for c in report["matrix"]["cells"] if c["verdict"] == "failed"]  # type: ignore[index]
    assert [(c["operation"], c["role"]) for c in failed] == [("GetAnalyticsOld", "system_user")]
    assert page.count('data-verdict="failed"') == 1


@pytest.mark.parametrize("fixture", ["certified", "faulty"])
def test_no_secret_appears_in_anything_written(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(fixture)
    everything = run.output + run.written()
    secrets = [*TOKENS.values(), SMTP_PASSWORD, DATA_SOURCE, "secret-db-password-e4a1c6"]
    secrets += [line for line in run.license_text.splitlines() if len(line) >= 16]
    leaked = [secret[:12] + "…" for secret in secrets if secret in everything]
    assert not leaked, f"secrets written: {leaked}"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("fixture", ["certified", "faulty"])
def test_the_html_report_renders_in_a_browser(
    fixture: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    run: Run = request.getfixturevalue(fixture)
    # next to the test's other temporary files (pytest's basetemp), never in the checkout
    screenshot = tmp_path_factory.mktemp("screenshots") / f"conformance-{fixture}.png"
    profile = tmp_path_factory.mktemp(f"chromium-{fixture}")
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            "--window-size=1300,1600",
            f"--screenshot={screenshot}",
            (run.reports / "conformance.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert screenshot.is_file(), result.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
