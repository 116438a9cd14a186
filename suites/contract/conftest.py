"""The contract suite's collection and per-test guard.

``test_contract.py``'s property-based test is built for the target when the module is collected
(schemathesis makes one item per operation from a schema it is given when the test is defined):
the module collector below hands the session's contract run to ``operation_test``. Server-wide
state an operation may change is put back after that operation's tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mmconform.contract import Contract
from mmconform.harness import GUARDED_STATES, ServerState, item_operation_label, session_of


class _OperationTestsModule(pytest.Module):
    """A module that defines ``operation_test(run, selected)``: the test it returns is added
    as ``test_operation`` before the module is collected."""

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        build = getattr(self.obj, "operation_test", None)
        if build is not None:
            session = session_of(self.config)
            session.activate()
            self.obj.test_operation = build(
                session.contract_run(), session.options.selected_operations
            )
        return super().collect()


def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> pytest.Module | None:
    if module_path.name == "test_contract.py":
        module: pytest.Module = _OperationTestsModule.from_parent(parent, path=module_path)
        return module
    return None


def _states_of(item: pytest.Item, contract: Contract) -> set[str]:
    states: set[str] = set()
    label = item_operation_label(item)
    if label is not None:
        method, _, path = label.partition(" ")
        states.update(contract.find(method, path).global_state)
    for mark in item.iter_markers("mm_global_state"):
        states.update(str(arg) for arg in mark.args)
    return states


@pytest.fixture(autouse=True)
def contract_state_guard(request: pytest.FixtureRequest, contract: Contract) -> Iterator[None]:
    """Around each test: restore the config if the operation may change it, clear server busy
    after one that may set it, and remove a license it installed (as system_admin)."""
    states = _states_of(request.node, contract) & GUARDED_STATES
    if not states:
        yield
        return
    server_state: ServerState = request.getfixturevalue("server_state")
    with server_state.guard(states):
        yield
