"""``mmconform``: one command whose subcommands are mmconform's programs.

``mmconform provision ...`` runs ``python -m mmconform.provision ...``, ``mmconform stub ...``
runs ``python -m mmconform.stub ...``, and so on: each subcommand hands the rest of the command
line to that module's ``main(argv)`` and exits with what it returns. ``COMMANDS`` is the one
table of them; a new program is one line there. The suites themselves run with ``pytest``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Final, Protocol

from mmconform import __version__

__all__ = ["COMMANDS", "main"]

#: subcommand -> (the module whose ``main(argv)`` runs it, what it does)
COMMANDS: Final[Mapping[str, tuple[str, str]]] = {
    "provision": (
        "mmconform.provision.__main__",
        "create one user per role on a server, with its role and token, and write the target file",
    ),
    "stub": ("mmconform.stub.__main__", "run the stub server and write its target file"),
    "proxy": ("mmconform.proxy.__main__", "put the fault proxy in front of a target"),
    "selftest": ("mmconform.selftest.__main__", "measure the suites' power (mutation score)"),
    "certify": ("mmconform.certify.__main__", "verify a certification bundle"),
    "diff": (
        "mmconform.diff.__main__",
        "compare two servers (or a server and a recording) response by response",
    ),
    "report": ("mmconform.report.__main__", "list the runs in a reports folder, or prune old ones"),
    "contract": ("mmconform.contract.__main__", "print pages generated from spec/"),
}

_USAGE = "usage: mmconform [--help] [--version] COMMAND [ARGS...]"


class _Program(Protocol):
    def main(self, argv: Sequence[str] | None = ...) -> int: ...


def _help() -> str:
    width = max(len(name) for name in COMMANDS)
    rows = "\n".join(f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items())
    return (
        f"{_USAGE}\n\nmmconform {__version__}: conformance of Mattermost's REST API v4 system "
        f"endpoints.\n\ncommands:\n{rows}\n\n"
        "`mmconform COMMAND --help` describes a command. The suites run with "
        "`pytest --target-file FILE`."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mmconform COMMAND ARGS...``; the command's exit code (2 for a bad command)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_help())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"mmconform {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(
            f"{_USAGE}\nmmconform: error: unknown command {name!r} "
            f"(commands: {', '.join(COMMANDS)})",
            file=sys.stderr,
        )
        return 2
    program: _Program = importlib.import_module(COMMANDS[name][0])
    return int(program.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
