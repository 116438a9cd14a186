"""The client configuration of GET /api/v4/config/client: a flat map whose values are strings.

Which keys a server sends, and where each value comes from, follows the real server's client
config generation (``server/config/client.go``, ``GenerateLimitedClientConfig`` for anonymous
callers and ``GenerateClientConfig`` for sessions) and the computed keys added when the map is
served (``server/channels/app/platform/config.go``), at the version named in ``SOURCE``. The stub
serves these key sets at every version it imitates.

Settings the stub's config does not model are sent with the real server's default value.
License-dependent keys carry their unlicensed value unless the installed license has the
feature, exactly as the real server does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mmconform.stub import _build
from mmconform.stub._license import License

#: Where the key sets below were read: upstream Mattermost at this version.
SOURCE_VERSION = "11.2.0"
SOURCE = (
    "server/config/client.go and server/channels/app/platform/config.go of Mattermost "
    f"{SOURCE_VERSION} (a public copy of the upstream tree: github.com/mtahir100/mattermost-, "
    "commit e101b780ca44bbbd3615d776d8a71b22308fe1bd)"
)

Config = Mapping[str, Any]
Value = Callable[[Config], str]


def _text(value: Any) -> str:
    """A config value written the way Go's strconv formats it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _setting(section: str, name: str, missing: Any = None) -> Value:
    """The value of ``Section.Name``; ``missing`` stands in for a setting the stub lacks."""

    def value(cfg: Config) -> str:
        node = cfg.get(section, {})
        found = node.get(name, missing) if isinstance(node, Mapping) else missing
        return _text(found)

    return value


def _fixed(text: str) -> Value:
    return lambda _cfg: text


def _trimmed(section: str, name: str) -> Value:
    return lambda cfg: _setting(section, name)(cfg).rstrip("/")


def _non_empty(section: str, name: str) -> Value:
    return lambda cfg: _text(bool(_setting(section, name)(cfg)))


def _apps_plugin(cfg: Config) -> str:
    plugins = cfg.get("PluginSettings", {})
    state = (plugins.get("PluginStates") or {}).get("com.mattermost.apps")
    enabled = isinstance(state, dict) and bool(state.get("Enable"))
    return _text(bool(plugins.get("Enable")) and enabled)


def _default_marketplace(cfg: Config) -> str:
    url = cfg.get("PluginSettings", {}).get("MarketplaceURL")
    return _text(url == "https://api.integrations.mattermost.com")


def _retention_hours(kind: str) -> Value:
    def value(cfg: Config) -> str:
        section = cfg.get("DataRetentionSettings", {})
        hours = section.get(f"{kind}RetentionHours") or 0
        days = section.get(f"{kind}RetentionDays") or 0
        return str(hours if hours > 0 else days * 24)

    return value


