"""The license operations over HTTP: upload, remove, client map, load metric, trials, renewal."""

from __future__ import annotations

import io
import zipfile

import pytest

from mmconform.stub import RunningStub, StubOptions, start_stub
from mmconform.stub._license import DAY_MS, build_license, load_fixture_license, sign_license
from tests.stub._helpers import Api, error_id, stub_caller

pytestmark = pytest.mark.usefixtures("restore_state")


def upload(api: Api, data: bytes, role: str = "system_admin") -> object:
    return api("POST", "/api/v4/license", role, files={"license": ("x.mattermost-license", data)})


def test_upload_valid_license(api: Api, running_stub: RunningStub) -> None:
    response = api(
        "POST", "/api/v4/license", files={"license": ("l", load_fixture_license("valid"))}
    )
    assert response.status_code == 200
    body = response.json()
    for key in (
        "id",
        "issued_at",
        "starts_at",
        "expires_at",
        "customer",
        "features",
        "sku_name",
        "sku_short_name",
        "is_trial",
        "is_gov_sku",
    ):
        assert key in body
    assert running_stub.state.license is not None
    assert api("GET", "/api/v4/system/ping").headers["X-Version-Id"].endswith(".true")
    old = {"format": "old"}
    full = api("GET", "/api/v4/license/client", "system_read_only_admin", params=old).json()
    assert full["IsLicensed"] == "true"
    assert "Id" in full
    assert "ExpiresAt" in full
    trimmed = api("GET", "/api/v4/license/client", "system_user", params=old).json()
    assert trimmed["IsLicensed"] == "true"
    assert not {"Id", "Name", "Email", "IssuedAt", "StartsAt", "ExpiresAt", "SkuName"} & set(
        trimmed
    )
    assert api("GET", "/api/v4/license/client", "anonymous", params=old).json() == trimmed
    assert api("DELETE", "/api/v4/license").json() == {"status": "OK"}
    assert api("GET", "/api/v4/license/client", params=old).json() == {"IsLicensed": "false"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("garbage", "api.license.add_license.invalid.app_error"),
        ("bad-signature", "api.license.add_license.invalid.app_error"),
        ("tampered", "api.license.add_license.invalid.app_error"),
        ("expired", "api.license.add_license.expired.app_error"),
        ("not-yet-started", "api.license.add_license.expired.app_error"),
    ],
)
def test_upload_refused(api: Api, name: str, expected: str) -> None:
    response = api("POST", "/api/v4/license", files={"license": ("l", load_fixture_license(name))})
    assert response.status_code == 400
    assert error_id(response) == expected


