"""spec/errata.yaml: complete, well formed, and pointing at real operations."""

from __future__ import annotations

from typing import Any

import pytest

from mmconform.contract import CHECK_NAMES, Contract, Version, load_contract
from tests.spec._helpers import ERRATA, README, load_yaml

DECISIONS = {"strict", "accept-real", "version-dependent"}
FIELDS = {"id", "operations", "topic", "seed", "server", "decision", "why"}
REQUIRED_IDS = {
    "license-upload-200",
    "ping-status-fields",
    "client-config-format",
    "client-license-format",
    "prev-trial-permission-typo",
    "notices-team-id-name",
    "support-packet-no-2xx",
    "get-config-remove-defaults-string",
    "server-busy-seconds-type",
    "logs-per-page-string",
    "s3-test-deprecated",
    "license-renewal-removed",
    "method-mismatch-404",
    "empty-pages-null",
    "redirect-location-content-type",
    "postlog-200-schema",
    "upgrade-to-enterprise-202-schema",
    "config-lags-server",
    "lenient-query-parsing",
}


@pytest.fixture(scope="module")
def raw() -> list[dict[str, Any]]:
    loaded = load_yaml(ERRATA)
    assert isinstance(loaded, dict)
    entries = loaded["errata"]
    assert isinstance(entries, list)
    return entries


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def test_entries_are_complete(raw: list[dict[str, Any]]) -> None:
    ids = [entry["id"] for entry in raw]
    assert len(ids) == len(set(ids))
    assert set(ids) >= REQUIRED_IDS
    for entry in raw:
        assert set(entry) >= FIELDS, entry.get("id")
        assert entry["decision"] in DECISIONS, entry["id"]
        if entry["decision"] == "version-dependent":
            assert entry.get("versions"), entry["id"]


def test_every_erratum_names_existing_operations(
    raw: list[dict[str, Any]], contract: Contract
) -> None:
    known = {op.operation_id for op in contract.operations}
    for entry in raw:
        assert entry["operations"], entry["id"]
        for op_id in entry["operations"]:
            assert op_id == "*" or op_id in known, f"{entry['id']}: {op_id}"


def test_skip_checks_are_real_schemathesis_checks(contract: Contract) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.checks import CHECKS, load_all_checks

    assert schemathesis is not None
    load_all_checks()
    registered = {getattr(check, "__name__", "") for check in CHECKS.get_all()}
    assert registered >= CHECK_NAMES
    for erratum in contract.errata:
        names = set(erratum.contract.skip_checks)
        for rule in erratum.versions:
            names |= rule.contract.skip_checks
        assert names <= registered, erratum.id


def test_readme_lists_every_erratum(contract: Contract) -> None:
    text = README.read_text(encoding="utf-8")
    for erratum in contract.errata:
        assert erratum.id in text, erratum.id
    assert f"Errata ids ({len(contract.errata)})" in text


def test_version_rules(contract: Contract) -> None:
    config = contract.erratum("client-config-format")
    old, new = Version(10, 11, 0), Version(11, 1, 0)
    missing_old = config.expectation("format_missing", old)
    assert missing_old is not None
    assert missing_old.status == 501
    missing_new = config.expectation("format_missing", new)
    assert missing_new is not None
    assert missing_new.status == 200
    unknown = config.expectation("format_missing", None)
    assert unknown is not None
    assert unknown.status == 200
    license_rule = contract.erratum("client-license-format").expectation("format_missing", old)
    assert license_rule is not None
    assert license_rule.status == 400
    renewal = contract.erratum("license-renewal-removed").expectation("call", new)
    assert renewal is not None
    assert renewal.status == 404


def test_exemptions_per_operation_and_version(contract: Contract) -> None:
    old, new = Version(10, 11, 0), Version(11, 1, 0)
    assert "negative_data_rejection" in contract.exempt_checks("GetClientConfig", old)
    assert "negative_data_rejection" not in contract.exempt_checks("GetClientLicense", old)
    assert "negative_data_rejection" in contract.exempt_checks("GetClientConfig", new)
    assert "negative_data_rejection" in contract.exempt_checks("GetClientConfig", None)
    assert "not_a_server_error" in contract.exempt_checks("GetClientConfig", old)
    assert "not_a_server_error" not in contract.exempt_checks("GetClientConfig", new)
    assert "not_a_server_error" in contract.exempt_checks("TestEmail", new)
    assert "not_a_server_error" not in contract.exempt_checks("GetPing", new)
    assert "positive_data_acceptance" in contract.exempt_checks("UploadLicenseFile", new)
    assert "positive_data_acceptance" not in contract.exempt_checks("SetServerBusy", new)
    for op_id in ("GetAudits", "GetLogs", "GetConfig", "PostLog", "GetNotices"):
        assert "negative_data_rejection" in contract.exempt_checks(op_id, new), op_id
    # strict where the server validates
    for op_id in ("SetServerBusy", "GetAnalyticsOld", "UpdateConfig", "TestSiteURL"):
        assert "negative_data_rejection" not in contract.exempt_checks(op_id, new), op_id
    # method mismatch answers 404 on real servers: every operation is exempt from 405 checks
    for op in contract.operations:
        assert "unsupported_method" in contract.exempt_checks(op.operation_id, None)
        assert contract.extra_statuses(op.operation_id, old) == frozenset()


