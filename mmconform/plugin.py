"""The mmconform pytest plugin: point pytest at a Mattermost server and learn whether it honours
the system API contract.

This module is pytest's face of the plugin: the options (one group, ``mmconform``), the
markers, and the configuration step that checks the options and registers the run's
:class:`~mmconform.harness.ConformanceSession`, whose methods are the hooks of a conformance
run. Installed through an entry point, the plugin is loaded by every pytest run on the machine;
outside a conformance run (no test of a conformance suites directory is collected) it changes
nothing.

Exit codes besides pytest's own (0-5): 10 target unreachable, 11 target misconfigured (bad
target file, invalid token, token of the wrong role, embedded stub failed), 12 the suite left the
server's state changed (config differs from the start snapshot, or the server is still busy),
13 ``--certify`` refused an incomplete run, 14 the verdict is INCOMPLETE (on the whole gate by
default; see ``--mm-incomplete``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmconform.harness import _profiles
from mmconform.harness._clients import DEFAULT_TIMEOUT, Transport
from mmconform.harness._completeness import INCOMPLETE_POLICIES
from mmconform.harness._health import DEFAULT_BUDGET, DEFAULT_THRESHOLD
from mmconform.harness._outcomes import OutcomeWriter
from mmconform.harness._pytest_compat import repair_rootdir
from mmconform.harness._report_folder import ReportFolder
from mmconform.harness._reporting import ReportWriter
from mmconform.harness._run import RunOptions, conformance_requested
from mmconform.harness._selection import MARKERS
from mmconform.harness._session import SESSION_KEY, ConformanceSession
from mmconform.harness._xdist import SEED, XdistRelay, from_controller, spreads

__all__ = ["PLUGIN_NAME"]

#: The name the run's ConformanceSession is registered under.
PLUGIN_NAME = "mmconform-session"


def _taken(parser: pytest.Parser, name: str) -> bool:
    """Whether another plugin already registered the option ``name``."""
    groups = [getattr(parser, "_anonymous", None), *getattr(parser, "_groups", ())]
    return any(
        name in option.names()
        for group in groups
        if group is not None
        for option in getattr(group, "options", ())
    )


def _option(
    parser: pytest.Parser,
    group: pytest.OptionGroup,
    name: str,
    plain: str | None,
    **settings: Any,
) -> None:
    """Add the option ``--mm-...`` and, where no other plugin holds it, its plain spelling
    (``--target-url`` beside ``--mm-target-url``): the plugin loads into every pytest run on
    the machine, so it claims generic names only when they are free."""
    names = [name]
    if plain is not None and not _taken(parser, plain):
        names.append(plain)
    group.addoption(*names, **settings)


@pytest.hookimpl(trylast=True)
def pytest_addoption(parser: pytest.Parser) -> None:
    # trylast: plugins loaded before this one have claimed their options when the plain
    # spellings are checked.
    group = parser.getgroup("mmconform", "mmconform: Mattermost system API conformance")
    _option(
        parser,
        group,
        "--mm-target-file",
        "--target-file",
        dest="target_file",
        metavar="FILE",
        type=Path,
        default=None,
        help="TOML target file (URL, one token per role, local socket, server version), "
        "as written by `python -m mmconform.stub --write-target FILE`.",
    )
    _option(
        parser,
        group,
        "--mm-target-url",
        "--target-url",
        dest="target_url",
        metavar="URL",
        default=None,
        help="Base URL of the server under test (overrides the file and MMCONFORM_TARGET_URL). "
        "With no target at all, the embedded stub is started.",
    )
    _option(
        parser,
        group,
        "--mm-allow-destructive",
        "--allow-destructive",
        dest="mm_allow_destructive",
        action="store_const",
        const=True,
        default=None,
        help="Also test operations annotated x-mm-destructive (restart, license removal, full "
        "config PUT...). Default: on for the embedded stub only.",
    )
    _option(
        parser,
        group,
        "--mm-no-destructive",
        "--no-destructive",
        dest="mm_allow_destructive",
        action="store_const",
        const=False,
        help="Never test destructive operations, even against the embedded stub.",
    )
    _option(
        parser,
        group,
        "--mm-request-timeout",
        "--request-timeout",
        dest="mm_request_timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"Per-request timeout in seconds (default {DEFAULT_TIMEOUT:g}).",
    )
    _option(
        parser,
        group,
        "--mm-ca-bundle",
        "--ca-bundle",
        dest="mm_ca_bundle",
        metavar="FILE",
        type=Path,
        default=None,
        help="CA bundle (PEM) to verify the target's TLS certificate.",
    )
    _option(
        parser,
        group,
        "--mm-insecure",
        "--insecure",
        dest="mm_insecure",
        action="store_true",
        default=False,
        help="Do not verify the target's TLS certificate.",
    )
    _option(
        parser,
        group,
        "--mm-profile",
        None,
        dest="mm_profile",
        metavar="NAME",
        default=None,
        choices=sorted(_profiles.PROFILES),
        help="Hypothesis profile for the suites: gate (default; deterministic), dev, deep. "
        "`--hypothesis-profile gate|dev|deep` is honoured too.",
    )
    _option(
        parser,
        group,
        "--mm-seed",
        None,
        dest="mm_seed",
        metavar="INT",
        type=int,
        default=None,
        help="Seed for generated data (replays a run; printed in the header).",
    )
    _option(
        parser,
        group,
        "--mm-operation",
        "--operation",
        dest="mm_operations",
        metavar="OPERATION_ID",
        action="append",
        default=None,
        help="Run only the conformance tests of this operationId (repeatable); the contract "
        "suite's schema is only built for these, which also makes collection faster.",
    )
    _option(
        parser,
        group,
        "--mm-reports-dir",
        "--reports-dir",
        dest="mm_reports_dir",
        metavar="DIR",
        type=Path,
        default=None,
        help="The reports folder (default: <rootdir>/reports). Each suite run writes into a "
        "directory of its own, DIR/runs/<UTC time>-<id>/ (junit.xml, allure-results/ unless "
        "--junitxml / --alluredir say otherwise, conformance.json/.html/.md, "
        "permission-matrix.json), and points DIR/latest at it when it ends. Old runs stay "
        "until `python -m mmconform.report prune --keep N` removes them.",
    )
    _option(
        parser,
        group,
        "--mm-no-reports",
        "--no-reports",
        dest="mm_no_reports",
        action="store_true",
        default=False,
        help="Write no report files unless --junitxml / --alluredir ask for them.",
    )
    _option(
        parser,
        group,
        "--mm-incomplete",
        None,
        dest="mm_incomplete",
        metavar="auto|fail|pass",
        choices=INCOMPLETE_POLICIES,
        default="auto",
        help="What an INCOMPLETE verdict does to the exit code: fail (exit 14), pass (exit 0) "
        "or auto (default): fail on the whole gate, pass on a run narrowed with -k, -m, "
        "--operation, --deselect, --ignore, --lf, node ids or paths inside the suites.",
    )
    _option(
        parser,
        group,
        "--mm-budget",
        None,
        dest="mm_budget",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_BUDGET,
        help="Most seconds the whole run may take, whatever the target does; the run stops "
        f"with exit 10 when they are used up (default {DEFAULT_BUDGET:g}; 0: no limit).",
    )
    _option(
        parser,
        group,
        "--mm-stop-after",
        None,
        dest="mm_stop_after",
        metavar="FAILURES",
        type=int,
        default=DEFAULT_THRESHOLD,
        help="After this many transport failures in a row (refused, reset, timed out), ask the "
        "target whether it is alive; if not, stop the run with exit 10 "
        f"(default {DEFAULT_THRESHOLD}).",
    )
    _option(
        parser,
        group,
        "--mm-certify",
        "--certify",
        dest="mm_certify",
        action="store_true",
        default=False,
        help="Also write a certification bundle (certification-<version>-<date>.zip) to the "
        "reports folder; needs the gate profile and a token for every role, and is refused "
        "(exit 13) when the run is incomplete. Check a bundle with "
        "`python -m mmconform.certify verify BUNDLE`.",
    )
    _option(
        parser,
        group,
        "--mm-stub-version",
        "--stub-version",
        dest="mm_stub_version",
        metavar="VERSION",
        default=None,
        help="Server version the embedded stub pretends to be (default: the stub's newest).",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    repair_rootdir(early_config, parser, args)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # tryfirst: the JUnit, Allure and Hypothesis plugins read their options in their own
    # configure, so report defaults and profiles must be in place before.
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if not config.pluginmanager.hasplugin("xdist"):
        # Conformance tests carry xdist groups; without pytest-xdist the mark must still be known.
        config.addinivalue_line("markers", "xdist_group(name): the xdist group of the test")
    options = _run_options(config)
    if conformance_requested(config):
        _profiles.register_profiles()
    folder = ReportFolder(config)
    if conformance_requested(config, only=True):
        _default_report_outputs(config, folder)
    if options.transport.insecure:
        # Said once, in the run's header; not once per request.
        config.addinivalue_line(
            "filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning"
        )
    session = ConformanceSession(config, options)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, PLUGIN_NAME)
    config.pluginmanager.register(OutcomeWriter(session), f"{PLUGIN_NAME}-outcomes")
    config.pluginmanager.register(folder, f"{PLUGIN_NAME}-report-folder")
    reports = ReportWriter(session, folder)
    config.pluginmanager.register(reports, f"{PLUGIN_NAME}-reports")
    if spreads(config):
        config.pluginmanager.register(XdistRelay(session, reports, folder), f"{PLUGIN_NAME}-xdist")


def _run_options(config: pytest.Config) -> RunOptions:
    timeout = config.getoption("mm_request_timeout")
    if timeout is None or timeout <= 0:
        raise pytest.UsageError("--request-timeout must be a positive number of seconds")
    ca_bundle = config.getoption("mm_ca_bundle")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise pytest.UsageError(f"--ca-bundle {ca_bundle}: no such file")
    try:
        profile = _profiles.select_profile(
            config.getoption("mm_profile"), _hypothesis_profile_option(config)
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    budget = config.getoption("mm_budget")
    if budget is None or budget < 0:
        raise pytest.UsageError("--mm-budget must be a number of seconds (0: no limit)")
    stop_after = config.getoption("mm_stop_after")
    if stop_after is None or stop_after < 1:
        raise pytest.UsageError("--mm-stop-after must be at least 1")
    certify = bool(config.getoption("mm_certify"))
    if certify and (profile.name != "gate" or config.getoption("mm_no_reports")):
        raise pytest.UsageError(
            "--certify needs the gate profile and the reports (no --mm-profile dev/deep, "
            "no --no-reports)"
        )
    seed = _profiles.choose_seed(profile, config.getoption("mm_seed"))
    # Every xdist worker generates the same data as the controller printed.
    seed = int(from_controller(config, SEED, seed))
    return RunOptions(
        profile=profile,
        seed=seed,
        transport=Transport(
            timeout=float(timeout),
            ca_bundle=ca_bundle,
            insecure=bool(config.getoption("mm_insecure")),
        ),
        allow_destructive=config.getoption("mm_allow_destructive"),
        stub_version=config.getoption("mm_stub_version"),
        selected_operations=tuple(config.getoption("mm_operations") or ()),
        budget=float(budget) or None,
        breaker_threshold=int(stop_after),
        certify=certify,
        incomplete=str(config.getoption("mm_incomplete")),
    )


def _hypothesis_profile_option(config: pytest.Config) -> str | None:
    try:
        value = config.getoption("hypothesis_profile")
    except ValueError:
        return None
    return str(value) if value else None


def _default_report_outputs(config: pytest.Config, folder: ReportFolder) -> None:
    """A suite run writes JUnit XML and Allure results into its own reports directory unless
    told otherwise (nothing is made for --help, --version, --collect-only and the like)."""
    if folder.base is None or not _runs_tests(config):
        return
    wants_junit = not getattr(config.option, "xmlpath", None)
    wants_allure = (
        hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir
    )
    if not (wants_junit or wants_allure):
        return
    run = folder.run_dir()
    if run is None:
        return
    if wants_junit:
        config.option.xmlpath = str(run / "junit.xml")
    if wants_allure:
        config.option.allure_report_dir = str(run / "allure-results")


def _runs_tests(config: pytest.Config) -> bool:
    """Whether this invocation runs tests (not --help, --version, --collect-only, --fixtures,
    --markers, --setup-plan)."""
    option = config.option
    return not any(
        getattr(option, name, False)
        for name in (
            "help",
            "version",
            "collectonly",
            "showfixtures",
            "show_fixtures_per_test",
            "markers",
            "setupplan",
        )
    )
