"""Named variants: correct servers that are stricter than upstream Mattermost.

Where real servers accept input the seed's schema calls invalid (a malformed log body, a missing
query parameter, paging that is no integer), a server may instead reject that input with a 400
AppError and still conform (spec/README.md, "Tolerance policy"). A variant switches the stub to
that stricter answer for a few operations, so the project's own tests can show that the suites
pass such a server. Unlike a fault (``faults.Fault``), a variant breaks no promise.

Start one with ``StubOptions(variants=frozenset({Variant.STRICT_POSTLOG}))`` or
``--variant strict-postlog``. Each variant is described once, in ``_DESCRIPTIONS``; the stub
README's table repeats that text (a test keeps the two equal).
"""

from __future__ import annotations

import enum


class Variant(enum.Enum):
    """A stricter-than-upstream behaviour the contract also accepts."""

    STRICT_POSTLOG = "strict-postlog"
    STRICT_NOTICES_QUERY = "strict-notices-query"
    STRICT_AUDITS_PAGING = "strict-audits-paging"
    STRICT_CONNECTION_TESTS = "strict-connection-tests"

    @classmethod
    def parse(cls, name: str) -> Variant:
        """Look a variant up by its name (``strict-postlog``; case and ``_`` are ignored)."""
        wanted = name.strip().lower().replace("_", "-")
        for variant in cls:
            if variant.value == wanted:
                return variant
        known = ", ".join(v.value for v in cls)
        raise ValueError(f"unknown variant {name!r}; known variants: {known}")

    @property
    def description(self) -> str:
        """What the variant refuses that upstream accepts (Markdown, one line)."""
        return _DESCRIPTIONS[self]

    @property
    def operations(self) -> tuple[str, ...]:
        """The operationIds whose answers the variant changes."""
        return _OPERATIONS[self]


_DESCRIPTIONS: dict[Variant, str] = {
    Variant.STRICT_POSTLOG: (
        "POST /logs answers 400 to a body that is no JSON object with string `level` and `message`"
    ),
    Variant.STRICT_NOTICES_QUERY: (
        "GET /system/notices/{teamId} answers 400 when `clientVersion` is missing"
    ),
    Variant.STRICT_AUDITS_PAGING: (
        "GET /audits answers 400 when `page` or `per_page` is not an integer"
    ),
    Variant.STRICT_CONNECTION_TESTS: (
        "POST /email/test and /file/s3_test answer 400 to a body that does not decode as a "
        "configuration"
    ),
}

_OPERATIONS: dict[Variant, tuple[str, ...]] = {
    Variant.STRICT_POSTLOG: ("PostLog",),
    Variant.STRICT_NOTICES_QUERY: ("GetNotices",),
    Variant.STRICT_AUDITS_PAGING: ("GetAudits",),
    Variant.STRICT_CONNECTION_TESTS: ("TestEmail", "TestS3Connection"),
}

__all__ = ["Variant"]
