"""The x-mm-* annotations: complete, from the closed vocabulary, and true to the server facts."""

from __future__ import annotations

from typing import Any

import pytest

from mmconform.contract import Contract, Version, load_contract
from tests.spec._helpers import OPENAPI, iter_operations, load_yaml

# Written out here rather than imported, so a change to the vocabulary in mmconform.contract must be
# made twice (and documented in spec/README.md).
AUTH = {"none", "session", "local-only"}
LICENSE = {"none", "required"}
PERMISSIONS = {
    "manage_system",
    "read_license_information",
    "manage_license_information",
    "get_logs",
    "get_analytics",
    "read_audits",
    "invalidate_caches",
    "reload_config",
    "test_site_url",
    "test_s3",
    "test_email",
    "recycle_database_connections",
    "sysconsole_read_*",
    "sysconsole_write_*",
}
GLOBAL_STATE = {
    "server_busy",
    "config",
    "license",
    "caches",
    "database_connections",
    "server_process",
    "server_binary",
    "notice_views",
    "logs",
}
ANNOTATIONS = (
    "x-mm-auth",
    "x-mm-permissions",
    "x-mm-restrict-system-admin",
    "x-mm-min-version",
    "x-mm-removed-in",
    "x-mm-license",
    "x-mm-destructive",
    "x-mm-global-state",
    "x-mm-config-gates",
    "x-mm-local-mode",
    "x-mm-edition-gates",
    "x-mm-request",
)
ADMINISH = {"system_admin", "system_manager", "system_user_manager", "system_read_only_admin"}
ALL_ROLES = ADMINISH | {"system_user"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded = load_yaml(OPENAPI)
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def test_every_operation_carries_every_annotation(document: dict[str, Any]) -> None:
    for _, _, op in iter_operations(document):
        missing = [name for name in ANNOTATIONS if name not in op]
        assert not missing, f"{op['operationId']}: missing {missing}"
        assert op["x-mm-auth"] in AUTH
        assert op["x-mm-license"] in LICENSE
        assert isinstance(op["x-mm-restrict-system-admin"], bool)
        assert isinstance(op["x-mm-destructive"], bool)
        assert isinstance(op["x-mm-local-mode"], bool)
        assert set(op["x-mm-permissions"]) <= PERMISSIONS, op["operationId"]
        assert set(op["x-mm-global-state"]) <= GLOBAL_STATE, op["operationId"]
        for key in ("x-mm-min-version", "x-mm-removed-in"):
            value = op[key]
            assert value is None or Version.parse(value) == Version.parse(str(value))
            assert value is None or value.count(".") == 2, f"{op['operationId']} {key}"
        for param in op.get("parameters", []):
            assert "x-mm-min-version" in param, f"{op['operationId']}.{param['name']}"


def test_roles_match_behaviour_table(contract: Contract) -> None:
    roles = contract.roles
    assert set(roles) == ALL_ROLES
    assert roles["system_admin"] == frozenset(PERMISSIONS)
    assert roles["system_user"] == frozenset()
    assert roles["system_user_manager"] == {"sysconsole_read_*", "sysconsole_write_*"}
    assert roles["system_read_only_admin"] == {
        "sysconsole_read_*",
        "get_logs",
        "get_analytics",
        "read_audits",
        "read_license_information",
    }
    assert roles["system_manager"] == {
        "sysconsole_read_*",
        "sysconsole_write_*",
        "reload_config",
        "test_site_url",
        "invalidate_caches",
        "recycle_database_connections",
        "test_s3",
        "test_email",
        "get_logs",
        "get_analytics",
        "read_license_information",
    }


@pytest.mark.parametrize(
    ("operation_id", "granted"),
    [
        ("GetAudits", {"system_admin", "system_read_only_admin"}),
        ("GetConfig", ADMINISH),
        ("UpdateConfig", {"system_admin", "system_manager", "system_user_manager"}),
        ("PatchConfig", {"system_admin", "system_manager", "system_user_manager"}),
        ("GetLogs", {"system_admin", "system_manager", "system_read_only_admin"}),
        ("GetAnalyticsOld", {"system_admin", "system_manager", "system_read_only_admin"}),
        ("DatabaseRecycle", {"system_admin", "system_manager"}),
        ("InvalidateCaches", {"system_admin", "system_manager"}),
        ("ReloadConfig", {"system_admin", "system_manager"}),
        ("TestS3Connection", {"system_admin", "system_manager"}),
        ("UploadLicenseFile", {"system_admin"}),
        ("RemoveLicenseFile", {"system_admin"}),
        ("RequestTrialLicense", {"system_admin"}),
        ("GenerateSupportPacket", {"system_admin"}),
        ("SetServerBusy", {"system_admin"}),
        ("RestartServer", {"system_admin"}),
        ("GetPrevTrialLicense", ALL_ROLES),
        ("GetEnvironmentConfig", ALL_ROLES),
        ("TestNotification", ALL_ROLES),
        ("GetSupportedTimezone", ALL_ROLES),
        ("GetPing", ALL_ROLES | {"anonymous"}),
        ("GetClientConfig", ALL_ROLES | {"anonymous"}),
        ("GetClientLicense", ALL_ROLES | {"anonymous"}),
        ("PostLog", ALL_ROLES),  # anonymous denied while EnableDeveloper is false (default)
        ("CheckIntegrity", set()),
    ],
)
def test_roles_granted_spot_checks(
    contract: Contract, operation_id: str, granted: set[str]
) -> None:
    assert contract.roles_granted(operation_id) == granted


def test_permission_facts(contract: Contract) -> None:
    op = contract.operation
    assert op("PostLog").auth == "none"
    assert op("CheckIntegrity").auth == "local-only"
    assert op("GetConfig").permissions == ("sysconsole_read_*",)
    assert op("GetPrevTrialLicense").permissions == ()  # the seed's manage_systems is a typo
    assert op("GenerateSupportPacket").permissions == ("manage_system",)
    assert op("GenerateSupportPacket").license == "required"
    assert op("RequestLicenseRenewalLink").permissions == ("manage_license_information",)
    assert op("TestEmail").permissions == ("test_email",)
    gates = op("PostLog").config_gates
    assert len(gates) == 1
    assert gates[0].setting == "ServiceSettings.EnableDeveloper"
    assert [o.operation_id for o in contract.operations if o.license == "required"] == [
        "GenerateSupportPacket"
    ]


def test_restrict_system_admin_column(contract: Contract) -> None:
    restricted = {o.operation_id for o in contract.operations if o.restrict_system_admin}
    assert restricted == {
        "DatabaseRecycle",
        "TestEmail",
        "TestSiteURL",
        "ReloadConfig",
        "UploadLicenseFile",
        "RemoveLicenseFile",
        "RequestTrialLicense",
        "InvalidateCaches",
        "GetLogs",
        "GenerateSupportPacket",
        "RequestLicenseRenewalLink",
    }


def test_destructive_and_global_state(contract: Contract) -> None:
    destructive = {o.operation_id for o in contract.operations if o.destructive}
    assert destructive == {
        "DatabaseRecycle",
        "UpdateConfig",
        "PatchConfig",
        "ReloadConfig",
        "UploadLicenseFile",
        "RemoveLicenseFile",
        "RequestTrialLicense",
        "InvalidateCaches",
        "UpgradeToEnterprise",
        "RestartServer",
    }
    state = {o.operation_id: set(o.global_state) for o in contract.operations if o.global_state}
    assert state["SetServerBusy"] == {"server_busy"}
    assert state["ClearServerBusy"] == {"server_busy"}
    assert state["UpdateConfig"] == {"config"}
    assert state["PatchConfig"] == {"config"}
    assert state["UploadLicenseFile"] == {"license"}
    assert state["MarkNoticesViewed"] == {"notice_views"}
    assert "GetServerBusyExpires" not in state
    assert "GetConfig" not in state


def test_versions(contract: Contract) -> None:
    op = contract.operation
    # first releases certain to have the route (the uncertain ranges are in the errata)
    assert op("GetLicenseLoadMetric").min_version == Version(10, 8, 0)
    assert op("TestNotification").min_version == Version(10, 3, 0)
    assert op("IsAllowedToUpgradeToEnterprise").min_version == Version(11, 0, 0)
    assert op("CheckIntegrity").min_version == Version(5, 28, 0)
    # the lowest release that may lack the route
    assert op("RequestLicenseRenewalLink").removed_in == Version(9, 2, 0)
    corrected = {
        "GetSupportedTimezone": Version(4, 9, 0),
        "TestS3Connection": Version(4, 9, 0),
        "GetImageByUrl": Version(4, 7, 0),
        "GetRedirectLocation": Version(5, 3, 0),
        "AcknowledgeNotification": Version(5, 12, 0),
        "GetNotices": Version(5, 28, 0),
        "MarkNoticesViewed": Version(5, 28, 0),
        "GenerateSupportPacket": Version(5, 33, 0),
        "GetPrevTrialLicense": Version(5, 37, 0),
    }
    for op_id, first in corrected.items():
        assert op(op_id).min_version == first, op_id
    assert [o.operation_id for o in contract.operations if o.removed_in] == [
        "RequestLicenseRenewalLink"
    ]
    assert contract.parameter_min_versions("GetPing") == {
        "get_server_status": Version(3, 10, 0),
        "device_id": Version(6, 5, 0),
        "use_rest_semantics": Version(9, 6, 0),
    }
    assert contract.parameter_min_versions("GetConfig") == {
        "remove_masked": Version(10, 4, 0),
        "remove_defaults": Version(10, 4, 0),
    }
    assert contract.parameter_min_versions("GenerateSupportPacket") == {
        "basic_server_logs": Version(9, 8, 0),
        "plugin_packets": Version(9, 8, 0),
    }


def test_parameter_typing_decisions(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in iter_operations(document)}

    def schema(op_id: str, name: str) -> dict[str, Any]:
        for param in by_id[op_id]["parameters"]:
            if param["name"] == name:
                result: dict[str, Any] = param["schema"]
                return result
        raise AssertionError(f"{op_id} has no parameter {name}")

    assert schema("GetConfig", "remove_defaults")["type"] == "string"
    assert schema("GetLogs", "logs_per_page")["type"] == "string"
    number, empty = schema("SetServerBusy", "seconds")["anyOf"]
    assert (number["type"], number["minimum"], number["maximum"]) == ("integer", 1, 86400)
    assert empty == {"type": "string", "maxLength": 0}  # servers read "" as the default
    assert schema("GetClientLicense", "format")["enum"] == ["old"]
    assert schema("GetClientConfig", "format")["enum"] == ["old"]


def test_local_mode_routes(contract: Contract) -> None:
    local = {o.operation_id for o in contract.operations if o.local_mode}
    assert local == {
        "GetPing",
        "GetConfig",
        "UpdateConfig",
        "PatchConfig",
        "ReloadConfig",
        "GetClientConfig",
        "GetClientLicense",
        "UploadLicenseFile",
        "RemoveLicenseFile",
        "GetLogs",
        "SetServerBusy",
        "GetServerBusyExpires",
        "ClearServerBusy",
        "GenerateSupportPacket",
        "CheckIntegrity",
    }


def test_parameter_min_versions_follow_the_rule(document: dict[str, Any]) -> None:
    """A parameter's minimum is its own seed note, else the operation's (never older)."""
    for _, _, op in iter_operations(document):
        op_min = op["x-mm-min-version"]
        for param in op.get("parameters", []):
            value = param["x-mm-min-version"]
            where = f"{op['operationId']}.{param['name']}"
            if op_min is None:
                continue
            assert value is not None, where
            assert Version.parse(value) >= Version.parse(op_min), where