def test_errata_for(contract: Contract) -> None:
    ids = {e.id for e in contract.errata_for("UploadLicenseFile")}
    assert {"license-upload-200", "method-mismatch-404", "app-error-shape"} <= ids
    with pytest.raises(KeyError, match="NoSuchOperation"):
        contract.errata_for("NoSuchOperation")


def test_uncertain_ranges_are_bounded_and_accept_both_sides(contract: Contract) -> None:
    """A rule with alternative answers covers a named range (both bounds), and each of its
    alternatives is an answer some neighbouring rule gives for certain."""
    seen = 0
    for erratum in contract.errata:
        for index, rule in enumerate(erratum.versions):
            uncertain = {case: exp for case, exp in rule.expect.items() if exp.also}
            if not uncertain:
                continue
            seen += 1
            assert rule.from_version is not None, erratum.id
            assert rule.below is not None, erratum.id
            neighbours = [
                erratum.versions[i]
                for i in (index - 1, index + 1)
                if 0 <= i < len(erratum.versions)
            ]
            for case, exp in uncertain.items():
                answers = [(o.status, o.error_id) for o in (exp, *exp.also)]
                for neighbour in neighbours:
                    certain = neighbour.expect.get(case)
                    if certain is None or certain.also:
                        continue
                    assert exp.allows(certain.status, certain.error_id), (erratum.id, case)
                assert len(set(answers)) == len(answers), (erratum.id, case)
    assert seen >= 6


def test_restriction_rules_by_version(contract: Contract) -> None:
    rules = contract.erratum("restricted-admin-error-codes")
    legacy = rules.expectation("restricted_admin", Version(10, 7, 0))
    either = rules.expectation("restricted_admin", Version(10, 8, 1))
    newest = rules.expectation("restricted_admin", Version(11, 1, 0))
    assert legacy is not None
    assert either is not None
    assert newest is not None
    assert legacy.allows(403, "api.restricted_system_admin")
    assert not legacy.allows(403, "api.context.permissions.app_error")
    assert either.allows(403, "api.restricted_system_admin")
    assert either.allows(403, "api.context.permissions.app_error")
    assert not newest.allows(403, "api.restricted_system_admin")
    s3_legacy = rules.expectation("restricted_s3_test", Version(9, 5, 0))
    assert s3_legacy is not None
    assert s3_legacy.status == 403
    assert "TestS3Connection" in rules.operations


def test_client_license_format_is_checked_until_its_uncertain_range(contract: Contract) -> None:
    for version, skipped in (
        (Version(11, 1, 0), False),
        (Version(11, 8, 0), False),
        (Version(11, 9, 0), True),
        (Version(11, 10, 0), True),
    ):
        exempt = contract.exempt_checks("GetClientLicense", version)
        assert ("negative_data_rejection" in exempt) is skipped, version


def test_renewal_link_expectations_around_its_removal(contract: Contract) -> None:
    renewal = contract.erratum("license-renewal-removed")
    before = renewal.expectation("call", Version(9, 1, 0))
    during = renewal.expectation("call", Version(9, 5, 0))
    after = renewal.expectation("call", Version(10, 8, 0))
    assert before is not None
    assert during is not None
    assert after is not None
    assert before.allows(200)
    assert not before.allows(404)
    assert during.allows(200)
    assert during.allows(404, "api.context.404.app_error")
    assert after.allows(404)
    assert not after.allows(200)


def test_a_case_can_name_the_fields_it_is_about(contract: Contract) -> None:
    flag = contract.erratum("ping-flag-parsing")
    old = flag.expectation("flag_not_true", Version(8, 1, 0))
    new = flag.expectation("flag_not_true", Version(11, 1, 0))
    assert old is not None
    assert new is not None
    assert "/database_status" in old.fields
    assert old.fields == new.fields
    assert old != new


def test_the_strict_notice_view_parser_is_a_version_rule(contract: Contract) -> None:
    rule = contract.erratum("notice-view-strict-parsing")
    lenient = rule.expectation("body_not_ids", Version(8, 1, 0))
    either = rule.expectation("body_not_ids", Version(9, 4, 0))
    strict = rule.expectation("body_not_ids", Version(11, 1, 0))
    assert lenient is not None
    assert either is not None
    assert strict is not None
    assert lenient.allows(200)
    assert not lenient.allows(400)
    assert either.allows(200)
    assert either.allows(400, "api.payload.parse.error")
    assert strict.allows(400, "api.payload.parse.error")
    assert not strict.allows(200)
