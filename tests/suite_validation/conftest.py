"""Fixtures shared by the suite validations."""

from tests.suite_validation._faithful import faithful_gate

__all__ = ["faithful_gate"]
