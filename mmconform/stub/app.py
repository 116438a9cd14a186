"""The Starlette application: routing, identity, wrappers, headers, errors, audits.

One raw ASGI dispatcher (mounted at ``/``) does the whole request pipeline, in the real server's
order: URL length, routing, token parsing, session and CSRF checks, handler, error rendering,
common headers, audit record. A request no route takes (an unknown path, a declared path with
another method, a path parameter that does not match) reaches the router's catch-all, a plain
handler outside that pipeline: 404 with neither X-Request-Id nor X-Version-Id.
"""

from __future__ import annotations

import dataclasses
import json
import re
import traceback
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from mmconform._wire import CellSpec
from mmconform.stub._auth import ANONYMOUS, Credential, Session
from mmconform.stub._context import Ctx, Op
from mmconform.stub._errors import (
    AppError,
    new_id,
    permission_error,
    render_message,
    session_expired,
)
from mmconform.stub._options import StubOptions
from mmconform.stub._state import StubState
from mmconform.stub.cell_faults import check_cell_faults
from mmconform.stub.faults import Fault
from mmconform.stub.handlers import INFRASTRUCTURE, OPERATIONS

_PARAM_RE = re.compile(r"\{(\w+)\}")


class _Route:
    def __init__(self, template: str) -> None:
        self.template = template
        self.ops: dict[str, Op] = {}
        pattern = _PARAM_RE.sub(lambda m: f"(?P<{m.group(1)}>[A-Za-z0-9]+)", template)
        self.regex = re.compile(f"^{pattern}$") if "{" in template else None


class Router:
    """Exact paths first, then templated ones (the notices route)."""

    def __init__(self, ops: list[Op]) -> None:
        self.exact: dict[str, _Route] = {}
        self.templated: list[_Route] = []
        for op in ops:
            if "{" in op.path:
                route = next((r for r in self.templated if r.template == op.path), None)
                if route is None:
                    route = _Route(op.path)
                    self.templated.append(route)
            else:
                route = self.exact.setdefault(op.path, _Route(op.path))
            route.ops[op.method] = op

    def resolve(self, path: str, method: str) -> tuple[Op | None, dict[str, str]]:
        """The operation for ``method path`` and its path parameters (None: the catch-all)."""
        route = self.exact.get(path)
        if route is not None and method in route.ops:
            return route.ops[method], {}
        for templ in self.templated:
            assert templ.regex is not None
            match = templ.regex.match(path)
            if match is not None and method in templ.ops:
                return templ.ops[method], match.groupdict()
        return None, {}


def catch_all_404(path: str) -> Response:
    """The router's catch-all (Handle404): an AppError without request_id, always with a
    detailed_error, and none of the headers the normal request pipeline adds."""
    detail = (
        f"There doesn't appear to be an api call for the url='{path}'.  "
        "Typo? are you missing a team_id or user_id as part of the url?"
    )
    body = {
        "id": "api.context.404.app_error",
        "message": render_message("api.context.404.app_error"),
        "detailed_error": detail,
        "status_code": 404,
    }
    return Response(
        json.dumps(body, separators=(",", ":")).encode(),
        status_code=404,
        media_type="application/json",
    )