# --- anonymous callers (GenerateLimitedClientConfig) --------------------------------------------
_LIMITED: tuple[tuple[str, Value], ...] = (
    ("EnableBotAccountCreation", _setting("ServiceSettings", "EnableBotAccountCreation")),
    ("EnableDesktopLandingPage", _setting("ServiceSettings", "EnableDesktopLandingPage", True)),
    ("EnableFile", _setting("LogSettings", "EnableFile")),
    ("FileLevel", _setting("LogSettings", "FileLevel")),
    ("SiteURL", _trimmed("ServiceSettings", "SiteURL")),
    ("SiteName", _setting("TeamSettings", "SiteName")),
    ("WebsocketURL", _trimmed("ServiceSettings", "WebsocketURL")),
    ("WebsocketPort", _setting("ServiceSettings", "WebsocketPort")),
    ("WebsocketSecurePort", _setting("ServiceSettings", "WebsocketSecurePort")),
    ("EnableUserCreation", _setting("TeamSettings", "EnableUserCreation")),
    ("EnableOpenServer", _setting("TeamSettings", "EnableOpenServer")),
    (
        "EnableJoinLeaveMessageByDefault",
        _setting("TeamSettings", "EnableJoinLeaveMessageByDefault", True),
    ),
    ("AndroidLatestVersion", _setting("ClientRequirements", "AndroidLatestVersion")),
    ("AndroidMinVersion", _setting("ClientRequirements", "AndroidMinVersion")),
    ("IosLatestVersion", _setting("ClientRequirements", "IosLatestVersion")),
    ("IosMinVersion", _setting("ClientRequirements", "IosMinVersion")),
    ("EnableDiagnostics", _setting("LogSettings", "EnableDiagnostics")),
    ("EnableClientMetrics", _setting("MetricsSettings", "EnableClientMetrics")),
    ("EnableComplianceExport", _setting("MessageExportSettings", "EnableExport")),
    ("EnableSignUpWithEmail", _setting("EmailSettings", "EnableSignUpWithEmail")),
    ("EnableSignInWithEmail", _setting("EmailSettings", "EnableSignInWithEmail")),
    ("EnableSignInWithUsername", _setting("EmailSettings", "EnableSignInWithUsername")),
    ("EmailLoginButtonColor", _setting("EmailSettings", "LoginButtonColor")),
    ("EmailLoginButtonBorderColor", _setting("EmailSettings", "LoginButtonBorderColor")),
    ("EmailLoginButtonTextColor", _setting("EmailSettings", "LoginButtonTextColor")),
    ("TermsOfServiceLink", _setting("SupportSettings", "TermsOfServiceLink")),
    ("PrivacyPolicyLink", _setting("SupportSettings", "PrivacyPolicyLink")),
    ("AboutLink", _setting("SupportSettings", "AboutLink")),
    ("HelpLink", _setting("SupportSettings", "HelpLink")),
    ("ReportAProblemType", _setting("SupportSettings", "ReportAProblemType")),
    ("ReportAProblemLink", _setting("SupportSettings", "ReportAProblemLink")),
    ("ReportAProblemMail", _setting("SupportSettings", "ReportAProblemMail")),
    ("AllowDownloadLogs", _setting("SupportSettings", "AllowDownloadLogs")),
    ("ForgotPasswordLink", _setting("SupportSettings", "ForgotPasswordLink")),
    ("SupportEmail", _setting("SupportSettings", "SupportEmail")),
    ("EnableAskCommunityLink", _setting("SupportSettings", "EnableAskCommunityLink")),
    ("DefaultClientLocale", _setting("LocalizationSettings", "DefaultClientLocale")),
    ("EnableCustomEmoji", _setting("ServiceSettings", "EnableCustomEmoji")),
    ("EnableUserStatuses", _setting("ServiceSettings", "EnableUserStatuses")),
    ("AppDownloadLink", _setting("NativeAppSettings", "AppDownloadLink")),
    ("AndroidAppDownloadLink", _setting("NativeAppSettings", "AndroidAppDownloadLink")),
    ("IosAppDownloadLink", _setting("NativeAppSettings", "IosAppDownloadLink")),
    ("MobileExternalBrowser", _setting("NativeAppSettings", "MobileExternalBrowser")),
    ("DiagnosticId", _fixed(_build.TELEMETRY_ID)),
    ("TelemetryId", _fixed(_build.TELEMETRY_ID)),
    ("DiagnosticsEnabled", _setting("LogSettings", "EnableDiagnostics")),
    ("HasImageProxy", _setting("ImageProxySettings", "Enable")),
    ("PluginsEnabled", _setting("PluginSettings", "Enable")),
    ("AppsPluginEnabled", _apps_plugin),
    ("PasswordMinimumLength", _setting("PasswordSettings", "MinimumLength")),
    ("PasswordRequireLowercase", _setting("PasswordSettings", "Lowercase")),
    ("PasswordRequireUppercase", _setting("PasswordSettings", "Uppercase")),
    ("PasswordRequireNumber", _setting("PasswordSettings", "Number")),
    ("PasswordRequireSymbol", _setting("PasswordSettings", "Symbol")),
    ("PasswordEnableForgotLink", _setting("PasswordSettings", "EnableForgotLink")),
    ("EnableCustomBrand", _setting("TeamSettings", "EnableCustomBrand")),
    ("CustomBrandText", _setting("TeamSettings", "CustomBrandText")),
    ("CustomDescriptionText", _setting("TeamSettings", "CustomDescriptionText")),
    ("EnableLdap", _fixed("false")),
    ("LdapLoginFieldName", _fixed("")),
    ("LdapLoginButtonColor", _fixed("")),
    ("LdapLoginButtonBorderColor", _fixed("")),
    ("LdapLoginButtonTextColor", _fixed("")),
    ("EnableSaml", _fixed("false")),
    ("SamlLoginButtonText", _fixed("")),
    ("SamlLoginButtonColor", _fixed("")),
    ("SamlLoginButtonBorderColor", _fixed("")),
    ("SamlLoginButtonTextColor", _fixed("")),
    ("EnableSignUpWithGoogle", _fixed("false")),
    ("EnableSignUpWithOffice365", _fixed("false")),
    ("EnableSignUpWithOpenId", _fixed("false")),
    ("OpenIdButtonText", _fixed("")),
    ("OpenIdButtonColor", _fixed("")),
    ("CWSURL", _fixed("")),
    (
        "EnableMultifactorAuthentication",
        _setting("ServiceSettings", "EnableMultifactorAuthentication"),
    ),
    ("EnforceMultifactorAuthentication", _fixed("false")),
    ("EnableGuestAccounts", _setting("GuestAccountsSettings", "Enable")),
    ("HideGuestTags", _setting("GuestAccountsSettings", "HideTags")),
    (
        "GuestAccountsEnforceMultifactorAuthentication",
        _setting("GuestAccountsSettings", "EnforceMultifactorAuthentication"),
    ),
    ("EnableGuestMagicLink", _setting("GuestAccountsSettings", "EnableGuestMagicLink", False)),
)

