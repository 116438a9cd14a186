"""Behaviours where the stub once differed from upstream Mattermost, each pinned to what the
upstream source does (Go's encoding/json semantics included)."""

from __future__ import annotations

from typing import Any

import pytest

from mmconform.stub import RunningStub, StubOptions
from mmconform.stub import _clientconfig as clientconfig
from mmconform.stub._config import validate
from mmconform.stub._config_defaults import default_config
from tests.stub._helpers import Api, error_id, stub_caller

pytestmark = pytest.mark.usefixtures("restore_state")

TEAM = "abcdefghijklmnopqrstuvwxyz"


def test_notice_views_take_null_items_as_empty_strings(api: Api) -> None:
    assert api("PUT", "/api/v4/system/notices/view", json=[None]).json() == {"status": "OK"}
    assert api("PUT", "/api/v4/system/notices/view", content=b"null").status_code == 200
    refused = api("PUT", "/api/v4/system/notices/view", json=[5])
    assert (refused.status_code, error_id(refused)) == (400, "api.payload.parse.error")


@pytest.mark.parametrize("received_at", [2**63, -(2**63) - 1, 1.5])
def test_push_ack_refuses_a_number_an_int64_cannot_hold(api: Api, received_at: Any) -> None:
    ack = {"id": "x", "platform": "ios", "type": "message", "received_at": received_at}
    response = api("POST", "/api/v4/notifications/ack", json=ack)
    assert response.status_code == 400
    assert error_id(response) == "api.push_notifications_ack.message.parse.app_error"


def test_push_ack_accepts_the_int64_extremes(api: Api) -> None:
    for received_at in (2**63 - 1, -(2**63)):
        ack = {"id": "x", "platform": "ios", "type": "message", "received_at": received_at}
        assert api("POST", "/api/v4/notifications/ack", json=ack).status_code == 200


def test_post_log_keeps_the_string_values_of_a_partly_mistyped_map(api: Api) -> None:
    response = api("POST", "/api/v4/logs", json={"message": "kept", "level": 7, "extra": "x"})
    assert response.status_code == 200
    assert response.json() == {
        "message": "Client Logs API Endpoint Message: kept",
        "level": "",
        "extra": "x",
    }


def test_site_url_test_tries_the_url_of_a_partly_mistyped_map(api: Api) -> None:
    response = api("POST", "/api/v4/site_url/test", json={"site_url": "http://127.0.0.1:9", "n": 1})
    assert response.status_code == 400
    assert error_id(response) == "app.admin.test_site_url.failure"


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        (
            "/api/v4/email/test",
            {"EmailSettings": {"SMTPServer": 5}},
            "api.file.test_connection_email_settings_nil.app_error",
        ),
        (
            "/api/v4/file/s3_test",
            {"FileSettings": {"AmazonS3Bucket": 5}},
            "api.file.test_connection_s3_settings_nil.app_error",
        ),
    ],
)
@pytest.mark.parametrize("role", ["system_admin", "system_user"])
def test_connection_tests_check_a_partly_decoded_config_before_the_permission(
    api: Api, path: str, body: dict[str, Any], error: str, role: str
) -> None:
    response = api("POST", path, role, json=body)
    assert (response.status_code, error_id(response)) == (400, error)


def test_client_license_requires_format_on_11_0() -> None:
    with stub_caller(StubOptions(server_version="11.0.0", local_mode=False)) as caller:
        response = caller("GET", "/api/v4/license/client", "anonymous")
        assert (response.status_code, error_id(response)) == (
            400,
            "api.license.client.old_format.app_error",
        )


@pytest.mark.parametrize(
    "role", ["system_read_only_admin", "system_manager", "system_user_manager"]
)
def test_config_for_a_partial_reader_has_every_section_with_null_settings(
    api: Api, role: str
) -> None:
    full = api("GET", "/api/v4/config").json()
    partial = api("GET", "/api/v4/config", role).json()
    assert set(partial) == set(full)
    for section, settings in full.items():
        if isinstance(settings, dict):
            assert set(partial[section]) == set(settings), (role, section)
    nulls = [
        (section, name)
        for section, settings in partial.items()
        if isinstance(settings, dict)
        for name, value in settings.items()
        if value is None
    ]
    assert nulls, role  # what the role may not read is null, not missing


@pytest.mark.parametrize(
    "name", ["post_counts_day", "bot_post_counts_day", "user_counts_with_posts_day"]
)
def test_daily_analytics_for_an_unknown_team_are_empty(api: Api, name: str) -> None:
    response = api("GET", "/api/v4/analytics/old", params={"name": name, "team_id": TEAM})
    assert response.status_code == 200
    assert response.json() == []


