"""Shared fixtures for the stub's own tests: a running stub per module and a role-aware caller."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from mmconform.stub import RunningStub, StubOptions, start_stub
from tests.stub._helpers import Api


@pytest.fixture(scope="module")
def running_stub() -> Iterator[RunningStub]:
    with start_stub(StubOptions()) as stub:
        yield stub


@pytest.fixture(scope="module")
def api(running_stub: RunningStub) -> Iterator[Api]:
    caller = Api(running_stub)
    yield caller
    caller.close()


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