class Dispatcher:
    """The raw ASGI app behind the Starlette shell."""

    def __init__(self, state: StubState, *, local: bool) -> None:
        self.state = state
        self.local = local
        version = state.behaviour.version
        # Every operation of the version is routed; those this transport does not serve go to
        # the catch-all, unless a cell fault grants the caller the route. The user routes
        # provisioning needs are routed beside them.
        ops = [op for op in (*OPERATIONS, *INFRASTRUCTURE) if op.exists_in(version)]
        self.router = Router(ops)
        self.served = {op.name: op.served_locally_in(version) if local else op.tcp for op in ops}
        tcp_integrity = not local and Fault.INTEGRITY_OVER_TCP in state.faults
        if tcp_integrity and "CheckIntegrity" in self.served:
            self.served["CheckIntegrity"] = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope, receive)
        op, params = self.router.resolve(request.scope.get("path", "/"), request.method)
        if op is not None and not self.served[op.name] and not self._granted_route(request, op):
            op = None
        if op is None:
            response = catch_all_404(request.scope.get("path", "/"))
        else:
            response = await self.handle(request, op, params)
        await response(scope, receive, send)

    # ------------------------------------------------------------------------------------------
    async def handle(self, request: Request, op: Op, params: dict[str, str]) -> Response:
        state = self.state
        request_id = new_id()
        session = Session(local=self.local)
        if state.behaviour.payload_limits and self._url_too_long(request):
            # basicSecurityChecks refuses before the pipeline writes any of its headers
            return self._error_response(
                AppError(414, "basic_security_check.url.too_long_error"), request_id
            )
        try:
            if not self.local:
                session = self._authenticate(request, op)
            if state.cell_faults:
                session = self._cell_fault(op, session)
            if session.user is None and _session_check_skipped(op, state.faults):
                pass
            elif op.auth in ("session", "trust") and session.anonymous:
                raise session_expired("UserRequired")
            ctx = Ctx(request, state, session, request_id, op, params, local=self.local)
            response = await op.handler(ctx)
        except AppError as err:
            response = self._error_response(err, request_id)
        except HTTPException as exc:  # raised by Starlette's own parsers: a client error
            status = exc.status_code if 400 <= exc.status_code < 500 else 400
            response = self._error_response(
                AppError(
                    status,
                    "api.context.invalid_body_param.app_error",
                    params={"Name": "body"},
                    detailed=str(exc.detail),
                ),
                request_id,
            )
        except Exception as exc:  # the catch-all: still an AppError, never a crash
            state.log(
                "error",
                "Unhandled error in a handler",
                error=repr(exc),
                trace=traceback.format_exc(limit=5),
            )
            response = self._error_response(
                AppError(500, "api.context.internal_error.app_error", detailed=repr(exc)),
                request_id,
            )
        self._common_headers(request, response, request_id)
        if session.user is not None:
            client = request.client
            state.add_audit(
                session.user,
                request.url.path,
                client.host if client else "",
                f"method={request.method} status={response.status_code}",
                session_id=session.session_id,
            )
        return response

    # ------------------------------------------------------------------------------------------
    def _cell_fault(self, op: Op, session: Session) -> Session:
        """A cell fault for this operation and caller: ``deny`` refuses the caller here,
        ``grant`` lets it through every access check of the handler."""
        faults = self.state.cell_faults
        caller = session.role
        if CellSpec("deny", op.name, caller) in faults:
            raise permission_error(session.user_id, f"{op.name} denied to {caller} (cell fault)")
        if CellSpec("grant", op.name, caller) in faults:
            return dataclasses.replace(session, granted=True)
        return session

    def _granted_route(self, request: Request, op: Op) -> bool:
        """Whether a cell fault grants the caller a route this transport does not serve."""
        faults = self.state.cell_faults
        if not faults:
            return False
        if self.local:
            caller = "local"
        else:
            token, _ = _parse_token(request)
            found = self.state.directory.resolve(token) if token else None
            caller = found[0].role if found is not None else ANONYMOUS
        return CellSpec("grant", op.name, caller) in faults

    def _url_too_long(self, request: Request) -> bool:
        path = request.scope.get("path", "/")
        raw_path = request.scope.get("raw_path") or path.encode()
        query = request.scope.get("query_string", b"")
        max_url = self.state.setting("ServiceSettings", "MaximumURLLength")
        url_len = len(raw_path) + (len(query) + 1 if query else 0)
        return isinstance(max_url, int) and max_url > 0 and url_len > max_url

    # ------------------------------------------------------------------------------------------
    def _authenticate(self, request: Request, op: Op) -> Session:
        """Token parsing (header, cookie, query), session lookup, CSRF (web/handlers.go)."""
        token, location = _parse_token(request)
        if not token:
            return Session()
        requires_session = op.auth in ("session", "trust")
        found = self.state.directory.resolve(token)
        refusal = None if found is not None else f"token={token[:8]}…"
        if found is not None:
            user, credential, access = found
            if access is not None and not self.state.setting(
                "ServiceSettings", "EnableUserAccessTokens"
            ):
                # a user-access-token session while the feature is off
                refusal = "EnableUserAccessTokens=false"
            elif access is not None and not access.is_active:
                refusal = "inactive_token"
            elif not user.active:
                refusal = f"inactive_user_id={user.id}"
        if refusal is not None:
            if requires_session:
                raise session_expired(refusal)
            return Session()
        assert found is not None
        user, credential, _ = found
        if location == "query":
            raise AppError(
                401, "api.context.token_provided.app_error", detailed=f"token={token[:8]}…"
            )
        if (
            location == "cookie"
            and requires_session
            and op.auth != "trust"
            and request.method != "GET"
            and not self._csrf_ok(request, credential)
        ):
            raise session_expired(f"token={token[:8]}… Appears to be a CSRF attempt")
        return Session(user=user, credential=credential)

    def _csrf_ok(self, request: Request, credential: Credential) -> bool:
        header = request.headers.get("x-csrf-token", "")
        if header and header == credential.csrf_token:
            return True
        strict = self.state.setting("ServiceSettings", "ExperimentalStrictCSRFEnforcement")
        return not strict and request.headers.get("x-requested-with", "") == "XMLHttpRequest"

    def _error_response(self, err: AppError, request_id: str) -> Response:
        state = self.state
        headers = dict(err.headers)
        if Fault.ERROR_BODY_PLAIN_TEXT in state.faults:
            return Response(
                err.message.encode(),
                status_code=err.status,
                headers=headers,
                media_type="text/plain; charset=utf-8",
            )
        payload: dict[str, Any] = err.to_json(request_id, developer=state.developer)
        if Fault.REQUEST_ID_BODY_MISMATCH in state.faults:
            payload["request_id"] = new_id()
        if Fault.APP_ERROR_STATUS_CODE_MISMATCH in state.faults:
            payload["status_code"] = 500 if err.status != 500 else 400
        if err.status >= 500 and state.setting("ServiceSettings", "ExperimentalEnableHardenedMode"):
            payload = {
                "id": "",
                "message": "Internal Server Error",
                "detailed_error": "",
                "request_id": request_id,
                "status_code": 500,
            }
        body = json.dumps(payload, separators=(",", ":")).encode()
        return Response(
            body, status_code=err.status, headers=headers, media_type="application/json"
        )

    def _common_headers(self, request: Request, response: Response, request_id: str) -> None:
        headers = response.headers
        if Fault.MISSING_REQUEST_ID_HEADER not in self.state.faults:
            headers["X-Request-Id"] = request_id
        headers["X-Version-Id"] = self.state.version_header()
        headers["Permissions-Policy"] = ""
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        if (
            Fault.JSON_CONTENT_TYPE_WITH_CHARSET in self.state.faults
            and headers.get("content-type") == "application/json"
        ):
            headers["content-type"] = "application/json; charset=utf-8"
        if request.method == "GET" and "expires" not in headers:
            headers["Expires"] = "0"


