"""Licenses: the client license by version and by caller, the load metric, trial requests and
the previous trial (and how Team Edition refuses both), invalid uploads, and a license's whole
life: upload, read, remove.

Upload and removal are destructive (they run only with ``--allow-destructive``) and need a
license the target accepts (``[target].license_file``; the embedded stub's test license).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mmconform.contract import ANONYMOUS, Contract, Version
from mmconform.harness import ServerState
from suites.scenarios.support_test import FORMAT_CASES, Verdict, erratum_case, error_id_of

ClientFor = Callable[..., httpx.Client]
CLIENT_LICENSE = "/license/client"
#: What a caller without read_license_information never sees of a license (every version).
TRIMMED = ("Id", "Name", "Email", "IssuedAt", "StartsAt", "ExpiresAt")
UNLICENSED = {"IsLicensed": "false"}
UPGRADE_NEEDED = "api.license.upgrade_needed.app_error"


def _client_license(
    client: httpx.Client, verdict: Verdict, requirement: str | None = None
) -> tuple[httpx.Response, dict[str, Any]]:
    response = verdict.record(client.get(CLIENT_LICENSE, params={"format": "old"}))
    verdict.status(response, 200, requirement=requirement, what="GET /license/client")
    return response, verdict.json_object(response, requirement=requirement)


def _trimmed_keys(body: dict[str, Any]) -> list[str]:
    return [key for key in TRIMMED if key in body]


# --- the client license ----------------------------------------------------------------------


@pytest.mark.mm_operation("GetClientLicense")
@pytest.mark.mm_requirement("license.client-format", "errors.app-error-shape")
@FORMAT_CASES
def test_client_license_format_by_server_version(
    case: str,
    params: dict[str, str],
    anonymous_client: httpx.Client,
    contract: Contract,
    server_version: Version | None,
    verdict: Verdict,
) -> None:
    requirement = "license.client-format"
    response = verdict.record(anonymous_client.get(CLIENT_LICENSE, params=params))
    if case == "format_old":
        verdict.status(response, 200, requirement=requirement, what="format=old")
        return
    expect = erratum_case(contract, "client-license-format", case, server_version)
    if response.status_code == 200 and expect.allows(200):
        verdict.json_object(response, requirement=requirement)
    else:
        verdict.app_error(response, expect=expect, requirement=requirement)


@pytest.mark.mm_operation("GetClientLicense")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("license.client-trimmed")
def test_client_license_is_trimmed_for_callers_without_read_license_information(
    client_for: ClientFor, verdict: Verdict
) -> None:
    """The admin's map says what the target holds; users and anonymous callers get the same
    map without the license's identity and dates."""
    _, full = _client_license(client_for("system_admin"), verdict)
    for role in ("system_user", ANONYMOUS):
        response, body = _client_license(client_for(role), verdict)
        if full.get("IsLicensed") != "true":
            verdict.check(
                body == UNLICENSED,
                f"exactly {UNLICENSED} for {role} on an unlicensed server",
                response=response,
            )
            continue
        verdict.check(
            not _trimmed_keys(body),
            f"none of {', '.join(TRIMMED)} for {role}, who lacks read_license_information",
            received=f"{_trimmed_keys(body)} in {body}",
            response=response,
        )
        differing = sorted(k for k, v in body.items() if full.get(k) != v)
        verdict.check(
            not differing,
            f"every key {role} gets to match the full map",
            received=f"keys that differ from the admin's map: {differing}",
            response=response,
        )


@pytest.mark.mm_operation("GetLicenseLoadMetric", "GetClientLicense", "GetAnalyticsOld")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("license.load-metric")
def test_load_metric_is_monthly_active_users_per_thousand_licensed_seats(
    client_for: ClientFor, verdict: Verdict
) -> None:
    """load = round(monthly active users / licensed users x 1000), 0 without a license; the
    monthly active users are those of the analytics (one user more or less is tolerated, for
    activity between the two requests)."""
    response = verdict.record(client_for("system_user").get("/license/load_metric"))
    verdict.status(response, 200)
    load = verdict.json_object(response).get("load")
    verdict.check(
        isinstance(load, int) and load >= 0, "a load that is an integer >= 0", response=response
    )
    _, full = _client_license(client_for("system_admin"), verdict)
    assert isinstance(load, int)
    seats = int(full.get("Users") or 0) if full.get("IsLicensed") == "true" else 0
    if seats <= 0:
        verdict.check(
            load == 0, "load 0 on a server without a licensed user count", response=response
        )
        return
    rows = verdict.record(
        client_for("system_admin").get("/analytics/old", params={"name": "standard"})
    )
    verdict.status(rows, 200)
    mau = next((r["value"] for r in rows.json() if r.get("name") == "monthly_active_users"), None)
    if not isinstance(mau, int | float):
        pytest.skip("the analytics give no monthly_active_users to compare the load with")
    bounds = [math.floor(max(m, 0) / seats * 1000 + 0.5) for m in (mau - 1, mau + 1)]
    verdict.check(
        bounds[0] <= load <= bounds[1],
        f"load between {bounds[0]} and {bounds[1]} ({mau:g} monthly active users, {seats} "
        "licensed)",
        response=response,
    )


