"""Installed through its entry point, the plugin is loaded by every pytest run on the machine.
Outside a conformance run it must change nothing: the same collection, node ids, outcomes,
header and exit code as a run with the plugin disabled.

Both runs of each pair go through pytest's ``pytester`` in this process: the entry point loads
the plugin there as it does in a fresh interpreter, and ``-p no:mmconform`` keeps it out.
"""

from __future__ import annotations

import re

import pytest

from tests._inprocess import clean_environment, run_inprocess

PROJECT_TESTS = """
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_a(n):
    assert n

@pytest.mark.parametrize("word", ["x", "y"], ids=["first", "second"])
def test_words(word):
    assert word

class TestGroup:
    @pytest.mark.parametrize("n", [10, 20])
    def test_in_class(self, n):
        assert n

    def test_fails(self):
        assert False, "a genuine failure"

def test_plain():
    pass
"""

INVOCATIONS = [
    pytest.param(("--co", "-q"), id="collect-only"),
    pytest.param(("-v",), id="everything"),
    pytest.param(("test_things.py::test_a[1]",), id="one-parametrized-node-id"),
    pytest.param(("test_things.py::TestGroup::test_in_class[20]", "-v"), id="class-node-id"),
    pytest.param(("test_things.py::test_a[9]",), id="node-id-not-found"),
    pytest.param(("-k", "a and 2"), id="keyword"),
    pytest.param(("-k", "plain or second", "-rA"), id="keyword-report"),
    pytest.param(("-m", "nothing"), id="nothing-selected"),
    pytest.param(("tests_sub",), id="subdirectory"),
]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """An unrelated project: its own tests, a subfolder, and a folder named like ours."""
    clean_environment(monkeypatch)
    root = pytester.path
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:randomly\n", encoding="utf-8")
    (root / "test_things.py").write_text(PROJECT_TESTS, encoding="utf-8")
    sub = root / "tests_sub"
    sub.mkdir()
    (sub / "test_more.py").write_text("def test_more():\n    pass\n", encoding="utf-8")
    # A folder named like ours, which is not a conformance suites directory.
    (root / "suites").mkdir()
    (root / "suites" / "test_suite.py").write_text("def test_s():\n    pass\n", encoding="utf-8")
    return pytester


def normalised(output: str) -> str:
    output = re.sub(r" in \d+\.\d+s", " in Xs", output)
    output = re.sub(r"\(\d+:\d\d:\d\d\)", "", output)
    output = re.sub(r"0x[0-9a-f]+", "0x...", output)
    # The plugins line lists installed plugins; it is pytest's, and differs by this one entry.
    return re.sub(r"(?m)^plugins: .*$", "plugins: ...", output)


@pytest.mark.parametrize("args", INVOCATIONS)
def test_runs_are_the_same_with_and_without_the_plugin(
    project: pytest.Pytester, args: tuple[str, ...]
) -> None:
    with_plugin = run_inprocess(project, *args)
    without = run_inprocess(project, "-p", "no:mmconform", *args)
    assert with_plugin.returncode == without.returncode, with_plugin.stdout
    assert normalised(with_plugin.stdout) == normalised(without.stdout)
    assert normalised(with_plugin.stderr) == normalised(without.stderr)


def test_the_plugin_is_loaded_in_that_project(project: pytest.Pytester) -> None:
    """The comparison above means something: in that project the plugin is really there."""
    assert "--target-file" in run_inprocess(project, "--help").stdout
    assert "--target-file" not in run_inprocess(project, "-p", "no:mmconform", "--help").stdout
