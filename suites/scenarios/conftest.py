"""Hooks and fixtures of the scenario suites, defined in ``support_test.py`` (see its docstring
for why there and not here)."""

from suites.scenarios.support_test import admin_config, verdict

__all__ = ["admin_config", "verdict"]
