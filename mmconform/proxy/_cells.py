"""Cell faults for the proxy: ``grant:OPERATION:CALLER`` sends the caller's request on with the
system_admin token, ``deny:OPERATION:CALLER`` answers 403 in the server's place. The grammar is
the neutral floor's (``CellSpec``); the proxy adds its own limits: it never sees the local
socket, and system_admin cannot be granted more."""

from __future__ import annotations

import json

from mmconform._wire import ANONYMOUS, PERMISSION_ERROR_ID, ROLES, CellSpec
from mmconform.contract import load_contract
from mmconform.proxy._exchange import Answer, Exchange, new_request_id
from mmconform.proxy._mutation import Effect, Mutation

__all__ = ["cell_effect", "cell_mutation"]


class _Grant(Effect):
    def __init__(self, caller: str) -> None:
        self._caller = caller

    async def before(self, ex: Exchange) -> Answer | None:
        admin = ex.tokens.get("system_admin")
        if ex.caller == self._caller and admin is not None:
            ex.use_token(admin)
        return None


class _Deny(Effect):
    def __init__(self, caller: str) -> None:
        self._caller = caller

    async def before(self, ex: Exchange) -> Answer | None:
        if ex.caller != self._caller:
            return None
        assert ex.synthetic is not None
        request_id = new_request_id()
        body = json.dumps(
            {
                "id": PERMISSION_ERROR_ID,
                "message": "You do not have the appropriate permissions.",
                "detailed_error": "",
                "request_id": request_id,
                "status_code": 403,
            },
            separators=(",", ":"),
        ).encode("utf-8")
        answer = await ex.synthetic(403, body, "application/json")
        answer.set_header("X-Request-Id", request_id)
        return answer


def cell_mutation(text: str) -> Mutation:
    """The mutation a cell fault names (``ValueError`` naming what is wrong)."""
    known = {op.operation_id for op in load_contract().operations}
    if text.strip().split(":")[-1] == "local":
        raise ValueError(
            f"cell fault {text!r}: the proxy never sees the local socket (its target file "
            "keeps the server's own); callers: " + ", ".join((*ROLES, ANONYMOUS))
        )
    cell = CellSpec.parse(text, operations=known, callers=(*ROLES, ANONYMOUS))
    if cell.kind == "grant":
        if cell.caller == "system_admin":
            raise ValueError(f"cell fault {text!r}: system_admin cannot be granted more")
        description = f"{cell.operation} from {cell.caller} is sent on with the system_admin token"
    else:
        description = (
            f"{cell.operation} from {cell.caller} is refused with 403 `{PERMISSION_ERROR_ID}`, "
            "without being sent on"
        )
    return Mutation(str(cell), "fault", "permissions", (cell.operation,), description)


def cell_effect(mutation: Mutation) -> Effect:
    """The behaviour of a cell fault."""
    cell = CellSpec.parse(
        mutation.name, operations=mutation.operations, callers=(*ROLES, ANONYMOUS)
    )
    return _Grant(cell.caller) if cell.kind == "grant" else _Deny(cell.caller)
