"""What runs against a target: version and destructive deselection, --operation, xdist groups,
role skips, and config comparison."""

from __future__ import annotations

from typing import Any

import pytest

from mmconform._version import Version
from mmconform.contract import load_contract
from mmconform.harness._selection import SelectionFacts, exclusion_reason, select, state_groups
from mmconform.harness._server_state import config_differences

CONTRACT = load_contract()


class FakeItem:
    """Just enough of a pytest item for the selection rules."""

    def __init__(self, *marks: pytest.MarkDecorator, label: str | None = None) -> None:
        self._marks = [mark.mark for mark in marks]
        self.operation_label = label
        self.nodeid = "suite.py::test_x"

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return next((mark for mark in self._marks if mark.name == name), None)

    def iter_markers(self, name: str) -> list[pytest.Mark]:
        return [mark for mark in self._marks if mark.name == name]


def facts(version: str | None = "11.1.0", *, destructive: bool = True) -> SelectionFacts:
    return SelectionFacts(
        server_version=Version.lenient(version), allow_destructive=destructive, roles=()
    )


def reason(op_id: str, version: str | None = "11.1.0", destructive: bool = True) -> str | None:
    item: Any = FakeItem(pytest.mark.mm_operation(op_id))
    return exclusion_reason(
        item, [CONTRACT.operation(op_id)], facts(version, destructive=destructive)
    )


def test_destructive_operations_need_permission() -> None:
    refused = reason("RestartServer", destructive=False)
    assert refused is not None
    assert "--allow-destructive" in refused
    assert reason("RestartServer", destructive=True) is None
    assert reason("GetPing", destructive=False) is None


def test_operations_newer_than_the_target_or_removed_before_it_are_deselected() -> None:
    newer = reason("GetLicenseLoadMetric", version="10.5.0")
    assert newer is not None
    assert "10.8.0" in newer
    assert "10.5.0" in newer
    assert reason("GetLicenseLoadMetric", version="10.8.0") is None
    removed_in = CONTRACT.operation("RequestLicenseRenewalLink").removed_in
    assert removed_in is not None
    removed = reason("RequestLicenseRenewalLink", version=str(removed_in))
    assert removed is not None
    assert f"removed in {removed_in}" in removed
    # Unknown version: nothing is deselected for its version.
    assert reason("GetLicenseLoadMetric", version=None) is None


def test_local_only_operations_leave_the_http_contract_run() -> None:
    item: Any = FakeItem(label="POST /api/v4/integrity")
    found = exclusion_reason(item, [CONTRACT.operation("CheckIntegrity")], facts())
    assert found is not None
    assert "local-mode unix socket" in found


def test_parameters_newer_than_the_target_are_known() -> None:
    ping = CONTRACT.operation("GetPing")
    assert ping.unsupported_parameters(Version(9, 5, 0)) == ("use_rest_semantics",)
    assert ping.unsupported_parameters(Version(9, 6, 0)) == ()
    assert ping.unsupported_parameters(None) == ()


def test_state_groups_merge_connected_states() -> None:
    sets = [op.grouping_states for op in CONTRACT.operations]
    groups = state_groups(sets)
    assert state_groups([("config",)])["config"] == "mm-state-config"
    # PostLog changes logs and depends on config: one group for both.
    assert CONTRACT.operation("PostLog").grouping_states == ("config", "logs")
    assert groups["logs"] == groups["config"]
    assert groups["server_process"] == "mm-state-server_process"
    # A test touching several states merges their groups.
    merged = state_groups([*sets, ("server_process", "config")])
    assert merged["server_process"] == merged["config"] == merged["logs"]


def test_config_differences() -> None:
    before = {"A": {"x": 1, "y": [1, 2]}, "B": True}
    assert config_differences(before, before) == []
    diff = config_differences(before, {"A": {"x": 2, "y": [1, 2], "z": 0}})
    assert "A.x: 1 -> 2" in diff
    assert "A.z: added 0" in diff
    assert "B: removed (was True)" in diff
    assert len(config_differences({"k": list(range(50))}, {"k": []}, limit=3)) <= 3


class MarkableItem(FakeItem):
    """A fake item that also takes the marks and properties selection adds."""

    def __init__(self, config: pytest.Config, *marks: pytest.MarkDecorator) -> None:
        super().__init__(*marks)
        self.config = config
        self.user_properties: list[tuple[str, object]] = []

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self._marks.append(marker.mark)