def test_upgrade_check_refuses_an_enterprise_build_with_the_raw_error(api: Api) -> None:
    response = api("GET", "/api/v4/upgrade_to_enterprise/allowed")
    assert response.status_code == 403
    assert response.json()["id"].startswith("you cannot upgrade your server from TE to E0")


# --------------------------------------------------------------------------------------------
# client configuration keys, validation order, defaults
# --------------------------------------------------------------------------------------------
def test_client_config_source_is_recorded() -> None:
    assert clientconfig.SOURCE_VERSION == "11.2.0"
    assert clientconfig.SOURCE_VERSION in clientconfig.SOURCE
    assert "client.go" in clientconfig.SOURCE


def test_client_config_uses_upstream_key_names(api: Api) -> None:
    full = api("GET", "/api/v4/config/client?format=old", "system_user").json()
    assert full["EnableThemeSelection"] in ("true", "false")
    assert not [key for key in full if key.startswith("ThemeSettings")]
    for key in ("SchemaVersion", "InstallationDate", "MaxPostSize", "NoAccounts", "SiteName"):
        assert key in full, key
    assert any(key.startswith("FeatureFlag") for key in full)
    assert all(isinstance(value, str) for value in full.values())


def test_limited_client_config_is_a_subset_without_session_keys(api: Api) -> None:
    full = api("GET", "/api/v4/config/client?format=old", "system_user").json()
    limited = api("GET", "/api/v4/config/client?format=old", "anonymous").json()
    assert set(limited) < set(full)
    for key in ("GoogleDeveloperKey", "SchemaVersion", "MaxPostSize", "EnableCommands"):
        assert key in full, key
        assert key not in limited, key
    for key in ("SiteName", "BuildEnterpriseReady", "NoAccounts", "AsymmetricSigningPublicKey"):
        assert key in limited, key


def test_validation_reports_team_settings_before_service_settings() -> None:
    cfg = default_config()
    cfg["TeamSettings"]["MaxUsersPerTeam"] = 0
    cfg["ServiceSettings"]["ReadTimeout"] = 0
    error = validate(cfg)
    assert error is not None
    assert error.error_id == "model.config.is_valid.max_users.app_error"


def test_patch_with_two_invalid_sections_reports_the_team_one(api: Api) -> None:
    patch = {"ServiceSettings": {"ReadTimeout": 0}, "TeamSettings": {"MaxUsersPerTeam": 0}}
    response = api("PUT", "/api/v4/config/patch", json=patch)
    assert (response.status_code, error_id(response)) == (
        400,
        "model.config.is_valid.max_users.app_error",
    )


def test_defaults_follow_upstream(running_stub: RunningStub) -> None:
    defaults = default_config()
    assert defaults["SupportSettings"]["AboutLink"] == "https://mattermost.com/pl/about-mattermost"
    assert defaults["LogSettings"]["ConsoleLevel"] == "DEBUG"
    assert defaults["ThemeSettings"]["DefaultTheme"] == "default"
    client = running_stub.state.client_config(full=True)
    assert client["ServiceEnvironment"] == "production"
    # the theme key of the client map is empty unless a license allows theme management
    assert client["DefaultTheme"] == ""


def test_settings_real_servers_dropped_are_ignored_like_unknown_keys(api: Api) -> None:
    cfg = api("GET", "/api/v4/config").json()
    assert "InterNodeUrls" not in cfg["ClusterSettings"]
    assert "EnableTeamCreation" not in cfg["TeamSettings"]
    for body in (
        {"ClusterSettings": {"InterNodeUrls": 5}},
        {"TeamSettings": {"RestrictTeamInvite": ["not", "a", "string"]}},
        {"EmailSettings": {"InviteSalt": False}},
    ):
        assert api("PUT", "/api/v4/config/patch", json=body).status_code == 200, body
        full = {**cfg, **body}
        assert api("PUT", "/api/v4/config", json=full).status_code == 200, body


def test_seed_spellings_reach_upstream_fields_case_insensitively(api: Api) -> None:
    patch = {
        "GitLabSettings": {"UserApiEndpoint": "https://gitlab.example/api/v4/user"},
        "SamlSettings": {"IdpUrl": "https://idp.example/sso"},
    }
    cfg = api("PUT", "/api/v4/config/patch", json=patch).json()
    assert cfg["GitLabSettings"]["UserAPIEndpoint"] == "https://gitlab.example/api/v4/user"
    assert cfg["SamlSettings"]["IdpURL"] == "https://idp.example/sso"
    assert "UserApiEndpoint" not in cfg["GitLabSettings"]
    assert "IdpUrl" not in cfg["SamlSettings"]