def test_upload_form_errors(api: Api) -> None:
    response = api(
        "POST", "/api/v4/license", content=b"plain", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == "request Content-Type isn't multipart/form-data\n"
    response = api("POST", "/api/v4/license", files={"other": ("l", b"x")})
    assert error_id(response) == "api.license.add_license.no_file.app_error"
    response = api(
        "POST", "/api/v4/license", data={"license": "not a file"}, files={"x": ("l", b"")}
    )
    assert error_id(response) == "api.license.add_license.no_file.app_error"
    response = api(
        "POST",
        "/api/v4/license",
        content=b"--broken\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert response.status_code == 400
    assert api("POST", "/api/v4/license", files={"license": ("l", b"")}).status_code == 400


def test_upload_form_error_is_an_app_error_on_the_newest_servers() -> None:
    with stub_caller(StubOptions(server_version="11.10.0", local_mode=False)) as api:
        response = api(
            "POST", "/api/v4/license", content=b"plain", headers={"Content-Type": "text/plain"}
        )
        assert response.status_code == 400
        assert error_id(response) == "api.license.parse_license.parse_form.app_error"
        api.stub.state.update_config(FileSettings={"MaxFileSize": 2048})
        big = api("POST", "/api/v4/license", files={"license": ("l", b"x" * 5000)})
        assert big.status_code == 413
        assert error_id(big) == "api.context.request_body_too_large.app_error"


@pytest.mark.parametrize("version", ["7.0.0", "10.3.0", "11.1.0"])
def test_oversized_license_upload_is_a_plain_text_400_before_11_10(version: str) -> None:
    with stub_caller(StubOptions(server_version=version, local_mode=False)) as api:
        api.stub.state.update_config(FileSettings={"MaxFileSize": 2048})
        big = api("POST", "/api/v4/license", files={"license": ("l", b"x" * 5000)})
        assert big.status_code == 400
        assert big.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert big.text == "http: request body too large\n"
        # within the limit (MaxFileSize plus Go's 512 bytes of read slack) the form is read
        small = api("POST", "/api/v4/license", files={"license": ("l", b"x" * 1500)})
        assert error_id(small) == "api.license.add_license.invalid.app_error"


def test_upload_too_few_users(api: Api) -> None:
    now = 1_700_000_000_000
    lic = build_license(users=2, issued_at=now, expires_at=now + 3650 * DAY_MS)
    response = api("POST", "/api/v4/license", files={"license": ("l", sign_license(lic))})
    assert error_id(response) == "api.license.add_license.unique_users.app_error"


def test_local_upload_ignores_restriction(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(ExperimentalSettings={"RestrictSystemAdmin": True})
    assert api("POST", "/api/v4/license", files={"license": ("l", b"")}).status_code == 403
    assert api.local("POST", "/api/v4/license", files={"license": ("l", b"")}).status_code == 400


def test_load_metric(api: Api, running_stub: RunningStub) -> None:
    assert api("GET", "/api/v4/license/load_metric", "system_user").json() == {"load": 0}
    assert api("GET", "/api/v4/license/load_metric", "anonymous").status_code == 401
    now = 1_700_000_000_000
    for users, active, load in ((1000, 50, 50), (20, 19, 950), (20, 30, 1500)):
        running_stub.state.set_license(
            build_license(users=users, issued_at=now, expires_at=now + DAY_MS)
        )
        running_stub.state.extra_users = active - len(running_stub.state.users)
        assert api("GET", "/api/v4/license/load_metric").json() == {"load": load}
    running_stub.state.extra_users = 0


def test_trial_license(api: Api, running_stub: RunningStub) -> None:
    bad = api("POST", "/api/v4/trial-license", content=b'{"users": 5')
    assert error_id(bad) == "api.license.request-trial.bad-request"
    too_few = api("POST", "/api/v4/trial-license", json={"users": 1, "terms_accepted": True})
    assert error_id(too_few) == "api.license.add_license.unique_users.app_error"
    assert api("GET", "/api/v4/trial-license/prev", "system_user").json() == {"IsLicensed": "false"}
    ok = api(
        "POST",
        "/api/v4/trial-license",
        json={"users": 100, "terms_accepted": True, "receive_emails_accepted": False},
    )
    assert ok.json() == {"status": "OK"}
    assert running_stub.state.license is not None
    assert running_stub.state.license.is_trial
    prev = api("GET", "/api/v4/trial-license/prev").json()
    assert prev["IsLicensed"] == "true"
    assert prev["IsTrial"] == "true"
    assert "Id" in prev
    assert "Id" not in api("GET", "/api/v4/trial-license/prev", "system_user").json()
    again = api("POST", "/api/v4/trial-license", json={"users": 100})
    assert error_id(again) == "api.license.request-trial.can-start-trial.not-allowed"


#: The extended request the official TypeScript client sends (``RequestLicenseBody``).
EXTENDED_TRIAL = {
    "users": 100,
    "terms_accepted": True,
    "receive_emails_accepted": False,
    "contact_name": "Ada Admin",
    "contact_email": "ada@example.com",
    "company_name": "Example Corp",
    "company_size": "1-10",
    "company_country": "US",
}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"users": 100, "terms_accepted": True}, id="legacy"),
        pytest.param(
            {"users": 100, "terms_accepted": True, "receive_emails_accepted": True},
            id="legacy-with-emails",
        ),
        pytest.param(EXTENDED_TRIAL, id="extended"),
        # IsLegacy looks only at the company and contact-name fields: an email alone does not
        # make a request extended.
        pytest.param(
            {"users": 100, "terms_accepted": True, "contact_email": "a@example.com"},
            id="legacy-with-contact-email",
        ),
    ],
)
def test_trial_request_bodies_upstream_accepts_install_a_trial(
    api: Api, running_stub: RunningStub, body: dict[str, object]
) -> None:
    response = api("POST", "/api/v4/trial-license", json=body)
    assert response.status_code == 200, response.text
    assert running_stub.state.license is not None
    assert running_stub.state.license.is_trial


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"users": 100},
            "api.license.request-trial.bad-request.terms-not-accepted",
            id="legacy-no-terms",
        ),
        pytest.param(
            {"users": 100, "terms_accepted": False, "receive_emails_accepted": True},
            "api.license.request-trial.bad-request.terms-not-accepted",
            id="legacy-terms-refused",
        ),
        pytest.param(
            {"terms_accepted": True}, "api.license.request-trial.bad-request", id="legacy-no-users"
        ),
        pytest.param(
            {**EXTENDED_TRIAL, "terms_accepted": False},
            "api.license.request-trial.bad-request",
            id="extended-terms-refused",
        ),
        pytest.param(
            {**EXTENDED_TRIAL, "users": 0},
            "api.license.request-trial.bad-request",
            id="extended-no-users",
        ),
        pytest.param(
            {**EXTENDED_TRIAL, "users": -5},
            "api.license.request-trial.bad-request",
            id="extended-negative-users",
        ),
        # upstream's "mix of legacy and new fields": some company fields, not all
        pytest.param(
            {**EXTENDED_TRIAL, "company_country": ""},
            "api.license.request-trial.bad-request",
            id="extended-without-country",
        ),
        pytest.param(
            {"users": 50, "terms_accepted": True, "company_name": "X"},
            "api.license.request-trial.bad-request",
            id="extended-company-name-only",
        ),
        pytest.param(
            {"users": 50, "terms_accepted": True, "contact_name": "Ada"},
            "api.license.request-trial.bad-request",
            id="extended-contact-name-only",
        ),
    ],
)
def test_trial_request_bodies_upstream_refuses_are_400(
    api: Api, running_stub: RunningStub, body: dict[str, object], expected: str
) -> None:
    response = api("POST", "/api/v4/trial-license", json=body)
    assert response.status_code == 400
    assert error_id(response) == expected
    assert running_stub.state.license is None or not running_stub.state.license.is_trial
    assert running_stub.state.trial_allowed