# Keys of the limited map that a license with the named feature turns on.
_LIMITED_LICENSED: tuple[tuple[str, tuple[tuple[str, Value], ...]], ...] = (
    (
        "ldap",
        (
            ("EnableLdap", _setting("LdapSettings", "Enable")),
            ("LdapLoginFieldName", _setting("LdapSettings", "LoginFieldName")),
            ("LdapLoginButtonColor", _setting("LdapSettings", "LoginButtonColor")),
            ("LdapLoginButtonBorderColor", _setting("LdapSettings", "LoginButtonBorderColor")),
            ("LdapLoginButtonTextColor", _setting("LdapSettings", "LoginButtonTextColor")),
        ),
    ),
    (
        "saml",
        (
            ("EnableSaml", _setting("SamlSettings", "Enable")),
            ("SamlLoginButtonText", _setting("SamlSettings", "LoginButtonText")),
            ("SamlLoginButtonColor", _setting("SamlSettings", "LoginButtonColor")),
            ("SamlLoginButtonBorderColor", _setting("SamlSettings", "LoginButtonBorderColor")),
            ("SamlLoginButtonTextColor", _setting("SamlSettings", "LoginButtonTextColor")),
        ),
    ),
    (
        "custom_terms_of_service",
        (
            (
                "EnableCustomTermsOfService",
                _setting("SupportSettings", "CustomTermsOfServiceEnabled"),
            ),
            (
                "CustomTermsOfServiceReAcceptancePeriod",
                _setting("SupportSettings", "CustomTermsOfServiceReAcceptancePeriod"),
            ),
        ),
    ),
    (
        "mfa",
        (
            (
                "EnforceMultifactorAuthentication",
                _setting("ServiceSettings", "EnforceMultifactorAuthentication"),
            ),
        ),
    ),
    ("google_oauth", (("EnableSignUpWithGoogle", _setting("GoogleSettings", "Enable")),)),
    ("office365_oauth", (("EnableSignUpWithOffice365", _setting("Office365Settings", "Enable")),)),
    (
        "openid",
        (
            ("EnableSignUpWithOpenId", _setting("OpenIdSettings", "Enable")),
            ("OpenIdButtonColor", _setting("OpenIdSettings", "ButtonColor")),
            ("OpenIdButtonText", _setting("OpenIdSettings", "ButtonText")),
            ("EnableSignUpWithGitLab", _setting("GitLabSettings", "Enable")),
            ("GitLabButtonColor", _setting("GitLabSettings", "ButtonColor")),
            ("GitLabButtonText", _setting("GitLabSettings", "ButtonText")),
        ),
    ),
    (
        "enterprise",
        (
            ("MobileEnableBiometrics", _setting("NativeAppSettings", "MobileEnableBiometrics")),
            (
                "MobilePreventScreenCapture",
                _setting("NativeAppSettings", "MobilePreventScreenCapture"),
            ),
            (
                "MobileJailbreakProtection",
                _setting("NativeAppSettings", "MobileJailbreakProtection"),
            ),
        ),
    ),
)

