"""AppError: the error every failing operation raises, rendered as Mattermost's error JSON."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

# English messages for the error ids the stub can produce ({{.Name}}-style parameters).
MESSAGES: dict[str, str] = {
    "api.context.404.app_error": "Sorry, we could not find the page.",
    "api.context.405.app_error": "Method not allowed.",
    "api.context.permissions.app_error": "You do not have the appropriate permissions.",
    "api.context.invalid_body_param.app_error": "Invalid or missing {{.Name}} in request body.",
    "api.context.invalid_url_param.app_error": (
        "Invalid or missing {{.Name}} parameter in request URL."
    ),
    "api.context.server_busy.app_error": (
        "Server is busy, non-critical services are temporarily unavailable."
    ),
    "api.context.session_expired.app_error": "Invalid or expired session, please login again.",
    "api.context.token_provided.app_error": (
        "Session is not OAuth but token was provided in the query string."
    ),
    "api.context.local_origin_required.app_error": (
        "This endpoint requires a local request origin."
    ),
    "api.context.request_body_too_large.app_error": (
        "The request body is too large. The maximum allowed size is {{.MaxSize}} bytes."
    ),
    "basic_security_check.url.too_long_error": "URL is too long.",
    "api.context.json_encoding.app_error": "Error encoding JSON.",
    "api.context.internal_error.app_error": "An internal error occurred.",
    "api.restricted_system_admin": "This action is forbidden to a restricted system admin.",
    "api.payload.parse.error": "An error occurred while parsing the payload.",
    "api.no_license": "E10 or E20 license required to use this endpoint.",
    "api.unable_to_create_zip_file": "Error creating zip file.",
    "api.config.client.old_format.app_error": (
        "New format for the client configuration is not supported yet. Please specify "
        "format=old in the query string."
    ),
    "api.config.update_config.clear_siteurl.app_error": "Site URL cannot be cleared.",
    "api.config.update_config.not_allowed_security.app_error": (
        "Changing {{.Name}} is not allowed for security reasons."
    ),
    "api.config.update_config.restricted_merge.app_error": "Failed to merge given config.",
    "api.config.reload_config.app_error": "Failed to reload config.",
    "api.file.test_connection_email_settings_nil.app_error": ("Email settings has unset values."),
    "api.file.test_connection_s3_settings_nil.app_error": ("File settings has unset values."),
    "api.admin.test_email.missing_server": "SMTP Server is required",
    "api.admin.test_email.reenter_password": (
        "There has been a change in the SMTP server, port, or username. Please re-enter the "
        "SMTP password to test connection."
    ),
    "app.admin.test_email.failure": "Connection unsuccessful: {{.Error}}",
    "api.admin.test_s3.missing_s3_bucket": "S3 Bucket is required",
    "app.admin.test_site_url.failure": "This is not a valid live URL",
    "api.admin.file_read_error": "Error reading log file.",
    "api.license.parse_license.parse_form.app_error": "Unable to parse the license form.",
    "api.license.add_license.no_file.app_error": "No file under 'license' in request.",
    "api.license.add_license.array.app_error": "Empty array under 'license' in request.",
    "api.license.add_license.open.app_error": "Could not open license file.",
    "api.license.add_license.invalid.app_error": "Invalid license file.",
    "api.license.add_license.expired.app_error": (
        "License is either expired or has not started yet."
    ),
    "api.license.add_license.unique_users.app_error": (
        "This license only supports {{.Users}} users, when your system has {{.Count}} unique "
        "users. Unique users are counted distinctly by email address. You can see total user "
        "count under Site Reports -> View Statistics."
    ),
    "api.license.upgrade_needed.app_error": "Feature requires an upgrade to Enterprise Edition.",
    "api.license.request-trial.can-start-trial.not-allowed": (
        "This server is not allowed to start a trial license."
    ),
    "api.license.request-trial.bad-request": "The number of users requested is not correct.",
    "api.license.request-trial.bad-request.terms-not-accepted": (
        "The trial terms must be accepted before a trial license is requested."
    ),
    "api.license.request_trial_license.app_error": (
        "Unable to get a trial license, please try again."
    ),
    "api.license.request_renewal_link.cannot_renew_on_cws": (
        "Unable to renew this license on the Customer Web Server."
    ),
    "api.license.client.old_format.app_error": (
        "New format for the client license is not supported yet. Please specify format=old in "
        "the query string."
    ),
    "api.push_notifications_ack.message.parse.app_error": (
        "An error occurred building the push notification ack message."
    ),
    "api.push_notification.disabled.app_error": ("Push Notifications are disabled on this server."),
    "api.push_notifications_ack.forward.app_error": (
        "An error occurred sending the receipt delivery to the push notification service."
    ),
    "api.image.get.app_error": "Requested image url cannot be parsed.",
    "api.upgrade_to_enterprise.already-enterprise.app_error": (
        "You cannot upgrade because you are already running Mattermost Enterprise Edition."
    ),
    "api.upgrade_to_enterprise.app_error": (
        "An upgrade to Mattermost Enterprise Edition is already running."
    ),
    "api.upgrade_to_enterprise.system_not_supported.app_error": (
        "Upgrading to Mattermost Enterprise Edition is not supported on this system."
    ),
    "api.system.update_viewed_notices.failed": "Update of viewed notices failed",
    "api.system.id_loaded.not_available.app_error": (
        "ID Loaded Push Notifications is not configured or supported on this server."
    ),
    "model.config.is_valid.password_length.app_error": (
        "Minimum password length must be a whole number greater than or equal to "
        "{{.MinLength}} and less than or equal to {{.MaxLength}}."
    ),
    "model.config.is_valid.site_url.app_error": (
        "Site URL must be a valid URL and start with http:// or https://."
    ),
    "model.config.is_valid.login_attempts.app_error": (
        "Invalid maximum login attempts for service settings. Must be a positive number."
    ),
    "model.config.is_valid.max_file_size.app_error": (
        "Invalid max file size for file settings. Must be a whole number greater than zero."
    ),
    "model.config.is_valid.max_users.app_error": (
        "Invalid maximum users per team for team settings. Must be a positive number."
    ),
    "model.config.is_valid.max_channels.app_error": (
        "Invalid maximum channels per team for team settings. Must be a positive number."
    ),
    "model.config.is_valid.sitename_length.app_error": (
        "Site name must be less than or equal to {{.MaxLength}} characters."
    ),
    "model.config.is_valid.rate_mem.app_error": (
        "Invalid memory store size for rate limit settings. Must be a positive number."
    ),
    "model.config.is_valid.rate_sec.app_error": (
        "Invalid per sec for rate limit settings. Must be a positive number."
    ),
    "model.config.is_valid.read_timeout.app_error": "Invalid value for read timeout.",
    "model.config.is_valid.write_timeout.app_error": "Invalid value for write timeout.",
    "model.config.is_valid.email_security.app_error": (
        "Invalid connection security for email settings. Must be '', 'TLS', or 'STARTTLS'."
    ),
    "model.config.is_valid.max_payload_size.app_error": (
        "Invalid max payload size for service settings."
    ),
    "model.config.is_valid.max_url_length.app_error": (
        "Invalid max URL length for service settings."
    ),
    "model.config.is_valid.log.console_level.app_error": "Invalid console log level.",
    "model.config.is_valid.log.file_level.app_error": "Invalid file log level.",
    "model.config.is_valid.image_proxy_type.app_error": (
        "Invalid image proxy type. Must be 'local' or 'atmos/camo'."
    ),
    "model.config.is_valid.localization.server_locale.app_error": (
        "Invalid default server locale for localization settings."
    ),
    # the user routes (test infrastructure, handlers/users.py)
    "api.user.update_user_roles.license.app_error": (
        "Custom permission schemes not supported by current license"
    ),
    "app.user.save.username_exists.app_error": "An account with that username already exists.",
    "app.user.save.email_exists.app_error": "An account with that email already exists.",
    "api.user.create_user.no_open_server": "This server does not allow open signups.",
    "model.user.is_valid.pwd.app_error": "Your password must contain at least {{.Min}} characters.",
    "model.user.is_valid.username.app_error": "Invalid username.",
    "model.user.is_valid.email.app_error": "Invalid email.",
    "api.user.login.blank_pwd.app_error": "Password field must not be blank",
    "api.user.login.invalid_credentials_email_username": (
        "Enter a valid email or username and/or password."
    ),
    "api.user.login.inactive.app_error": (
        "Login failed because your account has been deactivated."
    ),
    "app.user.missing_account.const": "Unable to find the user.",
    "app.role.check_roles_exist.role_not_found": "The provided role does not exist",
    "app.user_access_token.disabled": "Personal access tokens are disabled on this server.",
    "app.user_access_token.get_by_user.app_error": "Unable to find the personal access token.",
    "api.user.update_active.permissions.app_error": (
        "You do not have the appropriate permissions."
    ),
    "api.user.update_active.not_enable.app_error": (
        "You cannot deactivate yourself because this feature is not enabled."
    ),
    "api.user.update_password.incorrect.app_error": "The current password is incorrect.",
    "api.user.update_password.context.app_error": "You may not change this user's password.",
    "api.user.delete_user.not_enabled.app_error": "Permanent deletion is not enabled.",
}


def new_id() -> str:
    """A Mattermost-style 26-character id (lowercase letters and digits)."""
    alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"  # z-base-32, as the real server uses
    raw = secrets.token_bytes(16)
    bits = int.from_bytes(raw, "big")
    out = []
    for _ in range(26):
        out.append(alphabet[bits & 31])
        bits >>= 5
    return "".join(out)


def render_message(error_id: str, params: Mapping[str, object] | None = None) -> str:
    template = MESSAGES.get(error_id, error_id)
    for key, value in (params or {}).items():
        template = template.replace("{{." + key + "}}", str(value))
    return template


class AppError(Exception):
    """An error answered as Mattermost's AppError JSON with ``status`` as the HTTP status."""

    def __init__(
        self,
        status: int,
        error_id: str,
        *,
        params: Mapping[str, object] | None = None,
        detailed: str = "",
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error_id = error_id
        self.message = message if message is not None else render_message(error_id, params)
        self.detailed = detailed
        self.headers = dict(headers or {})
        super().__init__(f"{status} {error_id}: {self.message}")

    def to_json(self, request_id: str, *, developer: bool) -> dict[str, object]:
        return {
            "id": self.error_id,
            "message": self.message,
            "detailed_error": self.detailed if developer else "",
            "request_id": request_id,
            "status_code": self.status,
        }


def invalid_param(name: str, detailed: str = "") -> AppError:
    return AppError(
        400, "api.context.invalid_body_param.app_error", params={"Name": name}, detailed=detailed
    )


def invalid_url_param(name: str) -> AppError:
    return AppError(400, "api.context.invalid_url_param.app_error", params={"Name": name})


def permission_error(user_id: str, *perms: str) -> AppError:
    return AppError(
        403,
        "api.context.permissions.app_error",
        detailed=f"userId={user_id}, permission={','.join(perms)}",
    )


def session_expired(detailed: str = "") -> AppError:
    return AppError(401, "api.context.session_expired.app_error", detailed=detailed)


def not_found() -> AppError:
    return AppError(404, "api.context.404.app_error")
