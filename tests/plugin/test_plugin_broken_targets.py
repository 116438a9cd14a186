"""The suite against targets that misbehave as real ones do: each run ends in bounded time, with
one clear message and its documented exit code, no INTERNALERROR, and no token in anything it
writes (terminal, JUnit XML, Allure results).

Each target is the stub behind a hostile proxy (``_hostile.py``); the tokens are known values,
so that every file the run writes can be searched for them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w

from mmconform.harness import EXIT_TARGET_MISCONFIGURED, EXIT_TARGET_UNREACHABLE
from mmconform.stub import RunningStub, StubOptions, start_stub
from tests._pytest_run import run_pytest
from tests.plugin._hostile import Hostility, hostile_proxy

ROOT = Path(__file__).resolve().parents[2]
ROLES = (
    "system_admin",
    "system_manager",
    "system_user_manager",
    "system_read_only_admin",
    "system_user",
)
TOKENS = {role: f"known-secret-{role.replace('_', '-')}-4f7c9a" for role in ROLES}
#: Requests the preflight sends to a stub with every role (ping, 5 per role, client config and
#: client license, config snapshot).
PREFLIGHT_REQUESTS = 29


@dataclass(frozen=True)
class Case:
    hostility: Hostility
    returncode: int
    message: str
    #: seconds the whole run may take: generous (the machines are shared), yet far from the
    #: hours an unbounded run would take
    bound: float
    args: tuple[str, ...] = ()
    #: tokens in the target file (default: the right ones)
    tokens: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class Outcome:
    returncode: int
    seconds: float
    output: str
    written: str


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningStub]:
    with start_stub(StubOptions(tokens=TOKENS)) as running:
        yield running


def run_against(stub: RunningStub, case: Case, folder: Path) -> Outcome:
    with hostile_proxy(stub.url, case.hostility, folder) as proxy:
        tokens = dict(case.tokens) if case.tokens is not None else TOKENS
        document = {"target": {"url": proxy.url}, "tokens": tokens}
        target_file = folder / "target.toml"
        target_file.write_text(tomli_w.dumps(document), encoding="utf-8")
        args = [arg.replace("{certificate}", str(proxy.certificate)) for arg in case.args]
        reports = folder / "reports"
        started = time.monotonic()
        result = run_pytest(
            ROOT,
            f"--target-file={target_file}",
            f"--reports-dir={reports}",
            "--request-timeout=2",
            *args,
            timeout=case.bound + 60,
        )
        seconds = time.monotonic() - started
    written = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(reports.rglob("*"))
        if path.is_file()
    )
    return Outcome(result.returncode, seconds, result.stdout + result.stderr, written)


#: A run that sends far more than 40 requests (the config's tests) without collecting the whole
#: gate: enough for a target to break down after the preflight.
AFTER_PREFLIGHT = ("--operation=GetConfig",)

CASES = {
    "hangs-at-once": Case(
        Hostility("hang", after=0), EXIT_TARGET_UNREACHABLE, "is unreachable: no answer in time", 60
    ),
    "hangs-during-preflight": Case(
        Hostility("hang", after=8),
        EXIT_TARGET_UNREACHABLE,
        "stopped answering during preflight",
        60,
    ),
    "hangs-after-preflight": Case(
        Hostility("hang", after=PREFLIGHT_REQUESTS + 40),
        EXIT_TARGET_UNREACHABLE,
        "the target stopped answering after",
        120,
        AFTER_PREFLIGHT,
    ),
    "slow": Case(
        Hostility("slow", after=0, delay=0.25),
        EXIT_TARGET_UNREACHABLE,
        "time budget of 8 s is used up",
        120,
        ("--mm-budget=8", *AFTER_PREFLIGHT),
    ),
    "truncates": Case(
        Hostility("truncate", after=0), EXIT_TARGET_UNREACHABLE, "the answer broke off", 60
    ),
    "truncates-after-preflight": Case(
        Hostility("truncate", after=PREFLIGHT_REQUESTS + 40),
        EXIT_TARGET_UNREACHABLE,
        "the target stopped answering after",
        120,
        AFTER_PREFLIGHT,
    ),
    "resets-mid-run": Case(
        Hostility("reset", after=PREFLIGHT_REQUESTS + 40),
        EXIT_TARGET_UNREACHABLE,
        "the target stopped answering after",
        120,
        AFTER_PREFLIGHT,
    ),
    "redirects": Case(
        Hostility("redirect", after=0),
        EXIT_TARGET_MISCONFIGURED,
        "a redirect to http://127.0.0.1:9/elsewhere",
        60,
    ),
    "loops-on-redirects": Case(
        Hostility("redirect_loop", after=0),
        EXIT_TARGET_MISCONFIGURED,
        "The suite does not follow redirects",
        60,
    ),
    "html-with-200": Case(
        Hostility("html", after=0),
        EXIT_TARGET_MISCONFIGURED,
        "does not look like a Mattermost server",
        60,
    ),
    "503-on-half-the-requests": Case(
        Hostility("flaky503", after=0), EXIT_TARGET_UNREACHABLE, "it is not ready to be tested", 60
    ),
    "self-signed-tls": Case(
        Hostility("pass", tls=True),
        EXIT_TARGET_MISCONFIGURED,
        "--ca-bundle FILE, or turn verification off with --insecure",
        60,
    ),
    "wrong-token": Case(
        Hostility("pass"),
        EXIT_TARGET_MISCONFIGURED,
        "token for system_admin (file",
        60,
        tokens=(("system_admin", "known-secret-but-wrong-5d1e0b"),),
    ),
    "user-token-given-as-admin": Case(
        Hostility("pass"),
        EXIT_TARGET_MISCONFIGURED,
        "lacks manage_system",
        60,
        tokens=(("system_admin", TOKENS["system_user"]),),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_broken_target_ends_the_run_clearly(name: str, stub: RunningStub, tmp_path: Path) -> None:
    case = CASES[name]
    outcome = run_against(stub, case, tmp_path)
    assert outcome.returncode == case.returncode, outcome.output[-4000:]
    assert case.message in outcome.output, outcome.output[-4000:]
    assert outcome.seconds < case.bound, f"took {outcome.seconds:.1f} s"
    assert "INTERNALERROR" not in outcome.output
    assert "Traceback" not in outcome.output, outcome.output[-4000:]
    everything = outcome.output + outcome.written
    for secret in [*TOKENS.values(), *(token for _, token in case.tokens or ())]:
        assert secret not in everything


def test_with_insecure_a_self_signed_target_is_tested_and_warned_about_once(
    stub: RunningStub, tmp_path: Path
) -> None:
    case = Case(Hostility("pass", tls=True), 0, "", 60, ("--insecure", "--operation=GetPing"))
    outcome = run_against(stub, case, tmp_path)
    assert outcome.returncode == 0, outcome.output[-4000:]
    assert outcome.output.count("TLS certificate is not verified (--insecure)") == 1
    assert "InsecureRequestWarning" not in outcome.output


def test_with_its_ca_bundle_a_self_signed_target_is_tested(
    stub: RunningStub, tmp_path: Path
) -> None:
    case = Case(
        Hostility("pass", tls=True), 0, "", 60, ("--ca-bundle={certificate}", "--operation=GetPing")
    )
    outcome = run_against(stub, case, tmp_path)
    assert outcome.returncode == 0, outcome.output[-4000:]


def test_a_route_that_resets_fails_its_test_in_the_suites_own_words(
    stub: RunningStub, tmp_path: Path
) -> None:
    # The target is alive; one route drops its connections. That is a defect of the route,
    # reported as a failure (operation, role, what happened, a curl line, the seed), and the
    # run goes on.
    case = Case(
        Hostility("reset_path", path="/api/v4/analytics/old"),
        1,
        "",
        90,
        ("--operation=GetAnalyticsOld", "--operation=GetPing"),
    )
    outcome = run_against(stub, case, tmp_path)
    assert outcome.returncode == 1, outcome.output[-4000:]
    assert "operation GetAnalyticsOld (GET /api/v4/analytics/old)" in outcome.output
    assert "the request got no answer" in outcome.output
    assert "Bearer <redacted:system_admin>" in outcome.output
    assert "--mm-seed" in outcome.output
    assert "PASSED" not in outcome.output or "GetPing" in outcome.output
    everything = outcome.output + outcome.written
    for secret in TOKENS.values():
        assert secret not in everything


@pytest.mark.parametrize("mode", ["redirect", "redirect_loop"])
def test_redirects_after_the_preflight_are_reported_with_their_location_not_followed(
    mode: str, stub: RunningStub, tmp_path: Path
) -> None:
    hostility = Hostility(mode, after=PREFLIGHT_REQUESTS + 1)
    args = ("suites/contract/test_contract.py", "--operation=GetPing")
    case = Case(hostility, EXIT_TARGET_UNREACHABLE, "", 90, args)
    outcome = run_against(stub, case, tmp_path)
    assert "FAILED suites/contract/test_contract.py::test_operation[GET /api/v4/system/ping]" in (
        outcome.output
    )
    assert "redirect to http://127.0.0.1:" in outcome.output
    assert "(not followed)" in outcome.output
    assert "INTERNALERROR" not in outcome.output
    # The session-end check cannot read the config through the redirects either: the run says
    # so, and ends as "target not answering", not as "state changed".
    assert "server state not checked" in outcome.output
    assert outcome.returncode == EXIT_TARGET_UNREACHABLE, outcome.output[-4000:]
    assert outcome.seconds < 90
