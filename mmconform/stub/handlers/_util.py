"""Small helpers shared by the handler modules."""

from __future__ import annotations

from mmconform.stub._context import Ctx


def qfirst(ctx: Ctx, name: str) -> str | None:
    """The first value of a query parameter (Go's ``URL.Query().Get``), None when absent."""
    values = ctx.query.getlist(name)
    return values[0] if values else None


def qget(ctx: Ctx, name: str) -> str:
    """Like ``qfirst`` but "" when absent."""
    return qfirst(ctx, name) or ""
