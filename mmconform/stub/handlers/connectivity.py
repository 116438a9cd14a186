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

from mmconform.stub import _config as cfgmod
from mmconform.stub import _probes
from mmconform.stub._config_defaults import FAKE_SETTING, clone, default_config
from mmconform.stub._context import Ctx, Op
from mmconform.stub._errors import AppError, invalid_param
from mmconform.stub.handlers._util import qfirst

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


async def _optional_config_section(ctx: Ctx, section: str) -> dict[str, Any] | None:
    """The section from a Config body, None to use the server config; nil fields → None-check.

    Returns the section when the body decoded; raises nothing for decode errors (ignored).
    """
    raw = await ctx.body()
    try:
        value = cfgmod.parse_json_body(raw)
        if value is None:
            return None
        partial = cfgmod.decode_partial(value)
    except ValueError:
        return None
    got = partial.get(section, {})
    return got if isinstance(got, dict) else {}


def _has_nil_fields(section: str, values: dict[str, Any]) -> bool:
    return any(key not in values for key in _SECTION_FIELDS[section])


# --------------------------------------------------------------------------------------------
async def test_email(ctx: Ctx) -> Response:
    st = ctx.state
    given = await _optional_config_section(ctx, "EmailSettings")
    if given is not None and _has_nil_fields("EmailSettings", given):
        raise AppError(400, "api.file.test_connection_email_settings_nil.app_error")
    ctx.require("test_email", not_restricted=True)
    with st.lock:
        stored = clone(st.config["EmailSettings"])
    settings = given if given is not None else clone(stored)
    if not settings.get("SMTPServer"):
        raise AppError(400, "api.admin.test_email.missing_server")
    if settings.get("SMTPPassword") == FAKE_SETTING:
        same = all(
            settings.get(k) == stored.get(k) for k in ("SMTPServer", "SMTPPort", "SMTPUsername")
        )
        if not same:
            raise AppError(400, "api.admin.test_email.reenter_password")
        settings["SMTPPassword"] = stored.get("SMTPPassword", "")
    # The test message goes to the caller, as on a real server; the local-mode session has no
    # user, so it falls back to the probe's default recipient.
    user = ctx.session.user
    recipient = user.email if user is not None else "admin@example.com"
    failure = await asyncio.to_thread(
        _probes.test_smtp, settings, timeout=OUTBOUND_TIMEOUT, to=recipient
    )
    if failure is not None:
        raise AppError(
            failure.status, failure.error_id, message=failure.message, detailed=failure.detail
        )
    return ctx.ok()


async def test_s3(ctx: Ctx) -> Response:
    st = ctx.state
    given = await _optional_config_section(ctx, "FileSettings")
    if given is not None and _has_nil_fields("FileSettings", given):
        raise AppError(400, "api.file.test_connection_s3_settings_nil.app_error")
    ctx.require("test_s3")
    with st.lock:
        stored = clone(st.config["FileSettings"])
    settings = given if given is not None else clone(stored)
    if not settings.get("AmazonS3Bucket"):
        raise AppError(400, "api.admin.test_s3.missing_s3_bucket")
    if settings.get("AmazonS3SecretAccessKey") == FAKE_SETTING:
        settings["AmazonS3SecretAccessKey"] = stored.get("AmazonS3SecretAccessKey", "")
    failure = await asyncio.to_thread(_probes.test_s3, settings, timeout=OUTBOUND_TIMEOUT)
    if failure is not None:
        raise AppError(
            failure.status, failure.error_id, message=failure.message, detailed=failure.detail
        )
    return ctx.ok()


async def test_site_url(ctx: Ctx) -> Response:
    ctx.require("test_site_url", not_restricted=True)
    raw = await ctx.body()
    values: dict[str, Any] = {}
    try:
        decoded = cfgmod.parse_json_body(raw)
        if isinstance(decoded, dict) and all(isinstance(v, str) for v in decoded.values()):
            values = decoded
    except ValueError:
        values = {}
    site_url = values.get("site_url", "")
    if not site_url:
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
    with ctx.state.lock:
        ctx.state.test_notifications += 1
    ctx.state.log("info", "Sent a test notification (simulated)", user_id=ctx.session.user_id)
    return ctx.ok()


_ACK_TYPES: dict[str, type] = {
    "id": str,
    "received_at": int,
    "platform": str,
    "type": str,
    "post_id": str,
    "is_id_loaded": bool,
}


async def ack_notification(ctx: Ctx) -> Response:
    raw = await ctx.body()
    parse_error = AppError(400, "api.push_notifications_ack.message.parse.app_error")
    try:
        ack = cfgmod.parse_json_body(raw)
    except ValueError:
        raise parse_error from None
    if ack is None:
        ack = {}
    if not isinstance(ack, dict):
        raise parse_error
    fields: dict[str, Any] = {}
    for key, value in ack.items():
        name = next((k for k in _ACK_TYPES if k.lower() == key.lower()), None)
        if name is None or value is None:
            continue
        expected = _ACK_TYPES[name]
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise parse_error
        if not isinstance(value, expected):
            raise parse_error
        fields[name] = value
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
    Op("TestNotification", "POST", "/api/v4/notifications/test", test_notification),
    Op("TestSiteURL", "POST", "/api/v4/site_url/test", test_site_url, since="5.16"),
    Op("TestS3Connection", "POST", "/api/v4/file/s3_test", test_s3, since="4.8"),
    Op("AcknowledgeNotification", "POST", "/api/v4/notifications/ack", ack_notification),
    Op(
        "GetRedirectLocation",
        "GET",
        "/api/v4/redirect_location",
        get_redirect_location,
        auth="trust",
    ),
    Op("GetImageByUrl", "GET", "/api/v4/image", get_image, auth="trust"),
]
