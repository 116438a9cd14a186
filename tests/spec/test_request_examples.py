"""x-mm-request and x-mm-edition-gates: every operation has a request that reaches its
permission check, the examples fit the operation, and malformed annotations are named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from mmconform.contract import (
    BODY_CURRENT,
    BODY_JSON,
    BODY_MULTIPART,
    BODY_NONE,
    BODY_TEXT,
    Contract,
    ContractError,
    load_contract,
)
from tests.spec._helpers import copy_spec, edit_yaml


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def test_every_operation_has_a_request_with_its_required_parameters(contract: Contract) -> None:
    for op in contract.operations:
        raw = contract.document["paths"][op.path][op.method.lower()]
        path_names = set(re.findall(r"\{([^}]+)\}", op.path))
        assert set(op.request.path_params) == path_names, op.operation_id
        required = {
            p["name"] for p in raw.get("parameters", []) if p["in"] == "query" and p.get("required")
        }
        assert required <= set(op.request.query), op.operation_id
        takes_body = bool((raw.get("requestBody") or {}).get("required"))
        assert (op.request.body_kind != BODY_NONE) == takes_body, op.operation_id
        assert op.client_path(**op.request.path_params).startswith("/")


def test_json_examples_fit_the_request_schema(contract: Contract) -> None:
    checked = 0
    for op in contract.operations:
        if op.request.body_kind != BODY_JSON:
            continue
        raw = contract.document["paths"][op.path][op.method.lower()]
        schema = contract.json_schema(raw["requestBody"]["content"]["application/json"]["schema"])
        jsonschema.Draft7Validator(schema).validate(op.request.json_body)
        checked += 1
    assert checked >= 4


def test_path_example_matches_the_parameter_pattern(contract: Contract) -> None:
    notices = contract.operation("GetNotices")
    team_id = notices.request.path_params["teamId"]
    assert re.fullmatch(r"[a-z0-9]{26}", team_id)


def test_bodies_the_server_validates_first_are_the_current_config(contract: Contract) -> None:
    """validation-before-permission: only a well-formed body reaches the permission check."""
    first = contract.erratum("validation-before-permission").operations
    for op_id in first:
        request = contract.operation(op_id).request
        assert request.body_kind == BODY_CURRENT, op_id
        assert request.body_from == "GetConfig", op_id


def test_connection_tests_stop_right_after_the_permission_check(contract: Contract) -> None:
    email = contract.operation("TestEmail").request
    assert dict(email.overrides) == {"EmailSettings.SMTPServer": ""}
    s3 = contract.operation("TestS3Connection").request
    assert dict(s3.overrides) == {"FileSettings.AmazonS3Bucket": ""}
    body = email.body_for({"EmailSettings": {"SMTPServer": "smtp", "SMTPPort": "25"}})
    assert body == {"EmailSettings": {"SMTPServer": "", "SMTPPort": "25"}}
    nested = s3.body_for({})
    assert nested == {"FileSettings": {"AmazonS3Bucket": ""}}


def test_license_and_trial_requests_cannot_install_anything(contract: Contract) -> None:
    upload = contract.operation("UploadLicenseFile").request
    assert upload.body_kind == BODY_MULTIPART
    assert "license" in upload.files
    trial = contract.operation("RequestTrialLicense").request
    assert trial.body_kind == BODY_TEXT
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        json.loads(trial.text_body)


def test_destructive_operations_state_where_refusals_are_checked(contract: Contract) -> None:
    """The safety decision for denied cells of destructive operations (spec/README.md)."""
    policies = {
        op.operation_id: op.request.denied_cells for op in contract.operations if op.destructive
    }
    assert policies == {
        "DatabaseRecycle": "always",
        "UpdateConfig": "always",
        "PatchConfig": "always",
        "ReloadConfig": "always",
        "InvalidateCaches": "always",
        "UploadLicenseFile": "always",
        "RequestTrialLicense": "always",
        "RemoveLicenseFile": "when-unlicensed",
        "UpgradeToEnterprise": "on-enterprise-builds",
        "RestartServer": "disposable-targets-only",
    }


def test_edition_gates(contract: Contract) -> None:
    gates = {
        op.operation_id: [(g.edition, g.status, g.error_id) for g in op.edition_gates]
        for op in contract.operations
        if op.edition_gates
    }
    upgrade_needed = [("team", 403, "api.license.upgrade_needed.app_error")]
    assert gates == {
        "RequestTrialLicense": upgrade_needed,
        "GetPrevTrialLicense": upgrade_needed,
        "RequestLicenseRenewalLink": upgrade_needed,
        "IsAllowedToUpgradeToEnterprise": [("enterprise", 403, None)],
        "UpgradeToEnterprise": [
            ("enterprise", 429, "api.upgrade_to_enterprise.already-enterprise.app_error")
        ],
    }
    postlog = contract.operation("PostLog").config_gates[0]
    assert postlog.error_id == "api.context.permissions.app_error"


REQUEST_OF_TIMEZONES = "      x-mm-request: {}\n  /api/v4/system/ping:"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            REQUEST_OF_TIMEZONES,
            "      x-mm-request: {colour: blue}\n  /api/v4/system/ping:",
            "unknown key(s) ['colour']",
        ),
        (
            REQUEST_OF_TIMEZONES,
            "      x-mm-request: {json: []}\n  /api/v4/system/ping:",
            "takes no application/json body",
        ),
        (
            REQUEST_OF_TIMEZONES,
            "      x-mm-request: {query: {nope: '1'}}\n  /api/v4/system/ping:",
            "unknown parameter(s) ['nope']",
        ),
        (
            "        query:\n          format: old\n",
            "        query: {}\n",
            "missing required parameter(s) ['format']",
        ),
        (
            "          teamId: mmconformnoticeteam0000000\n",
            "          team_id: mmconformnoticeteam0000000\n",
            "must give exactly the path parameters ['teamId']",
        ),
        (
            "      x-mm-request:\n        json: []\n",
            "      x-mm-request: {}\n",
            "the operation requires a body",
        ),
        (
            "        body-from: GetConfig\n        set:\n          EmailSettings.SMTPServer: ''\n",
            "        body-from: GetConfigs\n",
            "x-mm-request.body-from: unknown operationId 'GetConfigs'",
        ),
        (
            "      x-mm-request:\n        json: []\n",
            "      x-mm-request:\n        json: []\n        text: '[]'\n",
            "at most one body",
        ),
        (
            "        denied-cells: disposable-targets-only\n",
            "        {}\n",
            "destructive operations must say",
        ),
        (
            "        denied-cells: disposable-targets-only\n",
            "        denied-cells: sometimes\n",
            "unknown value 'sometimes'",
        ),
        (
            "          site_url: http://127.0.0.1:1\n",
            "          site_url: http://127.0.0.1:1\n        denied-cells: always\n",
            "only for destructive operations",
        ),
        (
            "        - edition: enterprise\n          status: 403\n",
            "        - edition: cloud\n          status: 403\n",
            "edition: expected one of ['enterprise', 'team']",
        ),
        (
            "        - edition: enterprise\n          status: 403\n",
            "        - edition: enterprise\n          status: 200\n",
            "expected an error status",
        ),
    ],
)
def test_malformed_request_annotations_are_named(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    spec = copy_spec(tmp_path)
    edit_yaml(spec / "openapi.yaml", old, new)
    with pytest.raises(ContractError) as info:
        load_contract(spec)
    assert message in str(info.value)


def test_body_kinds_cover_every_form(contract: Contract) -> None:
    kinds = {op.request.body_kind for op in contract.operations}
    assert kinds == {BODY_NONE, BODY_JSON, BODY_TEXT, BODY_MULTIPART, BODY_CURRENT}
