"""Sending a request to one side as one caller, bounded: a timeout per request, a budget for the
whole run, and a side that stops answering ends the run with a clear message.

The standard library's ``http.client`` carries the requests, over one keep-alive connection
per side and transport (TCP, and the local-mode unix socket): a comparison sends tens of
thousands of requests, and it costs a quarter of the CPU time of a general-purpose client per
request. Requests go out exactly as generated (no header or URL rewritten), redirects are
answers and never followed, and ``Accept-Encoding: identity`` keeps bodies as the server wrote
them.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from mmconform._wire import LOCAL, Secret
from mmconform.diff._cases import USER_AGENT
from mmconform.diff._exitcodes import EXIT_SIDE_UNREACHABLE, DiffProblem
from mmconform.diff._model import Answer, RequestSpec

__all__ = ["Budget", "Connection", "SendOptions", "describe_error"]

CONNECT_TIMEOUT: Final = 3.0
#: Errors of a kept-alive connection the server closed while it was idle: the request is sent
#: once more on a new connection.
_STALE: Final = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
_TRANSPORT: Final = (OSError, http.client.HTTPException)


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
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "no connection (refused)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"an untrusted TLS certificate ({exc.verify_message})"
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError):
        return "the connection was closed without an answer"
    if isinstance(exc, http.client.HTTPException):
        return f"a broken answer ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}"


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (the local-mode socket)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _tls_context(verify: bool | str) -> ssl.SSLContext:
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


class _Channel:
    """One keep-alive connection to one address, opened again when needed."""

    def __init__(self, make: Callable[[float], http.client.HTTPConnection]) -> None:
        self._make = make
        self._connection: http.client.HTTPConnection | None = None
        self.reused = False

    def get(self, timeout: float) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = self._make(timeout)
            self.reused = False
        else:
            self.reused = True
        self._connection.timeout = timeout
        if self._connection.sock is not None:
            self._connection.sock.settimeout(timeout)
        return self._connection

    def drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Connection:
    """One side's keep-alive connections (TCP, and the local-mode socket when there is one)."""

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
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        self._prefix = parts.path.rstrip("/")
        context = _tls_context(options.verify) if secure else None

        def tcp(timeout: float) -> http.client.HTTPConnection:
            if context is not None:
                return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
            return http.client.HTTPConnection(host, port, timeout=timeout)

        self._tcp = _Channel(tcp)
        self._local: _Channel | None = None
        if local_socket:
            path = local_socket
            self._local = _Channel(lambda timeout: _UnixConnection(path, timeout))

    def close(self) -> None:
        self._tcp.drop()
        if self._local is not None:
            self._local.drop()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _channel(self, caller: str) -> _Channel:
        if caller == LOCAL:
            if self._local is None:
                raise ValueError(f"the {self.name} has no local-mode socket")
            return self._local
        return self._tcp

    def _headers(self, request: RequestSpec, caller: str) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, **dict(request.headers)}
        token = self.tokens.get(caller)
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
        return headers

    def _exchange(self, channel: _Channel, request: RequestSpec, caller: str) -> Answer:
        timeout = self.budget.timeout(self.options.request_timeout)
        started = time.monotonic()
        connection = channel.get(timeout)
        target = request.target if caller == LOCAL else self._prefix + request.target
        connection.request(
            request.method, target, body=request.body, headers=self._headers(request, caller)
        )
        response = connection.getresponse()
        body = response.read()
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if response.will_close:
            channel.drop()
        return Answer(
            status=response.status,
            headers=MappingProxyType(headers),
            body=body,
            seconds=time.monotonic() - started,
        )

    def send(self, request: RequestSpec, caller: str) -> Answer:
        """Send ``request`` as ``caller``; a transport failure is an answer with ``error``, and
        too many in a row on a side that no longer answers its ping end the run."""
        channel = self._channel(caller)
        started = time.monotonic()
        try:
            try:
                answer = self._exchange(channel, request, caller)
            except _STALE:
                if not channel.reused:
                    raise
                channel.drop()
                answer = self._exchange(channel, request, caller)
        except (ValueError, UnicodeError, http.client.InvalidURL) as exc:
            channel.drop()
            return Answer(0, error=f"not sendable: {type(exc).__name__}")
        except _TRANSPORT as exc:
            channel.drop()
            self._transport_failure(request, caller, exc)
            return Answer(0, seconds=time.monotonic() - started, error=describe_error(exc))
        self.sent += 1
        self._failures = 0
        return answer

    def _transport_failure(self, request: RequestSpec, caller: str, exc: BaseException) -> None:
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
        ping = RequestSpec("GetPing", "GET", "/api/v4/system/ping")
        try:
            self._exchange(self._tcp, ping, "anonymous")
        except _TRANSPORT:
            self._tcp.drop()
            return False
        return True
