"""Operations served only on the local-mode unix socket (x-mm-auth local-only), which the HTTP
contract run cannot reach: their answers are validated against the contract here."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from mmconform.contract import load_contract

CONTRACT = load_contract()
LOCAL_ONLY = [op for op in CONTRACT.operations if op.auth == "local-only"]


@pytest.mark.parametrize(
    "operation_id",
    [
        pytest.param(op.operation_id, marks=pytest.mark.mm_operation(op.operation_id))
        for op in LOCAL_ONLY
    ],
)
def test_local_only_operation_answers_per_contract(
    operation_id: str, local_client: httpx.Client
) -> None:
    op = CONTRACT.operation(operation_id)
    response = local_client.request(op.method.upper(), op.path.removeprefix("/api/v4"))
    where = f"{operation_id} ({op.method.upper()} {op.path}) over the local-mode socket"
    documented = CONTRACT.documented_statuses(operation_id)
    code = response.status_code
    assert str(code) in documented or f"{code // 100}XX" in documented, (
        f"{where}: status {code} is not documented ({sorted(documented)})"
    )
    schema = CONTRACT.response_schema(operation_id, response.status_code)
    if schema is not None:
        assert response.headers.get("content-type", "").startswith("application/json"), where
        body: Any = response.json()
        try:
            jsonschema.validate(body, schema)
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{where}: body violates the contract: {exc.message}", pytrace=False)
