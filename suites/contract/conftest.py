"""Fixtures of the contract suite: the schema built for this target, and per-test guards that put
server-wide state back after each operation's run."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import httpx
import pytest

from fixtures.state import restore_if_changed
from mmconform.contract import load_contract
from mmconform.harness._safety import clear_server_busy, iter_operations, snapshot_config
from mmconform.plugin import item_operation_label


def _states_of(item: pytest.Item) -> set[str]:
    states: set[str] = set()
    label = item_operation_label(item)
    if label is not None:
        for info in iter_operations(load_contract().document):
            if info.label == label:
                states.update(info.global_state)
    for mark in item.iter_markers("mm_global_state"):
        states.update(str(arg) for arg in mark.args)
    return states


@pytest.fixture(autouse=True)
def contract_state_guard(
    request: pytest.FixtureRequest, client_for: Callable[[str], httpx.Client]
) -> Iterator[None]:
    """Around each operation's run: restore the config if the operation may change it, and
    always clear server busy after an operation that may set it."""
    states = _states_of(request.node)
    if not states & {"config", "server_busy", "license"}:
        yield
        return
    admin = client_for("system_admin")
    before = snapshot_config(admin) if "config" in states else None
    licensed = _is_licensed(admin) if "license" in states else None
    try:
        yield
    finally:
        if "server_busy" in states:
            clear_server_busy(admin)
        if before is not None:
            restore_if_changed(admin, before)
        if licensed is False and _is_licensed(admin):
            # The run installed a license on an unlicensed server: take it off again.
            admin.delete("/license")
        elif licensed and not _is_licensed(admin):
            warnings.warn(
                "the server's license was removed by this test (destructive operations were "
                "allowed); it cannot be put back automatically",
                stacklevel=1,
            )


def _is_licensed(client: httpx.Client) -> bool | None:
    response = client.get("/license/client", params={"format": "old"})
    if response.status_code != 200:
        return None
    body = response.json()
    return isinstance(body, dict) and str(body.get("IsLicensed", "")).lower() == "true"