def test_servers_before_the_extended_trial_form_read_every_body_as_legacy() -> None:
    with start_stub(StubOptions(server_version="7.9.0", local_mode=False)) as stub:
        caller = Api(stub)
        try:
            # company fields are unknown to the struct, so an incomplete set is ignored
            partial = {"users": 100, "terms_accepted": True, "company_name": "X"}
            assert caller("POST", "/api/v4/trial-license", json=partial).status_code == 200
        finally:
            caller.close()
    with start_stub(StubOptions(server_version="7.9.0", local_mode=False)) as stub:
        caller = Api(stub)
        try:
            no_terms = caller(
                "POST", "/api/v4/trial-license", json={**EXTENDED_TRIAL, "terms_accepted": False}
            )
            assert error_id(no_terms) == "api.license.request-trial.bad-request.terms-not-accepted"
        finally:
            caller.close()


def test_team_edition() -> None:
    with start_stub(StubOptions(edition="team", local_mode=False)) as stub:
        caller = Api(stub)
        try:
            trial = caller("POST", "/api/v4/trial-license", json={"users": 100})
            assert trial.status_code == 403
            assert error_id(trial) == "api.license.upgrade_needed.app_error"
            assert caller("GET", "/api/v4/trial-license/prev").status_code == 403
            upgrade = caller("POST", "/api/v4/upgrade_to_enterprise")
            assert upgrade.status_code == 202
            assert upgrade.json() == {"status": "OK"}
            again = caller("POST", "/api/v4/upgrade_to_enterprise")
            assert error_id(again) == "api.upgrade_to_enterprise.app_error"
            status = caller("GET", "/api/v4/upgrade_to_enterprise/status").json()
            assert 0 < status["percentage"] <= 100
            assert status["error"] is None
            client = caller("GET", "/api/v4/config/client").json()
            assert client["BuildEnterpriseReady"] == "false"
        finally:
            caller.close()


