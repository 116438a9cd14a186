"""Version-dependent behaviour, in one place (documented in the stub README).

Each property names one behaviour that changed between releases of the real server; its body is
the stub's reading of the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

from mmconform._version import Version

V7 = Version(7, 0, 0)
V9 = Version(9, 0, 0)
V10 = Version(10, 0, 0)
V11 = Version(11, 0, 0)


@dataclass(frozen=True)
class Behaviour:
    """Which variant of each version-dependent behaviour a server version has."""

    version: Version

    @property
    def ping_new_fields(self) -> bool:
        """ActiveSearchBackend always, root_status for manage_system (newest only: 11.0+)."""
        return self.version >= V11

    @property
    def ping_device_id(self) -> bool:
        """``device_id`` gives CanReceiveNotifications (6.5+)."""
        return self.version >= Version(6, 5, 0)

    @property
    def ping_rest_semantics(self) -> bool:
        """``use_rest_semantics=true`` turns an unhealthy 500 into 200 (9.6+)."""
        return self.version >= Version(9, 6, 0)

    @property
    def config_filter_params(self) -> bool:
        """GET /config honours ``remove_masked`` / ``remove_defaults`` (10.4+)."""
        return self.version >= Version(10, 4, 0)

    @property
    def ping_status_needs_exact_true(self) -> bool:
        """get_server_status must be exactly "true" (10.0+); older: any non-empty value."""
        return self.version >= V10

    @property
    def client_config_ignores_format(self) -> bool:
        """GET /config/client ignores ``format`` (11.0+); older: 501 missing, 400 not "old"."""
        return self.version >= V11

    @property
    def client_license_ignores_format(self) -> bool:
        """GET /license/client ignores ``format`` (11.0+)."""
        return self.version >= V11

    @property
    def client_license_missing_format_status(self) -> int:
        """Status for a missing ``format`` on older servers: 501 before 7.0, then 400."""
        return 400 if self.version >= V7 else 501

    @property
    def image_proxy_disabled_is_400(self) -> bool:
        """GET /image with the proxy disabled: 400 (10.0+), older: 302 to the URL."""
        return self.version >= V10

    @property
    def strict_notice_view_parsing(self) -> bool:
        """PUT /system/notices/view rejects a non string-array body (11.0+); older: lenient."""
        return self.version >= V11

    @property
    def new_support_packet_name(self) -> bool:
        """mm_support_packet_<Company>_<time>.zip (10.0+); older mattermost_support_packet_…"""
        return self.version >= V10

    @property
    def legacy_restricted_errors(self) -> bool:
        """Before 9.0 restricted admins got ``api.restricted_system_admin`` (reload: 400)."""
        return self.version < V9
