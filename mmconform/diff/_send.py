"""Sending a request to one side as one caller, bounded: a timeout per request, a budget for the
whole run, and a side that stops answering ends the run with a clear message."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

import httpx

from mmconform._wire import LOCAL, Secret
from mmconform.diff._cases import USER_AGENT
from mmconform.diff._exitcodes import EXIT_SIDE_UNREACHABLE, DiffProblem
from mmconform.diff._model import Answer, RequestSpec

__all__ = ["Budget", "Connection", "SendOptions", "describe_error"]

CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class SendOptions:
    """How requests go out."""

    #: the most one request may wait, in seconds
    request_timeout: float = 10.0
    #: transport failures in a row after which the side is asked whether it is alive
    stop_after: int = 3
    #: TLS verification: True, False, or a CA bundle path
    verify: bool | str = True


class Budget:
    """The whole run's time: no request waits longer than what is left."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.deadline = None if not seconds else time.monotonic() + seconds

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def timeout(self, wanted: float) -> float:
        left = self.left()
        if left is None:
            return wanted
        if left <= 0:
            raise DiffProblem(
                f"the run's time budget of {self.seconds:g} s is used up", EXIT_SIDE_UNREACHABLE
            )
        return min(wanted, left)


def describe_error(exc: BaseException) -> str:
    """A transport error in a few words."""
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"no connection ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"a broken answer ({exc})"
    return f"{type(exc).__name__}: {exc}"


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Connection:
    """One side's keep-alive clients (TCP, and the local-mode socket when there is one)."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        tokens: Mapping[str, Secret],
        local_socket: str | None,
        options: SendOptions,
        budget: Budget,
    ) -> None:
        self.name = name
        self.url = url
        self.tokens = MappingProxyType(dict(tokens))
        self.local_socket = local_socket
        self.options = options
        self.budget = budget
        self.sent = 0
        self._failures = 0
        timeout = httpx.Timeout(options.request_timeout, connect=CONNECT_TIMEOUT)
        self._tcp = httpx.Client(
            base_url=url,
            timeout=timeout,
            verify=options.verify,
            follow_redirects=False,
            trust_env=not _is_loopback(url),
            headers={"User-Agent": USER_AGENT},
        )
        self._local: httpx.Client | None = None
        if local_socket:
            self._local = httpx.Client(
                base_url="http://localhost",
                timeout=timeout,
                transport=httpx.HTTPTransport(uds=local_socket),
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": USER_AGENT},
            )

    def close(self) -> None:
        self._tcp.close()
        if self._local is not None:
            self._local.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _client(self, caller: str) -> httpx.Client:
        if caller == LOCAL:
            if self._local is None:
                raise ValueError(f"{self.name} has no local-mode socket")
            return self._local
        return self._tcp

    def _headers(self, request: RequestSpec, caller: str) -> dict[str, str]:
        headers = dict(request.headers)
        token = self.tokens.get(caller)
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
        return headers

    def send(self, request: RequestSpec, caller: str) -> Answer:
        """Send ``request`` as ``caller``; a transport failure is an answer with ``error``, and
        too many in a row on a side that no longer answers its ping end the run."""
        client = self._client(caller)
        timeout = self.budget.timeout(self.options.request_timeout)
        started = time.monotonic()
        try:
            built = client.build_request(
                request.method,
                request.target,
                headers=self._headers(request, caller),
                content=request.body,
                timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
            )
        except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeError, ValueError) as exc:
            return Answer(0, error=f"not sendable: {type(exc).__name__}")
        try:
            response = client.send(built)
            body = response.read()
        except (httpx.LocalProtocolError, UnicodeError) as exc:
            return Answer(0, error=f"not sendable: {type(exc).__name__}")
        except httpx.TransportError as exc:
            self._transport_failure(request, caller, exc)
            return Answer(0, seconds=time.monotonic() - started, error=describe_error(exc))
        self.sent += 1
        self._failures = 0
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer(
            status=response.status_code,
            headers=MappingProxyType(headers),
            body=body,
            seconds=time.monotonic() - started,
        )

    def _transport_failure(self, request: RequestSpec, caller: str, exc: Exception) -> None:
        self.sent += 1
        self._failures += 1
        if self._failures < self.options.stop_after:
            return
        if self.alive():
            self._failures = 0
            return
        raise DiffProblem(
            f"the {self.name} ({self.url}) stopped answering after {self.sent} requests, at "
            f"{request.method} {request.target.split('?', 1)[0]} as {caller}: "
            f"{describe_error(exc)}",
            EXIT_SIDE_UNREACHABLE,
        )

    def alive(self) -> bool:
        """Whether the side still answers its ping (with anything at all)."""
        try:
            self._tcp.get(
                "/api/v4/system/ping", timeout=self.budget.timeout(self.options.request_timeout)
            )
        except httpx.TransportError:
            return False
        return True
