"""The exit codes mmconform adds to pytest's own (0-5), and the error that carries one."""

from __future__ import annotations

__all__ = [
    "EXIT_CERTIFICATION_REFUSED",
    "EXIT_INCOMPLETE",
    "EXIT_STATE_NOT_RESTORED",
    "EXIT_TARGET_MISCONFIGURED",
    "EXIT_TARGET_UNREACHABLE",
    "TargetProblem",
]

#: The target does not answer (refused, timed out, not ready).
EXIT_TARGET_UNREACHABLE = 10
#: The target is described wrongly: bad file or environment, a token that is invalid or lacks
#: its role, or the embedded stub failed to start.
EXIT_TARGET_MISCONFIGURED = 11
#: The run left the server changed: its config differs from the start, or it is still busy.
EXIT_STATE_NOT_RESTORED = 12
#: --certify: the run is incomplete (a requirement not proved, a role missing...), so no
#: certification bundle was written.
EXIT_CERTIFICATION_REFUSED = 13
#: The verdict is INCOMPLETE (a requirement not proved, a role missing, the run stopped...) on
#: a run whose --mm-incomplete policy fails it: the whole gate by default (auto), any run with
#: fail.
EXIT_INCOMPLETE = 14


class TargetProblem(Exception):
    """The run cannot go on against this target; ``returncode`` says why."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
