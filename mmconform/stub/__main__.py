"""``python -m mmconform.stub``: run the stub standalone and write a target file."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from mmconform._version import Version
from mmconform._wire import CellSpec
from mmconform.stub._options import DEFAULT_SERVER_VERSION, StubOptions
from mmconform.stub._server import start_stub
from mmconform.stub.cell_faults import CELL_CALLERS, parse_cell_fault
from mmconform.stub.faults import Fault, fault_table
from mmconform.stub.variants import Variant

_LOG_LEVELS = ("debug", "info", "warn", "error", "none")


def _version(text: str) -> str:
    try:
        return str(Version.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fault(text: str) -> Fault | CellSpec:
    """A named fault, or a cell fault ``grant|deny:OPERATION:CALLER``."""
    try:
        if ":" in text:
            return parse_cell_fault(text)
        return Fault.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _variant(text: str) -> Variant:
    try:
        return Variant.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    faults = "\n".join(f"  {f.name}: {f.description}" for f in Fault)
    variants = "\n".join(f"  {v.value}: {v.description}" for v in Variant)
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.stub",
        description=(
            "Run the mmconform stub: a standalone implementation of the Mattermost REST API v4 "
            "system endpoints. It prints the URL and writes a target file for "
            "`pytest --target-file`, then serves until SIGINT or SIGTERM."
        ),
        epilog="faults (for --fault):\n"
        + faults
        + "\n  grant:OPERATION:CALLER / deny:OPERATION:CALLER: one cell of the permission matrix "
        "answered wrongly\n    (e.g. grant:GetLogs:system_user; callers: "
        + ", ".join(CELL_CALLERS)
        + ")\n\nvariants (for --variant):\n"
        + variants,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8065,
        help="TCP port; 0 picks a free port (default: %(default)s)",
    )
    parser.add_argument(
        "--write-target",
        metavar="FILE",
        type=Path,
        help="write the TOML target file (URL, tokens, socket, version) here",
    )
    parser.add_argument(
        "--server-version",
        type=_version,
        default=DEFAULT_SERVER_VERSION,
        metavar="V",
        help="Mattermost version to imitate (default: %(default)s)",
    )
    parser.add_argument(
        "--config-file",
        metavar="PATH",
        type=Path,
        help="config file: read at start if present, written on every save, "
        "re-read by POST /config/reload (default: a temporary file)",
    )
    local = parser.add_mutually_exclusive_group()
    local.add_argument(
        "--local-socket",
        metavar="PATH",
        type=Path,
        help="unix socket for local mode (default: in a temporary directory)",
    )
    local.add_argument(
        "--no-local-mode", action="store_true", help="do not serve the local-mode unix socket"
    )
    parser.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="NAME",
        help="switch on a deliberate defect, or a cell fault grant|deny:OPERATION:CALLER "
        "(repeatable; see the list below)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        type=_variant,
        default=[],
        metavar="NAME",
        help="answer as a correct server stricter than upstream (repeatable; see below)",
    )
    parser.add_argument(
        "--developer-mode",
        action="store_true",
        help="start with ServiceSettings.EnableDeveloper = true",
    )
    parser.add_argument(
        "--team-edition",
        action="store_true",
        help="simulate Team Edition (no license manager, upgrade possible)",
    )
    parser.add_argument(
        "--license-file", metavar="PATH", type=Path, help="install this license file at start"
    )
    parser.add_argument(
        "--fault-table",
        action="store_true",
        help="print the fault catalogue as the Markdown table of the stub's README, and exit",
    )
    parser.add_argument(
        "--no-users",
        action="store_true",
        help="start with no user at all, like a fresh server: the first user created becomes "
        "its system admin (the target file then has no tokens: give them with mmconform "
        "provision)",
    )
    parser.add_argument(
        "--log-level",
        choices=_LOG_LEVELS,
        default="none",
        help="echo the stub's own log lines to stderr at this level (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fault_table:
        print(fault_table())
        return 0
    if args.license_file is not None and not args.license_file.is_file():
        parser.error(f"--license-file: no such file: {args.license_file}")
    options = StubOptions(
        server_version=args.server_version,
        faults=frozenset(f for f in args.fault if isinstance(f, Fault)),
        cell_faults=frozenset(f for f in args.fault if isinstance(f, CellSpec)),
        variants=frozenset(args.variant),
        config_path=args.config_file,
        local_mode=not args.no_local_mode,
        local_socket=args.local_socket,
        developer_mode=args.developer_mode,
        edition="team" if args.team_edition else "enterprise",
        license_file=args.license_file,
        built_in_users=not args.no_users,
        log_level=None if args.log_level == "none" else args.log_level,
        host=args.host,
        port=args.port,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        stub = start_stub(options)
    except OSError as exc:
        print(f"mmconform.stub: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with stub:
        if args.write_target is not None:
            stub.write_target(args.write_target)
        socket_note = f" local socket {stub.local_socket}" if stub.local_socket else ""
        print(
            f"mmconform stub {stub.server_version} listening on {stub.url}{socket_note}", flush=True
        )
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
