"""Preflight: unreachable targets, tokens that are not what they claim, versions."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mmconform._version import Version
from mmconform.contract import load_contract
from mmconform.harness import (
    EXIT_TARGET_MISCONFIGURED,
    EXIT_TARGET_UNREACHABLE,
    Secret,
    Target,
    Transport,
)
from mmconform.harness._exitcodes import TargetProblem
from mmconform.harness._preflight import (
    check_reachable,
    determine_version,
    role_probes,
    verify_tokens,
)

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = load_contract()

# What each fake user may do: path -> roles that get 200 (others 403).
GRANTS = {
    "/api/v4/server_busy": {"admin"},
    "/api/v4/config": {"admin", "manager", "usermanager", "readonly"},
    "/api/v4/audits": {"admin", "readonly"},
    "/api/v4/logs": {"admin", "manager", "readonly"},
    "/api/v4/system/timezones": {"admin", "manager", "usermanager", "readonly", "user"},
}


def fake_server(request: httpx.Request) -> httpx.Response:
    auth = request.headers.get("Authorization", "")
    who = auth.removeprefix("Bearer ") if auth else None
    if request.url.path == "/api/v4/system/ping":
        return httpx.Response(
            200, json={"status": "OK"}, headers={"X-Version-Id": "10.11.2.1.x.true"}
        )
    if who is None or who == "expired":
        return httpx.Response(401, json={"id": "api.context.session_expired.app_error"})
    allowed = GRANTS.get(request.url.path, set())
    return httpx.Response(200 if who in allowed else 403, json={})


def factory() -> Callable[[Target, str, Transport], httpx.Client]:
    def make(target: Target, role: str, transport: Transport) -> httpx.Client:
        token = target.token(role) if role in target.tokens else None
        return httpx.Client(
            base_url=target.api_url,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            transport=httpx.MockTransport(fake_server),
        )

    return make


def target(**tokens: str) -> Target:
    return Target(url="http://fake", tokens={role: Secret(t, role) for role, t in tokens.items()})


def test_tokens_matching_their_roles_pass() -> None:
    t = target(
        system_admin="admin",
        system_manager="manager",
        system_user_manager="usermanager",
        system_read_only_admin="readonly",
        system_user="user",
    )
    verify_tokens(t, Transport(), CONTRACT, client_factory=factory())


def test_admin_token_without_manage_system_is_a_configuration_error() -> None:
    with pytest.raises(TargetProblem) as info:
        verify_tokens(
            target(system_admin="manager"), Transport(), CONTRACT, client_factory=factory()
        )
    assert info.value.returncode == EXIT_TARGET_MISCONFIGURED
    assert "system_admin" in info.value.message
    assert "lacks manage_system" in info.value.message


def test_admin_token_given_as_a_user_is_a_configuration_error() -> None:
    with pytest.raises(TargetProblem, match=r"system_user .* has manage_system"):
        verify_tokens(target(system_user="admin"), Transport(), CONTRACT, client_factory=factory())


def test_invalid_token_is_a_configuration_error() -> None:
    with pytest.raises(TargetProblem, match="not accepted: 401") as info:
        verify_tokens(
            target(system_admin="expired"), Transport(), CONTRACT, client_factory=factory()
        )
    assert info.value.returncode == EXIT_TARGET_MISCONFIGURED


def test_manager_and_read_only_admin_are_told_apart() -> None:
    with pytest.raises(TargetProblem, match=r"system_manager .* has read_audits"):
        verify_tokens(
            target(system_manager="readonly"), Transport(), CONTRACT, client_factory=factory()
        )


def test_probes_expect_what_the_contract_grants_each_role() -> None:
    expected = {
        # role: (manage_system, sysconsole_read_*, read_audits, get_logs) per the reference
        "system_admin": (True, True, True, True),
        "system_manager": (False, True, False, True),
        "system_user_manager": (False, True, False, False),
        "system_read_only_admin": (False, True, True, True),
        "system_user": (False, False, False, False),
    }
    for role, grants in expected.items():
        probes = role_probes(CONTRACT, role)
        assert [probe.path for probe in probes] == ["/server_busy", "/config", "/audits", "/logs"]
        assert tuple(probe.granted for probe in probes) == grants, role


def test_version_from_header_or_explicit() -> None:
    ping = httpx.Response(200, headers={"X-Version-Id": "10.11.2.123.abc.false"})
    header = Version(10, 11, 2)
    assert determine_version(target(), ping) == (header, "X-Version-Id header", header)
    explicit = Target(url="http://fake", server_version="11.1", sources={"server_version": "f"})
    assert determine_version(explicit, ping) == (Version(11, 1, 0), "f", header)
    assert determine_version(target(), httpx.Response(200))[0] is None
    with pytest.raises(TargetProblem, match="not a version"):
        determine_version(Target(url="http://fake", server_version="latest"), ping)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_is_reported_as_unreachable() -> None:
    t = Target(url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TargetProblem, match="unreachable") as info:
        check_reachable(t, Transport(timeout=2))
    assert info.value.returncode == EXIT_TARGET_UNREACHABLE


def test_suite_run_against_a_refusing_target_ends_fast_with_the_preflight_message() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites/contract",
            "-p",
            "no:cacheprovider",
            "--no-reports",
            "--target-url",
            f"http://127.0.0.1:{free_port()}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    elapsed = time.monotonic() - started
    assert result.returncode == EXIT_TARGET_UNREACHABLE, result.stdout + result.stderr
    assert elapsed < 10, f"took {elapsed:.1f}s"
    output = result.stdout + result.stderr
    assert "mmconform: target http://127.0.0.1:" in output
    assert "is unreachable" in output
    assert output.count("unreachable") <= 2  # one message, not one per test
