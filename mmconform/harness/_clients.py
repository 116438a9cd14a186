"""HTTP clients for the target: one per role, plus anonymous and local-mode (unix socket).

Every client sends through the run's :class:`~mmconform.harness._health.TargetHealth` (the
breaker and the budget), never follows redirects (a redirect is an answer to check, and a
redirect loop must not multiply requests), and turns a transport failure into a message that
names the request and how to reproduce it, credentials redacted.
"""

from __future__ import annotations

import functools
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import requests
import requests.adapters

from mmconform._wire import Secret, is_loopback_host, redact
from mmconform.contract import ANONYMOUS, LOCAL
from mmconform.harness._failures import curl_command
from mmconform.harness._health import TargetHealth
from mmconform.harness._target import Target

__all__ = [
    "DEFAULT_TIMEOUT",
    "HealthAdapter",
    "TargetTransportError",
    "Transport",
    "auth_headers",
    "describe_transport_error",
    "is_certificate_error",
    "is_loopback_host",
    "make_client",
    "proxy_for",
]

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "mmconform"
_CERTIFICATE_HINT = (
    "the target's TLS certificate is not trusted: give its CA with --ca-bundle FILE, or "
    "turn verification off with --insecure"
)


@dataclass(frozen=True)
class Transport:
    """How to reach the target: per-request timeout and TLS verification."""

    timeout: float = DEFAULT_TIMEOUT
    ca_bundle: Path | None = None
    insecure: bool = False

    @property
    def verify(self) -> ssl.SSLContext:
        """The TLS context of every client of the run (built once: loading the CA store costs
        tens of milliseconds, and a run makes a client per role and per purpose)."""
        return _tls_context(self.ca_bundle, self.insecure)

    @property
    def requests_verify(self) -> bool | str:
        """The same choice in the form ``requests`` (used by schemathesis) understands."""
        if self.insecure:
            return False
        if self.ca_bundle is not None:
            return str(self.ca_bundle)
        return True


@functools.lru_cache(maxsize=8)
def _tls_context(ca_bundle: Path | None, insecure: bool) -> ssl.SSLContext:
    verify: bool | str = False if insecure else str(ca_bundle) if ca_bundle is not None else True
    return httpx.create_ssl_context(verify=verify)


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def is_certificate_error(exc: BaseException) -> bool:
    """Whether a transport failure is a failed TLS certificate check."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe_transport_error(exc: BaseException) -> str:
    """What happened, in one line a person can act on."""
    if isinstance(exc, TargetTransportError):
        return exc.problem
    if is_certificate_error(exc):
        return _CERTIFICATE_HINT
    kind = type(exc).__name__
    detail = str(exc).strip() or "no detail"
    if isinstance(exc, httpx.TimeoutException | requests.Timeout):
        return f"no answer in time ({kind}: {detail})"
    if isinstance(exc, httpx.RemoteProtocolError | requests.exceptions.ChunkedEncodingError):
        return f"the answer broke off ({kind}: {detail})"
    return f"no answer ({kind}: {detail})"


class TargetTransportError(httpx.TransportError):
    """A request that got no usable answer, worded with the request to reproduce it.

    ``problem`` says what happened in one line; the message adds the request and a curl line.
    """

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


class _HealthTransport(httpx.BaseTransport):
    """Sends through ``inner``, telling ``health`` how each request went."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        health: TargetHealth | None,
        role: str,
        secrets: Mapping[str, Secret],
    ) -> None:
        self._inner = inner
        self._health = health
        self._role = role
        self._secrets = secrets

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        what = f"{request.method} {request.url.path}"
        if self._health is not None:
            timeouts = dict(request.extensions.get("timeout") or {})
            cap = self._health.before(what, max((v for v in timeouts.values() if v), default=0))
            request.extensions["timeout"] = {
                key: (min(value, cap) if value else cap) for key, value in timeouts.items()
            }
        started = time.monotonic()
        try:
            response = self._inner.handle_request(request)
            # The body belongs to the answer: a connection that breaks off while it is sent
            # is a failure of this request, counted here.
            response.read()
        except httpx.TransportError as exc:
            problem = describe_transport_error(exc)
            if self._health is not None:
                self._health.failed(what, problem)
            message = (
                f"{what} as {self._role}: {problem}\n"
                f"Reproduce (credentials redacted):\n    {curl_command(request)}"
            )
            raise TargetTransportError(redact(message, self._secrets), problem) from None
        if self._health is not None:
            self._health.answered(time.monotonic() - started)
        return response

    def close(self) -> None:
        self._inner.close()


class HealthAdapter(requests.adapters.HTTPAdapter):
    """A ``requests`` adapter that sends through the run's health (for schemathesis)."""

    def __init__(self, health: TargetHealth | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._health = health

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        if self._health is None:
            return super().send(request, timeout=timeout, **kwargs)
        what = f"{request.method} {urllib.parse.urlsplit(request.url or '').path}"
        limit = timeout if isinstance(timeout, int | float) else DEFAULT_TIMEOUT
        capped = self._health.before(what, float(limit))
        started = time.monotonic()
        try:
            response = super().send(request, timeout=capped, **kwargs)
            response.content  # noqa: B018  (the body belongs to the answer: read it here)
        except requests.RequestException as exc:
            self._health.failed(what, describe_transport_error(exc))
            raise
        self._health.answered(time.monotonic() - started)
        return response


def make_client(
    target: Target,
    role: str,
    transport: Transport,
    *,
    health: TargetHealth | None = None,
    response_hooks: Sequence[Callable[[httpx.Response], None]] = (),
) -> httpx.Client:
    """A client rooted at ``<url>/api/v4`` authenticated as ``role``.

    ``anonymous`` sends no credentials; ``local`` talks to the local-mode unix socket (no token,
    the socket itself is the credential). ``health`` sees every request (breaker and budget);
    ``response_hooks`` see every response (for instance a
    :class:`~mmconform.harness.ResponseChecker`).
    """
    hooks = {"response": list(response_hooks)}
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if role == LOCAL:
        if not target.local_socket:
            raise LookupError("the target has no local-mode socket")
        inner = httpx.HTTPTransport(uds=target.local_socket, verify=transport.verify)
        base_url = "http://localhost/api/v4"
    else:
        if role != ANONYMOUS:
            if role not in target.tokens:
                raise LookupError(f"no token for role {role}")
            headers.update(auth_headers(target.token(role)))
        inner = httpx.HTTPTransport(verify=transport.verify, proxy=proxy_for(target.url))
        base_url = target.api_url
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        timeout=transport.timeout,
        transport=_HealthTransport(inner, health, role, target.secrets),
        event_hooks=hooks,
        follow_redirects=False,
        # The proxy, if any, is chosen above, so that every request passes the health check.
        trust_env=False,
    )


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (None for loopback and no_proxy hosts)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if is_loopback_host(host) or urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(parts.scheme)
