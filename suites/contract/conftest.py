"""Per-test guard of the contract suite: server-wide state an operation may change is put back
after that operation's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mmconform.contract import Contract
from mmconform.harness import GUARDED_STATES, ServerState, item_operation_label


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
