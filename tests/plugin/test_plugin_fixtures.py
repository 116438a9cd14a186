"""The fixtures suites build on, exercised in a scratch project against the stub: clients that
hold every answer against the contract, and guards that put server-wide state back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mmconform.stub import Fault, StubOptions, start_stub
from tests._inprocess import clean_environment, run_inprocess

CONFTEST = """
pytest_plugins = [
    "fixtures.target", "fixtures.roles", "fixtures.clients", "fixtures.state", "fixtures.data"
]
"""

SUITES_CONFTEST = """
import pytest
from mmconform.harness import CONFORMANCE_MARK, session_of

MMCONFORM_SUITES = True

def pytest_collectstart(collector):
    if isinstance(collector, pytest.Module):
        session_of(collector.config).activate()

def pytest_itemcollected(item):
    item.add_marker(getattr(pytest.mark, CONFORMANCE_MARK))
"""

GUARDS = """
def developer_mode(client):
    return client.get("/config").json()["ServiceSettings"]["EnableDeveloper"]

def test_a_guarded_change(config_guard, admin_client):
    assert developer_mode(admin_client) is False
    patch = {"ServiceSettings": {"EnableDeveloper": True}}
    assert admin_client.put("/config/patch", json=patch).status_code == 200
    assert config_guard["ServiceSettings"]["EnableDeveloper"] is False

def test_b_the_change_was_put_back(admin_client):
    assert developer_mode(admin_client) is False

def test_c_busy_set(busy_guard, admin_client):
    assert admin_client.post("/server_busy", params={"seconds": 600}).status_code == 200

def test_d_busy_cleared(admin_client):
    assert admin_client.get("/server_busy").json()["busy"] is False

def test_e_licenses(accepted_license, invalid_licenses, admin_client):
    files = {"license": ("test.mattermost-license", accepted_license)}
    assert admin_client.post("/license", files=files).status_code == 200
    assert admin_client.delete("/license").status_code == 200
    assert {"bad-signature", "expired", "garbage"} <= set(invalid_licenses)
    for name, data in invalid_licenses.items():
        files = {"license": (name, data)}
        assert admin_client.post("/license", files=files).status_code == 400, name
"""

CHECKING = """
import pytest
from mmconform.harness import ContractViolation

def test_checking_client(admin_client):
    admin_client.get("/server_busy")

def test_unchecked_client(client_for):
    assert client_for("system_admin", check=False).get("/server_busy").status_code == 200

def test_missing_role(client_for):
    client_for("system_user")

def test_unavailable_role(client_for):
    client_for("system_manager")
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project, run in this process (``run_inprocess``)."""
    clean_environment(monkeypatch)
    tmp_path = Path(pytester.path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "conftest.py").write_text(SUITES_CONFTEST, encoding="utf-8")
    return tmp_path


@pytest.fixture
def target_file(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    faults = frozenset(getattr(request, "param", ()))
    with start_stub(StubOptions(faults=faults)) as stub:
        yield stub.write_target(tmp_path / "target.toml")


def test_guards_put_config_and_server_busy_back(
    project: Path, target_file: Path, pytester: pytest.Pytester
) -> None:
    (project / "suites" / "test_guards.py").write_text(GUARDS, encoding="utf-8")
    result = run_inprocess(
        pytester,
        "suites",
        "-p",
        "no:randomly",
        "--mm-incomplete=pass",  # the scratch suites prove none of the requirements
        f"--target-file={target_file}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


@pytest.mark.parametrize("target_file", [{Fault.BUSY_EXPIRES_AS_STRING}], indirect=True)
def test_clients_hold_answers_against_the_contract(
    project: Path, target_file: Path, pytester: pytest.Pytester
) -> None:
    # A target file with one role only, so that a missing role is seen too (and, the stub being
    # unlicensed, a role it cannot hold).
    text = target_file.read_text(encoding="utf-8")
    head, _, tokens = text.partition("[tokens]")
    admin = next(line for line in tokens.splitlines() if line.startswith("system_admin"))
    target_file.write_text(f"{head}[tokens]\n{admin}\n", encoding="utf-8")
    (project / "suites" / "test_checking.py").write_text(CHECKING, encoding="utf-8")
    result = run_inprocess(pytester, "suites", "-rA", f"--target-file={target_file}")
    output = result.stdout
    assert result.returncode == 1, output + result.stderr
    assert "FAILED suites/test_checking.py::test_checking_client" in output
    assert "GET /api/v4/server_busy answered 200, which the contract does not allow" in output
    assert "GetServerBusyExpires 200 at /expires" in output
    assert "curl -X GET" in output
    token = admin.split("=", 1)[1].strip().strip('"')
    assert token not in output
    assert "Bearer <redacted:system_admin>" in output
    assert "PASSED suites/test_checking.py::test_unchecked_client" in output
    assert "SKIPPED" in output
    assert "role system_user not given" in output
    assert "unsupported: role system_manager cannot be held on this target" in output
