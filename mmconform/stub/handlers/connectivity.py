"""Operations that reach out: email/S3/site URL tests, push notifications, link previews, images.

The loopback-only rule: the stub makes an outbound request only to a loopback host
(``localhost``, 127.0.0.0/8, ::1; names are never resolved).  Anything else is answered as the
real server answers a failed request, so the stub cannot be turned into a proxy.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from starlette.responses import Response

from mmconform.stub import _godecode as go
from mmconform.stub import _probes
from mmconform.stub._config import decode_config
from mmconform.stub._config_defaults import FAKE_SETTING, clone, default_config
from mmconform.stub._context import BodyTooLarge, Ctx, Op
from mmconform.stub._errors import AppError, invalid_param
from mmconform.stub.faults import Fault
from mmconform.stub.handlers._util import qfirst
from mmconform.stub.variants import Variant

OUTBOUND_TIMEOUT = 5.0
MAX_LOCATION = 2100
REDIRECT_CACHE_SIZE = 10000
REDIRECT_CACHE_TTL = 3600.0
MAX_IMAGE_BYTES = 50 * 1024 * 1024
# The field names of the sections the connection tests take (a Config body must give them all).
_SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    section: tuple(default_config()[section]) for section in ("EmailSettings", "FileSettings")
}


def is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and _probes.is_loopback_host(host or "")


class OutboundError(Exception):
    """An outbound request was refused (not loopback) or failed; the message says which."""


async def loopback_request(method: str, url: str) -> httpx.Response:
    """The stub's only way out: one request to a loopback host, no redirects followed, no
    proxies. Anything else raises OutboundError without sending a byte."""
    if not is_loopback_url(url):
        raise OutboundError("the stub only makes requests to loopback hosts")
    try:
        async with httpx.AsyncClient(
            timeout=OUTBOUND_TIMEOUT, follow_redirects=False, trust_env=False
        ) as client:
            return await client.request(method, url)
    except (httpx.HTTPError, ValueError) as exc:
        raise OutboundError(str(exc)) from None


async def _config_body(ctx: Ctx) -> dict[str, Any] | None:
    """``var cfg *model.Config`` decoded from the body, as the connection tests do it: a body
    that is unreadable, not JSON or ``null`` gives nil (the stored config is used); a body with a
    type error gives the settings decoded so far (the error itself is only logged)."""
    strict = ctx.variant(Variant.STRICT_CONNECTION_TESTS)
    try:
        decoded = decode_config(go.parse(await ctx.body()), pointer=True)
    except (BodyTooLarge, go.GoSyntaxError):
        if strict:
            raise ctx.refused_by(Variant.STRICT_CONNECTION_TESTS, invalid_param("config")) from None
        return None
    if strict and not (decoded.ok and isinstance(decoded.value, dict)):
        raise ctx.refused_by(Variant.STRICT_CONNECTION_TESTS, invalid_param("config"))
    if not decoded.ok:
        ctx.state.log("warn", "Error decoding the config", error=decoded.error)
    return decoded.value if isinstance(decoded.value, dict) else None


def _has_nil_fields(section: str, values: Any) -> bool:
    """checkHasNilFields: some setting of the section is unset."""
    if not isinstance(values, dict):
        return True
    return any(key not in values for key in _SECTION_FIELDS[section])


def _failure(failure: _probes.ProbeFailure) -> AppError:
    return AppError(
        failure.status, failure.error_id, message=failure.message, detailed=failure.detail
    )


# --------------------------------------------------------------------------------------------
async def test_email(ctx: Ctx) -> Response:
    """The body's EmailSettings are only checked; the message goes out with the stored settings,
    as the real server's MailServiceConfig does."""
    st = ctx.state
    body = await _config_body(ctx)
    with st.lock:
        stored = clone(st.config["EmailSettings"])
    given = body.get("EmailSettings") if body is not None else stored
    if _has_nil_fields("EmailSettings", given):
        raise AppError(400, "api.file.test_connection_email_settings_nil.app_error")
    ctx.require("test_email", not_restricted=True)
    assert isinstance(given, dict)
    if not given.get("SMTPServer"):
        raise AppError(400, "api.admin.test_email.missing_server")
    if given.get("SMTPPassword") == FAKE_SETTING:
        same = all(
            given.get(k) == stored.get(k) for k in ("SMTPServer", "SMTPPort", "SMTPUsername")
        )
        if not same:
            raise AppError(400, "api.admin.test_email.reenter_password")
    # The test message goes to the caller, as on a real server; the local-mode session has no
    # user, so it falls back to the probe's default recipient.
    user = ctx.session.user
    recipient = user.email if user is not None else "admin@example.com"
    settings = given if ctx.fault(Fault.EMAIL_TEST_USES_POSTED_SETTINGS) else stored
    failure = await asyncio.to_thread(
        _probes.test_smtp, settings, timeout=OUTBOUND_TIMEOUT, to=recipient
    )
    if failure is not None:
        raise _failure(failure)
    return ctx.ok()


