"""Which differences the contract explains between two sides, rule by rule, and which it does
not (no server: the differences are written by hand)."""

from __future__ import annotations

import pytest

from mmconform.contract import load_contract
from mmconform.diff._compare import Difference
from mmconform.diff._explain import Explainer, Instance
from mmconform.diff._groups import Found, SideAddress, group_instances
from mmconform.diff._model import RequestSpec
from mmconform.diff._sides import SideFacts

CALLERS = ("system_admin", "system_user", "anonymous", "local")


def side(version: str, edition: str = "enterprise", licensed: bool = False) -> SideFacts:
    return SideFacts(version, edition, licensed, CALLERS)


def explain(
    before: SideFacts,
    after: SideFacts,
    operation: str,
    difference: Difference,
    statuses: tuple[int, int] = (200, 200),
    error_ids: tuple[str | None, str | None] = (None, None),
    *,
    caller: str = "system_admin",
    target: str = "/",
) -> str | None:
    explainer = Explainer(load_contract(), before, after)
    found = explainer.explain(
        Instance(
            operation=operation,
            caller=caller,
            method="GET",
            target=target,
            difference=difference,
            baseline_status=statuses[0],
            baseline_error_id=error_ids[0],
            candidate_status=statuses[1],
            candidate_error_id=error_ids[1],
        )
    )
    return None if found is None else found.source


def status(before: int, after: int) -> Difference:
    return Difference("status", "", f"{before} → {after}", str(before), str(after))


def keys(location: str, missing: str = "—", extra: str = "—") -> Difference:
    change = " ".join(
        [*(f"-{k}" for k in missing.split(", ") if k != "—")]
        + [f"+{k}" for k in extra.split(", ") if k != "—"]
    )
    return Difference("keys", location, f"{location}: {change}", missing, extra)


def test_an_operation_one_version_lacks_is_explained_by_its_minimum_version() -> None:
    source = explain(
        side("10.0.0"), side("10.3.0"), "TestNotification", status(404, 200), (404, 200)
    )
    assert source == "x-mm-min-version (TestNotification)"


def test_an_operation_removed_in_a_version_is_explained_by_its_removal() -> None:
    source = explain(
        side("9.1.0"), side("9.5.0"), "RequestLicenseRenewalLink", status(200, 404), (200, 404)
    )
    assert source == "x-mm-removed-in (RequestLicenseRenewalLink)"


def test_a_parameter_one_version_does_not_know_explains_the_answers_to_requests_sending_it() -> (
    None
):
    difference = keys("/SqlSettings", missing="DataSource")
    sent = explain(
        side("10.3.0"),
        side("10.11.0"),
        "GetConfig",
        difference,
        target="/api/v4/config?remove_masked=true",
    )
    assert sent == "x-mm-min-version (GetConfig parameter remove_masked)"
    not_sent = explain(side("10.3.0"), side("10.11.0"), "GetConfig", difference, target="/a")
    assert not_sent is None


def test_an_edition_gate_explains_the_refusal_of_one_edition() -> None:
    source = explain(
        side("11.1.0", "enterprise"),
        side("11.1.0", "team"),
        "RequestTrialLicense",
        status(400, 403),
        (400, 403),
        ("api.license.request-trial.bad-request", "api.license.upgrade_needed.app_error"),
    )
    assert source == "x-mm-edition-gates (RequestTrialLicense)"


def test_a_gate_does_not_explain_an_answer_it_does_not_predict() -> None:
    source = explain(
        side("11.1.0", "enterprise"),
        side("11.1.0", "team"),
        "RequestTrialLicense",
        status(400, 500),
        (400, 500),
    )
    assert source is None
    refused_otherwise = explain(
        side("11.1.0", "enterprise"),
        side("11.1.0", "team"),
        "RequestTrialLicense",
        status(400, 403),
        (400, 403),
        (None, "api.context.permissions.app_error"),
    )
    assert refused_otherwise is None


def test_the_license_gate_explains_a_licensed_and_an_unlicensed_server() -> None:
    source = explain(
        side("11.1.0", licensed=True),
        side("11.1.0", licensed=False),
        "GenerateSupportPacket",
        status(200, 403),
        (200, 403),
        (None, "api.no_license"),
    )
    assert source == "x-mm-license (GenerateSupportPacket)"


def test_an_erratum_case_explains_a_status_that_changed_between_its_version_rules() -> None:
    source = explain(
        side("10.11.0"),
        side("11.0.0"),
        "GetClientConfig",
        status(501, 200),
        (501, 200),
        ("api.config.client.old_format.app_error", None),
    )
    assert source == "erratum client-config-format"
    same_rule = explain(
        side("11.0.0"), side("11.1.0"), "GetClientConfig", status(501, 200), (501, 200)
    )
    assert same_rule is None


def test_an_erratum_case_explains_keys_only_where_it_names_them() -> None:
    flags = keys("/", missing="database_status, filestore_status")
    assert explain(side("9.5.0"), side("10.3.0"), "GetPing", flags) == "erratum ping-flag-parsing"
    other = keys("/", missing="AndroidLatestVersion")
    assert explain(side("9.5.0"), side("10.3.0"), "GetPing", other) is None
    both = keys("/", missing="database_status, AndroidLatestVersion")
    assert explain(side("9.5.0"), side("10.3.0"), "GetPing", both) is None


def test_a_response_field_a_version_added_explains_its_key() -> None:
    added = keys("/", extra="ActiveSearchBackend")
    assert explain(side("7.0.0"), side("8.1.0"), "GetPing", added) == (
        "x-mm-min-version (GetPing response field /ActiveSearchBackend)"
    )
    assert explain(side("8.1.0"), side("9.5.0"), "GetPing", added) is None


@pytest.mark.parametrize(
    "difference",
    [
        status(200, 403),
        Difference("content-type", "header:content-type", "a → b", "a", "b"),
        keys("/", missing="status"),
        Difference("type", "/load", "/load: number → string", "number", "string"),
        Difference("value", "/busy", "/busy: value", "True", "False"),
    ],
    ids=lambda d: d.kind,
)
def test_nothing_is_explained_between_two_servers_of_one_version_and_edition(
    difference: Difference,
) -> None:
    for operation in ("GetPing", "GetLogs", "GetClientConfig", "RequestTrialLicense"):
        assert explain(side("11.1.0"), side("11.1.0"), operation, difference, (200, 403)) is None


def test_a_group_is_explained_only_when_every_one_of_its_differences_is() -> None:
    contract = load_contract()
    explainer = Explainer(contract, side("10.11.0"), side("11.0.0"))
    request = RequestSpec("GetClientConfig", "GET", "/api/v4/config/client")
    found = []
    for caller, (before, after) in (("system_admin", (501, 200)), ("anonymous", (501, 200))):
        instance = Instance(
            "GetClientConfig",
            caller,
            "GET",
            request.target,
            status(before, after),
            before,
            "api.config.client.old_format.app_error" if caller == "system_admin" else "other",
            after,
            None,
        )
        found.append(Found(instance, request, explainer.explain(instance)))
    (group,) = group_instances(found, (SideAddress("http://a"), SideAddress("http://b")))
    assert group.count == 2
    assert group.callers == {"system_admin", "anonymous"}
    assert group.unexplained == 1
    assert not group.explained
    assert "erratum client-config-format" in group.explanations
    assert group.reproduction is not None
    assert group.reproduction.caller == "anonymous"
