"""spec/openapi.yaml as an OpenAPI document: validity, references, examples, inventory, links."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from mmconform.contract import Contract, load_contract
from tests.spec._helpers import OPENAPI, SEED, iter_operations, load_yaml

# The 39 operations of the seed, written out literally: (method, path, operationId).
SEED_INVENTORY = {
    ("GET", "/api/v4/system/timezones", "GetSupportedTimezone"),
    ("GET", "/api/v4/system/ping", "GetPing"),
    ("GET", "/api/v4/system/notices/{teamId}", "GetNotices"),
    ("PUT", "/api/v4/system/notices/view", "MarkNoticesViewed"),
    ("POST", "/api/v4/database/recycle", "DatabaseRecycle"),
    ("POST", "/api/v4/email/test", "TestEmail"),
    ("POST", "/api/v4/notifications/test", "TestNotification"),
    ("POST", "/api/v4/site_url/test", "TestSiteURL"),
    ("POST", "/api/v4/file/s3_test", "TestS3Connection"),
    ("GET", "/api/v4/config", "GetConfig"),
    ("PUT", "/api/v4/config", "UpdateConfig"),
    ("POST", "/api/v4/config/reload", "ReloadConfig"),
    ("GET", "/api/v4/config/client", "GetClientConfig"),
    ("GET", "/api/v4/config/environment", "GetEnvironmentConfig"),
    ("PUT", "/api/v4/config/patch", "PatchConfig"),
    ("POST", "/api/v4/license", "UploadLicenseFile"),
    ("DELETE", "/api/v4/license", "RemoveLicenseFile"),
    ("GET", "/api/v4/license/client", "GetClientLicense"),
    ("GET", "/api/v4/license/load_metric", "GetLicenseLoadMetric"),
    ("GET", "/api/v4/license/renewal", "RequestLicenseRenewalLink"),
    ("POST", "/api/v4/trial-license", "RequestTrialLicense"),
    ("GET", "/api/v4/trial-license/prev", "GetPrevTrialLicense"),
    ("GET", "/api/v4/audits", "GetAudits"),
    ("POST", "/api/v4/caches/invalidate", "InvalidateCaches"),
    ("GET", "/api/v4/logs", "GetLogs"),
    ("POST", "/api/v4/logs", "PostLog"),
    ("GET", "/api/v4/analytics/old", "GetAnalyticsOld"),
    ("POST", "/api/v4/server_busy", "SetServerBusy"),
    ("GET", "/api/v4/server_busy", "GetServerBusyExpires"),
    ("DELETE", "/api/v4/server_busy", "ClearServerBusy"),
    ("POST", "/api/v4/notifications/ack", "AcknowledgeNotification"),
    ("GET", "/api/v4/redirect_location", "GetRedirectLocation"),
    ("GET", "/api/v4/image", "GetImageByUrl"),
    ("POST", "/api/v4/upgrade_to_enterprise", "UpgradeToEnterprise"),
    ("GET", "/api/v4/upgrade_to_enterprise/status", "UpgradeToEnterpriseStatus"),
    ("GET", "/api/v4/upgrade_to_enterprise/allowed", "IsAllowedToUpgradeToEnterprise"),
    ("POST", "/api/v4/restart", "RestartServer"),
    ("POST", "/api/v4/integrity", "CheckIntegrity"),
    ("GET", "/api/v4/system/support_packet", "GenerateSupportPacket"),
}
#: Operations the contract adds to the seed's (none yet): written out here as well.
ADDED_INVENTORY: frozenset[tuple[str, str, str]] = frozenset()
EXPECTED_INVENTORY = SEED_INVENTORY | ADDED_INVENTORY

SCHEMA_KEYS_WITH_SUBSCHEMA = ("items", "additionalProperties", "not")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded = load_yaml(OPENAPI)
    assert isinstance(loaded, dict)
    return loaded


def test_document_validates(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.0.3"


def test_inventory_is_exactly_the_39_seed_operations_and_the_added_ones(
    document: dict[str, Any],
) -> None:
    inventory = [
        (method.upper(), path, op["operationId"]) for method, path, op in iter_operations(document)
    ]
    assert len(SEED_INVENTORY) == 39
    assert len(inventory) == len(EXPECTED_INVENTORY)
    assert set(inventory) == EXPECTED_INVENTORY
    assert len(document["paths"]) == len({path for _, path, _ in EXPECTED_INVENTORY})


def test_inventory_matches_the_seed() -> None:
    if not SEED.is_file():
        pytest.skip("shared reference seed not available")
    seed = load_yaml(SEED)
    seed_inventory = {
        (method.upper(), path, op["operationId"]) for method, path, op in iter_operations(seed)
    }
    assert seed_inventory == SEED_INVENTORY


def _walk(node: Any, trail: str = "#") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [(trail, node)]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_walk(value, f"{trail}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_walk(value, f"{trail}/{index}"))
    return out


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    refs = [
        (trail, node["$ref"])
        for trail, node in _walk(document)
        if isinstance(node, dict) and "$ref" in node
    ]
    assert len(refs) > 100
    for trail, ref in refs:
        assert ref.startswith("#/"), f"{trail}: external $ref {ref}"
        target: Any = document
        for part in ref[2:].split("/"):
            assert isinstance(target, dict), f"{trail}: dangling {ref}"
            assert part in target, f"{trail}: dangling {ref}"
            target = target[part]


def _examples(document: dict[str, Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(where, example, openapi schema) for schema-level and media-type-level examples."""
    found: list[tuple[str, Any, dict[str, Any]]] = []
    for trail, node in _walk(document):
        if not isinstance(node, dict) or "example" not in node:
            continue
        if "schema" in node and isinstance(node["schema"], dict):  # media type object
            found.append((trail, node["example"], node["schema"]))
        elif "type" in node or "properties" in node:  # schema object
            found.append((trail, node["example"], node))
    return found