async def test_s3(ctx: Ctx) -> Response:
    """Unlike the email test, the S3 test tries the settings it was given."""
    st = ctx.state
    body = await _config_body(ctx)
    with st.lock:
        stored = clone(st.config["FileSettings"])
    given = body.get("FileSettings") if body is not None else stored
    if _has_nil_fields("FileSettings", given):
        raise AppError(400, "api.file.test_connection_s3_settings_nil.app_error")
    ctx.require("test_s3")
    if ctx.behaviour.legacy_restricted_errors and ctx.is_restricted():
        raise AppError(403, "api.restricted_system_admin")
    assert isinstance(given, dict)
    settings = clone(given)
    if not settings.get("AmazonS3Bucket"):
        raise AppError(400, "api.admin.test_s3.missing_s3_bucket")
    if settings.get("AmazonS3SecretAccessKey") == FAKE_SETTING:
        settings["AmazonS3SecretAccessKey"] = stored.get("AmazonS3SecretAccessKey", "")
    if ctx.fault(Fault.S3_TEST_ALWAYS_OK):
        return ctx.ok()
    failure = await asyncio.to_thread(_probes.test_s3, settings, timeout=OUTBOUND_TIMEOUT)
    if failure is not None:
        raise _failure(failure)
    return ctx.ok()


_STRING_MAP = go.MapOf(go.STRING)


async def test_site_url(ctx: Ctx) -> Response:
    ctx.require("test_site_url", not_restricted=True)
    # model.MapFromJSON: whatever decodes; nothing when the body cannot be read or parsed
    try:
        values = go.decode_body(await ctx.body(), _STRING_MAP).value or {}
    except (BodyTooLarge, go.GoSyntaxError):
        values = {}
    site_url = values.get("site_url", "")
    if not site_url:
        if ctx.fault(Fault.SITE_URL_TEST_ACCEPTS_EMPTY):
            return ctx.ok()
        raise invalid_param("site_url")
    failure = AppError(400, "app.admin.test_site_url.failure")
    try:
        response = await loopback_request("GET", site_url.rstrip("/") + "/api/v4/system/ping")
    except OutboundError as exc:
        failure.detailed = str(exc)
        raise failure from None
    if response.status_code != 200:
        failure.detailed = f"status {response.status_code}"
        raise failure
    return ctx.ok()


# --------------------------------------------------------------------------------------------
async def test_notification(ctx: Ctx) -> Response:
    if ctx.fault(Fault.TEST_NOTIFICATION_REFUSED_TO_USERS):
        ctx.require("manage_system")
    with ctx.state.lock:
        ctx.state.test_notifications += 1
    ctx.state.log("info", "Sent a test notification (simulated)", user_id=ctx.session.user_id)
    return ctx.ok()


#: model.PushNotificationAck as the handler decodes it (plain, non-pointer fields).
PUSH_NOTIFICATION_ACK = go.Struct(
    "PushNotificationAck",
    {
        "id": go.STRING,
        "received_at": go.INT64,
        "platform": go.STRING,
        "type": go.STRING,
        "post_id": go.STRING,
        "is_id_loaded": go.BOOL,
    },
)


async def ack_notification(ctx: Ctx) -> Response:
    parse_error = AppError(400, "api.push_notifications_ack.message.parse.app_error")
    try:
        body = await ctx.body()
        if ctx.fault(Fault.PUSH_ACK_EMPTY_BODY_ACCEPTED) and not body.strip():
            return ctx.ok()  # an empty ack taken as one with nothing to forward
        decoded = go.decode_body(body, PUSH_NOTIFICATION_ACK)
    except BodyTooLarge:
        raise ctx.too_large(parse_error) from None
    except go.GoSyntaxError as exc:
        parse_error.detailed = str(exc)
        raise parse_error from None
    if not decoded.ok:
        parse_error.detailed = decoded.error or ""
        raise parse_error
    fields: dict[str, Any] = decoded.value or {}
    st = ctx.state
    if not st.setting("EmailSettings", "SendPushNotifications"):
        raise AppError(501, "api.push_notification.disabled.app_error")
    if fields.get("type") == "message" and ctx.session.user is not None:
        with st.lock:
            props = st.session_props.setdefault(ctx.session.user_id, {})
            if (
                props.get("deviceNotificationDisabled") == "true"
                and fields.get("platform") == "ios"
            ):
                props["deviceNotificationDisabled"] = "false"
    if fields.get("is_id_loaded"):
        if fields.get("post_id") and fields.get("type") == "message":
            raise AppError(
                403,
                "api.context.permissions.app_error",
                detailed=f"userId={ctx.session.user_id}, permission=read_channel",
            )
        return Response(b"", media_type="application/json")
    # forwarding to the push proxy is simulated as a success (no outbound request)
    return ctx.ok()