# --- sessions (GenerateClientConfig adds these to the limited map) ------------------------------
_FULL: tuple[tuple[str, Value], ...] = (
    ("EnableCustomUserStatuses", _setting("TeamSettings", "EnableCustomUserStatuses")),
    ("EnableLastActiveTime", _setting("TeamSettings", "EnableLastActiveTime", True)),
    ("EnableUserDeactivation", _setting("TeamSettings", "EnableUserDeactivation")),
    ("RestrictDirectMessage", _setting("TeamSettings", "RestrictDirectMessage")),
    ("TeammateNameDisplay", _setting("TeamSettings", "TeammateNameDisplay")),
    ("LockTeammateNameDisplay", _setting("TeamSettings", "LockTeammateNameDisplay")),
    ("ExperimentalPrimaryTeam", _setting("TeamSettings", "ExperimentalPrimaryTeam")),
    ("EnableOAuthServiceProvider", _setting("ServiceSettings", "EnableOAuthServiceProvider")),
    ("GoogleDeveloperKey", _setting("ServiceSettings", "GoogleDeveloperKey")),
    ("EnableIncomingWebhooks", _setting("ServiceSettings", "EnableIncomingWebhooks")),
    ("EnableOutgoingWebhooks", _setting("ServiceSettings", "EnableOutgoingWebhooks")),
    (
        "EnableOutgoingOAuthConnections",
        _setting("ServiceSettings", "EnableOutgoingOAuthConnections"),
    ),
    ("EnableCommands", _setting("ServiceSettings", "EnableCommands")),
    ("EnablePostUsernameOverride", _setting("ServiceSettings", "EnablePostUsernameOverride")),
    ("EnablePostIconOverride", _setting("ServiceSettings", "EnablePostIconOverride")),
    ("EnableUserAccessTokens", _setting("ServiceSettings", "EnableUserAccessTokens")),
    ("EnableLinkPreviews", _setting("ServiceSettings", "EnableLinkPreviews")),
    ("EnablePermalinkPreviews", _setting("ServiceSettings", "EnablePermalinkPreviews")),
    ("EnableTesting", _setting("ServiceSettings", "EnableTesting")),
    ("EnableDeveloper", _setting("ServiceSettings", "EnableDeveloper")),
    (
        "EnableClientPerformanceDebugging",
        _setting("ServiceSettings", "EnableClientPerformanceDebugging", False),
    ),
    ("PostEditTimeLimit", _setting("ServiceSettings", "PostEditTimeLimit")),
    ("MinimumHashtagLength", _setting("ServiceSettings", "MinimumHashtagLength")),
    ("EnableTutorial", _setting("ServiceSettings", "EnableTutorial")),
    ("EnableOnboardingFlow", _setting("ServiceSettings", "EnableOnboardingFlow")),
    (
        "ExperimentalEnableDefaultChannelLeaveJoinMessages",
        _setting("ServiceSettings", "ExperimentalEnableDefaultChannelLeaveJoinMessages"),
    ),
    (
        "ExperimentalGroupUnreadChannels",
        _setting("ServiceSettings", "ExperimentalGroupUnreadChannels"),
    ),
    ("EnableSVGs", _setting("ServiceSettings", "EnableSVGs")),
    ("EnableMarketplace", _setting("PluginSettings", "EnableMarketplace")),
    ("EnableLatex", _setting("ServiceSettings", "EnableLatex")),
    ("EnableInlineLatex", _setting("ServiceSettings", "EnableInlineLatex")),
    (
        "ExtendSessionLengthWithActivity",
        _setting("ServiceSettings", "ExtendSessionLengthWithActivity"),
    ),
    ("ManagedResourcePaths", _setting("ServiceSettings", "ManagedResourcePaths")),
    ("DeleteAccountLink", _setting("ServiceSettings", "DeleteAccountLink", "")),
    ("ExperimentalEnablePostMetadata", _fixed("true")),
    ("DisableAppBar", _setting("ExperimentalSettings", "DisableAppBar")),
    (
        "ExperimentalEnableAutomaticReplies",
        _setting("TeamSettings", "ExperimentalEnableAutomaticReplies"),
    ),
    ("ExperimentalTimezone", _fixed("true")),
    ("SendEmailNotifications", _setting("EmailSettings", "SendEmailNotifications")),
    ("SendPushNotifications", _setting("EmailSettings", "SendPushNotifications")),
    ("RequireEmailVerification", _setting("EmailSettings", "RequireEmailVerification")),
    ("EnableEmailBatching", _setting("EmailSettings", "EnableEmailBatching")),
    ("EnablePreviewModeBanner", _setting("EmailSettings", "EnablePreviewModeBanner")),
    ("EmailNotificationContentsType", _setting("EmailSettings", "EmailNotificationContentsType")),
    ("ShowEmailAddress", _setting("PrivacySettings", "ShowEmailAddress")),
    ("ShowFullName", _setting("PrivacySettings", "ShowFullName")),
    ("EnableFileAttachments", _setting("FileSettings", "EnableFileAttachments")),
    ("EnablePublicLink", _setting("FileSettings", "EnablePublicLink")),
    ("AvailableLocales", _setting("LocalizationSettings", "AvailableLocales")),
    ("EnableExperimentalLocales", _setting("LocalizationSettings", "EnableExperimentalLocales")),
    ("SQLDriverName", _setting("SqlSettings", "DriverName")),
    ("EnableEmojiPicker", _setting("ServiceSettings", "EnableEmojiPicker")),
    ("EnableGifPicker", _setting("ServiceSettings", "EnableGifPicker")),
    ("GiphySdkKey", _setting("ServiceSettings", "GiphySdkKey")),
    ("MaxFileSize", _setting("FileSettings", "MaxFileSize")),
    ("MaxNotificationsPerChannel", _setting("TeamSettings", "MaxNotificationsPerChannel")),
    (
        "EnableConfirmNotificationsToChannel",
        _setting("TeamSettings", "EnableConfirmNotificationsToChannel"),
    ),
    (
        "TimeBetweenUserTypingUpdatesMilliseconds",
        _setting("ServiceSettings", "TimeBetweenUserTypingUpdatesMilliseconds"),
    ),
    ("EnableUserTypingMessages", _setting("ServiceSettings", "EnableUserTypingMessages")),
    ("EnableChannelViewedMessages", _setting("ServiceSettings", "EnableChannelViewedMessages")),
    ("RunJobs", _setting("JobSettings", "RunJobs")),
    ("EnableEmailInvitations", _setting("ServiceSettings", "EnableEmailInvitations")),
    ("CWSURL", _setting("CloudSettings", "CWSURL")),
    ("CWSMock", _fixed("false")),
    (
        "DisableRefetchingOnBrowserFocus",
        _setting("ExperimentalSettings", "DisableRefetchingOnBrowserFocus"),
    ),
    (
        "DisableWakeUpReconnectHandler",
        _setting("ExperimentalSettings", "DisableWakeUpReconnectHandler"),
    ),
    (
        "UsersStatusAndProfileFetchingPollIntervalMilliseconds",
        _setting("ExperimentalSettings", "UsersStatusAndProfileFetchingPollIntervalMilliseconds"),
    ),
    (
        "ExperimentalChannelCategorySorting",
        _setting("ExperimentalSettings", "ExperimentalChannelCategorySorting", False),
    ),
    ("EnableCrossTeamSearch", _setting("ServiceSettings", "EnableCrossTeamSearch", True)),
    (
        "FeatureFlagExperimentalCrossTeamSearch",
        _setting("ServiceSettings", "EnableCrossTeamSearch", True),
    ),
    ("ExperimentalEnableAuthenticationTransfer", _fixed("true")),
    ("LdapNicknameAttributeSet", _fixed("false")),
    ("LdapFirstNameAttributeSet", _fixed("false")),
    ("LdapLastNameAttributeSet", _fixed("false")),
    ("LdapPictureAttributeSet", _fixed("false")),
    ("LdapPositionAttributeSet", _fixed("false")),
    ("EnableCompliance", _fixed("false")),
    ("EnableMobileFileDownload", _fixed("true")),
    ("EnableMobileFileUpload", _fixed("true")),
    ("SamlFirstNameAttributeSet", _fixed("false")),
    ("SamlLastNameAttributeSet", _fixed("false")),
    ("SamlNicknameAttributeSet", _fixed("false")),
    ("SamlPositionAttributeSet", _fixed("false")),
    ("EnableCluster", _fixed("false")),
    ("EnableMetrics", _fixed("false")),
    ("EnableBanner", _fixed("false")),
    ("BannerText", _fixed("")),
    ("BannerColor", _fixed("")),
    ("BannerTextColor", _fixed("")),
    ("AllowBannerDismissal", _fixed("false")),
    ("EnableThemeSelection", _fixed("true")),
    ("DefaultTheme", _fixed("")),
    ("AllowCustomThemes", _fixed("true")),
    ("AllowedThemes", _fixed("")),
    ("DataRetentionEnableMessageDeletion", _fixed("false")),
    ("DataRetentionMessageRetentionHours", _fixed("0")),
    ("DataRetentionEnableFileDeletion", _fixed("false")),
    ("DataRetentionFileRetentionHours", _fixed("0")),
    ("CustomUrlSchemes", _setting("DisplaySettings", "CustomURLSchemes")),
    ("MaxMarkdownNodes", _setting("DisplaySettings", "MaxMarkdownNodes")),
    ("IsDefaultMarketplace", _default_marketplace),
    ("ExperimentalSharedChannels", _fixed("false")),
    ("CollapsedThreads", _setting("ServiceSettings", "CollapsedThreads")),
    ("EnableCustomGroups", _fixed("false")),
    ("PostPriority", _setting("ServiceSettings", "PostPriority")),
    ("AllowPersistentNotifications", _setting("ServiceSettings", "AllowPersistentNotifications")),
    (
        "AllowPersistentNotificationsForGuests",
        _setting("ServiceSettings", "AllowPersistentNotificationsForGuests", False),
    ),
    (
        "PersistentNotificationMaxCount",
        _setting("ServiceSettings", "PersistentNotificationMaxCount", 6),
    ),
    (
        "PersistentNotificationIntervalMinutes",
        _setting("ServiceSettings", "PersistentNotificationIntervalMinutes", 5),
    ),
    (
        "PersistentNotificationMaxRecipients",
        _setting("ServiceSettings", "PersistentNotificationMaxRecipients", 5),
    ),
    ("EnableBurnOnRead", _setting("ServiceSettings", "EnableBurnOnRead", False)),
    ("BurnOnReadDurationMinutes", _setting("ServiceSettings", "BurnOnReadDurationMinutes", "10")),
    ("AllowSyncedDrafts", _setting("ServiceSettings", "AllowSyncedDrafts")),
    ("DelayChannelAutocomplete", _setting("ExperimentalSettings", "DelayChannelAutocomplete")),
    ("YoutubeReferrerPolicy", _setting("ExperimentalSettings", "YoutubeReferrerPolicy")),
    (
        "UniqueEmojiReactionLimitPerPost",
        _setting("ServiceSettings", "UniqueEmojiReactionLimitPerPost"),
    ),
    ("EnableAttributeBasedAccessControl", _fixed("false")),
    ("EnableChannelScopeAccessControl", _fixed("false")),
    ("EnableUserManagedAttributes", _fixed("false")),
    ("WranglerPermittedWranglerRoles", _setting("WranglerSettings", "PermittedWranglerRoles")),
    ("WranglerAllowedEmailDomain", _setting("WranglerSettings", "AllowedEmailDomain")),
    ("WranglerMoveThreadMaxCount", _setting("WranglerSettings", "MoveThreadMaxCount")),
    (
        "WranglerMoveThreadToAnotherTeamEnable",
        _setting("WranglerSettings", "MoveThreadToAnotherTeamEnable"),
    ),
    (
        "WranglerMoveThreadFromPrivateChannelEnable",
        _setting("WranglerSettings", "MoveThreadFromPrivateChannelEnable"),
    ),
    (
        "WranglerMoveThreadFromDirectMessageChannelEnable",
        _setting("WranglerSettings", "MoveThreadFromDirectMessageChannelEnable"),
    ),
    (
        "WranglerMoveThreadFromGroupMessageChannelEnable",
        _setting("WranglerSettings", "MoveThreadFromGroupMessageChannelEnable"),
    ),
)

