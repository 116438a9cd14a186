"""The client-compatibility suite fails where an official client breaks, and passes where it
works.

Against the faithful stub the client tests pass, run in a separate pytest process as a user runs
them (``pytest -m clients --target-file``). That they fail against a defect no schema check sees
(JSON labelled ``application/json; charset=utf-8``, which both official clients refuse to
decode) is proved from that fault's record (``test_validation_catalogue.py``). The TypeScript
client's cases need Node.js and npm (they skip without them, and so does its half of this
check).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmconform.stub import Fault, RunningStub, StubOptions, start_stub
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
TYPESCRIPT = (
    "suites/clients/test_typescript_client.py::test_client4_method_answers_as_the_contract_predicts"
)
PYTHON = "suites/clients/test_python_driver.py::test_driver_method_answers_as_the_contract_predicts"

#: A value, a refusal and the trial request of the web app's form, per client.
TYPESCRIPT_TESTS = [
    f"{TYPESCRIPT}[ping-system_admin]",
    f"{TYPESCRIPT}[getAudits-system_user]",
    f"{TYPESCRIPT}[requestTrialLicense-system_admin]",
]
PYTHON_TESTS = [f"{PYTHON}[get_ping-system_admin]", f"{PYTHON}[get_audits-system_user]"]

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are needed to run the TypeScript client",
)


@pytest.fixture
def stub(request: pytest.FixtureRequest) -> Iterator[RunningStub]:
    faults: frozenset[Fault] = frozenset(getattr(request, "param", ()))
    with start_stub(StubOptions(faults=faults, local_mode=False)) as running:
        yield running


def run_clients(
    stub: RunningStub, tmp_path: Path, nodeids: list[str], env: dict[str, str] | None = None
) -> tuple[int, str]:
    target = tmp_path / "target.toml"
    stub.write_target(target)
    result = run_pytest(
        ROOT,
        "-m",
        "clients",
        "-rA",
        "--no-header",
        "--no-reports",
        "-p",
        "no:randomly",
        "--allow-destructive",
        f"--target-file={target}",
        *nodeids,
        timeout=600,
        env=env,
    )
    return result.returncode, result.stdout + result.stderr


def outcomes(output: str, nodeids: list[str]) -> dict[str, str]:
    found = {}
    for nodeid in nodeids:
        match = re.search(rf"^(PASSED|FAILED|SKIPPED|ERROR) {re.escape(nodeid)}", output, re.M)
        found[nodeid] = match.group(1) if match else "NOT RUN"
    return found


@needs_node
def test_typescript_client_passes_against_the_faithful_stub(
    stub: RunningStub, tmp_path: Path
) -> None:
    code, output = run_clients(stub, tmp_path, TYPESCRIPT_TESTS)
    assert set(outcomes(output, TYPESCRIPT_TESTS).values()) == {"PASSED"}, output[-6000:]
    assert code == 0
    # The trial form's body was taken as a valid request: a trial was installed (and removed
    # again by the suite's guard).
    assert stub.state.prev_trial is not None
    assert stub.state.license is None


def test_python_driver_passes_against_the_faithful_stub(stub: RunningStub, tmp_path: Path) -> None:
    code, output = run_clients(stub, tmp_path, PYTHON_TESTS)
    assert set(outcomes(output, PYTHON_TESTS).values()) == {"PASSED"}, output[-6000:]
    assert code == 0


def test_typescript_client_is_skipped_without_node(stub: RunningStub, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    code, output = run_clients(stub, tmp_path, TYPESCRIPT_TESTS[:1], env={"PATH": str(empty)})
    assert re.search(r"^=+ 1 skipped in ", output, re.M), output[-3000:]
    assert "node and npm not found on PATH" in output, output[-3000:]
    assert code == 0


@needs_node
def test_typescript_client_is_skipped_when_the_install_fails(
    stub: RunningStub, tmp_path: Path
) -> None:
    # An empty npm cache and no network: npm ci cannot fetch the client.
    env = {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "npm_config_cache": str(tmp_path / "npm-cache"),
        "npm_config_offline": "true",
    }
    code, output = run_clients(stub, tmp_path, TYPESCRIPT_TESTS[:1], env=env)
    assert re.search(r"^=+ 1 skipped in ", output, re.M), output[-3000:]
    assert "`npm ci` of @mattermost/client 11.9.0 failed" in output, output[-3000:]
    assert code == 0
    assert not list((tmp_path / "cache" / "mmconform").glob("node-client-*/node_modules"))


def test_every_client_method_is_one_case_with_a_declared_shape() -> None:
    """The TypeScript cases and the table of shapes name the same methods, each once; the
    Python cases name each driver method once, and every case says how to call it."""
    from suites.clients import test_python_driver, test_typescript_client

    methods = [case.method for case in test_typescript_client.CASES]
    assert len(methods) == len(set(methods))
    assert set(methods) == set(test_typescript_client.SHAPES)
    python = [case.method for case in test_python_driver.CASES]
    assert len(python) == len(set(python))
    assert all(case.call is not None for case in test_python_driver.CASES)
