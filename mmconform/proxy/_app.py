"""The proxy as a Starlette app: receive, mutate, forward with httpx, mutate, answer."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mmconform._wire import TargetFile
from mmconform.contract import load_contract
from mmconform.proxy._catalogue import effect_of
from mmconform.proxy._exchange import Answer, Exchange, new_request_id
from mmconform.proxy._mutation import Effect, Mutation
from mmconform.proxy._routing import OperationRouter, caller_of, token_of

__all__ = ["ProxyEngine", "build_app"]

# RFC 9110 7.6.1 hop-by-hop fields, plus the ones that only ever meant something to one hop.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Request headers the proxy sets itself.
_REQUEST_OWN = frozenset({"host", "content-length", "accept-encoding", "expect"})
# Answer headers about framing: the proxy decodes the upstream body and frames its own.
_ANSWER_FRAMING = frozenset({"content-length", "transfer-encoding", "content-encoding"})
# Headers a synthetic answer copies from the server's latest answer.
_TEMPLATE_HEADERS = frozenset(
    {
        "x-version-id",
        "permissions-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
        "strict-transport-security",
        "content-security-policy",
        "x-cluster-id",
    }
)
_UPSTREAM_ACCEPT_ENCODING = "gzip, deflate"
_CHUNK = 16 * 1024


def _connection_named(value: str) -> set[str]:
    return {token.strip().lower() for token in value.split(",") if token.strip()}


@dataclass
class _Mutator:
    mutation: Mutation
    effect: Effect


class ProxyEngine:
    """Forwards requests to the upstream target and applies the mutations, in order."""

    def __init__(
        self,
        upstream: TargetFile,
        mutations: Sequence[Mutation],
        *,
        timeout: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.upstream = upstream
        self.mutations = tuple(mutations)
        self._mutators = [_Mutator(m, effect_of(m)) for m in self.mutations]
        self._router = OperationRouter(load_contract())
        self._base = httpx.URL(upstream.url)
        self._prefix = self._base.raw_path.decode("ascii").split("?", 1)[0].rstrip("/")
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._template: list[tuple[str, str]] = []
        self._roles_by_token = dict(upstream.roles_by_token)

    # -- lifecycle ------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._client = self._new_client()
        try:
            yield
        finally:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:  # served without the lifespan (e.g. an ASGI test transport)
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self._timeout, connect=10.0),
            trust_env=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=self._transport,
        )

    # -- one request ----------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        scope = request.scope
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        raw_path_text = raw_path.decode("latin-1").split("?", 1)[0]
        query = scope.get("query_string", b"").decode("latin-1")
        connection_named = _connection_named(request.headers.get("connection", ""))
        headers: dict[str, str] = {}
        for key_bytes, value_bytes in scope["headers"]:
            key = key_bytes.decode("latin-1").lower()
            if key in _HOP_BY_HOP or key in _REQUEST_OWN or key in connection_named:
                continue
            value = value_bytes.decode("latin-1")
            if key in headers:
                headers[key] = headers[key] + ("; " if key == "cookie" else ", ") + value
            else:
                headers[key] = value
        token = token_of(headers, query)
        operation = self._router.operation(request.method, scope["path"])
        ex = Exchange(
            method=request.method,
            raw_path=raw_path_text,
            path=scope["path"],
            query=query,
            headers=headers,
            body=await request.body(),
            operation=operation,
            caller=caller_of(token, self._roles_by_token),
            token=token,
            tokens={role: t.reveal() for role, t in self.upstream.tokens.items()},
            accept_encoding=request.headers.get("accept-encoding", ""),
            refetch=self._refetch,
            synthetic=self._synthetic,
        )
        active = [m for m in self._mutators if m.mutation.applies_to(ex.operation_id)]
        answer: Answer | None = None
        for mutator in active:
            answer = await mutator.effect.before(ex)
            if answer is not None:
                break
        if answer is None:
            answer = await self._forward(ex)
            for mutator in active:
                await mutator.effect.after(ex, answer)
        else:
            # An answer the proxy made up still gets the answer-side mutations (wire variants).
            for mutator in active:
                if mutator.mutation.kind == "benign":
                    await mutator.effect.after(ex, answer)
        return _WireResponse(answer, head=request.method == "HEAD")

    async def _forward(self, ex: Exchange) -> Answer:
        target = self._prefix + ex.raw_path + (f"?{ex.query}" if ex.query else "")
        url = self._base.copy_with(raw_path=target.encode("latin-1"))
        headers = [(k, v) for k, v in ex.headers.items()]
        headers.append(("accept-encoding", _UPSTREAM_ACCEPT_ENCODING))
        upstream_request = httpx.Request(
            ex.method, url, headers=headers, content=ex.body if ex.body else None
        )
        try:
            # Built by hand and sent with send(): no cookie jar, no default headers of the
            # client, no redirects followed.
            response = await self._http().send(upstream_request)
        except httpx.HTTPError as exc:
            return Answer(
                502,
                [("Content-Type", "text/plain; charset=utf-8")],
                f"mmconform proxy: no answer from {self.upstream.url}: "
                f"{type(exc).__name__}: {exc}".encode(),
            )
        return self._answer_of(ex.method, response)

    def _answer_of(self, method: str, response: httpx.Response) -> Answer:
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
        connection_named: set[str] = set()
        for key, value in raw:
            if key.lower() == "connection":
                connection_named |= _connection_named(value)
        kept: list[tuple[str, str]] = []
        head_length: str | None = None
        for key, value in raw:
            lowered = key.lower()
            if lowered == "content-length" and method == "HEAD":
                head_length = value
            if lowered in _HOP_BY_HOP or lowered in _ANSWER_FRAMING or lowered in connection_named:
                continue
            kept.append((key, value))
        template = [(k, v) for k, v in kept if k.lower() in _TEMPLATE_HEADERS]
        if any(k.lower() == "x-version-id" for k, _ in template):
            self._template = template
        return Answer(response.status_code, kept, response.content, head_length=head_length)

    async def _refetch(self, ex: Exchange, token: str | None) -> Answer:
        again = Exchange(
            method=ex.method,
            raw_path=ex.raw_path,
            path=ex.path,
            query=ex.query,
            headers=dict(ex.headers),
            body=ex.body,
            operation=ex.operation,
            caller=ex.caller,
            token=token,
        )
        again.use_token(token)
        return await self._forward(again)

    async def _synthetic(self, status: int, body: bytes, media_type: str) -> Answer:
        """An answer made by the proxy, with the headers the server sends on every answer."""
        if not self._template:
            ping = Exchange(
                method="GET",
                raw_path="/api/v4/system/ping",
                path="/api/v4/system/ping",
                query="",
                headers={},
                body=b"",
                operation=None,
                caller="anonymous",
                token=None,
            )
            await self._forward(ping)
        headers = [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Content-Type", media_type),
            ("X-Request-Id", new_request_id()),
            *self._template,
        ]
        return Answer(status, headers, body)


class _WireResponse(Response):
    """Sends an Answer as it is: header names in their own case, framing chosen here."""

    def __init__(self, answer: Answer, *, head: bool) -> None:
        self.answer = answer
        self.head = head
        self.status_code = answer.status
        self.background = None
        self.body = b""
        self.raw_headers = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self.answer
        headers = [(k, v) for k, v in answer.headers if k.lower() not in _ANSWER_FRAMING]
        body = answer.body
        no_body = answer.status < 200 or answer.status in (204, 304)
        if answer.gzip and body and not no_body:
            body = gzip.compress(body, compresslevel=6)
            headers.append(("Content-Encoding", "gzip"))
            vary = [v for k, v in headers if k.lower() == "vary"]
            if not any("accept-encoding" in v.lower() for v in vary):
                headers.append(("Vary", "Accept-Encoding"))
        chunks: list[bytes]
        if no_body:
            chunks = []
        elif self.head:
            if answer.head_length is not None and not answer.gzip and not answer.chunked:
                headers.append(("Content-Length", answer.head_length))
            chunks = []
        elif answer.chunked:
            chunks = [body[i : i + _CHUNK] for i in range(0, len(body), _CHUNK)] or [b""]
            if len(chunks) == 1 and len(body) > 1:  # at least two chunks on the wire
                chunks = [body[: len(body) // 2], body[len(body) // 2 :]]
        else:
            headers.append(("Content-Length", str(len(body))))
            chunks = [body]
        if answer.header_case is not None:
            headers = [(answer.header_case(k), v) for k, v in headers]
        raw = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
        if answer.delay > 0:
            await asyncio.sleep(answer.delay)
        await send({"type": "http.response.start", "status": answer.status, "headers": raw})
        if not chunks:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})


class _Endpoint:
    """An ASGI endpoint (not a function, which Starlette would limit to GET): every method,
    QUERY and TRACE included, goes to the server."""

    def __init__(self, engine: ProxyEngine) -> None:
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.engine.handle(Request(scope, receive))
        await response(scope, receive, send)


def build_app(engine: ProxyEngine) -> Starlette:
    return Starlette(
        routes=[Route("/{path:path}", _Endpoint(engine), methods=None)],
        lifespan=engine.lifespan,
    )
