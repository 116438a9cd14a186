"""``python -m mmconform.contract requirements``: print docs/requirements.md, generated from
``spec/requirements.yaml``."""

from __future__ import annotations

import argparse
import sys

from mmconform.contract import load_contract, render_requirements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.contract", description="Pages generated from spec/."
    )
    parser.add_argument("page", choices=["requirements"], help="the page to print")
    parser.parse_args(argv)
    sys.stdout.write(render_requirements(load_contract().requirements))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
