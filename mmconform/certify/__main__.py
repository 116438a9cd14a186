"""Check a certification bundle with this copy of the suite.

    python -m mmconform.certify verify certification-11.1.0-20261128.zip

Exit 0 when the bundle is complete, intact and consistent (and says so with its verdict);
exit 1 with the reasons when it must be rejected; exit 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from mmconform.report import verify_bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.certify", description="Check mmconform certification bundles."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check that a bundle is complete and intact")
    verify.add_argument("bundle", type=Path, help="certification-<version>-<date>.zip")
    args = parser.parse_args(argv)
    if not args.bundle.is_file():
        parser.error(f"{args.bundle}: no such file")
    problems = verify_bundle(args.bundle)
    if problems:
        print(f"{args.bundle}: REJECTED")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    with zipfile.ZipFile(args.bundle) as bundle:
        report = json.loads(bundle.read("conformance.json"))
    target = report["target"]
    server = f"Mattermost {target['server_version'] or 'unknown'}"
    edition = target["edition"] or "edition unknown"
    print(
        f"{args.bundle}: OK — {report['verdict']['status']} for {target['url']} "
        f"({server}, {edition}), mmconform {report['suite']['version']}, "
        f"profile {report['run']['profile']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
