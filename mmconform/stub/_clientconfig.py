"""The old-format client config: a flat map of strings (config/client.go, condensed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmconform.stub._state import StubState


def _s(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def build_client_config(state: StubState, *, full: bool) -> dict[str, str]:
    from mmconform.stub._state import BUILD_DATE, BUILD_HASH, BUILD_NUMBER

    c = state.config

    def g(section: str, name: str) -> str:
        return _s(c.get(section, {}).get(name))

    site_url = g("ServiceSettings", "SiteURL").rstrip("/")
    out: dict[str, str] = {
        "Version": state.server_version,
        "BuildNumber": BUILD_NUMBER,
        "BuildDate": BUILD_DATE,
        "BuildHash": BUILD_HASH,
        "BuildHashEnterprise": BUILD_HASH if state.edition == "enterprise" else "none",
        "BuildEnterpriseReady": "true" if state.edition == "enterprise" else "false",
        "ServiceEnvironment": "test",
        "TelemetryId": "stubtelemetryid00000000000",
        "DiagnosticId": "stubtelemetryid00000000000",
        "DiagnosticsEnabled": g("LogSettings", "EnableDiagnostics"),
        "EnableDiagnostics": g("LogSettings", "EnableDiagnostics"),
        "SiteURL": site_url,
        "SiteName": g("TeamSettings", "SiteName"),
        "WebsocketURL": g("ServiceSettings", "WebsocketURL").rstrip("/"),
        "WebsocketPort": g("ServiceSettings", "WebsocketPort"),
        "WebsocketSecurePort": g("ServiceSettings", "WebsocketSecurePort"),
        "EnableUserCreation": g("TeamSettings", "EnableUserCreation"),
        "EnableOpenServer": g("TeamSettings", "EnableOpenServer"),
        "AndroidLatestVersion": g("ClientRequirements", "AndroidLatestVersion"),
        "AndroidMinVersion": g("ClientRequirements", "AndroidMinVersion"),
        "IosLatestVersion": g("ClientRequirements", "IosLatestVersion"),
        "IosMinVersion": g("ClientRequirements", "IosMinVersion"),
        "EnableSignUpWithEmail": g("EmailSettings", "EnableSignUpWithEmail"),
        "EnableSignInWithEmail": g("EmailSettings", "EnableSignInWithEmail"),
        "EnableSignInWithUsername": g("EmailSettings", "EnableSignInWithUsername"),
        "EnableSignUpWithGitLab": g("GitLabSettings", "Enable"),
        "EnableSignUpWithGoogle": g("GoogleSettings", "Enable"),
        "EnableSignUpWithOffice365": g("Office365Settings", "Enable"),
        "EnableSignUpWithOpenId": g("OpenIdSettings", "Enable"),
        "TermsOfServiceLink": g("SupportSettings", "TermsOfServiceLink"),
        "PrivacyPolicyLink": g("SupportSettings", "PrivacyPolicyLink"),
        "AboutLink": g("SupportSettings", "AboutLink"),
        "HelpLink": g("SupportSettings", "HelpLink"),
        "ReportAProblemLink": g("SupportSettings", "ReportAProblemLink"),
        "SupportEmail": g("SupportSettings", "SupportEmail"),
        "EnableCustomBrand": g("TeamSettings", "EnableCustomBrand"),
        "CustomBrandText": g("TeamSettings", "CustomBrandText"),
        "CustomDescriptionText": g("TeamSettings", "CustomDescriptionText"),
        "DefaultClientLocale": g("LocalizationSettings", "DefaultClientLocale"),
        "AvailableLocales": g("LocalizationSettings", "AvailableLocales"),
        "EnableMultifactorAuthentication": g("ServiceSettings", "EnableMultifactorAuthentication"),
        "EnforceMultifactorAuthentication": g(
            "ServiceSettings", "EnforceMultifactorAuthentication"
        ),
        "PasswordMinimumLength": g("PasswordSettings", "MinimumLength"),
        "PasswordRequireLowercase": g("PasswordSettings", "Lowercase"),
        "PasswordRequireUppercase": g("PasswordSettings", "Uppercase"),
        "PasswordRequireNumber": g("PasswordSettings", "Number"),
        "PasswordRequireSymbol": g("PasswordSettings", "Symbol"),
        "PasswordEnableForgotLink": g("PasswordSettings", "EnableForgotLink"),
        "NoAccounts": "false",
        "MaxPostSize": "16383",
        "UpgradedFromTE": "false",
        "InstallationDate": "1764115200000",
        "EnableLdap": "false",
        "EnableSaml": "false",
        "AppDownloadLink": g("NativeAppSettings", "AppDownloadLink"),
        "AndroidAppDownloadLink": g("NativeAppSettings", "AndroidAppDownloadLink"),
        "IosAppDownloadLink": g("NativeAppSettings", "IosAppDownloadLink"),
        "EnableGuestAccounts": g("GuestAccountsSettings", "Enable"),
        "FeatureFlagTestFeature": g("FeatureFlags", "TestFeature"),
    }
    if not full:
        return out
    out.update(
        {
            "GoogleDeveloperKey": g("ServiceSettings", "GoogleDeveloperKey"),
            "EnableCommands": g("ServiceSettings", "EnableCommands"),
            "EnableIncomingWebhooks": g("ServiceSettings", "EnableIncomingWebhooks"),
            "EnableOutgoingWebhooks": g("ServiceSettings", "EnableOutgoingWebhooks"),
            "EnableOAuthServiceProvider": g("ServiceSettings", "EnableOAuthServiceProvider"),
            "EnablePostUsernameOverride": g("ServiceSettings", "EnablePostUsernameOverride"),
            "EnablePostIconOverride": g("ServiceSettings", "EnablePostIconOverride"),
            "EnableLinkPreviews": g("ServiceSettings", "EnableLinkPreviews"),
            "EnablePermalinkPreviews": g("ServiceSettings", "EnablePermalinkPreviews"),
            "EnableTesting": g("ServiceSettings", "EnableTesting"),
            "EnableDeveloper": g("ServiceSettings", "EnableDeveloper"),
            "EnableUserAccessTokens": g("ServiceSettings", "EnableUserAccessTokens"),
            "EnableCustomEmoji": g("ServiceSettings", "EnableCustomEmoji"),
            "EnableEmojiPicker": g("ServiceSettings", "EnableEmojiPicker"),
            "EnableGifPicker": g("ServiceSettings", "EnableGifPicker"),
            "PostEditTimeLimit": g("ServiceSettings", "PostEditTimeLimit"),
            "ExperimentalEnablePostMetadata": "true",
            "TeammateNameDisplay": g("TeamSettings", "TeammateNameDisplay"),
            "LockTeammateNameDisplay": g("TeamSettings", "LockTeammateNameDisplay"),
            "RestrictDirectMessage": g("TeamSettings", "RestrictDirectMessage"),
            "SendEmailNotifications": g("EmailSettings", "SendEmailNotifications"),
            "SendPushNotifications": g("EmailSettings", "SendPushNotifications"),
            "RequireEmailVerification": g("EmailSettings", "RequireEmailVerification"),
            "EnableEmailBatching": g("EmailSettings", "EnableEmailBatching"),
            "EnablePreviewModeBanner": g("EmailSettings", "EnablePreviewModeBanner"),
            "FeedbackEmail": g("EmailSettings", "FeedbackEmail"),
            "ShowEmailAddress": g("PrivacySettings", "ShowEmailAddress"),
            "ShowFullName": g("PrivacySettings", "ShowFullName"),
            "MaxFileSize": g("FileSettings", "MaxFileSize"),
            "EnableFileAttachments": g("FileSettings", "EnableFileAttachments"),
            "EnablePublicLink": g("FileSettings", "EnablePublicLink"),
            "EnableMobileFileUpload": g("FileSettings", "EnableMobileUpload"),
            "EnableMobileFileDownload": g("FileSettings", "EnableMobileDownload"),
            "ThemeSettingsEnableThemeSelection": g("ThemeSettings", "EnableThemeSelection"),
            "DefaultTheme": g("ThemeSettings", "DefaultTheme"),
            "AllowCustomThemes": g("ThemeSettings", "AllowCustomThemes"),
            "EnableSVGs": g("ServiceSettings", "EnableSVGs"),
            "EnableLatex": g("ServiceSettings", "EnableLatex"),
            "EnableInlineLatex": g("ServiceSettings", "EnableInlineLatex"),
            "PluginsEnabled": g("PluginSettings", "Enable"),
            "EnableMarketplace": g("PluginSettings", "EnableMarketplace"),
            "EnableUploads": g("PluginSettings", "EnableUploads"),
            "ExperimentalPrimaryTeam": g("TeamSettings", "ExperimentalPrimaryTeam"),
            "ExperimentalViewArchivedChannels": g(
                "TeamSettings", "ExperimentalViewArchivedChannels"
            ),
            "EnableBotAccountCreation": g("ServiceSettings", "EnableBotAccountCreation"),
            "CollapsedThreads": g("ServiceSettings", "CollapsedThreads"),
            "EnableCustomUserStatuses": g("TeamSettings", "EnableCustomUserStatuses"),
            "EnableUserDeactivation": g("TeamSettings", "EnableUserDeactivation"),
            "AllowDownloadLogs": g("SupportSettings", "AllowDownloadLogs"),
            # license-dependent keys, with their unlicensed defaults when there is no license
            "EnableCompliance": "false",
            "EnableCluster": "false",
            "EnableMetrics": "false",
            "EnableBanner": "false",
            "BannerText": "",
            "BannerColor": "",
            "BannerTextColor": "",
            "AllowBannerDismissal": "false",
            "DataRetentionEnableMessageDeletion": "false",
            "DataRetentionMessageRetentionDays": "0",
            "DataRetentionEnableFileDeletion": "false",
            "DataRetentionFileRetentionDays": "0",
            "CustomTermsOfServiceEnabled": "false",
            "CustomTermsOfServiceReAcceptancePeriod": "0",
        }
    )
    lic = state.license
    if lic is not None:
        f = lic.features
        out.update(
            {
                "EnableCompliance": g("ComplianceSettings", "Enable") if f.compliance else "false",
                "EnableCluster": g("ClusterSettings", "Enable") if f.cluster else "false",
                "EnableMetrics": g("MetricsSettings", "Enable") if f.metrics else "false",
                "EnableLdap": g("LdapSettings", "Enable") if f.ldap else "false",
                "EnableSaml": g("SamlSettings", "Enable") if f.saml else "false",
            }
        )
        if f.announcement:
            out.update(
                {
                    "EnableBanner": g("AnnouncementSettings", "EnableBanner"),
                    "BannerText": g("AnnouncementSettings", "BannerText"),
                    "BannerColor": g("AnnouncementSettings", "BannerColor"),
                    "BannerTextColor": g("AnnouncementSettings", "BannerTextColor"),
                    "AllowBannerDismissal": g("AnnouncementSettings", "AllowBannerDismissal"),
                }
            )
        if f.data_retention:
            out.update(
                {
                    "DataRetentionEnableMessageDeletion": g(
                        "DataRetentionSettings", "EnableMessageDeletion"
                    ),
                    "DataRetentionMessageRetentionDays": g(
                        "DataRetentionSettings", "MessageRetentionDays"
                    ),
                    "DataRetentionEnableFileDeletion": g(
                        "DataRetentionSettings", "EnableFileDeletion"
                    ),
                    "DataRetentionFileRetentionDays": g(
                        "DataRetentionSettings", "FileRetentionDays"
                    ),
                }
            )
        if f.custom_terms_of_service:
            out["CustomTermsOfServiceEnabled"] = g("SupportSettings", "CustomTermsOfServiceEnabled")
            out["CustomTermsOfServiceReAcceptancePeriod"] = g(
                "SupportSettings", "CustomTermsOfServiceReAcceptancePeriod"
            )
    return out
