"""Shared fixtures for the stub's own tests: a running stub per module and a role-aware caller."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from mmconform.stub import RunningStub, StubOptions, start_stub
from tests.stub._helpers import Api


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "off_contract: the test's responses are not checked against spec/openapi.yaml"
    )


@pytest.fixture(scope="module")
def running_stub() -> Iterator[RunningStub]:
    with start_stub(StubOptions()) as stub:
        yield stub


@pytest.fixture(scope="module")
def api(running_stub: RunningStub) -> Iterator[Api]:
    caller = Api(running_stub)
    yield caller
    caller.close()


@pytest.fixture(autouse=True)
def _responses_match_the_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used the shared ``api``: every response it got is documented in
    spec/openapi.yaml and fits its schema. ``@pytest.mark.off_contract`` opts a test out (for
    deliberately broken stubs or requests the contract does not describe)."""
    if "api" not in request.fixturenames or request.node.get_closest_marker("off_contract"):
        yield
        return
    caller: Api = request.getfixturevalue("api")
    caller.recorder.seen.clear()
    yield
    problems = caller.recorder.problems()
    assert not problems, "responses that disagree with spec/openapi.yaml:\n" + "\n".join(problems)


@pytest.fixture
def restore_state(running_stub: RunningStub) -> Iterator[None]:
    """Put config, license, busy and trial state back after the test."""
    state = running_stub.state
    with state.lock:
        saved = copy.deepcopy(state.store.file_config)
        license_, prev, allowed = state.license, state.prev_trial, state.trial_allowed
    yield
    state.save_config(saved)
    state.set_license(license_)
    with state.lock:
        state.prev_trial, state.trial_allowed = prev, allowed
    state.clear_busy()
