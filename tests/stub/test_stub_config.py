"""Config: masking, desanitise, PUT defaults, PATCH merge rules, role filtering, env, reload."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mmconform.stub import RunningStub, StubOptions, start_stub
from mmconform.stub import _config as cfgmod
from mmconform.stub._config_defaults import FAKE_SETTING, default_config
from tests.stub._helpers import Api, error_id

NO_CACHE = "no-cache, no-store, must-revalidate"


pytestmark = pytest.mark.usefixtures("restore_state")


def stored(stub: RunningStub, *path: str) -> Any:
    return cfgmod.get_path(stub.state.store.file_config, path)


def get(api: Api, role: str = "system_admin") -> dict[str, Any]:
    response = api("GET", "/api/v4/config", role)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == NO_CACHE
    body = response.json()
    assert isinstance(body, dict)
    return body


def patch(api: Api, body: Any, role: str = "system_admin") -> Any:
    return api("PUT", "/api/v4/config/patch", role, json=body)


# --------------------------------------------------------------------------------------------
def test_masking(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(
        EmailSettings={"SMTPPassword": "smtp-secret"},
        GitLabSettings={"Secret": "gl"},
        SqlSettings={"DataSourceReplicas": ["postgres://replica"]},
    )
    cfg = get(api)
    assert cfg["FileSettings"]["PublicLinkSalt"] == FAKE_SETTING
    assert cfg["SqlSettings"]["DataSource"] == FAKE_SETTING
    assert cfg["SqlSettings"]["AtRestEncryptKey"] == FAKE_SETTING
    assert cfg["SqlSettings"]["DataSourceReplicas"] == [FAKE_SETTING]
    assert cfg["SqlSettings"]["DataSourceSearchReplicas"] == []
    assert cfg["EmailSettings"]["SMTPPassword"] == FAKE_SETTING
    assert cfg["GitLabSettings"]["Secret"] == FAKE_SETTING
    assert cfg["LdapSettings"]["BindPassword"] == ""  # empty: not masked
    assert cfg["ElasticsearchSettings"]["Password"] == FAKE_SETTING
    assert cfg["ServiceSettings"]["SplitKey"] == FAKE_SETTING
    assert cfg["TeamSettings"]["SiteName"] != ""
    assert len(FAKE_SETTING) == 32
    assert set(FAKE_SETTING) == {"*"}
    # the local socket shows the stored values on this version
    local = api.local("GET", "/api/v4/config").json()
    assert local["EmailSettings"]["SMTPPassword"] == "smtp-secret"
    assert local["SqlSettings"]["DataSourceReplicas"] == ["postgres://replica"]


def test_round_trip_keeps_secrets(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(EmailSettings={"SMTPPassword": "smtp-secret"})
    data_source = stored(running_stub, "SqlSettings", "DataSource")
    cfg = get(api)
    cfg["TeamSettings"]["SiteName"] = "MyFancyName"
    response = api("PUT", "/api/v4/config", json=cfg)
    assert response.status_code == 200
    assert response.json()["TeamSettings"]["SiteName"] == "MyFancyName"
    assert response.headers["Cache-Control"] == NO_CACHE
    assert stored(running_stub, "EmailSettings", "SMTPPassword") == "smtp-secret"
    assert stored(running_stub, "SqlSettings", "DataSource") == data_source
    assert patch(api, {"EmailSettings": {"SMTPPassword": FAKE_SETTING}}).status_code == 200
    assert stored(running_stub, "EmailSettings", "SMTPPassword") == "smtp-secret"
    saved = json.loads(running_stub.state.store.path.read_text())
    assert saved["TeamSettings"]["SiteName"] == "MyFancyName"


def test_put_resets_missing_fields_to_defaults(api: Api) -> None:
    assert (
        patch(
            api, {"TeamSettings": {"SiteName": "Changed"}, "RateLimitSettings": {"PerSec": 99}}
        ).status_code
        == 200
    )
    response = api("PUT", "/api/v4/config", json={"TeamSettings": {"MaxUsersPerTeam": 77}})
    assert response.status_code == 200
    cfg = response.json()
    assert cfg["TeamSettings"]["SiteName"] == "Mattermost"
    assert cfg["TeamSettings"]["MaxUsersPerTeam"] == 77
    assert cfg["RateLimitSettings"]["PerSec"] == 10
    assert api("PUT", "/api/v4/config", json={}).status_code == 200


def test_put_body_errors_come_before_permission(api: Api) -> None:
    for content in (
        b"null",
        b"",
        b"{",
        b"[]",
        b'{"ServiceSettings": {"SiteURL": 5}}',
        b'{"TeamSettings": {"MaxUsersPerTeam": 1.5}}',
        b'{"ServiceSettings": {"EnableDeveloper": "yes"}}',
    ):
        for role in ("system_user", "system_admin"):
            for path in ("/api/v4/config", "/api/v4/config/patch"):
                response = api("PUT", path, role, content=content)
                assert response.status_code == 400, (content, role, path)
                assert error_id(response) == "api.context.invalid_body_param.app_error"
                assert "config" in response.json()["message"]


def test_patch_merge_rules(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(
        TeamSettings={"ExperimentalDefaultChannels": ["some-channel"]},
        ClientRequirements={"AndroidLatestVersion": "9.9"},
        RateLimitSettings={"VaryByHeader": "X-Real-Ip"},
        PluginSettings={"PluginStates": {"a": {"Enable": True}, "b": {"Enable": True}}},
    )
    body = {
        "PasswordSettings": {"Lowercase": True, "MinimumLength": 15},
        "LogSettings": {"ConsoleLevel": "INFO"},
        "TeamSettings": {"ExperimentalDefaultChannels": ["another-channel"]},
        "PluginSettings": {"PluginStates": {"com.mattermost.nps": {"Enable": False}}},
    }
    response = patch(api, body)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == NO_CACHE
    cfg = get(api)
    assert cfg["PasswordSettings"]["Lowercase"] is True
    assert cfg["PasswordSettings"]["MinimumLength"] == 15
    assert cfg["PasswordSettings"]["Number"] is False  # untouched pointer field kept
    assert cfg["TeamSettings"]["ExperimentalDefaultChannels"] == ["another-channel"]
    assert cfg["PluginSettings"]["PluginStates"] == {"com.mattermost.nps": {"Enable": False}}
    # the non-pointer quirk: omitted plain strings become ""
    assert cfg["ClientRequirements"]["AndroidLatestVersion"] == ""
    assert cfg["RateLimitSettings"]["VaryByHeader"] == ""
    assert response.json()["SqlSettings"]["DataSource"] == FAKE_SETTING


def test_empty_slice_replaces(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(TeamSettings={"ExperimentalDefaultChannels": ["x"]})
    assert patch(api, {"TeamSettings": {"ExperimentalDefaultChannels": []}}).status_code == 200
    assert stored(running_stub, "TeamSettings", "ExperimentalDefaultChannels") == []
    assert patch(api, {"TeamSettings": {"ExperimentalDefaultChannels": None}}).status_code == 200
    assert stored(running_stub, "TeamSettings", "ExperimentalDefaultChannels") == []


def test_validation(api: Api) -> None:
    for path in ("/api/v4/config/patch",):
        response = api("PUT", path, json={"PasswordSettings": {"MinimumLength": 4}})
        assert response.status_code == 400
        assert error_id(response) == "model.config.is_valid.password_length.app_error"
    cfg = get(api)
    cfg["PasswordSettings"]["MinimumLength"] = 73
    response = api("PUT", "/api/v4/config", json=cfg)
    assert error_id(response) == "model.config.is_valid.password_length.app_error"
    response = patch(api, {"ServiceSettings": {"SiteURL": "not a url"}})
    assert error_id(response) == "model.config.is_valid.site_url.app_error"
    response = patch(api, {"FileSettings": {"MaxFileSize": 0}})
    assert error_id(response) == "model.config.is_valid.max_file_size.app_error"


def test_site_url_cannot_be_cleared(api: Api) -> None:
    assert patch(api, {"ServiceSettings": {"SiteURL": "http://localhost"}}).status_code == 200
    response = patch(api, {"ServiceSettings": {"SiteURL": ""}})
    assert response.status_code == 400
    assert error_id(response) == "api.config.update_config.clear_siteurl.app_error"
    assert patch(api, {}).status_code == 200
    cfg = get(api)
    cfg["ServiceSettings"]["SiteURL"] = ""
    response = api("PUT", "/api/v4/config", json=cfg)
    assert error_id(response) == "api.config.update_config.clear_siteurl.app_error"
    assert get(api)["ServiceSettings"]["SiteURL"] == "http://localhost"


def test_enable_uploads_and_signature_keys(api: Api, running_stub: RunningStub) -> None:
    cfg = get(api)
    cfg["PluginSettings"]["EnableUploads"] = True
    cfg["PluginSettings"]["SignaturePublicKeyFiles"] = ["key.pub"]
    response = api("PUT", "/api/v4/config", json=cfg)
    assert response.status_code == 200
    assert response.json()["PluginSettings"]["EnableUploads"] is False
    assert response.json()["PluginSettings"]["SignaturePublicKeyFiles"] == []
    response = patch(api, {"PluginSettings": {"EnableUploads": True}})
    assert response.status_code == 403
    assert error_id(response) == "api.config.update_config.not_allowed_security.app_error"
    assert patch(api, {"PluginSettings": {"EnableUploads": False}}).status_code == 200
    # local mode may change both
    local = api.local("PUT", "/api/v4/config", json=cfg)
    assert local.status_code == 200
    assert local.json()["PluginSettings"]["EnableUploads"] is True
    assert local.json()["PluginSettings"]["SignaturePublicKeyFiles"] == ["key.pub"]
    del cfg["PluginSettings"]["EnableUploads"]
    assert api.local("PUT", "/api/v4/config", json=cfg).status_code == 200
    assert stored(running_stub, "PluginSettings", "EnableUploads") is True


def test_marketplace_url(api: Api, running_stub: RunningStub) -> None:
    cfg = get(api)
    cfg["PluginSettings"]["MarketplaceURL"] = "http://new.example.com"
    assert api("PUT", "/api/v4/config", json=cfg).status_code == 200
    assert stored(running_stub, "PluginSettings", "MarketplaceURL") != "http://new.example.com"
    response = patch(
        api,
        {"PluginSettings": {"EnableUploads": False, "MarketplaceURL": "http://new.example.com"}},
    )
    assert response.status_code == 403
    running_stub.state.update_config(PluginSettings={"EnableUploads": True})
    assert api("PUT", "/api/v4/config", json=get(api)).status_code == 200
    cfg = get(api)
    cfg["PluginSettings"]["MarketplaceURL"] = "http://new.example.com"
    assert api("PUT", "/api/v4/config", json=cfg).status_code == 200
    assert stored(running_stub, "PluginSettings", "MarketplaceURL") == "http://new.example.com"


def test_message_export_timestamp(api: Api) -> None:
    def export(body: dict[str, Any]) -> int:
        response = patch(api, {"MessageExportSettings": body})
        assert response.status_code == 200
        return int(response.json()["MessageExportSettings"]["ExportFromTimestamp"])

    assert export({"EnableExport": True}) != 0
    assert export({"EnableExport": False}) == 0
    assert export({"EnableExport": True, "ExportFromTimestamp": 12345}) == 12345
    assert export({"EnableExport": False}) == 0


def test_restrict_system_admin_fields(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(
        ExperimentalSettings={"RestrictSystemAdmin": True}, LogSettings={"ConsoleLevel": "DEBUG"}
    )
    cfg = get(api)
    cfg["TeamSettings"]["SiteName"] = "Allowed"
    cfg["ServiceSettings"]["SiteURL"] = "http://ignored.example.com"
    response = api("PUT", "/api/v4/config", json=cfg)
    assert response.status_code == 200
    assert response.json()["TeamSettings"]["SiteName"] == "Allowed"
    assert response.json()["ServiceSettings"]["SiteURL"] == ""
    assert response.json() == get(api)
    assert patch(api, {"LogSettings": {"ConsoleLevel": "INFO"}}).status_code == 200
    assert stored(running_stub, "LogSettings", "ConsoleLevel") == "DEBUG"
    local = api.local("PUT", "/api/v4/config/patch", json={"LogSettings": {"ConsoleLevel": "INFO"}})
    assert local.json()["LogSettings"]["ConsoleLevel"] == "INFO"


def test_read_filtering_by_role(api: Api) -> None:
    admin = get(api)
    read_only = get(api, "system_read_only_admin")
    assert read_only["TeamSettings"]["SiteName"] == admin["TeamSettings"]["SiteName"]
    assert read_only["ServiceSettings"]["SiteURL"] == admin["ServiceSettings"]["SiteURL"]
    user_manager = get(api, "system_user_manager")
    assert user_manager["ServiceSettings"]["SiteURL"] is None
    assert user_manager["PasswordSettings"]["MinimumLength"] == 8  # authentication_password
    assert user_manager["FeatureFlags"]["TestFeature"] == "off"  # *_read
    assert set(user_manager) == set(admin)  # sections always present
    manager = get(api, "system_manager")
    assert manager["ServiceSettings"]["SiteURL"] == ""
    assert manager["ComplianceSettings"]["Enable"] is None  # no compliance read


def test_write_filtering_by_role(api: Api, running_stub: RunningStub) -> None:
    response = patch(api, {"TeamSettings": {"SiteName": "x"}}, "system_read_only_admin")
    assert response.status_code == 403
    body = {
        "TeamSettings": {"SiteName": "ByUserManager"},
        "ServiceSettings": {"EnableAPITeamDeletion": True},
    }
    assert patch(api, body, "system_user_manager").status_code == 200
    assert stored(running_stub, "TeamSettings", "SiteName") == "Mattermost"
    assert stored(running_stub, "ServiceSettings", "EnableAPITeamDeletion") is True
    body = {
        "TeamSettings": {"SiteName": "ByManager"},
        "ClientRequirements": {"IosMinVersion": "1.0"},
    }
    assert patch(api, body, "system_manager").status_code == 200
    assert stored(running_stub, "TeamSettings", "SiteName") == "ByManager"
    assert stored(running_stub, "ClientRequirements", "IosMinVersion") == ""


def test_remove_masked_and_defaults(api: Api) -> None:
    masked = api("GET", "/api/v4/config?remove_masked=true").json()
    assert "DataSource" not in masked["SqlSettings"]
    assert "PublicLinkSalt" not in masked["FileSettings"]
    assert masked["TeamSettings"]["SiteName"] == "Mattermost"
    assert patch(api, {"TeamSettings": {"SiteName": "NotDefault"}}).status_code == 200
    pruned = api("GET", "/api/v4/config?remove_defaults=1").json()
    assert pruned["TeamSettings"] == {"SiteName": "NotDefault"}
    assert "RateLimitSettings" not in pruned
    junk = api("GET", "/api/v4/config?remove_defaults=junk&remove_masked=yes").json()
    assert junk["SqlSettings"]["DataSource"] == FAKE_SETTING


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("MM_SERVICESETTINGS_SITEURL", "http://env.example.com")
    monkeypatch.setenv("MM_SERVICESETTINGS_ENABLECUSTOMEMOJI", "true")
    monkeypatch.setenv("MM_TEAMSETTINGS_MAXUSERSPERTEAM", "not-a-number")
    with start_stub(StubOptions(config_path=tmp_path / "config.json")) as stub:
        caller = Api(stub)
        try:
            env = caller("GET", "/api/v4/config/environment")
            assert env.status_code == 200
            assert env.headers["Cache-Control"] == NO_CACHE
            assert env.json() == {"ServiceSettings": {"SiteURL": True, "EnableCustomEmoji": True}}
            assert caller("GET", "/api/v4/config/environment", "system_user").json() == {}
            assert caller("GET", "/api/v4/config/environment", "anonymous").status_code == 401
            cfg = caller("GET", "/api/v4/config").json()
            assert cfg["ServiceSettings"]["SiteURL"] == "http://env.example.com"
            # saving keeps the file value of an env-overridden field
            assert (
                caller(
                    "PUT", "/api/v4/config/patch", json={"TeamSettings": {"SiteName": "S"}}
                ).status_code
                == 200
            )
            on_disk = json.loads((tmp_path / "config.json").read_text())
            assert on_disk["ServiceSettings"]["SiteURL"] == ""
            assert on_disk["TeamSettings"]["SiteName"] == "S"
        finally:
            caller.close()


def test_reload_reads_the_file(api: Api, running_stub: RunningStub) -> None:
    path = running_stub.state.store.path
    on_disk = json.loads(path.read_text())
    on_disk["TeamSettings"]["SiteName"] = "FromDisk"
    path.write_text(json.dumps(on_disk))
    assert get(api)["TeamSettings"]["SiteName"] == "Mattermost"
    response = api("POST", "/api/v4/config/reload")
    assert response.json() == {"status": "OK"}
    assert response.headers["Cache-Control"] == NO_CACHE
    assert get(api)["TeamSettings"]["SiteName"] == "FromDisk"
    path.write_text("{not json")
    response = api("POST", "/api/v4/config/reload")
    assert response.status_code == 500
    assert error_id(response) == "api.config.reload_config.app_error"


def test_client_config(api: Api, running_stub: RunningStub) -> None:
    running_stub.state.update_config(ServiceSettings={"GoogleDeveloperKey": "supersecretkey"})
    full = api("GET", "/api/v4/config/client?format=old", "system_user").json()
    assert full["Version"] == "11.1.0"
    assert full["GoogleDeveloperKey"] == "supersecretkey"
    assert all(isinstance(v, str) for v in full.values())
    limited = api("GET", "/api/v4/config/client", "anonymous").json()
    assert limited["Version"] == "11.1.0"
    assert "GoogleDeveloperKey" not in limited
    assert api("GET", "/api/v4/config/client?format=junk", "anonymous").status_code == 200
    assert api.local("GET", "/api/v4/config/client").json()["GoogleDeveloperKey"] == (
        "supersecretkey"
    )


def test_classic_client_config_format() -> None:
    with start_stub(StubOptions(server_version="10.11.0", local_mode=False)) as stub:
        caller = Api(stub)
        try:
            missing = caller("GET", "/api/v4/config/client", "anonymous")
            assert missing.status_code == 501
            assert error_id(missing) == "api.config.client.old_format.app_error"
            junk = caller("GET", "/api/v4/config/client?format=junk", "anonymous")
            assert junk.status_code == 400
            assert error_id(junk) == "api.context.invalid_body_param.app_error"
            assert caller("GET", "/api/v4/config/client?format=old").status_code == 200
        finally:
            caller.close()


def test_defaults_cover_the_seed_config_sections() -> None:
    defaults = default_config()
    for section in (
        "ServiceSettings",
        "TeamSettings",
        "SqlSettings",
        "LogSettings",
        "PasswordSettings",
        "FileSettings",
        "EmailSettings",
        "RateLimitSettings",
        "PrivacySettings",
        "SupportSettings",
        "GitLabSettings",
        "GoogleSettings",
        "Office365Settings",
        "LdapSettings",
        "ComplianceSettings",
        "LocalizationSettings",
        "SamlSettings",
        "NativeAppSettings",
        "ClusterSettings",
        "MetricsSettings",
        "AnalyticsSettings",
        "PluginSettings",
        "FeatureFlags",
        "ExperimentalSettings",
    ):
        assert section in defaults
    assert cfgmod.validate(defaults) is None


def test_defaults_agree_with_the_contract_config_schema() -> None:
    """Every field of the contract's Config schema exists in the defaults with the same JSON type.

    The stub is written independently of spec/; this test is where the two meet, so a field
    missing or mistyped on either side shows up as a disagreement.
    """
    from mmconform.contract import load_contract

    schema = load_contract().document["components"]["schemas"]["Config"]
    defaults = default_config()
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list}
    for section, section_schema in schema["properties"].items():
        for name, field in section_schema.get("properties", {}).items():
            assert name in defaults[section], f"{section}.{name}"
            value = defaults[section][name]
            expected = kinds[field["type"]]
            assert isinstance(value, expected), f"{section}.{name}"
            if expected is int:
                assert not isinstance(value, bool), f"{section}.{name}"