_FULL_LICENSED: tuple[tuple[str, tuple[tuple[str, Value], ...]], ...] = (
    ("any", (("ExperimentalEnableAuthenticationTransfer", _fixed("true")),)),
    (
        "ldap",
        (
            ("LdapNicknameAttributeSet", _non_empty("LdapSettings", "NicknameAttribute")),
            ("LdapFirstNameAttributeSet", _non_empty("LdapSettings", "FirstNameAttribute")),
            ("LdapLastNameAttributeSet", _non_empty("LdapSettings", "LastNameAttribute")),
            ("LdapPictureAttributeSet", _non_empty("LdapSettings", "PictureAttribute")),
            ("LdapPositionAttributeSet", _non_empty("LdapSettings", "PositionAttribute")),
        ),
    ),
    (
        "compliance",
        (
            ("EnableCompliance", _setting("ComplianceSettings", "Enable")),
            ("EnableMobileFileDownload", _setting("FileSettings", "EnableMobileDownload")),
            ("EnableMobileFileUpload", _setting("FileSettings", "EnableMobileUpload")),
        ),
    ),
    (
        "saml",
        (
            ("SamlFirstNameAttributeSet", _non_empty("SamlSettings", "FirstNameAttribute")),
            ("SamlLastNameAttributeSet", _non_empty("SamlSettings", "LastNameAttribute")),
            ("SamlNicknameAttributeSet", _non_empty("SamlSettings", "NicknameAttribute")),
            ("SamlPositionAttributeSet", _non_empty("SamlSettings", "PositionAttribute")),
        ),
    ),
    (
        "cluster",
        (
            ("EnableCluster", _setting("ClusterSettings", "Enable")),
            ("EnableMetrics", _setting("MetricsSettings", "Enable")),
            (
                "EnableClientMetrics",
                lambda cfg: _text(
                    _setting("MetricsSettings", "Enable")(cfg) == "true"
                    and _setting("MetricsSettings", "EnableClientMetrics")(cfg) == "true"
                ),
            ),
            ("EnableNotificationMetrics", _setting("MetricsSettings", "EnableNotificationMetrics")),
        ),
    ),
    (
        "announcement",
        (
            ("EnableBanner", _setting("AnnouncementSettings", "EnableBanner")),
            ("BannerText", _setting("AnnouncementSettings", "BannerText")),
            ("BannerColor", _setting("AnnouncementSettings", "BannerColor")),
            ("BannerTextColor", _setting("AnnouncementSettings", "BannerTextColor")),
            ("AllowBannerDismissal", _setting("AnnouncementSettings", "AllowBannerDismissal")),
        ),
    ),
    (
        "theme_management",
        (
            ("EnableThemeSelection", _setting("ThemeSettings", "EnableThemeSelection")),
            ("DefaultTheme", _setting("ThemeSettings", "DefaultTheme")),
            ("AllowCustomThemes", _setting("ThemeSettings", "AllowCustomThemes")),
            ("AllowedThemes", _setting("ThemeSettings", "AllowedThemes")),
        ),
    ),
    (
        "data_retention",
        (
            (
                "DataRetentionEnableMessageDeletion",
                _setting("DataRetentionSettings", "EnableMessageDeletion"),
            ),
            ("DataRetentionMessageRetentionHours", _retention_hours("Message")),
            (
                "DataRetentionEnableFileDeletion",
                _setting("DataRetentionSettings", "EnableFileDeletion"),
            ),
            ("DataRetentionFileRetentionHours", _retention_hours("File")),
        ),
    ),
    (
        "shared_channels",
        (
            (
                "ExperimentalSharedChannels",
                _setting("ConnectedWorkspacesSettings", "EnableSharedChannels"),
            ),
            (
                "ExperimentalRemoteClusterService",
                _setting("ConnectedWorkspacesSettings", "EnableRemoteClusterService"),
            ),
        ),
    ),
    (
        "professional",
        (
            ("EnableCustomGroups", _setting("ServiceSettings", "EnableCustomGroups")),
            ("PostAcknowledgements", _fixed("true")),
            ("ScheduledPosts", _setting("ServiceSettings", "ScheduledPosts")),
        ),
    ),
    (
        "enterprise",
        (
            ("MobileEnableBiometrics", _setting("NativeAppSettings", "MobileEnableBiometrics")),
            (
                "MobilePreventScreenCapture",
                _setting("NativeAppSettings", "MobilePreventScreenCapture"),
            ),
            (
                "MobileJailbreakProtection",
                _setting("NativeAppSettings", "MobileJailbreakProtection"),
            ),
        ),
    ),
    (
        # MinimumEnterpriseAdvancedLicense; the stub models neither the auto-translation nor
        # the content-flagging settings, whose feature flags are off by default.
        "advanced",
        (
            (
                "MobileEnableSecureFilePreview",
                _setting("NativeAppSettings", "MobileEnableSecureFilePreview", False),
            ),
            (
                "MobileAllowPdfLinkNavigation",
                _setting("NativeAppSettings", "MobileAllowPdfLinkNavigation", False),
            ),
            ("ContentFlaggingEnabled", _fixed("false")),
            ("EnableAutoTranslation", _fixed("false")),
        ),
    ),
)