def test_examples_validate_against_their_schemas(document: dict[str, Any]) -> None:
    contract = load_contract()
    examples = _examples(document)
    assert len(examples) >= 15, "examples are too few for this test to mean anything"
    for where, example, schema in examples:
        resolved = _json_schema(contract, schema)
        errors = list(jsonschema.Draft7Validator(resolved).iter_errors(example))
        assert not errors, f"{where}: example does not match: {errors[0].message}"


def _json_schema(contract: Contract, schema: dict[str, Any]) -> dict[str, Any]:
    return contract.json_schema(schema)


def test_a_wrong_example_is_caught(document: dict[str, Any]) -> None:
    contract = load_contract()
    busy = _json_schema(contract, document["components"]["schemas"]["Server_Busy"])
    assert not jsonschema.Draft7Validator(busy).is_valid({"busy": "yes", "expires": 1})


def test_no_schema_forbids_additional_properties(document: dict[str, Any]) -> None:
    offenders = [
        trail
        for trail, node in _walk(document)
        if isinstance(node, dict) and node.get("additionalProperties") is False
    ]
    assert offenders == []


def test_every_json_2xx_has_a_schema(document: dict[str, Any]) -> None:
    for method, path, op in iter_operations(document):
        two_xx = {k: v for k, v in op["responses"].items() if str(k).startswith("2")}
        assert two_xx, f"{method.upper()} {path}: no 2xx response"
        for status, response in two_xx.items():
            for media, body in response.get("content", {}).items():
                assert "schema" in body, f"{op['operationId']} {status} {media}: no schema"


