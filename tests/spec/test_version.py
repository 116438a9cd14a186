"""mmconform._version.Version: parsing, headers, ordering, errors."""

from __future__ import annotations

import pytest

from mmconform._version import Version


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11.1", Version(11, 1, 0)),
        ("11.1.0", Version(11, 1, 0)),
        ("v10.4.0", Version(10, 4, 0)),
        ("V9.8", Version(9, 8, 0)),
        (" 5.28.0 ", Version(5, 28, 0)),
        ("3.10", Version(3, 10, 0)),
    ],
)
def test_parse(text: str, expected: Version) -> None:
    assert Version.parse(text) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("11.1.0.12345.abcdef.true", Version(11, 1, 0)),
        ("11.1.0.dev.hash.false", Version(11, 1, 0)),
        ("10.11.3.17.0a1b2c.false", Version(10, 11, 3)),
        ("9.8.0", Version(9, 8, 0)),
    ],
)
def test_from_header(header: str, expected: Version) -> None:
    assert Version.from_header(header) == expected


@pytest.mark.parametrize("junk", ["", "11", "eleven", "11.x", "11.1.0.1", "1.2.3-rc1", "v", "..."])
def test_parse_rejects_junk(junk: str) -> None:
    with pytest.raises(ValueError, match="not a server version"):
        Version.parse(junk)


@pytest.mark.parametrize("junk", ["", "dev", "11.1", "x.1.0.123", "11.1.x.1"])
def test_from_header_rejects_junk(junk: str) -> None:
    with pytest.raises(ValueError, match="X-Version-Id"):
        Version.from_header(junk)


def test_ordering_and_hashing() -> None:
    ordered = ["3.10", "5.9.9", "5.10", "9.6", "10.4.0", "10.11", "11.0", "11.0.1", "11.1"]
    versions = [Version.parse(v) for v in ordered]
    shuffled = [versions[i] for i in (4, 0, 8, 2, 6, 1, 7, 3, 5)]
    assert sorted(shuffled) == versions
    assert Version.parse("10.10") > Version.parse("10.9.99")
    assert Version.parse("11.1") == Version.parse("v11.1.0")
    assert len({Version.parse("11.1"), Version(11, 1, 0)}) == 1
    assert str(Version.parse("v11.1")) == "11.1.0"
    assert Version.parse(Version(1, 2, 3)) == Version(1, 2, 3)


def test_frozen_and_validated() -> None:
    version = Version(1, 2, 3)
    with pytest.raises(AttributeError):
        version.major = 2  # type: ignore[misc]
    with pytest.raises(ValueError, match="non-negative"):
        Version(-1, 0, 0)
    with pytest.raises(ValueError, match="string"):
        Version.parse(11.1)  # type: ignore[arg-type]
