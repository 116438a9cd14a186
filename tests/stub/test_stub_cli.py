"""The standalone CLI: start, target file, SIGTERM, --help, bad arguments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from mmconform.stub.__main__ import build_parser
from mmconform.stub.faults import Fault
from mmconform.stub.variants import Variant

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mmconform.stub", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 10.0) -> float:
    start = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() - start < timeout, "target file never written"
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_start_target_and_signal(tmp_path: Path, sig: signal.Signals) -> None:
    target = tmp_path / "target.toml"
    config = tmp_path / "config.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmconform.stub",
            "--port",
            "0",
            "--write-target",
            str(target),
            "--config-file",
            str(config),
            "--server-version",
            "10.11.0",
            "--fault",
            "BUSY_MISSING_EXPIRES",
            "--variant",
            "strict-audits-paging",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        elapsed = _wait_for(target, proc)
        assert elapsed < 5.0  # "ready in under a second", measured loosely
        doc = tomllib.loads(target.read_text())
        url = doc["target"]["url"]
        assert doc["target"]["server_version"] == "10.11.0"
        assert doc["target"]["features"] == ["license", "local_mode"]
        assert set(doc["tokens"]) == {
            "system_admin",
            "system_manager",
            "system_user_manager",
            "system_read_only_admin",
            "system_user",
        }
        socket_path = Path(doc["target"]["local_socket"])
        assert socket_path.exists()
        headers = {"Authorization": f"Bearer {doc['tokens']['system_admin']}"}
        ping = httpx.get(f"{url}/api/v4/system/ping", trust_env=False)
        assert ping.status_code == 200
        assert ping.headers["X-Version-Id"].startswith("10.11.0.")
        busy = httpx.get(f"{url}/api/v4/server_busy", headers=headers, trust_env=False)
        assert "expires" not in busy.json()
        paging = httpx.get(f"{url}/api/v4/audits?page=x", headers=headers, trust_env=False)
        assert paging.status_code == 400
        assert config.exists()
        with httpx.Client(
            transport=httpx.HTTPTransport(uds=str(socket_path)), trust_env=False
        ) as local:
            assert local.post("http://localhost/api/v4/integrity").status_code == 200
        started = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5.0
        assert not socket_path.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_no_local_mode(tmp_path: Path) -> None:
    target = tmp_path / "t.toml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmconform.stub",
            "--port",
            "0",
            "--write-target",
            str(target),
            "--no-local-mode",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(target, proc)
        doc = tomllib.loads(target.read_text())
        assert "local_socket" not in doc["target"]
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_help_documents_every_option() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for option in (
        "--host",
        "--port",
        "--write-target",
        "--server-version",
        "--config-file",
        "--local-socket",
        "--no-local-mode",
        "--fault",
        "--variant",
        "--developer-mode",
        "--log-level",
        "--team-edition",
        "--license-file",
    ):
        assert option in result.stdout
    for fault in Fault:
        assert fault.name in result.stdout
    for variant in Variant:
        assert variant.value in result.stdout
    for action in build_parser()._actions:
        assert action.help, action.dest


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "99999"],
        ["--port", "abc"],
        ["--server-version", "eleven"],
        ["--fault", "NOT_A_FAULT"],
        ["--variant", "lenient-everything"],
        ["--log-level", "loud"],
        ["--no-local-mode", "--local-socket", "/tmp/x.sock"],
        ["--unknown-option"],
        ["--license-file", "/nonexistent/license"],
    ],
)
def test_cli_bad_arguments_exit_2(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert "error:" in result.stderr


def test_cli_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        env = {**os.environ}
        result = subprocess.run(
            [sys.executable, "-m", "mmconform.stub", "--port", str(port), "--no-local-mode"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=env,
        )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr
