"""``python -m mmconform.proxy --target-file IN --write-target OUT --mutation NAME ...``"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from mmconform._wire import TargetFileError, read_target_file
from mmconform.proxy._catalogue import MUTATIONS, parse_mutation
from mmconform.proxy._server import start_proxy


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.proxy",
        description=(
            "A reverse proxy in front of a Mattermost server (or the stub) that applies named "
            "mutations to its answers: faults a correct conformance suite must catch, and "
            "benign variations it must accept."
        ),
    )
    parser.add_argument("--target-file", type=Path, help="target file of the server behind")
    parser.add_argument(
        "--write-target", type=Path, help="where to write the target file that points here"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument(
        "--mutation",
        action="append",
        default=[],
        metavar="NAME",
        help="a catalogue name, or grant:OPERATION:CALLER / deny:OPERATION:CALLER (repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    return parser


def _catalogue() -> str:
    rows = [("name", "kind", "area", "description")]
    rows += [(m.name, m.kind, m.area, m.description) for m in MUTATIONS.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}"
        for row in rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        print(_catalogue())
        return 0
    if args.target_file is None:
        parser.error("--target-file is required (or --list)")
    if args.write_target is None:
        parser.error("--write-target is required: the suites reach the proxy through it")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port number")
    for name in args.mutation:
        try:
            parse_mutation(name)
        except ValueError as exc:
            parser.error(str(exc))
    try:
        read_target_file(args.target_file)
    except TargetFileError as exc:
        parser.error(str(exc))
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        proxy = start_proxy(
            args.target_file,
            args.mutation,
            host=args.host,
            port=args.port,
            write_target=args.write_target,
        )
    except OSError as exc:
        print(f"mmconform proxy: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with proxy:
        shown = ", ".join(m.name for m in proxy.mutations) or "none (transparent)"
        print(proxy.url, flush=True)
        print(
            f"mmconform proxy: {proxy.upstream.url} behind {proxy.url}; mutations: {shown}; "
            f"target file {proxy.target_file}",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
