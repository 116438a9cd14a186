"""The exit codes of ``mmconform diff``, and the error that carries one.

0 and 2 mean what they mean everywhere (done, bad arguments); 10 and 11 mean what they mean in a
conformance run (a side does not answer, a side is described wrongly); 20 and 21 are the
comparison's own, outside pytest's 0-5 and mmconform's 10-14.
"""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_RECORDING_REFUSED",
    "EXIT_SIDE_MISCONFIGURED",
    "EXIT_SIDE_UNREACHABLE",
    "EXIT_UNEXPLAINED",
    "EXIT_USAGE",
    "DiffProblem",
]

#: Every difference found is explained by the contract (or there is none).
EXIT_OK = 0
#: Bad arguments, or a reports folder or recording file that would overwrite another run's.
EXIT_USAGE = 2
#: A side does not answer: unreachable at the start, stopped answering, or too slow for the
#: run's budget.
EXIT_SIDE_UNREACHABLE = 10
#: A side is described wrongly: a bad target file, a token the server refuses, a URL that is
#: not a Mattermost API.
EXIT_SIDE_MISCONFIGURED = 11
#: At least one difference the contract does not explain.
EXIT_UNEXPLAINED = 20
#: The recording given with --against cannot be used: another format version, another
#: contract, or not a recording at all.
EXIT_RECORDING_REFUSED = 21


class DiffProblem(Exception):
    """The comparison cannot go on; ``returncode`` says why."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
