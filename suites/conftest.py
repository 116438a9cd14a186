"""Every test under suites/ is a conformance test: it needs a target, and its presence is what
makes the plugin prepare one (the project's own tests under tests/ never do).

The hooks below are scoped by pytest to nodes under this directory, so no path test is needed
(and none that depends on the rootdir, which xdist workers may compute differently).
"""

from __future__ import annotations

import pytest

from mmconform.plugin import CONFORMANCE_MARK, activate


def pytest_collectstart(collector: pytest.Collector) -> None:
    # Suite modules build their schemathesis schema at import: prepare the target first.
    if isinstance(collector, pytest.Module):
        activate(collector.config)


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(getattr(pytest.mark, CONFORMANCE_MARK))
