"""Two gate runs started together in one checkout, against two targets, into one reports
folder: each keeps complete and consistent reports of its own, and neither breaks the other.

(Before each run had a directory of its own, the second run's start emptied the first one's
allure-results/ while it was writing, and the first ended in INTERNALERROR.)
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import CompletedProcess

from mmconform.stub import StubOptions, start_stub
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]


def test_two_runs_at_once_each_keep_their_own_complete_reports(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with start_stub(StubOptions()) as first, start_stub(StubOptions()) as second:
        targets = [
            stub.write_target(tmp_path / f"target-{n}.toml")
            for n, stub in enumerate((first, second))
        ]
        urls = [first.url, second.url]

        def gate(target: Path) -> CompletedProcess[str]:
            return run_pytest(
                ROOT,
                "-p",
                "no:randomly",
                "suites/permissions",
                "suites/scenarios",
                f"--target-file={target}",
                f"--reports-dir={reports}",
                "--operation=GetPing",
                timeout=300,
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(gate, targets))

    run_dirs = []
    for result, url in zip(results, urls, strict=True):
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-4000:]
        assert "INTERNALERROR" not in output
        passed = int(re.search(r"(\d+) passed", result.stdout).group(1))  # type: ignore[union-attr]
        (where,) = re.findall(r"mmconform: reports in (\S+) ", result.stdout)
        run_dir = Path(where)
        run_dirs.append(run_dir)
        # every file of the run is there, and tells of this run and this target only
        junit = (run_dir / "junit.xml").read_text(encoding="utf-8")
        assert f'tests="{passed}"' in junit, junit[:300]
        allure = list((run_dir / "allure-results").glob("*-result.json"))
        assert len(allure) == passed
        report = json.loads((run_dir / "conformance.json").read_text(encoding="utf-8"))
        assert report["target"]["url"] == url
        assert report["totals"]["passed"] == passed == len(report["tests"])
        for name in ("conformance.html", "conformance.md", "permission-matrix.json"):
            assert (run_dir / name).is_file(), name
        assert not (run_dir / ".mmconform-running").exists()

    assert run_dirs[0] != run_dirs[1]
    assert sorted((reports / "runs").iterdir()) == sorted(run_dirs)
    assert (reports / "latest").resolve() in run_dirs
