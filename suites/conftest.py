"""This directory holds the conformance suites: every test under it needs a target.

The declaration below is how the mmconform plugin knows (it reads it from this conftest); the
hooks are scoped by pytest to nodes under this directory.
"""

from __future__ import annotations

import pytest

from mmconform.harness import CONFORMANCE_MARK, session_of

MMCONFORM_SUITES = True


def pytest_collectstart(collector: pytest.Collector) -> None:
    # Suites plan their parameters from the target (pytest_generate_tests) and the contract
    # suite builds its generated tests for it: prepare the target before any module.
    if isinstance(collector, pytest.Module):
        session_of(collector.config).activate()


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(getattr(pytest.mark, CONFORMANCE_MARK))
