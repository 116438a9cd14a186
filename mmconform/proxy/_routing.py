"""Which operation a request is, and who sends it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from mmconform.contract import ANONYMOUS, Contract, Operation

__all__ = ["UNKNOWN_CALLER", "OperationRouter", "caller_of", "token_of"]

#: a token the target file does not name (the server decides what it is)
UNKNOWN_CALLER = "unknown"


class OperationRouter:
    """Maps a request (method, path below the proxy's root) to its contract operation.

    Paths without parameters win over templated ones (``/system/notices/view`` is not a team id).
    """

    def __init__(self, contract: Contract) -> None:
        fixed: list[tuple[str, str, Operation]] = []
        templated: list[tuple[str, re.Pattern[str], Operation]] = []
        for operation in contract.operations:
            # Contract.find is the contract's own lookup by route; going through it keeps the
            # proxy on the same table the suites use.
            found = contract.find(operation.method, operation.path)
            if "{" not in operation.path:
                fixed.append((found.method, found.path, found))
            else:
                pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(found.path))
                templated.append((found.method, re.compile(f"^{pattern}$"), found))
        self._fixed = {(method, path): op for method, path, op in fixed}
        self._templated = templated

    def operation(self, method: str, path: str) -> Operation | None:
        method = method.upper()
        path = path.rstrip("/") or "/"
        found = self._fixed.get((method, path))
        if found is not None:
            return found
        for candidate_method, pattern, op in self._templated:
            if candidate_method == method and pattern.match(path):
                return op
        return None


def token_of(headers: Mapping[str, str], query_string: str) -> str | None:
    """The token a Mattermost server would read: the Authorization header (Bearer or Token),
    the MMAUTHTOKEN cookie, or ``access_token`` in the query."""
    authorization = headers.get("authorization", "").strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip()
    cookie_header = headers.get("cookie", "")
    if cookie_header:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except CookieError:
            pass
        else:
            morsel = cookies.get("MMAUTHTOKEN")
            if morsel is not None and morsel.value:
                return morsel.value
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key == "access_token" and value:
            return value
    return None


def caller_of(token: str | None, roles_by_token: Mapping[str, str]) -> str:
    """The role whose token this is, ``anonymous`` without one, ``unknown`` for a stranger."""
    if token is None:
        return ANONYMOUS
    return roles_by_token.get(token, UNKNOWN_CALLER)