def _groups_given(config: pytest.Config, shared_target: bool) -> list[str | None]:
    items = [
        MarkableItem(config, pytest.mark.mm_operation("PatchConfig")),
        MarkableItem(config, pytest.mark.mm_operation("SetServerBusy")),
        MarkableItem(config, pytest.mark.mm_operation("GetPing")),
    ]
    chosen = SelectionFacts(
        server_version=Version(11, 1, 0),
        allow_destructive=True,
        roles=(),
        shared_target=shared_target,
    )
    selection = select(items, CONTRACT, chosen)  # type: ignore[arg-type]
    assert len(selection.keep) == 3
    groups = [item.get_closest_marker("xdist_group") for item in items]
    return [str(mark.args[0]) if mark else None for mark in groups]


def test_state_changing_tests_are_grouped_only_on_a_shared_target(
    pytestconfig: pytest.Config,
) -> None:
    config, busy, ping = _groups_given(pytestconfig, shared_target=True)
    assert config is not None
    assert "config" in config
    assert busy is not None
    assert "server_busy" in busy
    assert config != busy
    assert ping is None
    # Each xdist worker runs its own embedded stub: no worker can disturb another's state.
    assert _groups_given(pytestconfig, shared_target=False) == [None, None, None]


class _Item:
    def __init__(self, name: str, suite: str, conformance: bool = True) -> None:
        self.name, self.suite, self.conformance = name, suite, conformance


def test_cheap_decisive_suites_run_first_and_other_tests_keep_their_place() -> None:
    from mmconform.harness._selection import SUITE_ORDER, in_feedback_order

    items = [
        _Item("c1", "clients"),
        _Item("k1", "contract"),
        _Item("own", "tests", conformance=False),
        _Item("p1", "permissions"),
        _Item("x1", "custom"),
        _Item("s1", "scenarios"),
        _Item("k2", "contract"),
        _Item("s2", "scenarios"),
    ]
    ordered = in_feedback_order(
        items,  # type: ignore[arg-type]
        lambda item: item.conformance,  # type: ignore[attr-defined]
        lambda item: item.suite,  # type: ignore[attr-defined]
    )
    names = [item.name for item in ordered]
    assert names == ["s1", "s2", "own", "p1", "c1", "x1", "k1", "k2"]
    assert SUITE_ORDER[0] == "scenarios"
    assert SUITE_ORDER[-1] == "contract"


def test_auth_probes_are_asked_a_few_times_per_operation_and_mode_except_in_deep() -> None:
    from types import SimpleNamespace

    from mmconform.harness._profiles import PROFILES
    from mmconform.harness._schemathesis import CaseRunner
    from mmconform.harness._target import Target

    def case(mode: str) -> object:
        return SimpleNamespace(
            meta=SimpleNamespace(generation=SimpleNamespace(mode=SimpleNamespace(value=mode)))
        )

    for name, expected in (("gate", 3), ("dev", 3), ("deep", None)):
        runner = CaseRunner(
            contract=CONTRACT,
            target=Target(url="http://h"),
            role="system_admin",
            profile=PROFILES[name],
            seed=1,
            server_version=None,
        )
        asked = {
            mode: sum(
                not any(
                    getattr(check, "__name__", "") == "ignored_auth"
                    for check in runner.checks_to_skip(case(mode), "GetLogs")
                )
                for _ in range(10)
            )
            for mode in ("positive", "negative")
        }
        assert asked == {"positive": expected or 10, "negative": expected or 10}, name


def test_generic_options_keep_their_plain_spelling_only_where_it_is_free() -> None:
    from mmconform.plugin import _option

    parser = pytest.Parser(_ispytest=True)  # a parser of our own, as pytest makes one
    other = parser.getgroup("another-plugin")
    other.addoption("--operation", dest="other_operation")
    group = parser.getgroup("mmconform")
    _option(parser, group, "--mm-operation", "--operation", dest="mm_operations")
    _option(parser, group, "--mm-target-url", "--target-url", dest="target_url")
    names = {name for option in group.options for name in option.names()}
    assert names == {"--mm-operation", "--mm-target-url", "--target-url"}
    parsed = parser.parse(["--mm-operation", "GetLogs", "--target-url", "http://h"])
    assert parsed.mm_operations == "GetLogs"
    assert parsed.target_url == "http://h"
