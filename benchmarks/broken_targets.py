"""How a run ends against each misbehaving target: exit code, wall time and the number of lines it
prints, one row per case (the cases of tests/plugin/test_plugin_broken_targets.py: the stub
behind a hostile proxy).

    .venv/bin/python benchmarks/broken_targets.py [CASE ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmconform.stub import StubOptions, start_stub  # noqa: E402
from tests.plugin.test_plugin_broken_targets import CASES, TOKENS, run_against  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"cases to run (default all: {', '.join(CASES)})")
    args = parser.parse_args()
    names = args.cases or list(CASES)
    print(f"{'case':<28} {'exit':>4} {'wall s':>7} {'lines':>6}  message seen")
    with start_stub(StubOptions(tokens=TOKENS)) as stub:
        for name in names:
            case = CASES[name]
            with tempfile.TemporaryDirectory() as folder:
                outcome = run_against(stub, case, Path(folder))
            lines = len(outcome.output.splitlines())
            seen = "yes" if case.message in outcome.output else "NO"
            leaked = any(token in outcome.output + outcome.written for token in TOKENS.values())
            print(
                f"{name:<28} {outcome.returncode:>4} {outcome.seconds:>7.1f} {lines:>6}  {seen}"
                + ("  TOKEN LEAKED" if leaked else "")
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