_PROFESSIONAL_SKUS = frozenset({"professional", "enterprise", "advanced"})
_ENTERPRISE_SKUS = frozenset({"enterprise", "advanced"})
_ADVANCED_SKUS = frozenset({"advanced"})


def _has(license: License, feature: str) -> bool:
    if feature == "any":
        return True
    if feature == "professional":
        return license.sku_short_name in _PROFESSIONAL_SKUS
    if feature == "enterprise":
        return license.sku_short_name in _ENTERPRISE_SKUS
    if feature == "advanced":
        return license.sku_short_name in _ADVANCED_SKUS
    return bool(getattr(license.features, feature))


def _feature_flags(cfg: Config) -> dict[str, str]:
    flags = cfg.get("FeatureFlags", {})
    return {f"FeatureFlag{name}": _text(value) for name, value in flags.items()}


def build_client_config(
    cfg: Config, *, version: str, edition: str, license: License | None, full: bool
) -> dict[str, str]:
    """The client config a server of ``version`` and ``edition`` with ``license`` serves: the
    full map for a session, the limited one for anonymous callers."""
    enterprise = edition == "enterprise"
    out: dict[str, str] = {
        "Version": version,
        "BuildNumber": _build.BUILD_NUMBER,
        "BuildDate": _build.BUILD_DATE,
        "BuildHash": _build.BUILD_HASH,
        "BuildHashEnterprise": _build.BUILD_HASH if enterprise else "none",
        "BuildEnterpriseReady": "true" if enterprise else "false",
        "ServiceEnvironment": _build.SERVICE_ENVIRONMENT,
    }
    out.update((key, value(cfg)) for key, value in _LIMITED)
    if license is not None:
        for feature, keys in _LIMITED_LICENSED:
            if _has(license, feature):
                out.update((key, value(cfg)) for key, value in keys)
    out.update(_feature_flags(cfg))
    if full:
        out.update((key, value(cfg)) for key, value in _FULL)
        if license is not None:
            for feature, keys in _FULL_LICENSED:
                if _has(license, feature):
                    out.update((key, value(cfg)) for key, value in keys)
        out.update(
            {
                "MaxPostSize": _build.MAX_POST_SIZE,
                "UpgradedFromTE": "false",
                "InstallationDate": _build.INSTALLATION_DATE_MS,
                "SchemaVersion": _build.SCHEMA_VERSION,
            }
        )
    out["NoAccounts"] = "false"
    out["AsymmetricSigningPublicKey"] = _build.ASYMMETRIC_SIGNING_PUBLIC_KEY
    return out


__all__ = ["SOURCE", "SOURCE_VERSION", "build_client_config"]
