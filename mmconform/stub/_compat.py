"""Version-dependent behaviour, in one place (documented in the stub README).

Each property names one behaviour that changed between releases of the real server; its body is
the stub's reading of the boundary. Where the release that changed a behaviour is only known
approximately, the comment gives the uncertain range and the stub takes one version inside it
(spec/errata.yaml accepts both behaviours across that range).
"""

from __future__ import annotations

from dataclasses import dataclass

from mmconform._version import Version


def _v(text: str) -> Version:
    return Version.parse(text)


@dataclass(frozen=True)
class Behaviour:
    """Which variant of each version-dependent behaviour a server version has."""

    version: Version

    def since(self, text: str) -> bool:
        return self.version >= _v(text)

    # -- ping ---------------------------------------------------------------------------------
    @property
    def ping_active_search_backend(self) -> bool:
        """ping always reports ActiveSearchBackend (8.0+)."""
        return self.since("8.0")

    @property
    def ping_root_status(self) -> bool:
        """ping reports root_status to manage_system callers (10.1+; 10.1 or 10.2)."""
        return self.since("10.1")

    @property
    def ping_device_id(self) -> bool:
        """``device_id`` gives CanReceiveNotifications (6.5+)."""
        return self.since("6.5")

    @property
    def ping_rest_semantics(self) -> bool:
        """``use_rest_semantics=true`` turns an unhealthy 500 into 200 (9.6+)."""
        return self.since("9.6")

    @property
    def ping_status_needs_exact_true(self) -> bool:
        """get_server_status must be exactly "true" (9.6+); older: any non-empty value."""
        return self.since("9.6")

    # -- config -------------------------------------------------------------------------------
    @property
    def config_filter_params(self) -> bool:
        """GET /config honours ``remove_masked`` / ``remove_defaults`` (10.4+)."""
        return self.since("10.4")

    @property
    def local_config_unmasked(self) -> bool:
        """GET /config over the local socket shows secrets in clear (10.4+; uncertain)."""
        return self.since("10.4")

    @property
    def client_config_ignores_format(self) -> bool:
        """GET /config/client ignores ``format`` (11.0+); older: 501 missing, 400 not "old"."""
        return self.since("11.0")

    @property
    def client_config_local_route(self) -> bool:
        """GET /config/client is served on the local socket (8.0+; absent on 7.x)."""
        return self.since("8.0")

    # -- license ------------------------------------------------------------------------------
    @property
    def client_license_ignores_format(self) -> bool:
        """GET /license/client ignores ``format`` (11.10+; 11.9 or 11.10)."""
        return self.since("11.10")

    @property
    def client_license_missing_format_status(self) -> int:
        """Status for a missing ``format`` while it is required: 501 before 6.7, then 400."""
        return 400 if self.since("6.7") else 501

    @property
    def client_license_local_route(self) -> bool:
        """GET /license/client is served on the local socket (11.5+; 11.4 to 11.6)."""
        return self.since("11.5")

    @property
    def trial_request_extended_form(self) -> bool:
        """POST /trial-license knows the extended request (contact and company fields, checked
        by ``TrialLicenseRequest.IsLegacy``/``IsValid``) from 8.0 (7.10 or 8.0); older servers
        decode only ``users``, ``terms_accepted`` and ``receive_emails_accepted``."""
        return self.since("8.0")

    @property
    def license_form_errors_are_app_errors(self) -> bool:
        """POST /license: a body that is no multipart form is an AppError (400, or 413 when too
        large) from 11.10; before, a plain-text 400 (at least up to 11.6)."""
        return self.since("11.10")

    # -- request size and URL length ----------------------------------------------------------
    @property
    def payload_limits(self) -> bool:
        """Bodies are capped by ServiceSettings.MaximumPayloadSizeBytes and a read past the cap
        becomes 413 in the handlers that pass the read error on; URLs over MaximumURLLength are
        414 (10.1+; 10.1 or 10.2). Before, every body was capped by FileSettings.MaxFileSize and
        a read past it was an ordinary decode error."""
        return self.since("10.1")

    # -- other operations ---------------------------------------------------------------------
    @property
    def image_proxy_disabled_is_400(self) -> bool:
        """GET /image with the proxy disabled: 400 (10.0+; 10.0 or 10.1), older: 302."""
        return self.since("10.0")

    @property
    def strict_notice_view_parsing(self) -> bool:
        """PUT /system/notices/view rejects a body that is no string array (9.4+; 9.3 to 9.5);
        older servers take whatever decodes and ignore the rest."""
        return self.since("9.4")

    @property
    def new_support_packet_name(self) -> bool:
        """mm_support_packet_<Company>_<time>.zip (10.5+); older mattermost_support_packet_…"""
        return self.since("10.5")

    @property
    def legacy_restricted_errors(self) -> bool:
        """Before 10.9 (10.8 or 10.9) RestrictSystemAdmin answered 403
        ``api.restricted_system_admin`` (reload: 400) to whoever held the permission, also
        refused TestS3Connection, and GetLogs and GenerateSupportPacket refused the local socket
        too. Newer servers refuse every non-local caller with the permission error."""
        return self.version < _v("10.9")
