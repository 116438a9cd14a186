"""Operations served only on the local-mode unix socket (x-mm-auth local-only), which the HTTP
contract run cannot reach: their answers are held against the contract here."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mmconform.contract import LOCAL, load_contract
from mmconform.harness import ResponseChecker

LOCAL_ONLY = [op for op in load_contract().operations if op.auth == "local-only"]


@pytest.mark.parametrize(
    "operation_id",
    [
        pytest.param(op.operation_id, marks=pytest.mark.mm_operation(op.operation_id))
        for op in LOCAL_ONLY
    ],
)
@pytest.mark.mm_requirement("local.local-only-operations", "contract.answers-documented")
@pytest.mark.mm_feature("local_mode")
def test_local_only_operation_answers_per_contract(
    operation_id: str,
    client_for: Callable[..., httpx.Client],
    response_checker: ResponseChecker,
) -> None:
    """Over the socket the operation answers with a documented status and a body that fits."""
    op = next(op for op in LOCAL_ONLY if op.operation_id == operation_id)
    response = client_for(LOCAL, check=False).request(op.method, op.client_path())
    problems = response_checker.problems_of(response)
    assert not problems, (
        f"{operation_id} ({op.label}) over the local-mode socket:\n  " + "\n  ".join(problems)
    )
