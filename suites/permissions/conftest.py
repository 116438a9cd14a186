"""Shared pieces of the permission suite: the request of each operation (``x-mm-request``) sent
as any caller. (The target's conditions as the matrix needs them are shared fixtures:
``fixtures/conditions.py``.)

Refusals that still run. The plugin deselects every test of a destructive operation unless
``--allow-destructive`` is on, except tests marked ``mm_refusal_only``: they send only requests
a correct server refuses (or ignores), and what a wrong server would do with them is harmless or
put back by the test's guards (``x-mm-request.denied-cells`` of each operation decides which
refusals qualify).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mmconform.contract import (
    BODY_CURRENT,
    BODY_JSON,
    BODY_MULTIPART,
    BODY_TEXT,
    LOCAL,
    Contract,
)
from mmconform.harness import (
    ConformanceSession,
    ServerState,
    Target,
    curl_command,
    redact,
)

ClientFor = Callable[..., httpx.Client]
SendExample = Callable[..., httpx.Response]

# --- requests -----------------------------------------------------------------------------------


@pytest.fixture
def current_answer(
    target: Target, client_for: ClientFor, contract: Contract
) -> Callable[[str], dict[str, Any]]:
    """``current_answer("GetConfig")``: that operation's answer to its example request, as a
    caller that sees everything (system_admin, else the socket); skips when neither is given."""

    def read(operation_id: str) -> dict[str, Any]:
        op = contract.operation(operation_id)
        if "system_admin" in target.tokens:
            reader = "system_admin"
        elif target.local_socket is not None:
            reader = LOCAL
        else:
            pytest.skip(
                f"building this request needs {operation_id} as system_admin (or over the "
                "local-mode socket), and neither was given"
            )
        response = client_for(reader, check=False).request(
            op.method, op.client_path(**op.request.path_params), params=dict(op.request.query)
        )
        response.raise_for_status()
        body = response.json()
        assert isinstance(body, dict), f"{operation_id} as {reader}: not a JSON object"
        return body

    return read


@pytest.fixture
def send_example(
    contract: Contract,
    client_for: ClientFor,
    current_answer: Callable[[str], dict[str, Any]],
) -> SendExample:
    """``send_example(operation_id, caller)``: the operation's ``x-mm-request`` sent as the
    caller (a role, ``anonymous`` or ``local``) by a client that does not check the answer;
    ``json=`` replaces the body."""

    def send(operation_id: str, caller: str, **override: Any) -> httpx.Response:
        op = contract.operation(operation_id)
        example = op.request
        kwargs: dict[str, Any] = {"params": dict(example.query)}
        if example.body_kind == BODY_JSON:
            kwargs["json"] = example.json_body
        elif example.body_kind == BODY_TEXT:
            kwargs["content"] = example.text_body.encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif example.body_kind == BODY_MULTIPART:
            kwargs["files"] = {
                name: (f"{name}.txt", content.encode(), "application/octet-stream")
                for name, content in example.files.items()
            }
        elif example.body_kind == BODY_CURRENT:
            assert example.body_from is not None
            kwargs["json"] = example.body_for(current_answer(example.body_from))
        kwargs.update(override)
        client = client_for(caller, check=False)
        return client.request(op.method, op.client_path(**example.path_params), **kwargs)

    return send


@pytest.fixture
def reinstall_license(target: Target) -> Callable[[ServerState], None]:
    """After a cell removed the server's license: install the target's accepted license
    (``[target].license_file``) again, so that the tests after it find the server licensed.
    Without one, the state guard's warning says the license could not be put back."""

    def reinstall(server_state: ServerState) -> None:
        if target.license_file is None:
            return
        content = target.license_file.read_bytes()
        server_state.client.post(
            "/license", files={"license": ("license.mattermost-license", content)}
        ).raise_for_status()

    return reinstall


@pytest.fixture
def reproduce(target: Target) -> Callable[[httpx.Response], str]:
    """A curl line for an answer's request, credentials redacted."""
    return lambda response: redact(curl_command(response), target.tokens)


@pytest.fixture(scope="session")
def run_allows_destructive(mm_session: ConformanceSession) -> bool:
    return mm_session.allow_destructive