def test_shared_responses_are_app_errors(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    assert set(responses) == {
        "BadRequest",
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "NotFoundCatchAll",
        "LicenseFormError",
        "TooLarge",
        "NotImplemented",
        "InternalServerError",
        "TooManyRequests",
        "URITooLong",
    }
    both_headers = {
        "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
        "X-Version-Id": {"$ref": "#/components/headers/X-Version-Id"},
    }
    # answered outside the request pipeline: neither header is promised
    outside_pipeline = {"NotFoundCatchAll", "URITooLong"}
    for name, response in responses.items():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/AppError"}, name
        if name in outside_pipeline:
            assert "headers" not in response, name
        else:
            assert response["headers"] == both_headers, name
    # plain-text bodies where a server may bypass the AppError renderer
    for name in ("NotFoundCatchAll", "LicenseFormError"):
        assert responses[name]["content"]["text/plain"]["schema"] == {"type": "string"}, name


def test_catch_all_404s_use_the_response_without_headers(document: dict[str, Any]) -> None:
    uses = {
        op["operationId"]: op["responses"]["404"]["$ref"].rsplit("/", 1)[1]
        for _, _, op in iter_operations(document)
        if "404" in op["responses"]
    }
    assert uses == {
        "GetNotices": "NotFoundCatchAll",
        "CheckIntegrity": "NotFoundCatchAll",
        "RequestLicenseRenewalLink": "NotFoundCatchAll",
        # 404s produced inside the pipeline keep both headers
        "AcknowledgeNotification": "NotFound",
        "GetRedirectLocation": "NotFound",
        "GetImageByUrl": "NotFound",
        "GenerateSupportPacket": "NotFound",
    }


def test_413_only_where_a_handler_passes_the_read_error_on(document: dict[str, Any]) -> None:
    documented = {
        op["operationId"] for _, _, op in iter_operations(document) if "413" in op["responses"]
    }
    assert documented == {
        "UpdateConfig",
        "PatchConfig",
        "AcknowledgeNotification",
        "MarkNoticesViewed",
        "UploadLicenseFile",
    }


def test_required_components_exist(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in (
        "SystemStatusResponse",
        "Notice",
        "StatusOK",
        "Config",
        "EnvironmentConfig",
        "LicenseRenewalLink",
        "Audit",
        "Server_Busy",
        "PushNotification",
        "IntegrityCheckResult",
        "RelationalIntegrityCheckData",
        "OrphanedRecord",
        "AppError",
    ):
        assert name in schemas, name
    assert len(schemas["Config"]["properties"]) == 21
    assert len(schemas["EnvironmentConfig"]["properties"]) == 21
    assert schemas["Server_Busy"]["required"] == ["busy", "expires", "expires_ts"]
    assert set(schemas["AppError"]["required"]) == {"id", "message", "status_code"}
    assert {"detailed_error", "request_id"} <= set(schemas["AppError"]["properties"])
    ping = schemas["SystemStatusResponse"]["properties"]
    assert ping["ActiveSearchBackend"]["type"] == "string"
    assert ping["root_status"]["type"] == "boolean"


# Seed settings no server from 7.0 on decodes (removed in 6.0 or earlier) and seed settings only
# newer servers have; both are left out of Config (erratum config-settings-servers-ignore).
DROPPED_SETTINGS = {
    "ServiceSettings": {
        "SegmentDeveloperKey",
        "EnableOnlyAdminIntegrations",
        "RestrictCustomEmojiCreation",
    },
    "TeamSettings": {
        "EnableTeamCreation",
        "RestrictTeamInvite",
        "RestrictPublicChannelManagement",
        "RestrictPrivateChannelManagement",
        "RestrictPublicChannelCreation",
        "RestrictPrivateChannelCreation",
        "RestrictPublicChannelDeletion",
        "RestrictPrivateChannelDeletion",
    },
    "FileSettings": {
        "ThumbnailWidth",
        "ThumbnailHeight",
        "PreviewWidth",
        "PreviewHeight",
        "ProfileWidth",
        "ProfileHeight",
    },
    "EmailSettings": {"InviteSalt", "PasswordResetSalt"},
    "ClusterSettings": {"InterNodeListenAddress", "InterNodeUrls"},
}
NEWER_SETTINGS = {
    "FileSettings": {"AmazonS3StorageClass"},
    "SupportSettings": {"ReportAProblemType", "ReportAProblemMail", "AllowDownloadLogs"},
}


def _folded(names: Any) -> set[str]:
    return {str(name).lower() for name in names}


def test_config_keeps_every_seed_field_servers_decode(document: dict[str, Any]) -> None:
    """Every seed setting is kept (names compared as Go's decoder does, ignoring case) except
    those no target server decodes; the environment map drops only the ones gone everywhere."""
    if not SEED.is_file():
        pytest.skip("shared reference seed not available")
    seed = load_yaml(SEED)["components"]["schemas"]
    ours = document["components"]["schemas"]
    for name, left_out in (
        ("Config", [DROPPED_SETTINGS, NEWER_SETTINGS]),
        ("EnvironmentConfig", [DROPPED_SETTINGS]),
    ):
        for section, body in seed[name]["properties"].items():
            expected = _folded(body["properties"])
            for group in left_out:
                expected -= _folded(group.get(section, ()))
            assert _folded(ours[name]["properties"][section]["properties"]) == expected, (
                f"{name}.{section}"
            )


def test_left_out_settings_are_named_in_their_erratum(contract: Contract) -> None:
    seed_text = contract.erratum("config-settings-servers-ignore").seed
    for group in (DROPPED_SETTINGS, NEWER_SETTINGS):
        for section, names in group.items():
            assert section in seed_text, section
            for setting in names:
                assert setting in seed_text, setting


def test_security(document: dict[str, Any]) -> None:
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    optional = {
        op["operationId"]
        for _, _, op in iter_operations(document)
        if op.get("security") == [{}, {"bearerAuth": []}]
    }
    assert optional == {"GetPing", "GetClientConfig", "GetClientLicense", "PostLog"}
    by_id = {op["operationId"]: op for _, _, op in iter_operations(document)}
    assert by_id["CheckIntegrity"]["security"] == []


def test_session_operations_document_401_and_permission_checks_403(
    document: dict[str, Any],
) -> None:
    for _, _, op in iter_operations(document):
        statuses = set(op["responses"])
        if op["x-mm-auth"] == "session":
            assert "401" in statuses, op["operationId"]
        if op["x-mm-permissions"] or op["x-mm-license"] == "required":
            assert "403" in statuses, op["operationId"]


def test_parameters_make_414_possible(document: dict[str, Any]) -> None:
    for _, _, op in iter_operations(document):
        if op.get("parameters"):
            assert "414" in op["responses"], op["operationId"]


def test_specific_response_facts(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in iter_operations(document)}
    upload = by_id["UploadLicenseFile"]["responses"]
    assert "200" in upload
    assert "201" not in upload
    assert "413" in upload
    assert upload["400"] == {"$ref": "#/components/responses/LicenseFormError"}
    packet = by_id["GenerateSupportPacket"]["responses"]["200"]["content"]
    assert "application/zip" in packet
    redirect = by_id["GetRedirectLocation"]["responses"]["200"]["content"]
    assert list(redirect) == ["application/json"]
    assert "202" in by_id["UpgradeToEnterprise"]["responses"]
    for op_id in ("GetAudits", "GetLogs", "CheckIntegrity"):
        schema = by_id[op_id]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["nullable"] is True, op_id


def test_links_name_existing_operations_and_parameters(document: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in iter_operations(document)}
    links = []
    for _, _, op in iter_operations(document):
        for response in op["responses"].values():
            for name, link in response.get("links", {}).items():
                links.append((op["operationId"], name, link))
    pairs = {(source, link["operationId"]) for source, _, link in links}
    assert {
        ("SetServerBusy", "GetServerBusyExpires"),
        ("GetServerBusyExpires", "ClearServerBusy"),
        ("GetConfig", "PatchConfig"),
        ("PatchConfig", "GetConfig"),
        ("UploadLicenseFile", "GetClientLicense"),
        ("GetClientLicense", "RemoveLicenseFile"),
        ("GetNotices", "MarkNoticesViewed"),
    } <= pairs
    expression = re.compile(r"^\$(response\.body(#/.*)?|request\..+|statusCode|url|method)$")
    for source, name, link in links:
        target = by_id[link["operationId"]]
        names = {p["name"] for p in target.get("parameters", [])}
        assert set(link.get("parameters", {})) <= names, f"{source}.{name}"
        if "requestBody" in link:
            assert "requestBody" in target, f"{source}.{name}: target has no body"
            body = link["requestBody"]
            values = body if isinstance(body, list) else [body]
            for value in values:
                if isinstance(value, str) and value.startswith("$"):
                    assert expression.match(value), f"{source}.{name}: {value}"


def _prose(node: Any) -> list[str]:
    texts: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("summary", "description") and isinstance(value, str):
                texts.append(value)
            else:
                texts.extend(_prose(value))
    elif isinstance(node, list):
        for value in node:
            texts.extend(_prose(value))
    return texts


def _sentences(text: str) -> set[str]:
    words = re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split()
    return {" ".join(words[i : i + 7]) for i in range(len(words) - 6)}


def test_prose_is_our_own(document: dict[str, Any]) -> None:
    """No run of seven words from the seed's summaries/descriptions appears in ours."""
    if not SEED.is_file():
        pytest.skip("shared reference seed not available")
    seed_runs: set[str] = set()
    for text in _prose(load_yaml(SEED)):
        seed_runs |= _sentences(text)
    ours: set[str] = set()
    for text in _prose(document):
        ours |= _sentences(text)
    assert sorted(seed_runs & ours) == []
