"""``python -m mmconform.proxy``: the catalogue, argument errors, and a proxy that serves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from mmconform.proxy import MUTATIONS
from mmconform.stub import RunningStub

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mmconform.proxy", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_list_prints_the_catalogue() -> None:
    done = _run("--list")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["name", "kind", "area", "description"]
    rows = {line.split()[0]: line.split(None, 3) for line in lines[1:]}
    assert set(rows) == set(MUTATIONS)
    for name, (_, kind, area, description) in rows.items():
        assert (kind, area, description) == (
            MUTATIONS[name].kind,
            MUTATIONS[name].area,
            MUTATIONS[name].description,
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mutation", "NOPE"], "unknown mutation 'NOPE'"),
        (["--mutation", "deny:GetLogs:nobody"], "unknown caller"),
        (["--port", "70000"], "not a port number"),
    ],
)
def test_bad_arguments_exit_2(
    args: list[str], message: str, stub_target: Path, tmp_path: Path
) -> None:
    done = _run("--target-file", str(stub_target), "--write-target", str(tmp_path / "o"), *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_missing_files_exit_2(tmp_path: Path, stub_target: Path) -> None:
    done = _run("--write-target", str(tmp_path / "o.toml"))
    assert done.returncode == 2
    assert "--target-file is required" in done.stderr
    done = _run("--target-file", str(stub_target))
    assert done.returncode == 2
    assert "--write-target is required" in done.stderr
    done = _run("--target-file", str(tmp_path / "absent.toml"), "--write-target", "o.toml")
    assert done.returncode == 2
    assert "absent.toml: no such file" in done.stderr


def test_serves_until_sigterm(stub: RunningStub, stub_target: Path, tmp_path: Path) -> None:
    out = tmp_path / "proxy-target.toml"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmconform.proxy",
            "--target-file",
            str(stub_target),
            "--write-target",
            str(out),
            "--mutation",
            "PING_STATUS_DROPPED",
            "--mutation",
            "extra-headers",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MMCONFORM_")},
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        written = tomllib.loads(out.read_text(encoding="utf-8"))
        assert written["target"]["url"] == url
        assert written["tokens"] == tomllib.loads(stub_target.read_text())["tokens"]
        answer = httpx.get(f"{url}/api/v4/system/ping", trust_env=False, timeout=10)
        assert "status" not in answer.json()
        assert answer.headers["x-mmconform-proxy"] == "benign"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
