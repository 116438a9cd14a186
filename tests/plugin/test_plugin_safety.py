"""Destructive and version deselection, xdist grouping, config comparison."""

from __future__ import annotations

from typing import Any

from mmconform.harness._safety import (
    config_differences,
    destructive_exclusion,
    iter_operations,
    state_groups,
    unsupported_parameters,
    version_exclusion,
)


def document() -> dict[str, Any]:
    return {
        "paths": {
            "/api/v4/restart": {
                "post": {
                    "operationId": "RestartServer",
                    "x-mm-destructive": True,
                    "x-mm-global-state": ["server_process"],
                    "x-mm-min-version": "5.27.0",
                }
            },
            "/api/v4/license/renewal": {
                "get": {
                    "operationId": "RequestLicenseRenewalLink",
                    "x-mm-min-version": "5.32.0",
                    "x-mm-removed-in": "11.0.0",
                }
            },
            "/api/v4/license/load_metric": {
                "get": {"operationId": "GetLicenseLoadMetric", "x-mm-min-version": "10.8.0"}
            },
            "/api/v4/system/ping": {
                "get": {
                    "operationId": "GetPing",
                    "parameters": [
                        {"name": "format", "in": "query"},
                        {"name": "use_rest_semantics", "in": "query", "x-mm-min-version": "9.6.0"},
                    ],
                }
            },
            "/api/v4/logs": {
                "post": {
                    "operationId": "PostLog",
                    "x-mm-global-state": ["logs"],
                    "x-mm-config-gates": [{"setting": "ServiceSettings.EnableDeveloper"}],
                }
            },
            "/api/v4/config": {
                "put": {"operationId": "UpdateConfig", "x-mm-global-state": ["config"]},
            },
        }
    }


def infos() -> dict[str, Any]:
    return {info.operation_id: info for info in iter_operations(document())}


def test_destructive_needs_permission() -> None:
    restart = infos()["RestartServer"]
    reason = destructive_exclusion(restart, allow_destructive=False)
    assert reason is not None
    assert "--allow-destructive" in reason
    assert destructive_exclusion(restart, allow_destructive=True) is None
    assert destructive_exclusion(infos()["GetPing"], allow_destructive=False) is None


def test_version_deselection() -> None:
    ops = infos()
    reason = version_exclusion(ops["GetLicenseLoadMetric"], "10.5.0")
    assert reason is not None
    assert "10.8.0" in reason
    assert "10.5.0" in reason
    assert version_exclusion(ops["GetLicenseLoadMetric"], "10.8.0") is None
    removed = version_exclusion(ops["RequestLicenseRenewalLink"], "11.1.0")
    assert removed is not None
    assert "removed in 11.0.0" in removed
    assert version_exclusion(ops["RequestLicenseRenewalLink"], "10.11.3") is None
    # Unknown version: nothing is deselected.
    assert version_exclusion(ops["GetLicenseLoadMetric"], None) is None


def test_parameter_versions() -> None:
    ping = infos()["GetPing"]
    assert unsupported_parameters(ping, "9.5.0") == ("use_rest_semantics",)
    assert unsupported_parameters(ping, "9.6.0") == ()


def test_state_groups_merge_connected_states() -> None:
    ops = infos()
    sets = [info.grouping_states for info in ops.values()]
    groups = state_groups(sets)
    assert state_groups([("config",)])["config"] == "mm-state-config"
    # PostLog changes logs and depends on config: one group for both.
    assert ops["PostLog"].grouping_states == ("config", "logs")
    assert groups["logs"] == groups["config"] == "mm-state-config+logs"
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
