"""``python -m mmconform.selftest``: run the suites against every mutant and print the score."""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mmconform.selftest._catalogue import (
    AREAS,
    SAMPLE_BENIGN_OPERATIONS,
    Mutant,
    build_catalogue,
    sample,
)
from mmconform.selftest._runner import MutantRunOptions, Outcome, run_mutants
from mmconform.selftest._summary import (
    format_row,
    format_summary,
    header,
    score_of,
    write_results,
)

_EPILOG = """\
Exit status: 0 when the score reaches --min-score, no benign variant failed and no run broke;
1 otherwise; 2 for bad arguments.

examples:
  python -m mmconform.selftest                      # the whole catalogue
  python -m mmconform.selftest --sample             # every area, about two minutes
  python -m mmconform.selftest --area busy --area config
  python -m mmconform.selftest -k 'cell:*GetLogs*'  # glob over mutant keys
  python -m mmconform.selftest --list
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    project_dir = args.project_dir.resolve()
    if not (project_dir / "suites").is_dir():
        parser.error(
            f"{project_dir} has no suites/ folder: run from an mmconform checkout or give "
            "--project-dir"
        )
    catalogue = build_catalogue()
    mutants = _select(catalogue, args)
    if not mutants:
        parser.error("no mutant matches the selection (see --list)")
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
        benign_operations=SAMPLE_BENIGN_OPERATIONS if args.sample else None,
    )
    print(
        f"mmconform selftest: {len(mutants)} mutants "
        f"({sum(m.kind == 'fault' for m in mutants)} faults, "
        f"{sum(m.kind == 'benign' for m in mutants)} benign), {args.jobs} at a time"
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
        args.reports_dir, outcomes, wall_seconds=wall, sample=args.sample, jobs=args.jobs
    )
    print(f"\nwritten: {written} and {written.with_suffix('.md').name}")
    score = score_of(outcomes)
    good = score.ratio >= args.min_score and score.benign_failures == 0 and score.errors == 0
    return 0 if good else 1


def _select(catalogue: list[Mutant], args: argparse.Namespace) -> list[Mutant]:
    mutants = sample(catalogue) if args.sample else catalogue
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
        "operations (about two minutes on two cores)",
    )
    parser.add_argument(
        "--area", action="append", choices=AREAS, help="only this area (repeatable)"
    )
    parser.add_argument("--kind", choices=("fault", "benign"), help="only faults or only benign")
    parser.add_argument(
        "--source",
        action="append",
        choices=("stub", "cell", "proxy", "variant"),
        help="only mutants from this source (repeatable)",
    )
    parser.add_argument(
        "-k", action="append", metavar="GLOB", help="only mutant keys matching GLOB (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the selected mutants and stop")
    parser.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help="mutants run at once (default: the number of cores)",
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


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
