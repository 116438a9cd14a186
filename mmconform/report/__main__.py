"""The reports folder from the command line: list the runs in it, and remove old ones.

    python -m mmconform.report list                 # every run, oldest first
    python -m mmconform.report prune --keep 10      # remove all but the 10 newest runs
    python -m mmconform.report prune --keep 10 --dry-run --reports-dir DIR

Removing runs is never a side effect of a run; this command is the one way. It never removes a
run that is still writing, nor the one ``latest`` points to. Exit 0, or 2 on usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmconform.report._runs import describe_runs, list_runs, prune


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.report",
        description="The runs in a reports folder (reports/runs/<UTC time>-<id>/).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the runs, oldest first")
    pruning = commands.add_parser("prune", help="remove all but the newest runs")
    pruning.add_argument(
        "--keep",
        metavar="N",
        type=int,
        required=True,
        help="how many of the newest runs to keep (a run still writing and the one `latest` "
        "points to are kept in any case)",
    )
    pruning.add_argument(
        "--dry-run", action="store_true", help="say what would be removed, remove nothing"
    )
    for command in (listing, pruning):
        command.add_argument(
            "--reports-dir",
            metavar="DIR",
            type=Path,
            default=Path("reports"),
            help="the reports folder, as given to pytest --reports-dir (default: reports)",
        )
    args = parser.parse_args(argv)
    base: Path = args.reports_dir
    if not base.is_dir():
        parser.error(f"{base}: no such folder")
    if args.command == "list":
        for line in describe_runs(list_runs(base)) or [f"{base}: no runs"]:
            print(line)
        return 0
    if args.keep < 0:
        parser.error("--keep must be 0 or more")
    removed = prune(base, args.keep, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for path in removed:
        print(f"{verb} {path}")
    kept = len(list_runs(base)) - (len(removed) if args.dry_run else 0)
    print(f"{verb} {len(removed)} run(s); {kept} kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
