"""What can stop provisioning, each with its exit code (documented in the README and in
``mmconform provision --help``)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXIT_ADMIN_REFUSED",
    "EXIT_CODES",
    "EXIT_NOT_MATTERMOST",
    "EXIT_OK",
    "EXIT_SERVER_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "EXIT_USERNAME_TAKEN",
    "ProvisionError",
]

EXIT_OK: Final = 0
#: the server refused a step provisioning cannot go on from (the message names step and answer)
EXIT_SERVER_REFUSED: Final = 1
#: bad options, or a target file that provisioning did not write for this server
EXIT_USAGE: Final = 2
#: the server does not answer
EXIT_UNREACHABLE: Final = 3
#: the URL answers, but not as a Mattermost server does
EXIT_NOT_MATTERMOST: Final = 4
#: the admin credential is refused, or is not a system admin's
EXIT_ADMIN_REFUSED: Final = 5
#: a user name provisioning would use belongs to a user it did not create
EXIT_USERNAME_TAKEN: Final = 6

#: code -> what it means (for --help and the README)
EXIT_CODES: Final = {
    EXIT_OK: "the users exist, hold their roles (or are recorded unavailable) and the target "
    "file is written",
    EXIT_SERVER_REFUSED: "the server refused a step (the message names it and its answer)",
    EXIT_USAGE: "bad options, or a target file this command did not write for this server",
    EXIT_UNREACHABLE: "the server does not answer",
    EXIT_NOT_MATTERMOST: "the URL does not answer as a Mattermost server",
    EXIT_ADMIN_REFUSED: "the admin credential is refused or is not a system admin's",
    EXIT_USERNAME_TAKEN: "a user name it would use belongs to a user it did not create",
}


class ProvisionError(Exception):
    """Provisioning stops: one message, one exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
