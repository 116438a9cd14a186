"""The suite run through the proxy, as a vendor would run it: a fault makes it fail, a benign
variant lets it pass."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from mmconform.proxy import start_proxy
from mmconform.stub import StubOptions, start_stub
from tests._pytest_run import run_pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xdist_group("proxy-end-to-end")


def _suite_through_proxy(
    tmp_path: Path, mutations: Sequence[str], operations: Sequence[str], *extra: str
) -> tuple[int, str]:
    # A stub of its own: the run changes server state (busy, config) and must not meet
    # another test's.
    with start_stub(StubOptions()) as stub:
        target = stub.write_target(tmp_path / "stub.toml")
        with start_proxy(target, mutations, write_target=tmp_path / "proxy.toml") as proxy:
            args = ["--target-file", str(proxy.target_file), "--allow-destructive"]
            for operation in operations:
                args += ["--operation", operation]
            done = run_pytest(REPO, *args, *extra, "--no-reports", "-q", timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("mutation", "operations"),
    [
        ("BUSY_EXPIRES_IN_MILLISECONDS", ["GetServerBusyExpires"]),
        ("ERROR_ID_EMPTIED", ["GetConfig"]),
        ("deny:GetAnalyticsOld:system_manager", ["GetAnalyticsOld"]),
    ],
)
def test_a_fault_makes_the_suite_fail(tmp_path: Path, mutation: str, operations: list[str]) -> None:
    # -x: the first failure is the proof (the selftest judges kills the same way)
    code, output = _suite_through_proxy(tmp_path, [mutation], operations, "-x")
    assert code == 1, output[-3000:]
    assert " failed" in output


@pytest.mark.parametrize("mutation", ["reorder-keys", "gzip"])
def test_a_benign_variant_lets_the_suite_pass(tmp_path: Path, mutation: str) -> None:
    operations = ["GetServerBusyExpires", "GetConfig", "GetPing", "GetLogs"]
    code, output = _suite_through_proxy(tmp_path, [mutation], operations)
    assert code == 0, output[-3000:]
    assert " passed" in output
    assert " failed" not in output