# --- trials -------------------------------------------------------------------------------------


@pytest.mark.mm_operation("RequestTrialLicense", "GetClientLicense")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("license.trial-request-validated", "errors.app-error-shape")
def test_malformed_trial_request_is_refused(
    admin_client: httpx.Client, server_state: ServerState, verdict: Verdict
) -> None:
    """Refused before any licence server is asked: no license appears."""
    requirement = "license.trial-request-validated"
    before = server_state.licensed()
    with server_state.guard({"license"}):
        response = verdict.record(
            admin_client.post(
                "/trial-license",
                content=b'{"users": 5',
                headers={"Content-Type": "application/json"},
            )
        )
        verdict.app_error(response, status=400, requirement=requirement)
        found = error_id_of(response) or ""
        verdict.check(
            found.startswith("api.license.request-trial."),
            "an api.license.request-trial.* refusal",
            response=response,
            requirement=requirement,
        )
        verdict.check(
            server_state.licensed() == before,
            "the license state unchanged",
            received=f"licensed {server_state.licensed()} after, {before} before",
            requirement=requirement,
        )


#: A legacy trial request a server grants when it may (enough users for any test target).
TRIAL_REQUEST = {"users": 100, "terms_accepted": True, "receive_emails_accepted": False}
TRIAL_NOT_ALLOWED = "api.license.request-trial.can-start-trial.not-allowed"


@pytest.mark.mm_operation("GetPrevTrialLicense")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("license.prev-trial")
def test_previous_trial_is_a_client_license_map(client_for: ClientFor, verdict: Verdict) -> None:
    """Before the trial scenario below (file order, one xdist group on a shared target): the
    answer when there was no trial can only be seen before a trial is granted, and a granted
    trial stays the previous one for good."""
    response = verdict.record(client_for("system_admin").get("/trial-license/prev"))
    verdict.status(response, 200)
    full = verdict.json_object(response)
    user_response = verdict.record(client_for("system_user").get("/trial-license/prev"))
    verdict.status(user_response, 200)
    trimmed = verdict.json_object(user_response)
    if full.get("IsLicensed") != "true":
        verdict.check(
            full == UNLICENSED and trimmed == UNLICENSED,
            f"exactly {UNLICENSED} when there was no trial",
            received=f"admin {full}, user {trimmed}",
        )
        return
    verdict.check(
        not _trimmed_keys(trimmed),
        f"none of {', '.join(TRIMMED)} for a user without read_license_information",
        response=user_response,
    )


@pytest.mark.mm_operation("RequestTrialLicense", "GetPrevTrialLicense", "GetClientLicense")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_destructive
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("license.trial-once", "errors.app-error-shape")
def test_a_second_trial_is_refused(
    admin_client: httpx.Client, server_state: ServerState, verdict: Verdict
) -> None:
    """Asks for a trial and, once it is granted, for another one. A server grants one trial in
    its life, so on a real server this spends it; the license the server had is put back. A
    target that has had its trial already (an earlier test, or its past) makes the first
    request the second one: its refusal is then what proves the rule."""
    requirement = "license.trial-once"
    with server_state.guard({"license"}):
        first = verdict.record(admin_client.post("/trial-license", json=TRIAL_REQUEST))
        if first.status_code != 200:
            if error_id_of(first) == TRIAL_NOT_ALLOWED:
                previous = verdict.record(admin_client.get("/trial-license/prev"))
                verdict.status(previous, 200)
                if verdict.json_object(previous).get("IsLicensed") == "true":
                    verdict.app_error(
                        first, status=400, error_id=TRIAL_NOT_ALLOWED, requirement=requirement
                    )
                    return
                pytest.skip(
                    "the target refuses a trial though it has no previous trial on record "
                    f"({TRIAL_NOT_ALLOWED}): whether a second one is refused cannot be told"
                )
            pytest.skip(
                f"the target grants no trial here (POST /trial-license answered "
                f"{first.status_code} {error_id_of(first)}), so a second one cannot be asked for"
            )
        second = verdict.record(admin_client.post("/trial-license", json=TRIAL_REQUEST))
        verdict.app_error(second, status=400, error_id=TRIAL_NOT_ALLOWED, requirement=requirement)


