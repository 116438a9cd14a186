"""A pytest plugin for the requirement map test: after collection it prints, for every
conformance test, its suite and the requirements it cites, then stops.

It runs before the mmconform selection, so tests the target's version or edition would
deselect (Team Edition only scenarios against the Enterprise stub) are listed too."""

from __future__ import annotations

from collections.abc import Generator

import pytest

PREFIX = "mm-requirement-map\t"


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    for item in items:
        if item.get_closest_marker("conformance") is None:
            continue
        parts = item.nodeid.split("/")
        suite = parts[1] if len(parts) > 2 and parts[0] == "suites" else "suites"
        cited = [str(r) for mark in item.iter_markers("mm_requirement") for r in mark.args]
        print(f"{PREFIX}{item.nodeid}\t{suite}\t{','.join(cited)}")
    yield
