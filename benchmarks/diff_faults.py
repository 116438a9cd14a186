"""Which stub faults a comparison catches: the faulty stub against the correct one.

For every fault of ``mmconform.stub.Fault`` (or those named), two stubs as separate processes
(``python -m mmconform.stub --fault NAME``), licensed Enterprise at the version the fault
needs, one of them with the fault, compared as a user would: every operation, every caller,
destructive operations allowed, at the ``--values`` level (``--operations fault``: only the
operations the fault changes and those linked to them, much faster). A fault is *caught* when
an unexplained group names an operation it changes (any operation, for a fault of every
operation); the level says whether a difference of the default level caught it (a shape, or an
``effect`` a request sequence observed) or only a value difference (``--values``). Prints one
row per fault (Markdown), then the counts.

    .venv/bin/python benchmarks/diff_faults.py                      # every fault (minutes)
    .venv/bin/python benchmarks/diff_faults.py BUSY_CLEAR_IGNORED CONFIG_LEAKS_SECRETS
    .venv/bin/python benchmarks/diff_faults.py --operations fault   # quicker, narrower
"""

from __future__ import annotations

import argparse
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
from mmconform.stub import Fault  # noqa: E402
from tests.diff._helpers import (  # noqa: E402
    LICENSE,
    NEWEST,
    caught,
    compare,
    fault_operations,
    options,
)


def _stub(stack: ExitStack, folder: Path, name: str, fault: Fault | None, version: str) -> None:
    target = folder / f"{name}.toml"
    command = [sys.executable, "-m", "mmconform.stub", "--port", "0", "--write-target"]
    command += [str(target), "--server-version", version, "--license-file", str(LICENSE)]
    if fault is not None:
        command += ["--fault", fault.name]
    stack.enter_context(child_server(command, target, log=folder / f"{name}.log"))


def level_of(
    fault: Fault, args: argparse.Namespace, folder: Path, cache: Path
) -> tuple[str, str, float, int]:
    """(level, first group, seconds, answers compared) for one fault."""
    started = time.monotonic()
    version = fault.server_version or NEWEST
    with ExitStack() as stack:
        _stub(stack, folder, "baseline", None, version)
        _stub(stack, folder, "candidate", fault, version)
        result = compare(
            folder,
            options(
                operations=fault_operations(fault) if args.operations == "fault" else (),
                allow_destructive=True,
                rules=ComparisonRules(values=True),
                generation=Generation(max_examples=args.max_examples),
                case_cache=cache,
            ),
        )
    found = caught(result, fault)
    shape = [g for g in found if g.kind != "value"]
    level = "shape" if shape else "values" if found else "not caught"
    first = (shape or found)[0] if found else None
    what = f"{first.operation} {first.kind} {first.signature}" if first else ""
    return level, what, time.monotonic() - started, result.exchanges


def level_of_in(fault: Fault, args: argparse.Namespace, tmp: Path) -> tuple[str, str, float, int]:
    """One fault's row, printed as soon as it is known."""
    folder = tmp / fault.name
    folder.mkdir()
    level, what, seconds, exchanges = level_of(fault, args, folder, tmp / "cases")
    operations = ", ".join(fault.operations) or "every operation"
    print(
        f"| {fault.name} | {operations} | {level} | `{what[:90]}` | {exchanges} | {seconds:.1f} |",
        flush=True,
    )
    return level, what, seconds, exchanges


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faults", nargs="*", help="fault names (default: every fault)")
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--operations", choices=("all", "fault"), default="all")
    args = parser.parse_args()
    faults = [Fault.parse(name) for name in args.faults] or list(Fault)
    counts = {"shape": 0, "values": 0, "not caught": 0}
    started = time.monotonic()
    print("| fault | operations | caught at | first unexplained group | answers | s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="mmconform-diff-faults-") as tmp:
        for fault in faults:
            counts[level_of_in(fault, args, Path(tmp))[0]] += 1
    total = len(faults)
    print(
        f"\n{total} faults: {counts['shape']} caught at the shape level, {counts['values']} only "
        f"with --values, {counts['not caught']} not caught; {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
