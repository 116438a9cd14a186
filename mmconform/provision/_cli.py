"""``mmconform provision`` (``python -m mmconform.provision``): the command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mmconform._wire import Secret, TargetFileError, normalise_url, read_target_file
from mmconform.provision._api import Connection
from mmconform.provision._credentials import AdminCredential
from mmconform.provision._errors import EXIT_CODES, EXIT_OK, EXIT_USAGE, ProvisionError
from mmconform.provision._plan import DEFAULT_PREFIX, ROLE_NAMES, Options, provision, teardown

__all__ = ["ENV_ADMIN_PASSWORD", "ENV_ADMIN_TOKEN", "build_parser", "main"]

#: The admin token, so that it need not be on a command line.
ENV_ADMIN_TOKEN = "MMCONFORM_ADMIN_TOKEN"
#: The password of --login (otherwise it is asked for on the terminal).
ENV_ADMIN_PASSWORD = "MMCONFORM_ADMIN_PASSWORD"
_PROG = "mmconform provision"


def build_parser(prog: str = _PROG) -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    names = "\n".join(f"  {role:<23} {DEFAULT_PREFIX}{name}" for role, name in ROLE_NAMES.items())
    parser = argparse.ArgumentParser(
        prog=prog,
        description=textwrap.fill(
            "Create one user per Mattermost role on a server, assign the roles through the REST "
            "API and write a target file with a token per role (mode 0600) for "
            "`pytest --target-file FILE`. Roles the server's license cannot allow are recorded "
            "as unavailable, with its answer. Re-running reuses the users the file records; "
            "--teardown deactivates them. Server configuration is never changed, and no token "
            "is ever printed.",
            width=78,
        ),
        epilog=f"users it creates (with the default --prefix):\n{names}\n\nexit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--target-url",
        metavar="URL",
        help="the server's base URL, e.g. http://localhost:8065 (with --teardown: default the "
        "target file's)",
    )
    parser.add_argument(
        "--target-file",
        "--write-target",
        dest="target_file",
        metavar="FILE",
        type=Path,
        required=True,
        help="the target file to write (and, when an earlier run wrote it, to reuse)",
    )
    admin = parser.add_argument_group(
        "admin credential (exactly one; default: the token in $" + ENV_ADMIN_TOKEN + ")"
    )
    admin.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help=f"a system admin's session or personal access token (better: ${ENV_ADMIN_TOKEN})",
    )
    admin.add_argument(
        "--login",
        metavar="USER",
        help=f"a system admin's user name or email; the password from ${ENV_ADMIN_PASSWORD}, "
        "else asked for",
    )
    admin.add_argument(
        "--first-admin",
        metavar="USER",
        help="like --login, but on a server with no user yet it first creates USER, whom "
        "Mattermost makes its system admin (the password from $" + ENV_ADMIN_PASSWORD + ")",
    )
    admin.add_argument(
        "--local-socket",
        metavar="PATH",
        help="the server's local-mode socket (ServiceSettings.EnableLocalMode); also written "
        "to the target file for the local-mode checks",
    )
    parser.add_argument(
        "--personal-access-tokens",
        action="store_true",
        help="give each user a personal access token instead of a login session, where the "
        "server allows them (ServiceSettings.EnableUserAccessTokens); otherwise sessions",
    )
    parser.add_argument(
        "--license-file",
        metavar="FILE",
        type=Path,
        help="a license file the server accepts: recorded in the target file (feature "
        "`license`) so that the license lifecycle tests can remove and reinstall it",
    )
    parser.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        help="start of every user name it creates (default: %(default)s)",
    )
    parser.add_argument(
        "--email-domain",
        default="example.com",
        help="domain of the users' email addresses (default: %(default)s)",
    )
    parser.add_argument(
        "--teardown",
        action="store_true",
        help="revoke the tokens and deactivate the users the target file records",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="a server just started: poll GET /api/v4/system/ping for up to SECONDS until it "
        "answers (default: %(default)s, no wait)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="timeout of every request (default: %(default)s)",
    )
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--ca-bundle", metavar="FILE", help="CA certificates to trust for https")
    tls.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    return parser


def _credential(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    ask: Callable[[str], str],
    parser: argparse.ArgumentParser,
) -> AdminCredential:
    names = ("admin_token", "login", "first_admin", "local_socket")
    if sum(1 for name in names if getattr(args, name)) > 1:
        parser.error(
            "give one admin credential: --admin-token, --login, --first-admin or --local-socket"
        )
    if args.local_socket:
        return AdminCredential(socket=args.local_socket)
    login = args.login or args.first_admin
    if login:
        password = environ.get(ENV_ADMIN_PASSWORD) or ask(f"password of {login}: ")
        if not password:
            option = "--login" if args.login else "--first-admin"
            parser.error(f"{option} {login} needs a password (${ENV_ADMIN_PASSWORD})")
        return AdminCredential(
            login=login,
            password=Secret(password, "admin password"),
            first_admin=bool(args.first_admin),
            email=f"{login}@{args.email_domain}",
        )
    token = args.admin_token or environ.get(ENV_ADMIN_TOKEN)
    if not token:
        parser.error(
            f"no admin credential: give --admin-token (or ${ENV_ADMIN_TOKEN}), --login USER, "
            "--first-admin USER or --local-socket PATH"
        )
    return AdminCredential(token=Secret(token, "admin token"))


def _url(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    raw = args.target_url
    if raw is None and args.teardown and args.target_file.exists():
        try:
            raw = read_target_file(args.target_file).url
        except TargetFileError as exc:
            parser.error(str(exc))
    if raw is None:
        parser.error("--target-url URL is needed")
    try:
        return normalise_url(raw, origin="--target-url")
    except TargetFileError as exc:
        parser.error(str(exc))


def _ask_password(prompt: str) -> str:
    if not sys.stdin.isatty():
        return ""
    return getpass.getpass(prompt)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    ask: Callable[[str], str] = _ask_password,
    prog: str = _PROG,
) -> int:
    """Run the command; its exit code (argparse's usage errors exit 2 by themselves)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    url = _url(args, parser)
    credential = _credential(args, env, ask, parser)
    if args.license_file is not None and not args.license_file.is_file():
        parser.error(f"--license-file {args.license_file}: no such file")
    verify: bool | str = False if args.insecure else (args.ca_bundle or True)
    options = Options(
        connection=Connection(url=url, timeout=args.request_timeout, verify=verify),
        credential=credential,
        target_file=args.target_file,
        prefix=args.prefix,
        email_domain=args.email_domain,
        personal_access_tokens=args.personal_access_tokens,
        license_file=args.license_file,
        wait=max(args.wait, 0.0),
    )
    try:
        (teardown if args.teardown else provision)(options, print)
    except ProvisionError as exc:
        print(f"{prog}: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except ValueError as exc:  # a prefix servers would refuse
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
