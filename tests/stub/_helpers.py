"""Helpers for the stub's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from mmconform._version import Version
from mmconform.contract import load_contract
from mmconform.harness import ResponseRecorder as Recorder
from mmconform.stub import RunningStub, StubOptions, start_stub

ROLES = (
    "system_admin",
    "system_manager",
    "system_user_manager",
    "system_read_only_admin",
    "system_user",
)
ALL_ROLES = ("anonymous", *ROLES)


class Api:
    """Calls the stub as a role: ``api("GET", "/api/v4/config", role="system_user")``.

    Every response is recorded; ``recorder.problems()`` lists those that disagree with
    spec/openapi.yaml (the shared ``api`` fixture checks after each test).
    """

    def __init__(self, stub: RunningStub) -> None:
        self.stub = stub
        self.recorder = Recorder(load_contract(), Version.parse(stub.server_version))
        self.client = httpx.Client(
            base_url=stub.url,
            timeout=10.0,
            trust_env=False,
            event_hooks={"response": [self.recorder.hook]},
        )

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.stub.tokens[role]}"}

    def __call__(
        self, method: str, path: str, role: str = "system_admin", **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def local(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        assert self.stub.local_socket is not None
        transport = httpx.HTTPTransport(uds=str(self.stub.local_socket))
        with httpx.Client(
            transport=transport,
            base_url="http://localhost",
            timeout=10.0,
            trust_env=False,
            event_hooks={"response": [self.recorder.hook]},
        ) as client:
            return client.request(method, path, **kwargs)

    def close(self) -> None:
        self.client.close()


def error_id(response: httpx.Response) -> str:
    body = response.json()
    assert isinstance(body, dict), body
    return str(body["id"])


@contextmanager
def stub_caller(options: StubOptions, *, on_contract: bool = True) -> Iterator[Api]:
    """A stub of its own (a version, an edition, a variant) and a caller for it; on leaving,
    every response received must agree with spec/openapi.yaml unless ``on_contract`` is off."""
    with start_stub(options) as stub:
        caller = Api(stub)
        try:
            yield caller
            problems = caller.recorder.problems()
            if on_contract:
                assert not problems, "responses that disagree with the contract:\n" + "\n".join(
                    problems
                )
        finally:
            caller.close()