@pytest.mark.mm_operation("GetPrevTrialLicense")
@pytest.mark.mm_requirement("license.team-edition-trials", "errors.app-error-shape")
@pytest.mark.parametrize("role", ["system_admin", "system_user"])
def test_team_edition_has_no_previous_trial(
    role: str, client_for: ClientFor, verdict: Verdict
) -> None:
    response = verdict.record(client_for(role).get("/trial-license/prev"))
    verdict.app_error(
        response, status=403, error_id=UPGRADE_NEEDED, requirement="license.team-edition-trials"
    )


@pytest.mark.mm_operation("RequestTrialLicense")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("license.team-edition-trials", "errors.app-error-shape")
def test_team_edition_refuses_a_trial(
    admin_client: httpx.Client, server_state: ServerState, verdict: Verdict
) -> None:
    with server_state.guard({"license"}):
        response = verdict.record(
            admin_client.post("/trial-license", json={"users": 100, "terms_accepted": True})
        )
    verdict.app_error(
        response, status=403, error_id=UPGRADE_NEEDED, requirement="license.team-edition-trials"
    )


# --- upload and removal ------------------------------------------------------------------------


def _upload(client: httpx.Client, verdict: Verdict, name: str, data: bytes) -> httpx.Response:
    return verdict.record(client.post("/license", files={"license": (name, data)}))


@pytest.fixture
def license_guard(server_state: ServerState) -> Iterator[None]:
    """Removes a license the scenario installed on a server that had none."""
    with server_state.guard({"license"}):
        yield


@pytest.mark.mm_operation("UploadLicenseFile", "GetClientLicense")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("license.upload-rejects-invalid", "errors.app-error-shape")
@pytest.mark.usefixtures("license_guard")
def test_invalid_licenses_are_refused(
    admin_client: httpx.Client,
    invalid_licenses: dict[str, bytes],
    verdict: Verdict,
) -> None:
    requirement = "license.upload-rejects-invalid"
    _, before = _client_license(admin_client, verdict, requirement)
    for name, data in invalid_licenses.items():
        response = _upload(admin_client, verdict, f"{name}.mattermost-license", data)
        verdict.app_error(
            response,
            status=400,
            error_id=(
                "api.license.add_license.invalid.app_error",
                "api.license.add_license.expired.app_error",
            ),
            requirement=requirement,
        )
        _, after = _client_license(admin_client, verdict, requirement)
        verdict.check(
            after == before,
            f"the client license unchanged after refusing the {name} license",
            received=f"{after}, before {before}",
            requirement=requirement,
        )


@pytest.mark.mm_operation("UploadLicenseFile", "RemoveLicenseFile", "GetClientLicense")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("license.upload-and-remove", "license.client-trimmed")
@pytest.mark.mm_feature("license")
@pytest.mark.usefixtures("license_guard")
def test_license_upload_read_and_removal(
    client_for: ClientFor, accepted_license: bytes, server_state: ServerState, verdict: Verdict
) -> None:
    """Upload: the license comes back and the client license shows it (trimmed for callers
    without read_license_information); removal: the server is unlicensed again. A target that
    was licensed before gets the accepted license back afterwards."""
    life, trimming = "license.upload-and-remove", "license.client-trimmed"
    admin = client_for("system_admin")
    was_licensed = server_state.licensed()
    uploaded = _upload(admin, verdict, "accepted.mattermost-license", accepted_license)
    verdict.status(uploaded, 200, requirement=life, what="POST /license with an accepted license")
    license_id = verdict.json_object(uploaded, requirement=life).get("id")
    response, full = _client_license(admin, verdict, life)
    verdict.check(
        full.get("IsLicensed") == "true" and full.get("Id") == license_id,
        f'IsLicensed "true" and Id {license_id!r} in the admin\'s client license',
        response=response,
        requirement=life,
    )
    for role in ("system_user", ANONYMOUS):
        response, body = _client_license(client_for(role), verdict, trimming)
        verdict.check(
            body.get("IsLicensed") == "true" and not _trimmed_keys(body),
            f'IsLicensed "true" and none of {", ".join(TRIMMED)} for {role}',
            response=response,
            requirement=trimming,
        )
    removed = verdict.record(admin.delete("/license"))
    verdict.status(removed, 200, requirement=life, what="DELETE /license")
    for role in ("system_admin", ANONYMOUS):
        response, body = _client_license(client_for(role), verdict, life)
        verdict.check(
            body == UNLICENSED,
            f"exactly {UNLICENSED} for {role} once the license is removed",
            response=response,
            requirement=life,
        )
    if was_licensed:
        _upload(admin, verdict, "accepted.mattermost-license", accepted_license)