# --------------------------------------------------------------------------------------------
async def _head_location(url: str) -> str:
    """The Location a HEAD request answers with; "" when there is none or the request fails."""
    try:
        response = await loopback_request("HEAD", url)
    except OutboundError:
        return ""
    return str(response.headers.get("location", ""))


async def get_redirect_location(ctx: Ctx) -> Response:
    st = ctx.state
    if not st.setting("ServiceSettings", "EnableLinkPreviews"):
        return ctx.json({"location": ""})
    url = qfirst(ctx, "url") or ""
    if not url:
        if ctx.fault(Fault.REDIRECT_WITHOUT_URL_ACCEPTED):
            return ctx.json({"location": ""})
        raise invalid_param("url")
    now = st.now()
    with st.lock:
        cached = st.redirect_cache.get(url)
        if cached is not None and cached[1] > now:
            st.redirect_cache.move_to_end(url)
            return ctx.json({"location": cached[0]})
    location = await _head_location(url)
    if len(location) > MAX_LOCATION:
        location = ""
    with st.lock:
        st.redirect_cache[url] = (location, now + REDIRECT_CACHE_TTL)
        st.redirect_cache.move_to_end(url)
        while len(st.redirect_cache) > REDIRECT_CACHE_SIZE:
            st.redirect_cache.popitem(last=False)
    return ctx.json({"location": location})


def _safe_location(url: str) -> str:
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def _redirect(url: str) -> Response:
    return Response(
        b"",
        status_code=302,
        headers={"Location": _safe_location(url)},
        media_type="application/json",
    )


async def get_image(ctx: Ctx) -> Response:
    st = ctx.state
    raw = qfirst(ctx, "url") or ""
    bad = AppError(400, "api.image.get.app_error")
    try:
        parts = urlsplit(raw)
        _ = parts.port
    except ValueError:
        raise bad from None
    if parts.scheme and not raw[len(parts.scheme) + 1 :].startswith("//") and not parts.netloc:
        if ctx.fault(Fault.IMAGE_OPAQUE_URL_ACCEPTED):
            # nothing fetched, and the nothing served as the image
            return Response(b"", media_type="application/octet-stream")
        raise bad  # an opaque URL such as mailto:
    site = urlsplit(str(st.setting("ServiceSettings", "SiteURL") or ""))
    scheme = parts.scheme or site.scheme or "http"
    netloc = parts.netloc or site.netloc
    full = urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))
    if not st.setting("ImageProxySettings", "Enable"):
        if ctx.behaviour.image_proxy_disabled_is_400:
            raise bad
        return _redirect(full)
    if netloc == site.netloc:
        return _redirect(full)
    if st.setting("ImageProxySettings", "ImageProxyType") == "atmos/camo":
        base = str(st.setting("ImageProxySettings", "RemoteImageProxyURL") or "").rstrip("/")
        key = str(st.setting("ImageProxySettings", "RemoteImageProxyOptions") or "").encode()
        mac = hmac.new(key, full.encode(), hashlib.sha1).hexdigest()
        return _redirect(f"{base}/{mac}/{full.encode().hex()}")
    try:
        response = await loopback_request("GET", full)
    except OutboundError as exc:
        bad.detailed = str(exc)
        raise bad from None
    if response.status_code != 200 or len(response.content) > MAX_IMAGE_BYTES:
        bad.detailed = f"status {response.status_code}"
        raise bad
    media = response.headers.get("content-type", "application/octet-stream")
    return Response(response.content, media_type=media)


OPERATIONS: list[Op] = [
    Op("TestEmail", "POST", "/api/v4/email/test", test_email),
    Op("TestNotification", "POST", "/api/v4/notifications/test", test_notification, since="10.3"),
    Op("TestSiteURL", "POST", "/api/v4/site_url/test", test_site_url, since="5.16"),
    Op("TestS3Connection", "POST", "/api/v4/file/s3_test", test_s3, since="4.9"),
    Op(
        "AcknowledgeNotification",
        "POST",
        "/api/v4/notifications/ack",
        ack_notification,
        since="5.12",
    ),
    Op(
        "GetRedirectLocation",
        "GET",
        "/api/v4/redirect_location",
        get_redirect_location,
        auth="trust",
        since="5.3",
    ),
    Op("GetImageByUrl", "GET", "/api/v4/image", get_image, auth="trust", since="4.7"),
]
