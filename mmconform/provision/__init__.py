"""``mmconform provision``: one command gives a real server the users, roles and tokens a
conformance run needs, and writes the target file.

>>> from mmconform.provision import main
>>> main(["--target-url", "http://localhost:8065", "--local-socket",   # doctest: +SKIP
...       "/var/tmp/mattermost_local.socket", "--target-file", "target.toml"])

It creates one user per built-in role (``mmconform-admin``, ``mmconform-manager``, ...) through
the REST API, assigns the roles (``PUT /users/{user_id}/roles``), obtains a login session (or a
personal access token) for each, and writes the target file (mode 0600). Roles the server's
license rule refuses are recorded as unavailable, with its answer. ``--teardown`` deactivates
the users and revokes their tokens. It never changes the server's configuration and never
prints a token. Modules: ``_cli`` (the command line), ``_credentials`` (the admin credential),
``_api`` (the REST calls), ``_plan`` (provisioning and teardown), ``_errors`` (exit codes).
"""

from mmconform.provision._api import Connection
from mmconform.provision._cli import ENV_ADMIN_PASSWORD, ENV_ADMIN_TOKEN, build_parser, main
from mmconform.provision._credentials import AdminCredential
from mmconform.provision._errors import (
    EXIT_ADMIN_REFUSED,
    EXIT_CODES,
    EXIT_NOT_MATTERMOST,
    EXIT_OK,
    EXIT_SERVER_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    EXIT_USERNAME_TAKEN,
    ProvisionError,
)
from mmconform.provision._plan import DEFAULT_PREFIX, ROLE_NAMES, Options, provision, teardown

__all__ = [
    "DEFAULT_PREFIX",
    "ENV_ADMIN_PASSWORD",
    "ENV_ADMIN_TOKEN",
    "EXIT_ADMIN_REFUSED",
    "EXIT_CODES",
    "EXIT_NOT_MATTERMOST",
    "EXIT_OK",
    "EXIT_SERVER_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "EXIT_USERNAME_TAKEN",
    "ROLE_NAMES",
    "AdminCredential",
    "Connection",
    "Options",
    "ProvisionError",
    "build_parser",
    "main",
    "provision",
    "teardown",
]
