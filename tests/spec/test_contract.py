"""mmconform.contract: loading, lookups, schemas, availability and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from mmconform import contract as contract_module
from mmconform.contract import (
    Contract,
    ContractError,
    Version,
    default_spec_dir,
    load_contract,
    reset_contract_cache,
)
from tests.spec._helpers import SPEC_DIR, copy_spec, edit_yaml
from tests.spec.test_document import EXPECTED_INVENTORY


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def test_default_load_is_cached_and_complete(contract: Contract) -> None:
    assert load_contract() is contract
    assert {op.operation_id for op in contract.operations} == {
        operation_id for _, _, operation_id in EXPECTED_INVENTORY
    }
    assert default_spec_dir().resolve() == SPEC_DIR.resolve()


def test_document_is_a_deep_copy(contract: Contract) -> None:
    document = contract.document
    document["paths"].clear()
    assert contract.document["paths"]


def test_lookups(contract: Contract) -> None:
    ping = contract.operation("GetPing")
    assert (ping.method, ping.path, ping.auth) == ("GET", "/api/v4/system/ping", "none")
    assert contract.find("get", "/api/v4/server_busy").operation_id == "GetServerBusyExpires"
    assert contract.find("DELETE", "/api/v4/license").operation_id == "RemoveLicenseFile"
    with pytest.raises(KeyError, match="no operation 'Nope'"):
        contract.operation("Nope")
    with pytest.raises(KeyError, match="PATCH /api/v4/config"):
        contract.find("PATCH", "/api/v4/config")


def test_documented_statuses(contract: Contract) -> None:
    assert contract.documented_statuses("UploadLicenseFile") == {
        "200",
        "400",
        "401",
        "403",
        "413",
        "500",
    }
    assert "202" in contract.documented_statuses("UpgradeToEnterprise")


def test_response_schemas_are_resolved_json_schema(contract: Contract) -> None:
    busy = contract.response_schema("GetServerBusyExpires", 200)
    assert busy is not None
    assert "$ref" not in str(busy)
    validator = jsonschema.Draft7Validator(busy)
    zero = {
        "busy": False,
        "expires": -62135596800,
        "expires_ts": "Mon Jan 1 00:00:00 +0000 UTC 0001",
    }
    assert validator.is_valid(zero)
    assert not validator.is_valid({"busy": True, "expires": "1700000000", "expires_ts": "x"})
    assert not validator.is_valid({"busy": True, "expires": 1})  # expires_ts required

    audits = contract.response_schema("GetAudits", "200")
    assert audits is not None
    assert jsonschema.Draft7Validator(audits).is_valid(None)  # empty page is null
    assert not jsonschema.Draft7Validator(audits).is_valid([{"id": "x"}])

    error = contract.response_schema("GetAudits", 403)
    assert error is not None
    assert jsonschema.Draft7Validator(error).is_valid(
        {"id": "api.context.permissions.app_error", "message": "no", "status_code": 403}
    )

    status = contract.response_schema("GetPing", 500)
    assert status is not None
    assert "status" in status["required"]
    upgrade = contract.response_schema("UpgradeToEnterpriseStatus", 200)
    assert upgrade is not None
    assert jsonschema.Draft7Validator(upgrade).is_valid({"percentage": 0, "error": None})
    config = contract.response_schema("GetConfig", 200)
    assert config is not None
    assert jsonschema.Draft7Validator(config).is_valid(
        {"ServiceSettings": {"SiteURL": None}, "FeatureFlags": {}}
    )
    assert not jsonschema.Draft7Validator(config).is_valid({"ServiceSettings": {"SiteURL": 3}})


def test_response_schema_none_cases(contract: Contract) -> None:
    assert contract.response_schema("GenerateSupportPacket", 200) is None  # a zip
    assert contract.response_schema("GetPing", 418) is None  # undocumented
    assert contract.response_media_types("GenerateSupportPacket", 200) == ("application/zip",)
    assert contract.response_media_types("GetPrevTrialLicense", 500) == ("text/plain",)


def test_is_available(contract: Contract) -> None:
    renewal = "RequestLicenseRenewalLink"
    assert contract.is_available(renewal, Version.parse("9.1.4"))
    assert contract.is_available(renewal, Version.parse("5.32"))
    assert not contract.is_available(renewal, Version.parse("5.31.9"))
    assert not contract.is_available(renewal, Version.parse("9.2.0"))
    assert not contract.is_available(renewal, Version.parse("10.11.3"))
    assert contract.is_available(renewal, None)
    assert not contract.is_available("GetLicenseLoadMetric", Version.parse("10.7.2"))
    assert contract.is_available("GetLicenseLoadMetric", Version.parse("10.8.0"))
    assert not contract.is_available("TestNotification", Version.parse("10.2.9"))
    assert contract.is_available("TestNotification", Version.parse("10.3.0"))
    assert not contract.is_available("IsAllowedToUpgradeToEnterprise", Version.parse("10.11.0"))
    assert contract.is_available("IsAllowedToUpgradeToEnterprise", Version.parse("11.0.0"))
    assert contract.is_available("GetConfig", Version.parse("7.0"))  # no known minimum


def test_available_parameters(contract: Contract) -> None:
    assert contract.available_parameters("GetPing", Version.parse("9.5")) == {
        "get_server_status",
        "device_id",
    }
    assert contract.available_parameters("GetConfig", Version.parse("10.3")) == frozenset()
    assert contract.available_parameters("GetConfig", None) == {"remove_masked", "remove_defaults"}


def test_response_fields_may_name_the_first_version_that_sends_them(contract: Contract) -> None:
    fields = contract.response_field_versions("GetPing", 200)
    assert fields["/ActiveSearchBackend"] == Version(8, 0, 0)
    assert fields["/root_status"] == Version(10, 1, 0)
    assert contract.response_field_versions("GetConfig", 200) == {}
    assert contract.response_field_versions("GetPing", 599) == {}
    for operation in contract.operations:  # every annotation parses
        for status in contract.documented_statuses(operation.operation_id):
            contract.response_field_versions(operation.operation_id, status)


def test_request_body_property_count(contract: Contract) -> None:
    assert contract.request_body_property_count("PatchConfig") > 100
    assert contract.request_body_property_count("GetPing") == 0
    assert contract.request_body_property_count("TestSiteURL") == 1


def test_env_var_selects_the_spec_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = copy_spec(tmp_path)
    monkeypatch.setenv("MMCONFORM_SPEC_DIR", str(spec))
    reset_contract_cache()
    try:
        assert load_contract().spec_dir == spec
    finally:
        monkeypatch.delenv("MMCONFORM_SPEC_DIR")
        reset_contract_cache()
    assert load_contract().spec_dir.resolve() == SPEC_DIR.resolve()


# ------------------------------------------------------------------------- bad input


def _broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    spec = copy_spec(tmp_path)
    edit_yaml(spec / file, old, new)
    return spec


def test_unknown_annotation_value(tmp_path: Path) -> None:
    spec = _broken(tmp_path, "openapi.yaml", "x-mm-auth: local-only", "x-mm-auth: socket")
    with pytest.raises(ContractError) as info:
        load_contract(spec)
    message = str(info.value)
    assert "openapi.yaml" in message
    assert "CheckIntegrity" in message
    assert "x-mm-auth" in message
    assert "'socket'" in message


def test_missing_annotation(tmp_path: Path) -> None:
    spec = _broken(tmp_path, "openapi.yaml", "      x-mm-license: required\n", "")
    with pytest.raises(ContractError, match=r"GenerateSupportPacket.*x-mm-license"):
        load_contract(spec)


def test_unknown_permission(tmp_path: Path) -> None:
    spec = _broken(tmp_path, "openapi.yaml", "- read_audits\n", "- read_audit\n")
    with pytest.raises(ContractError, match="read_audit"):
        load_contract(spec)


def test_bad_min_version(tmp_path: Path) -> None:
    spec = _broken(tmp_path, "openapi.yaml", "x-mm-min-version: 10.8.0", "x-mm-min-version: soon")
    with pytest.raises(ContractError, match=r"GetLicenseLoadMetric: x-mm-min-version"):
        load_contract(spec)


def test_dangling_erratum_operation(tmp_path: Path) -> None:
    spec = _broken(
        tmp_path, "errata.yaml", "operations: [UploadLicenseFile]", "operations: [UploadLicense]"
    )
    with pytest.raises(ContractError) as info:
        load_contract(spec)
    message = str(info.value)
    assert "errata.yaml" in message
    assert "license-upload-200" in message
    assert "operations" in message
    assert "UploadLicense" in message


def test_bad_decision_and_check_name(tmp_path: Path) -> None:
    spec = _broken(tmp_path, "errata.yaml", "decision: accept-real", "decision: maybe")
    with pytest.raises(ContractError, match=r"decision.*maybe"):
        load_contract(spec)
    other = tmp_path / "other"
    other.mkdir()
    spec = _broken(other, "errata.yaml", "[negative_data_rejection]", "[negative_data]")
    with pytest.raises(ContractError, match="negative_data"):
        load_contract(spec)


def test_version_dependent_needs_rules(tmp_path: Path) -> None:
    spec = copy_spec(tmp_path)
    (spec / "errata.yaml").write_text(
        "errata:\n"
        "  - id: x\n"
        "    operations: [GetPing]\n"
        "    topic: behaviour\n"
        "    seed: a\n"
        "    server: b\n"
        "    decision: version-dependent\n"
        "    why: c\n",
        encoding="utf-8",
    )
    with pytest.raises(ContractError, match="erratum x: version-dependent"):
        load_contract(spec)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    spec = copy_spec(tmp_path)
    (spec / "openapi.yaml").write_text("paths: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"openapi\.yaml: invalid YAML"):
        load_contract(spec)


def test_a_key_given_twice_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys; a response with two ``headers:`` maps lost the
    first one's headers that way, so the loader refuses the file and names the key."""
    spec = copy_spec(tmp_path)
    text = (spec / "openapi.yaml").read_text(encoding="utf-8")
    doubled = text.replace("\ninfo:\n", "\ninfo:\n  title: again\n", 1)
    assert doubled != text
    (spec / "openapi.yaml").write_text(doubled, encoding="utf-8")
    with pytest.raises(ContractError, match=r"(?s)openapi\.yaml: .*the key 'title' is given twice"):
        load_contract(spec)


