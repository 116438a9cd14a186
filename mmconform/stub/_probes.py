"""Real connection tests behind POST /email/test and POST /file/s3_test.

The handler does the nil-field and permission checks; these functions do the rest: the
mandatory-field check, then a real SMTP conversation (smtplib) or a real, SigV4-signed S3 request
(httpx). They return ``None`` on success or a :class:`ProbeFailure` the handler turns into an
AppError.

Outbound rule: the stub only ever talks to loopback. A host that is not ``localhost`` or a literal
address in 127.0.0.0/8 or ::1 is refused *before* any socket is opened (no DNS lookup either), so
the stub cannot be used to reach or scan other machines.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any, Final
from urllib.parse import quote

import httpx

from mmconform._wire import is_loopback_host

__all__ = [
    "LOOPBACK_ONLY_DETAIL",
    "TEST_EMAIL_SUBJECT",
    "ProbeFailure",
    "is_loopback_host",
    "probe_s3",
    "probe_smtp",
    "test_s3",
    "test_smtp",
]

TEST_EMAIL_SUBJECT: Final = "Mattermost - Testing Email Settings"
TEST_EMAIL_BODY: Final = (
    "This is a test email sent by the mmconform stub to check the SMTP settings.\n"
    "If you can read it, the email settings work.\n"
)
LOOPBACK_ONLY_DETAIL: Final = (
    "the mmconform stub only connects to loopback hosts (localhost, 127.0.0.0/8, ::1); "
    "refused host {host!r} without any network traffic"
)

SMTP_MISSING_SERVER: Final = "api.admin.test_email.missing_server"
SMTP_FAILURE: Final = "app.admin.test_email.failure"
S3_MISSING_BUCKET: Final = "api.admin.test_s3.missing_s3_bucket"
S3_AUTH: Final = "api.file.test_connection_s3_auth.app_error"
S3_NO_BUCKET: Final = "api.file.test_connection_s3_bucket_does_not_exist.app_error"
S3_CONNECTION: Final = "api.file.test_connection.app_error"

_S3_MESSAGES: Final[dict[str, str]] = {
    S3_AUTH: (
        "Unable to connect to S3. Verify your Amazon S3 connection authorization parameters "
        "and authentication settings."
    ),
    S3_NO_BUCKET: "Ensure your Amazon S3 bucket is available, and verify your bucket permissions.",
    S3_CONNECTION: "Unable to access the file storage.",
}

_EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class ProbeFailure:
    """What went wrong: the AppError status, id and message, and a detail for detailed_error."""

    status: int
    error_id: str
    message: str
    detail: str


# --- helpers ------------------------------------------------------------------------------------


def _text(settings: Mapping[str, Any], key: str) -> str:
    value = settings.get(key)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _flag(settings: Mapping[str, Any], key: str) -> bool:
    value = settings.get(key)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _number(settings: Mapping[str, Any], key: str) -> float | None:
    value = settings.get(key)
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _parse_port(raw: str) -> int | None:
    try:
        port = int(raw.strip())
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


# --- SMTP ---------------------------------------------------------------------------------------


def _smtp_failure(detail: str) -> ProbeFailure:
    return ProbeFailure(500, SMTP_FAILURE, f"Connection unsuccessful: {detail}", detail)


@functools.lru_cache(maxsize=2)
def _tls_context(skip_verify: bool) -> ssl.SSLContext:
    """The SMTP client TLS context, built once per ``skip_verify``.

    Building one loads the system CA store (10-50 ms), so it is shared by every probe (an
    ``SSLContext`` is safe to use from several threads) and only built when TLS is used.
    """
    context = ssl.create_default_context()
    if skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@functools.lru_cache(maxsize=2)
def _s3_tls_context(verify: bool) -> ssl.SSLContext:
    """What ``httpx.Client(verify=verify, trust_env=False)`` would build, built once.

    httpx builds it (certifi's CA bundle) on every client construction, even for plain-HTTP
    endpoints; sharing one makes a refused loopback probe cost well under a millisecond.
    """
    return httpx.create_ssl_context(verify=verify, trust_env=False)


def _test_message(sender_name: str, sender_address: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender_address))
    message["To"] = to
    message["Subject"] = TEST_EMAIL_SUBJECT
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="mmconform.localhost")
    message.set_content(TEST_EMAIL_BODY)
    return message


@functools.lru_cache(maxsize=256)
def _check_message(sender_name: str, sender_address: str, to: str) -> None:
    """Build the test message once, for its exceptions only (the result is not kept)."""
    _test_message(sender_name, sender_address, to)


def probe_smtp(
    email_settings: Mapping[str, Any],
    *,
    timeout: float = 5.0,
    to: str = "admin@example.com",
) -> ProbeFailure | None:
    """Send the test email with ``email_settings`` (Mattermost's EmailSettings keys) to ``to``."""
    server = _text(email_settings, "SMTPServer").strip()
    if not server:
        return ProbeFailure(400, SMTP_MISSING_SERVER, "SMTP Server is required", "")
    if not is_loopback_host(server):
        return _smtp_failure(LOOPBACK_ONLY_DETAIL.format(host=server))
    port = _parse_port(_text(email_settings, "SMTPPort"))
    if port is None:
        return _smtp_failure(f"invalid SMTP port {_text(email_settings, 'SMTPPort')!r}")
    host = server[1:-1] if server.startswith("[") and server.endswith("]") else server
    configured = _number(email_settings, "SMTPServerTimeout")
    wait = min(timeout, configured) if configured is not None else timeout
    security = _text(email_settings, "ConnectionSecurity").strip().upper()
    if security not in ("", "TLS", "STARTTLS", "PLAIN"):
        return _smtp_failure(f"unknown ConnectionSecurity {security!r}")
    skip_verify = _flag(email_settings, "SkipServerCertificateVerification")

    sender_address = _text(email_settings, "FeedbackEmail") or "mmconform-stub@localhost"
    sender_name = _text(email_settings, "FeedbackName") or "Mattermost"
    # Building the message costs more than a refused loopback connection, so it is built only
    # once connected.  Whatever building it would raise is raised here, before any connection,
    # as before: the check is cached per sender and recipient (a raise is never cached).
    _check_message(sender_name, sender_address, to)

    client: smtplib.SMTP | None = None
    try:
        if security == "TLS":
            client = smtplib.SMTP_SSL(host, port, timeout=wait, context=_tls_context(skip_verify))
        else:
            client = smtplib.SMTP(host, port, timeout=wait)
        client.ehlo_or_helo_if_needed()
        if security == "STARTTLS":
            client.starttls(context=_tls_context(skip_verify))
            client.ehlo()
        if _flag(email_settings, "EnableSMTPAuth"):
            client.login(
                _text(email_settings, "SMTPUsername"), _text(email_settings, "SMTPPassword")
            )
        message = _test_message(sender_name, sender_address, to)
        refused = client.send_message(message, from_addr=sender_address, to_addrs=[to])
        if refused:
            return _smtp_failure(f"recipient refused: {refused!r}")
        client.quit()
        client = None
    except (OSError, smtplib.SMTPException, ValueError, UnicodeError) as exc:
        return _smtp_failure(f"{type(exc).__name__}: {exc}".strip())
    finally:
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()
    return None


# --- S3 -----------------------------------------------------------------------------------------


def _s3_failure(error_id: str, detail: str) -> ProbeFailure:
    return ProbeFailure(500, error_id, _S3_MESSAGES[error_id], detail)


def _split_endpoint(endpoint: str) -> tuple[str, int | None] | None:
    """``host[:port]`` (IPv6 in brackets) → (host, port); None when malformed."""
    if not endpoint or "/" in endpoint or "@" in endpoint or "?" in endpoint:
        return None
    if endpoint.startswith("["):
        close = endpoint.find("]")
        if close < 0:
            return None
        host, rest = endpoint[1:close], endpoint[close + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            return None
        port = _parse_port(rest[1:])
        return (host, port) if port is not None else None
    if endpoint.count(":") == 1:
        host, raw_port = endpoint.split(":")
        port = _parse_port(raw_port)
        return (host, port) if port is not None and host else None
    if ":" in endpoint:  # a bare IPv6 address
        return endpoint, None
    return endpoint, None


def _sign_v4(
    *,
    method: str,
    host_header: str,
    path: str,
    query: list[tuple[str, str]],
    access_key: str,
    secret_key: str,
    region: str,
    now: float,
) -> dict[str, str]:
    """AWS Signature Version 4 headers for a body-less S3 request."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    date = stamp[:8]
    headers = {"host": host_header, "x-amz-content-sha256": _EMPTY_SHA256, "x-amz-date": stamp}
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query)
    )
    signed = ";".join(sorted(headers))
    canonical_headers = "".join(f"{k}:{headers[k].strip()}\n" for k in sorted(headers))
    canonical_request = "\n".join(
        [method, path, canonical_query, canonical_headers, signed, _EMPTY_SHA256]
    )
    scope = f"{date}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            stamp,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "x-amz-content-sha256": _EMPTY_SHA256,
        "x-amz-date": stamp,
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        ),
    }


def _s3_error_code(response: httpx.Response) -> str:
    """The ``<Code>`` of an S3 XML error body, or ""."""
    body = response.text
    start = body.find("<Code>")
    end = body.find("</Code>", start)
    if start < 0 or end < 0:
        return ""
    return body[start + len("<Code>") : end].strip()


def probe_s3(file_settings: Mapping[str, Any], *, timeout: float = 5.0) -> ProbeFailure | None:
    """Check that the configured S3 bucket is reachable with the configured credentials.

    Like Mattermost's S3 backend: with no path prefix a HEAD Bucket request (200 → fine,
    404 → no bucket, anything else → auth error); with a prefix a one-key ListObjectsV2 under
    it (``NoSuchBucket`` → no bucket, any other error → auth error). The bucket is never created.
    """
    bucket = _text(file_settings, "AmazonS3Bucket")
    if not bucket:
        return ProbeFailure(400, S3_MISSING_BUCKET, "S3 Bucket is required", "")
    endpoint = _text(file_settings, "AmazonS3Endpoint").strip() or "s3.amazonaws.com"
    parts = _split_endpoint(endpoint)
    if parts is None:
        return _s3_failure(S3_CONNECTION, f"invalid S3 endpoint {endpoint!r}")
    host, port = parts
    if not is_loopback_host(host):
        return _s3_failure(S3_CONNECTION, LOOPBACK_ONLY_DETAIL.format(host=host))

    use_tls = _flag(file_settings, "AmazonS3SSL")
    scheme = "https" if use_tls else "http"
    default_port = 443 if use_tls else 80
    url_host = f"[{host}]" if ":" in host else host
    host_header = url_host if port in (None, default_port) else f"{url_host}:{port}"
    region = _text(file_settings, "AmazonS3Region").strip() or "us-east-1"
    access_key = _text(file_settings, "AmazonS3AccessKeyId")
    secret_key = _text(file_settings, "AmazonS3SecretAccessKey")
    prefix = _text(file_settings, "AmazonS3PathPrefix").strip("/")
    configured = _number(file_settings, "AmazonS3RequestTimeoutMilliseconds")
    wait = min(timeout, configured / 1000) if configured is not None else timeout

    path = "/" + quote(bucket, safe="-_.~") + "/"
    if prefix:
        method = "GET"
        query = [("list-type", "2"), ("max-keys", "1"), ("prefix", prefix + "/")]
    else:
        method, query = "HEAD", []
    headers: dict[str, str] = {}
    if access_key or secret_key:
        headers = _sign_v4(
            method=method,
            host_header=host_header,
            path=path,
            query=query,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            now=time.time(),
        )
    headers["Host"] = host_header
    query_string = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query)
    )
    url = f"{scheme}://{host_header}{path}" + (f"?{query_string}" if query_string else "")
    verify = _s3_tls_context(not _flag(file_settings, "AmazonS3SkipVerify"))

    try:
        with httpx.Client(
            timeout=wait, follow_redirects=False, trust_env=False, verify=verify
        ) as client:
            response = client.request(method, url, headers=headers)
    except httpx.HTTPError as exc:
        return _s3_failure(S3_CONNECTION, f"{type(exc).__name__}: {exc}")

    code = _s3_error_code(response) if method == "GET" else ""
    if response.status_code == 200:
        return None
    if (method == "HEAD" and response.status_code == 404) or code == "NoSuchBucket":
        return _s3_failure(S3_NO_BUCKET, f"bucket {bucket!r} does not exist")
    detail = f"S3 answered {response.status_code}" + (f" {code}" if code else "")
    return _s3_failure(S3_AUTH, detail)


# The names of the interface. They are not tests: ``__test__ = False`` keeps pytest from
# collecting them when a test module imports them by name.
probe_smtp.__test__ = False  # type: ignore[attr-defined]
probe_s3.__test__ = False  # type: ignore[attr-defined]
test_smtp = probe_smtp
test_s3 = probe_s3