#: operation -> the fault that lets a caller without a session through to its handler
_SESSION_CHECK_FAULTS = {
    "GetSupportedTimezone": Fault.TIMEZONES_IGNORE_AUTH,
    "DatabaseRecycle": Fault.DATABASE_RECYCLE_WITHOUT_SESSION,
}


def _session_check_skipped(op: Op, faults: frozenset[Fault]) -> bool:
    fault = _SESSION_CHECK_FAULTS.get(op.name)
    return fault is not None and fault in faults


def _parse_token(request: Request) -> tuple[str, str]:
    """ParseAuthTokenFromRequest: header (Bearer/Token, any case), cookie, query."""
    auth = request.headers.get("authorization", "")
    # as Go does: the scheme is compared case-insensitively, the separator is not checked
    if len(auth) > 6 and auth[:6].lower() == "bearer":
        return auth[7:], "header"
    if len(auth) > 5 and auth[:5].lower() == "token":
        return auth[6:], "header"
    cookie_header = request.headers.get("cookie")
    if cookie_header:
        cookie = SimpleCookie()
        try:
            cookie.load(cookie_header)
        except CookieError:
            cookie = SimpleCookie()
        morsel = cookie.get("MMAUTHTOKEN")
        if morsel is not None and morsel.value:
            return morsel.value, "cookie"
    token = request.query_params.get("access_token")
    if token:
        return token, "query"
    return "", ""


def build_app(state: StubState, *, local: bool = False) -> Starlette:
    """A Starlette app serving ``state`` (TCP router, or the local-mode router)."""
    check_cell_faults(state.cell_faults)
    app = Starlette(routes=[Mount("/", app=Dispatcher(state, local=local))])
    app.state.stub = state
    app.state.local = local
    return app


def create_app(
    options: StubOptions | None = None, *, state: StubState | None = None, local: bool = False
) -> Starlette:
    """Create the stub's Starlette app (a fresh state unless one is given)."""
    if state is None:
        state = StubState(options or StubOptions())
    return build_app(state, local=local)


def headers_of(response: Response) -> Mapping[str, str]:
    return response.headers
