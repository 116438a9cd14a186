"""httpx clients for the target: one per role, plus anonymous and local-mode (unix socket)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from mmconform.contract import ANONYMOUS, LOCAL
from mmconform.harness._target import Target

__all__ = ["DEFAULT_TIMEOUT", "Transport", "auth_headers", "make_client"]

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "mmconform"


@dataclass(frozen=True)
class Transport:
    """How to reach the target: per-request timeout and TLS verification."""

    timeout: float = DEFAULT_TIMEOUT
    ca_bundle: Path | None = None
    insecure: bool = False

    @property
    def verify(self) -> bool | ssl.SSLContext:
        if self.insecure:
            return False
        if self.ca_bundle is not None:
            return ssl.create_default_context(cafile=str(self.ca_bundle))
        return True

    @property
    def requests_verify(self) -> bool | str:
        """The same choice in the form ``requests`` (used by schemathesis) understands."""
        if self.insecure:
            return False
        if self.ca_bundle is not None:
            return str(self.ca_bundle)
        return True


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def make_client(
    target: Target,
    role: str,
    transport: Transport,
    *,
    response_hooks: Sequence[Callable[[httpx.Response], None]] = (),
) -> httpx.Client:
    """A client rooted at ``<url>/api/v4`` authenticated as ``role``.

    ``anonymous`` sends no credentials; ``local`` talks to the local-mode unix socket (no token,
    the socket itself is the credential). ``response_hooks`` see every response (for instance a
    :class:`~mmconform.harness.ResponseChecker`).
    """
    hooks = {"response": list(response_hooks)}
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if role == LOCAL:
        if not target.local_socket:
            raise LookupError("the target has no local-mode socket")
        return httpx.Client(
            base_url="http://localhost/api/v4",
            headers=headers,
            timeout=transport.timeout,
            transport=httpx.HTTPTransport(uds=target.local_socket),
            event_hooks=hooks,
        )
    if role != ANONYMOUS:
        token = target.tokens.get(role)
        if token is None:
            raise LookupError(f"no token for role {role}")
        headers.update(auth_headers(token))
    return httpx.Client(
        base_url=target.api_url,
        headers=headers,
        timeout=transport.timeout,
        verify=transport.verify,
        event_hooks=hooks,
    )
