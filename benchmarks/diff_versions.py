"""Every pair of adjacent versions of the version matrix, and a Team Edition build against an
Enterprise one, compared with the default generation: what differs and what explains it.

Two stubs per pair as separate processes (``python -m mmconform.stub --server-version V``,
``--team-edition``), every operation (destructive ones too), every caller, the shape level (or
``--values``). Prints, per pair, the groups (explained or not, with what explains them), the
answers compared, the time, and a last line with the unexplained count; exits 1 when a pair
has an unexplained difference.

    .venv/bin/python benchmarks/diff_versions.py
    .venv/bin/python benchmarks/diff_versions.py --pair 9.5.0 10.3.0
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmconform._wire import child_server  # noqa: E402
from mmconform.diff._cases import Generation  # noqa: E402
from mmconform.diff._compare import ComparisonRules  # noqa: E402
from tests.diff._helpers import NEWEST, VERSIONS, compare, options  # noqa: E402


def _stub(stack: ExitStack, folder: Path, name: str, arguments: list[str]) -> None:
    target = folder / f"{name}.toml"
    command = [sys.executable, "-m", "mmconform.stub", "--port", "0", "--write-target"]
    stack.enter_context(
        child_server([*command, str(target), *arguments], target, log=folder / f"{name}.log")
    )


def run_pair(
    label: str, baseline: list[str], candidate: list[str], args: argparse.Namespace, tmp: Path
) -> int:
    folder = tmp / label.replace(" ", "_")
    folder.mkdir()
    started = time.monotonic()
    with ExitStack() as stack:
        _stub(stack, folder, "baseline", baseline)
        _stub(stack, folder, "candidate", candidate)
        result = compare(
            folder,
            options(
                allow_destructive=True,
                rules=ComparisonRules(values=args.values),
                generation=Generation(max_examples=args.max_examples),
                case_cache=tmp / "cases",
            ),
        )
    print(
        f"\n== {label}: {len(result.groups)} groups, {len(result.unexplained)} unexplained; "
        f"{result.exchanges} answers per side ({result.requests} requests x "
        f"{len(result.callers)} callers), {time.monotonic() - started:.1f} s"
    )
    for group in result.groups:
        mark = "explained  " if group.explained else "UNEXPLAINED"
        sources = ", ".join(group.explanations) or "-"
        print(
            f"   {mark} {group.operation} {group.kind} {group.signature} x{group.count}: {sources}"
        )
    return len(result.unexplained)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", nargs=2, metavar=("OLDER", "NEWER"), action="append")
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--values", action="store_true")
    parser.add_argument("--no-editions", action="store_true")
    args = parser.parse_args()
    pairs = [tuple(pair) for pair in args.pair] if args.pair else list(itertools.pairwise(VERSIONS))
    unexplained = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mmconform-diff-versions-") as tmp:
        for older, newer in pairs:
            unexplained += run_pair(
                f"{older} -> {newer}",
                ["--server-version", older],
                ["--server-version", newer],
                args,
                Path(tmp),
            )
        if not args.no_editions:
            unexplained += run_pair(
                f"{NEWEST} enterprise -> team",
                ["--server-version", NEWEST],
                ["--server-version", NEWEST, "--team-edition"],
                args,
                Path(tmp),
            )
    print(f"\n{unexplained} unexplained groups in all; {time.monotonic() - started:.0f} s")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
