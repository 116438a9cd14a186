"""Root conftest: loads the mmconform plugin and the shared fixtures.

The plugin is normally registered through its ``pytest11`` entry point (``mmconform``). It is
only loaded from here when that did not happen (package not installed, or
``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set), so it is never registered twice.
"""

from __future__ import annotations

import sys

_FIXTURES = [
    "fixtures.target",
    "fixtures.roles",
    "fixtures.clients",
    "fixtures.state",
    "fixtures.data",
    "fixtures.conditions",
]

# pytest imports entry-point plugins before any conftest, so the module being imported already
# means the entry point registered it.
pytest_plugins = (
    _FIXTURES if "mmconform.plugin" in sys.modules else ["mmconform.plugin", *_FIXTURES]
)
