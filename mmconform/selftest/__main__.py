"""``python -m mmconform.selftest``: run the suites against every mutant and print the score."""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mmconform.contract import load_contract, spec_hashes
from mmconform.selftest._catalogue import (
    AREAS,
    ON_REQUEST,
    SAMPLE_BENIGN_OPERATIONS,
    Mutant,
    build_catalogue,
    sample,
)
from mmconform.selftest._merge import MergeError, merge_shards
from mmconform.selftest._runner import MutantRunOptions, Outcome, run_mutants
from mmconform.selftest._shards import Shard, catalogue_fingerprint, split
from mmconform.selftest._summary import (
    Provenance,
    format_row,
    format_summary,
    header,
    score_of,
    write_results,
)

_EPILOG = """\
Exit status: 0 when the score reaches --min-score, no benign variant failed and no run broke;
1 otherwise; 2 for bad arguments (and, for merge, shards that do not form one whole selftest).

examples:
  python -m mmconform.selftest                      # the whole catalogue
  python -m mmconform.selftest --sample             # every area, under a minute
  python -m mmconform.selftest --area busy --area config
  python -m mmconform.selftest -k 'cell:*GetLogs*'  # glob over mutant keys
  python -m mmconform.selftest --list
  python -m mmconform.selftest --shard 2/4          # one of four machines' share
  python -m mmconform.selftest merge reports/selftest-shard-*-of-4.json
  python -m mmconform.selftest --source version --shard 3/16   # the version matrix, spread
"""


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["merge"]:
        return _merge(arguments[1:])
    parser = _parser()
    args = parser.parse_args(arguments)
    project_dir = args.project_dir.resolve()
    if not (project_dir / "suites").is_dir():
        parser.error(
            f"{project_dir} has no suites/ folder: run from an mmconform checkout or give "
            "--project-dir"
        )
    catalogue = build_catalogue()
    selection = _select(catalogue, args)
    if not selection:
        parser.error("no mutant matches the selection (see --list)")
    timings = _timings(parser, args.timings)
    mutants = selection
    if args.shard is not None:
        mutants = split(selection, args.shard.count, timings)[args.shard.index - 1]
    provenance = Provenance(
        selection=catalogue_fingerprint(selection),
        selected=len(selection),
        contract=spec_hashes(load_contract().spec_dir),
        shard=args.shard,
    )
    if args.list:
        for mutant in mutants:
            operations = ", ".join(mutant.operations) or "every operation"
            print(f"{mutant.key:<50} {mutant.kind:<6} {mutant.area:<14} {operations}")
            print(f"    {mutant.description}")
        print(f"{len(mutants)} mutants ({sum(m.kind == 'fault' for m in mutants)} faults)")
        return 0

    options = MutantRunOptions(
        project_dir=project_dir,
        suites=tuple(args.suites),
        timeout=args.timeout,
        benign_operations=tuple(args.benign_operation)
        if args.benign_operation
        else (SAMPLE_BENIGN_OPERATIONS if args.sample else None),
        preload=not args.fresh_interpreters,
    )
    shard = f", shard {args.shard} of {len(selection)} selected" if args.shard else ""
    print(
        f"mmconform selftest: {len(mutants)} mutants "
        f"({sum(m.kind == 'fault' for m in mutants)} faults, "
        f"{sum(m.kind == 'benign' for m in mutants)} benign{shard}), {args.jobs} at a time"
    )
    print(header())
    started = time.monotonic()
    done = 0

    def show(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        print(f"{format_row(outcome)}  [{done}/{len(mutants)}]", flush=True)

    outcomes = run_mutants(mutants, options, jobs=args.jobs, on_outcome=show)
    wall = time.monotonic() - started
    print(format_summary(outcomes, wall))
    written = write_results(
        args.reports_dir,
        outcomes,
        wall_seconds=wall,
        sample=args.sample,
        jobs=args.jobs,
        provenance=provenance,
    )
    print(f"\nwritten: {written} and {written.with_suffix('.md').name}")
    score = score_of(outcomes)
    good = score.ratio >= args.min_score and score.benign_failures == 0 and score.errors == 0
    return 0 if good else 1


def _select(catalogue: list[Mutant], args: argparse.Namespace) -> list[Mutant]:
    mutants = sample(catalogue) if args.sample else catalogue
    if not args.source:
        mutants = [m for m in mutants if m.source not in ON_REQUEST]
    if args.area:
        mutants = [m for m in mutants if m.area in args.area]
    if args.kind:
        mutants = [m for m in mutants if m.kind == args.kind]
    if args.source:
        mutants = [m for m in mutants if m.source in args.source]
    if args.k:
        mutants = [m for m in mutants if any(fnmatch.fnmatchcase(m.key, k) for k in args.k)]
    return mutants


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.selftest",
        description=(
            "Prove the suites: run them against every deliberate fault of the catalogue (each "
            "must make them fail) and every benign variant (none may), print the table and the "
            "mutation score, and write reports/selftest.json and selftest.md."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="a representative sample: every area and source, benign variants on a few "
        "operations (under a minute on two cores)",
    )
    parser.add_argument(
        "--area", action="append", choices=AREAS, help="only this area (repeatable)"
    )
    parser.add_argument("--kind", choices=("fault", "benign"), help="only faults or only benign")
    parser.add_argument(
        "--source",
        action="append",
        choices=("stub", "cell", "proxy", "variant", "version"),
        help="only mutants from this source (repeatable); `version` (the version matrix) runs "
        "only when named",
    )
    parser.add_argument(
        "-k", action="append", metavar="GLOB", help="only mutant keys matching GLOB (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the selected mutants and stop")
    parser.add_argument(
        "--benign-operation",
        action="append",
        default=[],
        metavar="OPERATION_ID",
        help="run benign mutants on these operations' tests only (repeatable; default: every "
        "operation, or with --sample the sample's few)",
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="run only shard K of N: a deterministic split of the selection with no overlap and "
        "no gap, balanced by expected run time; each shard writes "
        "selftest-shard-K-of-N.json for `merge`",
    )
    parser.add_argument(
        "--timings",
        type=Path,
        metavar="FILE",
        help="balance shards by the run times of an earlier selftest's JSON file instead of "
        "the built-in estimate",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help="mutants run at once (default: the number of cores); a mutant whose run mostly "
        "waits (the latency variant) runs beside them",
    )
    parser.add_argument(
        "--fresh-interpreters",
        action="store_true",
        help="start every stub, proxy and pytest in a fresh interpreter (slower), instead of "
        "forking them from one that has already imported pytest, schemathesis and mmconform "
        "(Linux)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1200.0,
        help="seconds one mutant's run may take (default 1200: the whole gate behind the "
        "latency variant sends some ten thousand requests 50 ms late)",
    )
    parser.add_argument(
        "--min-score",
        type=float,
        default=0.95,
        help="the lowest passing score, killed/faults (default 0.95)",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        help="where selftest.json and selftest.md go (default: reports)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=Path.cwd(),
        help="the mmconform checkout whose suites run (default: the current directory)",
    )
    parser.add_argument(
        "--suites",
        nargs="+",
        default=["suites"],
        metavar="PATH",
        help="what each run collects, relative to the project (default: suites)",
    )
    return parser


def _shard(text: str) -> Shard:
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _timings(parser: argparse.ArgumentParser, path: Path | None) -> dict[str, float] | None:
    if path is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {str(e["key"]): float(e["seconds"]) for e in document["mutants"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        parser.error(f"--timings {path}: not a selftest JSON file ({exc})")


def _merge(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.selftest merge",
        description=(
            "Merge the files of a sharded selftest (--shard K/N on N machines) into one score, "
            "one table and one selftest.json. Shards of another selection, catalogue or contract, "
            "a missing or repeated shard, or a mutant in two shards are refused."
        ),
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="SHARD.json")
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        help="where the merged selftest.json and selftest.md go (default: reports)",
    )
    parser.add_argument("--min-score", type=float, default=0.95, help="as for a run (0.95)")
    args = parser.parse_args(argv)
    try:
        merged = merge_shards(args.files, build_catalogue(), spec_hashes(load_contract().spec_dir))
    except MergeError as exc:
        parser.error(str(exc))
    print(f"mmconform selftest: {len(args.files)} shards, {len(merged.outcomes)} mutants")
    print(header())
    for outcome in merged.outcomes:
        print(format_row(outcome))
    print(format_summary(merged.outcomes, merged.wall_seconds))
    print(f"the longest shard took {merged.longest_seconds:.0f} s")
    written = write_results(
        args.reports_dir,
        merged.outcomes,
        wall_seconds=merged.wall_seconds,
        sample=merged.sample,
        jobs=len(args.files),
        provenance=merged.provenance,
    )
    print(f"\nwritten: {written} and {written.with_suffix('.md').name}")
    score = score_of(merged.outcomes)
    good = score.ratio >= args.min_score and score.benign_failures == 0 and score.errors == 0
    return 0 if good else 1


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
