"""Private building blocks of the mmconform pytest plugin.

Nothing here is a public interface: suites reach the harness through the fixtures in
``fixtures/`` and the options of :mod:`mmconform.plugin`.
"""