def test_module_exports() -> None:
    for name in contract_module.__all__:
        assert hasattr(contract_module, name), name


def test_expectation_alternatives(contract: Contract) -> None:
    uncertain = contract.erratum("client-license-format").expectation(
        "format_missing", Version(11, 9, 0)
    )
    assert uncertain is not None
    assert uncertain.allows(400, "api.license.client.old_format.app_error")
    assert uncertain.allows(200)
    assert uncertain.allows(400)  # no id to compare
    assert not uncertain.allows(400, "api.context.invalid_body_param.app_error")
    assert not uncertain.allows(501)
    certain = contract.erratum("client-license-format").expectation(
        "format_missing", Version(11, 1, 0)
    )
    assert certain is not None
    assert certain.also == ()
    assert not certain.allows(200)


def test_expectation_alternatives_are_checked(tmp_path: Path) -> None:
    spec = _broken(tmp_path / "a", "errata.yaml", "also: [{status: 200}]", "also: [{code: 200}]")
    with pytest.raises(ContractError, match=r"also\[0\]: needs an integer 'status'"):
        load_contract(spec)
    spec = _broken(
        tmp_path / "b", "errata.yaml", "also: [{status: 200}]", "also: [{status: 200, also: []}]"
    )
    with pytest.raises(ContractError, match=r"unknown key\(s\) \['also'\]"):
        load_contract(spec)
