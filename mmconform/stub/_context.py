"""The per-request context handed to every handler, and the operation descriptor."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from mmconform._version import Version
from mmconform.stub._auth import Session
from mmconform.stub._compat import Behaviour
from mmconform.stub._errors import AppError, permission_error
from mmconform.stub._state import StubState
from mmconform.stub.faults import Fault
from mmconform.stub.variants import Variant

Handler = Callable[["Ctx"], Awaitable[Response]]
AuthKind = Literal["none", "session", "trust", "local_only"]


@dataclass(frozen=True)
class Op:
    """One declared operation: method, path template, wrapper kind and handler."""

    name: str
    method: str
    path: str
    handler: Handler
    auth: AuthKind = "session"
    tcp: bool = True
    local: bool = False
    file_api: bool = False
    since: str | None = None  # first server version that has the operation
    until: str | None = None  # first server version that no longer has it
    local_since: str | None = None  # first version that serves it on the local socket

    def exists_in(self, version: Version) -> bool:
        if self.since is not None and version < Version.parse(self.since):
            return False
        return self.until is None or version < Version.parse(self.until)

    def served_locally_in(self, version: Version) -> bool:
        if not self.local or not self.exists_in(version):
            return False
        return self.local_since is None or version >= Version.parse(self.local_since)


class BodyTooLarge(Exception):
    """Reading the body went past the size limit (Go's ``*http.MaxBytesError``): the handler
    decides what that means, as each real handler does."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"http: request body too large (limit {limit} bytes)")
        self.limit = limit


# Go's http.MaxBytesReader is set up with the limit plus bytes.MinRead.
_READ_SLACK = 512


class Ctx:
    """What a handler sees: the request, the state, the caller and helpers."""

    def __init__(
        self,
        request: Request,
        state: StubState,
        session: Session,
        request_id: str,
        op: Op,
        path_params: Mapping[str, str],
        *,
        local: bool,
    ) -> None:
        self.request = request
        self.state = state
        self.session = session
        self.request_id = request_id
        self.op = op
        self.path_params = dict(path_params)
        self.local = local
        self.query: QueryParams = request.query_params
        self._body: bytes | None = None
        self._too_large = False

    # -- faults, variants and behaviour ------------------------------------------------------
    def fault(self, fault: Fault) -> bool:
        return fault in self.state.faults

    def variant(self, variant: Variant) -> bool:
        return variant in self.state.variants

    def refused_by(self, variant: Variant, error: AppError) -> AppError:
        """``error``, counted as a refusal of ``variant`` (input upstream would accept)."""
        with self.state.lock:
            self.state.variant_refusals[variant] += 1
        return error

    @property
    def behaviour(self) -> Behaviour:
        return self.state.behaviour

    # -- body ---------------------------------------------------------------------------------
    def body_limit(self) -> int:
        """How many bytes of body a handler may read: FileSettings.MaxFileSize for file uploads
        (and for every route before the payload limit existed), otherwise
        ServiceSettings.MaximumPayloadSizeBytes; plus the read slack Go adds."""
        if self.op.file_api or not self.behaviour.payload_limits:
            limit = self.state.setting("FileSettings", "MaxFileSize")
            fallback = 104857600
        else:
            limit = self.state.setting("ServiceSettings", "MaximumPayloadSizeBytes")
            fallback = 300000
        return (limit if isinstance(limit, int) and limit > 0 else fallback) + _READ_SLACK

    async def body(self) -> bytes:
        """The request body, read with a bound; reading past it raises :class:`BodyTooLarge`."""
        if self._body is not None:
            return self._body
        limit = self.body_limit()
        if self._too_large:
            raise BodyTooLarge(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.request.stream():
            size += len(chunk)
            if size > limit:
                self._too_large = True
                raise BodyTooLarge(limit)
            chunks.append(chunk)
        self._body = b"".join(chunks)
        return self._body

    def too_large(self, otherwise: AppError) -> AppError:
        """What a handler that passes its read error on answers for an oversized body: 413 where
        the server maps that error, else the handler's own error."""
        if self.behaviour.payload_limits:
            return AppError(
                413,
                "api.context.request_body_too_large.app_error",
                params={"MaxSize": self.body_limit() - _READ_SLACK},
            )
        return otherwise

    # -- permissions --------------------------------------------------------------------------
    def has_permission(self, perm: str) -> bool:
        return self.session.has_permission(perm)

    @property
    def restrict_on(self) -> bool:
        """ExperimentalSettings.RestrictSystemAdmin is on (whoever the caller is)."""
        return self.state.restrict_system_admin

    def is_restricted(self) -> bool:
        """A non-local session while ExperimentalSettings.RestrictSystemAdmin is on."""
        return not self.session.local and self.restrict_on

    def require(self, perm: str, *, not_restricted: bool = False) -> None:
        """Permission check; ``not_restricted`` adds the RestrictSystemAdmin rule of the version:
        newer servers refuse every non-local caller with the permission error, older ones check
        the permission first and then refuse with ``api.restricted_system_admin``."""
        if not_restricted and self.is_restricted():
            if self.behaviour.legacy_restricted_errors and self.has_permission(perm):
                raise AppError(403, "api.restricted_system_admin")
            raise permission_error(self.session.user_id, perm)
        if not self.has_permission(perm):
            raise permission_error(self.session.user_id, perm)

    # -- responses ----------------------------------------------------------------------------
    def json(
        self,
        obj: Any,
        status: int = 200,
        *,
        headers: Mapping[str, str] | None = None,
        sort_keys: bool = False,
        newline: bool = False,
    ) -> Response:
        text = json.dumps(obj, sort_keys=sort_keys, separators=(",", ":"))
        if newline:
            text += "\n"
        return Response(
            text.encode(),
            status_code=status,
            headers=dict(headers or {}),
            media_type="application/json",
        )

    def raw_json(
        self, body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        return Response(
            body, status_code=status, headers=dict(headers or {}), media_type="application/json"
        )

    def ok(self, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return self.raw_json(b'{"status":"OK"}', status, headers)

    def plain_text(self, text: str, status: int) -> Response:
        """Go's ``http.Error``: the text and a newline as text/plain, no AppError."""
        return Response(
            (text + "\n").encode(), status_code=status, media_type="text/plain; charset=utf-8"
        )


NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate"}


def go_atoi(raw: str | None) -> int | None:
    """strconv.Atoi: optional sign and decimal digits within int64, else None."""
    if raw is None:
        return None
    text = raw
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    if not -(2**63) <= value <= 2**63 - 1:
        return None
    return value


def go_parse_bool(raw: str | None) -> bool | None:
    """strconv.ParseBool."""
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None
