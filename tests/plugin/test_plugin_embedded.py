"""The default target: the stub in a child process, started and stopped with the run."""

from __future__ import annotations

import tomllib

import httpx
import pytest

from mmconform.harness._embedded import EmbeddedStubError, embedded_stub


def test_embedded_stub_serves_until_the_context_ends() -> None:
    with embedded_stub("10.11.0") as target_file:
        target = tomllib.loads(target_file.read_text(encoding="utf-8"))
        url = target["target"]["url"]
        response = httpx.get(f"{url}/api/v4/system/ping", timeout=5, trust_env=False)
        assert response.status_code == 200
        assert response.headers["X-Version-Id"].startswith("10.11.0.")
        assert set(target["tokens"]) == {
            "system_admin",
            "system_manager",
            "system_user_manager",
            "system_read_only_admin",
            "system_user",
        }
    assert not target_file.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/v4/system/ping", timeout=2, trust_env=False)


def test_a_stub_that_cannot_start_says_why() -> None:
    with pytest.raises(EmbeddedStubError, match="server-version"), embedded_stub("not-a-version"):
        pass
