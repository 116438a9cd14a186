"""Shared pieces of the permission suite: the target's conditions as the matrix needs them, and
the request of each operation (``x-mm-request``).

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
    ANONYMOUS,
    BODY_CURRENT,
    BODY_JSON,
    BODY_MULTIPART,
    BODY_TEXT,
    LOCAL,
    Contract,
    MatrixConditions,
    Version,
    setting_value,
)
from mmconform.harness import (
    ConformanceSession,
    ServerFacts,
    ServerState,
    Target,
    curl_command,
    redact,
)

ClientFor = Callable[..., httpx.Client]
SendExample = Callable[..., httpx.Response]

#: settings read at the start of the run that decide who passes (besides the config gates)
RESTRICT_SETTING = "ExperimentalSettings.RestrictSystemAdmin"


# --- the target's conditions --------------------------------------------------------------------


def _read_config(target: Target, client_for: ClientFor) -> dict[str, Any] | None:
    """The config as a caller that reads everything sees it: system_admin, else the socket."""
    readers = [
        role
        for role in ("system_admin", LOCAL)
        if role in target.tokens or (role == LOCAL and target.local_socket is not None)
    ]
    for reader in readers:
        response = client_for(reader, check=False).get("/config")
        if response.status_code == 200 and isinstance(response.json(), dict):
            config: dict[str, Any] = response.json()
            return config
    return None


@pytest.fixture(scope="session")
def gated_settings(contract: Contract) -> tuple[str, ...]:
    """The settings config gates read (dotted paths)."""
    return tuple(sorted({gate.setting for op in contract.operations for gate in op.config_gates}))


@pytest.fixture(scope="session")
def matrix_conditions(
    contract: Contract,
    target: Target,
    server_version: Version | None,
    server_facts: ServerFacts,
    client_for: ClientFor,
    gated_settings: tuple[str, ...],
) -> MatrixConditions:
    """What the matrix needs to know of the target, read once at the start: version, edition,
    license, RestrictSystemAdmin and the settings config gates read (from the config as
    system_admin or the socket reads it; unknown when neither is given)."""
    config = _read_config(target, client_for)
    settings: dict[str, Any] = {}
    restrict: bool | None = None
    if config is not None:
        for setting in gated_settings:
            value = setting_value(config, setting)
            if value is not None:
                settings[setting] = value
        restrict = bool(setting_value(config, RESTRICT_SETTING))
    return MatrixConditions(
        version=server_version,
        edition=server_facts.edition,
        licensed=server_facts.licensed,
        restrict_system_admin=restrict,
        settings=settings,
    )


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


@pytest.fixture(scope="session")
def license_state(client_for: ClientFor, server_facts: ServerFacts) -> Callable[[], bool | None]:
    """Whether the server holds a license now (the client license says so to anyone; the
    preflight's word when it will not answer)."""

    def licensed() -> bool | None:
        response = client_for(ANONYMOUS, check=False).get(
            "/license/client", params={"format": "old"}
        )
        body = response.json() if response.status_code == 200 else None
        if isinstance(body, dict) and "IsLicensed" in body:
            return str(body["IsLicensed"]).lower() == "true"
        return server_facts.licensed

    return licensed


@pytest.fixture(scope="session")
def conditions_for(
    contract: Contract,
    matrix_conditions: MatrixConditions,
    license_state: Callable[[], bool | None],
) -> Callable[[str], MatrixConditions]:
    """``conditions_for(operation_id)``: the target's conditions for that operation's cells,
    with the license state read now where a license decides (other tests may have installed or
    removed one since the run began)."""

    def conditions(operation_id: str) -> MatrixConditions:
        if contract.operation(operation_id).license == "required":
            return matrix_conditions.replace(licensed=license_state())
        return matrix_conditions

    return conditions


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