def test_enterprise_upgrade_refused(api: Api) -> None:
    response = api("POST", "/api/v4/upgrade_to_enterprise")
    assert response.status_code == 429
    assert error_id(response) == "api.upgrade_to_enterprise.already-enterprise.app_error"
    allowed = api("GET", "/api/v4/upgrade_to_enterprise/allowed")
    assert allowed.status_code == 403
    # the upgrader's error text is passed on as the id, with no translation
    reason = (
        "you cannot upgrade your server from TE to E0 because you are already running "
        "Mattermost Enterprise Edition"
    )
    assert allowed.json()["id"] == reason
    assert allowed.json()["message"] == reason


@pytest.mark.parametrize(
    ("version", "fmt", "status"),
    [
        ("11.10.0", None, 200),
        ("11.10.0", "junk", 200),
        ("11.1.0", None, 400),
        ("11.1.0", "junk", 400),
        ("11.1.0", "old", 200),
        ("10.11.0", None, 400),
        ("6.7.0", None, 400),
        ("6.6.0", None, 501),
    ],
)
def test_client_license_format_by_version(version: str, fmt: str | None, status: int) -> None:
    with stub_caller(StubOptions(server_version=version, local_mode=False)) as api:
        params = {} if fmt is None else {"format": fmt}
        response = api("GET", "/api/v4/license/client", "anonymous", params=params)
        assert response.status_code == status
        if fmt is None and status != 200:
            assert error_id(response) == "api.license.client.old_format.app_error"
        if fmt == "junk" and status == 400:
            assert error_id(response) == "api.context.invalid_body_param.app_error"


def test_renewal_link_on_servers_that_still_have_it() -> None:
    with stub_caller(StubOptions(server_version="9.7.0", local_mode=False)) as api:
        no_license = api("GET", "/api/v4/license/renewal")
        assert no_license.status_code == 400
        assert api("GET", "/api/v4/license/renewal", "system_user").status_code == 403
        api("POST", "/api/v4/license", files={"license": ("l", load_fixture_license("valid"))})
        link = api("GET", "/api/v4/license/renewal")
        assert link.status_code == 200
        assert link.json()["renewal_link"].startswith("https://")


def test_support_packet(api: Api, running_stub: RunningStub) -> None:
    assert error_id(api("GET", "/api/v4/system/support_packet")) == "api.no_license"
    api("POST", "/api/v4/license", files={"license": ("l", load_fixture_license("valid"))})
    response = api("GET", "/api/v4/system/support_packet")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment;filename="mm_support_packet_')
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "mattermost.log" in names
    assert "sanitized_config.json" in names
    no_logs = api("GET", "/api/v4/system/support_packet?basic_server_logs=false")
    assert "mattermost.log" not in zipfile.ZipFile(io.BytesIO(no_logs.content)).namelist()
    assert api("GET", "/api/v4/system/support_packet", "system_manager").status_code == 403
    assert api.local("GET", "/api/v4/system/support_packet").status_code == 200


def test_support_packet_name() -> None:
    from mmconform.stub.handlers.maintenance import support_packet_name

    when = 1699794840.0  # 2023-11-12 13:14 UTC
    assert support_packet_name("TestCustomer", when, new_style=True) == (
        "mm_support_packet_TestCustomer_2023-11-12T13-14.zip"
    )
    assert support_packet_name("Test/Customer:Name", when, new_style=True) == (
        "mm_support_packet_Test_Customer_Name_2023-11-12T13-14.zip"
    )
    assert support_packet_name("", when, new_style=True) == (
        "mm_support_packet__2023-11-12T13-14.zip"
    )
    assert support_packet_name("X", when, new_style=False) == (
        "mattermost_support_packet_2023-11-12-13-14.zip"
    )
