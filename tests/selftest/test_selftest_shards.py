"""Sharding the selftest over machines, and merging the shards back into one score."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from mmconform.contract import load_contract, spec_hashes
from mmconform.selftest import (
    MergeError,
    Mutant,
    MutantRunOptions,
    Outcome,
    Provenance,
    Shard,
    build_catalogue,
    catalogue_fingerprint,
    expected_seconds,
    merge_shards,
    score_of,
    split,
    write_results,
)
from mmconform.selftest.__main__ import main

CATALOGUE = build_catalogue()
DEFAULT = [m for m in CATALOGUE if m.source != "version"]
CONTRACT = spec_hashes(load_contract().spec_dir)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_shards_have_no_overlap_and_no_gap(count: int) -> None:
    shards = split(DEFAULT, count)
    keys = [m.key for shard in shards for m in shard]
    assert len(keys) == len(set(keys)) == len(DEFAULT)
    assert set(keys) == {m.key for m in DEFAULT}
    assert split(DEFAULT, count) == shards, "the same selection always gives the same shards"
    for shard in shards:
        positions = [DEFAULT.index(m) for m in shard]
        assert positions == sorted(positions), "catalogue order within a shard"


def test_shards_are_balanced_by_expected_time() -> None:
    loads = [sum(expected_seconds(m) for m in shard) for shard in split(DEFAULT, 4)]
    longest = max(expected_seconds(m) for m in DEFAULT)
    assert max(loads) - min(loads) <= longest


def test_recorded_timings_rebalance_the_shards() -> None:
    slow = DEFAULT[0].key
    timings = {slow: 10_000.0}
    shards = split(DEFAULT, 2, timings)
    alone = next(shard for shard in shards if any(m.key == slow for m in shard))
    assert sum(expected_seconds(m, timings) for m in alone) >= 10_000.0
    other = next(shard for shard in shards if shard is not alone)
    assert len(other) > len(alone)


def test_the_version_matrix_is_one_mutant_per_version_and_edition() -> None:
    versions = [m for m in CATALOGUE if m.source == "version"]
    assert len(versions) == 16
    assert {(m.server_version, m.edition, m.licensed) for m in versions} >= {
        ("11.1.0", "enterprise", True),
        ("8.1.0", "team", False),
    }
    assert all(len(shard) == 1 for shard in split(versions, 16))


@pytest.mark.parametrize(
    ("text", "message"),
    [("2", "expected K/N"), ("0/3", "between 1 and N"), ("4/3", "between 1 and N"), ("a/b", "K/N")],
)
def test_a_bad_shard_is_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Shard.parse(text)


def _outcome(mutant: Mutant) -> Outcome:
    verdict = "passed" if mutant.kind == "benign" else "killed"
    caught = "" if mutant.kind == "benign" else f"suites/x.py::catching_{mutant.name}"
    return Outcome(mutant, verdict, caught, 1.5, 0 if verdict == "passed" else 1)  # type: ignore[arg-type]


def _write_shards(folder: Path, mutants: list[Mutant], count: int) -> list[Path]:
    fingerprint = catalogue_fingerprint(mutants)
    paths = []
    for index, shard in enumerate(split(mutants, count), start=1):
        provenance = Provenance(fingerprint, len(mutants), CONTRACT, Shard(index, count))
        outcomes = [_outcome(m) for m in shard]
        paths.append(
            write_results(
                folder, outcomes, wall_seconds=10.0, sample=False, jobs=1, provenance=provenance
            )
        )
    return paths


def test_merged_shards_give_the_score_of_one_run(tmp_path: Path) -> None:
    selection = DEFAULT[:40] + [m for m in DEFAULT if m.kind == "benign"][:3]
    paths = _write_shards(tmp_path, selection, 4)
    assert sorted(p.name for p in paths) == [f"selftest-shard-{i}-of-4.json" for i in range(1, 5)]
    merged = merge_shards(paths, CATALOGUE, CONTRACT)
    whole = [_outcome(m) for m in selection]
    assert merged.outcomes == whole
    assert score_of(merged.outcomes) == score_of(whole)
    assert merged.wall_seconds == 40.0
    assert merged.longest_seconds == 10.0


def test_a_shard_of_another_selection_is_refused(tmp_path: Path) -> None:
    ours = _write_shards(tmp_path / "ours", DEFAULT[:20], 2)
    theirs = _write_shards(tmp_path / "theirs", DEFAULT[:21], 2)
    with pytest.raises(MergeError, match="different selection"):
        merge_shards([ours[0], theirs[1]], CATALOGUE, CONTRACT)


def test_a_shard_of_another_contract_is_refused(tmp_path: Path) -> None:
    paths = _write_shards(tmp_path, DEFAULT[:10], 2)
    other = dict.fromkeys(CONTRACT, "0" * 64)
    with pytest.raises(MergeError, match="another contract"):
        merge_shards(paths, CATALOGUE, other)


def test_a_shard_of_another_catalogue_is_refused(tmp_path: Path) -> None:
    paths = _write_shards(tmp_path, DEFAULT[:10], 2)
    document = json.loads(paths[0].read_text(encoding="utf-8"))
    document["mutants"][0]["key"] = "stub:NO_SUCH_FAULT"
    paths[0].write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(MergeError, match="not in this checkout's catalogue"):
        merge_shards(paths, CATALOGUE, CONTRACT)


def test_a_missing_or_repeated_shard_is_refused(tmp_path: Path) -> None:
    paths = _write_shards(tmp_path, DEFAULT[:12], 3)
    with pytest.raises(MergeError, match=r"missing \[3\]"):
        merge_shards(paths[:2], CATALOGUE, CONTRACT)
    with pytest.raises(MergeError, match=r"given twice \[1\]"):
        merge_shards([paths[0], paths[0], paths[1]], CATALOGUE, CONTRACT)


def test_a_shard_that_lost_mutants_is_refused(tmp_path: Path) -> None:
    paths = _write_shards(tmp_path, DEFAULT[:12], 2)
    document = json.loads(paths[1].read_text(encoding="utf-8"))
    document["mutants"].pop()
    paths[1].write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(MergeError, match="not the selection"):
        merge_shards(paths, CATALOGUE, CONTRACT)


def test_merge_on_the_command_line_writes_one_selftest_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _write_shards(tmp_path / "shards", DEFAULT[:30], 3)
    out = tmp_path / "merged"
    assert main(["merge", *map(str, paths), "--reports-dir", str(out)]) == 0
    document = json.loads((out / "selftest.json").read_text(encoding="utf-8"))
    assert document["summary"]["total"] == sum(m.kind == "fault" for m in DEFAULT[:30])
    assert document["provenance"]["shard"] is None
    assert (out / "selftest.md").is_file()
    assert "3 shards, 30 mutants" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["merge", str(paths[0]), "--reports-dir", str(out)])
    assert refused.value.code == 2
    assert "missing [2, 3]" in capsys.readouterr().err


def test_the_command_line_lists_one_shard(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list", "--shard", "2/4"]) == 0
    listed = capsys.readouterr().out
    expected = split(DEFAULT, 4)[1]
    assert f"{len(expected)} mutants" in listed
    assert expected[0].key in listed


def test_the_example_workflow_runs_shards_this_command_line_accepts() -> None:
    import shlex

    import yaml

    workflow = Path(__file__).resolve().parents[2] / "examples" / "selftest-matrix.yml"
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    runs = [
        step["run"]
        for job in document["jobs"].values()
        for step in job["steps"]
        if "mmconform.selftest" in step.get("run", "")
    ]
    assert len(runs) == 4
    for job in ("selftest", "versions"):
        shards = document["jobs"][job]["strategy"]["matrix"]["shard"]
        count = len(shards)
        run = next(r for r in runs if f"/{count}" in r and "--shard" in r)
        words = shlex.split(run.split("||")[0].replace("${{ matrix.shard }}", "1"))
        assert main([*words[3:], "--list"]) == 0, run
    assert any("merge" in run for run in runs)


def test_a_run_starts_the_longest_mutants_first_and_reports_in_catalogue_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One machine's run is a shard of one: the whole-gate benign runs, which come last in the
    catalogue, start first, so none of them runs on alone after the rest."""
    from mmconform.selftest import _runner

    started: list[str] = []

    def fake_run(mutant: Mutant, options: object, **_: object) -> Outcome:
        started.append(mutant.key)
        return Outcome(mutant, "killed", "a test", 0.0, 1)

    monkeypatch.setattr(_runner, "run_mutant", fake_run)
    mutants = DEFAULT[:20] + [m for m in DEFAULT if m.kind == "benign" and not m.mostly_waits]
    options = MutantRunOptions(project_dir=Path.cwd(), preload=False)
    outcomes = _runner.run_mutants(mutants, options, jobs=1)
    assert [o.mutant.key for o in outcomes] == [m.key for m in mutants]
    kinds = {m.key: m.kind for m in mutants}
    benign = [key for key in started if kinds[key] == "benign"]
    assert started.index(benign[-1]) < len(started) - 15, started
    expected = [expected_seconds(next(m for m in mutants if m.key == key)) for key in started]
    assert expected == sorted(expected, reverse=True)


def test_a_mutant_whose_run_mostly_waits_runs_beside_the_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The latency variant's run waits on held-back answers for minutes; in one of the
    ``--jobs`` places it would leave a core idle. With one job, its run must see another run
    start while it is still going."""
    from mmconform.selftest import _runner

    others_started = threading.Event()

    def fake_run(mutant: Mutant, options: object, **_: object) -> Outcome:
        if mutant.mostly_waits:
            beside = others_started.wait(timeout=10)
            return Outcome(mutant, "passed" if beside else "error", "", 0.0, 0)
        others_started.set()
        return Outcome(mutant, "killed", "a test", 0.0, 1)

    monkeypatch.setattr(_runner, "run_mutant", fake_run)
    waiting = [m for m in DEFAULT if m.mostly_waits]
    assert [m.key for m in waiting] == ["proxy:latency"]
    options = MutantRunOptions(project_dir=Path.cwd(), preload=False)
    outcomes = _runner.run_mutants([DEFAULT[0], *waiting], options, jobs=1)
    assert [o.verdict for o in outcomes] == ["killed", "passed"]
