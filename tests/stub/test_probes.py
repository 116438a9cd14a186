"""The email and S3 connection tests against real servers on loopback.

SMTP: an aiosmtpd server (plain, STARTTLS, implicit TLS, with and without AUTH).
S3: moto in server mode with request authentication switched on: after setting up an IAM user,
its access key, an allow-all policy and a bucket, ``POST /moto-api/reset-auth`` with ``0`` makes
moto check every later request's SigV4 signature and access key (unknown key → 403
InvalidAccessKeyId, wrong secret → 403 SignatureDoesNotMatch), so the auth path is tested against
moto itself and our SigV4 signing is checked by a third party on every successful probe.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto.server import ThreadedMotoServer

from mmconform.stub._probes import (
    TEST_EMAIL_SUBJECT,
    ProbeFailure,
    is_loopback_host,
    probe_s3,
    probe_smtp,
    test_s3,
    test_smtp,
)

# Loopback test servers accept AUTH without TLS on purpose; aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USERNAME = "smtp-user"
PASSWORD = "smtp-pass"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- an SMTP server -----------------------------------------------------------------------------


@dataclass
class _Inbox:
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    port: int
    inbox: _Inbox

    def settings(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "SMTPServer": "127.0.0.1",
            "SMTPPort": str(self.port),
            "ConnectionSecurity": "",
            "EnableSMTPAuth": False,
            "SMTPUsername": "",
            "SMTPPassword": "",
            "SkipServerCertificateVerification": False,
            "FeedbackEmail": "feedback@example.com",
            "FeedbackName": "Mattermost Stub",
            "SMTPServerTimeout": 10,
        }
        base.update(changes)
        return base


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _server_tls_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    return context


def _start(controller: Controller) -> None:
    controller.start()


@pytest.fixture
def smtp_plain() -> Iterator[SmtpServer]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    _start(controller)
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_auth() -> Iterator[SmtpServer]:
    """Requires AUTH (PLAIN/LOGIN) before MAIL, allowed without TLS on loopback."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    _start(controller)
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_starttls(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """Offers STARTTLS and requires AUTH, which it only allows after STARTTLS."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_tls_context(tls_files),
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    _start(controller)
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_tls(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """Implicit TLS (SMTPS)."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=_server_tls_context(tls_files),
    )
    _start(controller)
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


def _assert_delivered(server: SmtpServer, to: str = "admin@example.com") -> Message:
    assert len(server.inbox.messages) == 1
    mail_from, rcpt_tos, message = server.inbox.messages[0]
    assert rcpt_tos == [to]
    assert mail_from == "feedback@example.com"
    assert message["Subject"] == TEST_EMAIL_SUBJECT
    assert message["To"] == to
    assert "feedback@example.com" in str(message["From"])
    return message


def _assert_smtp_failure(result: ProbeFailure | None) -> ProbeFailure:
    assert result is not None
    assert result.status == 500
    assert result.error_id == "app.admin.test_email.failure"
    assert result.message.startswith("Connection unsuccessful: ")
    assert result.detail
    return result


# --- SMTP tests ---------------------------------------------------------------------------------


def test_interface_names_are_the_probes_and_not_collected() -> None:
    assert test_smtp is probe_smtp
    assert test_s3 is probe_s3
    assert getattr(test_smtp, "__test__", True) is False
    assert getattr(test_s3, "__test__", True) is False


def test_smtp_missing_server_is_400() -> None:
    for value in ("", None):
        result = probe_smtp({"SMTPServer": value, "SMTPPort": "25"})
        assert result == ProbeFailure(
            400, "api.admin.test_email.missing_server", "SMTP Server is required", ""
        )


def test_smtp_plain_delivers_the_test_message(smtp_plain: SmtpServer) -> None:
    assert probe_smtp(smtp_plain.settings()) is None
    message = _assert_delivered(smtp_plain)
    assert "Mattermost Stub" in str(message["From"])
    assert message["Message-ID"]


def test_smtp_recipient_is_configurable(smtp_plain: SmtpServer) -> None:
    assert probe_smtp(smtp_plain.settings(), to="sysadmin@example.org") is None
    _assert_delivered(smtp_plain, to="sysadmin@example.org")


def test_smtp_localhost_name_is_allowed(smtp_plain: SmtpServer) -> None:
    # localhost may resolve to ::1 first; the server only listens on 127.0.0.1, and smtplib
    # tries every address, so this still arrives.
    assert probe_smtp(smtp_plain.settings(SMTPServer="localhost")) is None
    _assert_delivered(smtp_plain)


def test_smtp_with_auth(smtp_auth: SmtpServer) -> None:
    settings = smtp_auth.settings(EnableSMTPAuth=True, SMTPUsername=USERNAME, SMTPPassword=PASSWORD)
    assert probe_smtp(settings) is None
    _assert_delivered(smtp_auth)


def test_smtp_with_wrong_password_fails(smtp_auth: SmtpServer) -> None:
    settings = smtp_auth.settings(EnableSMTPAuth=True, SMTPUsername=USERNAME, SMTPPassword="no")
    failure = _assert_smtp_failure(probe_smtp(settings))
    assert "535" in failure.detail or "Authentication" in failure.detail
    assert smtp_auth.inbox.messages == []


def test_smtp_without_auth_against_a_server_requiring_it_fails(smtp_auth: SmtpServer) -> None:
    _assert_smtp_failure(probe_smtp(smtp_auth.settings(EnableSMTPAuth=False)))
    assert smtp_auth.inbox.messages == []


def test_smtp_auth_flag_as_string(smtp_auth: SmtpServer) -> None:
    settings = smtp_auth.settings(
        EnableSMTPAuth="true", SMTPUsername=USERNAME, SMTPPassword=PASSWORD
    )
    assert probe_smtp(settings) is None


def test_smtp_starttls_with_auth(smtp_starttls: SmtpServer) -> None:
    settings = smtp_starttls.settings(
        ConnectionSecurity="STARTTLS",
        SkipServerCertificateVerification=True,
        EnableSMTPAuth=True,
        SMTPUsername=USERNAME,
        SMTPPassword=PASSWORD,
    )
    assert probe_smtp(settings) is None
    _assert_delivered(smtp_starttls)


def test_smtp_starttls_checks_the_certificate(smtp_starttls: SmtpServer) -> None:
    settings = smtp_starttls.settings(
        ConnectionSecurity="STARTTLS",
        SkipServerCertificateVerification=False,
        EnableSMTPAuth=True,
        SMTPUsername=USERNAME,
        SMTPPassword=PASSWORD,
    )
    failure = _assert_smtp_failure(probe_smtp(settings))
    assert "CERTIFICATE" in failure.detail.upper()
    assert smtp_starttls.inbox.messages == []


def test_smtp_plain_when_server_requires_starttls_fails(smtp_starttls: SmtpServer) -> None:
    settings = smtp_starttls.settings(
        ConnectionSecurity="", EnableSMTPAuth=True, SMTPUsername=USERNAME, SMTPPassword=PASSWORD
    )
    _assert_smtp_failure(probe_smtp(settings))


def test_smtp_implicit_tls(smtp_tls: SmtpServer) -> None:
    settings = smtp_tls.settings(ConnectionSecurity="TLS", SkipServerCertificateVerification=True)
    assert probe_smtp(settings) is None
    _assert_delivered(smtp_tls)


def test_smtp_tls_against_a_plain_server_fails(smtp_plain: SmtpServer) -> None:
    settings = smtp_plain.settings(ConnectionSecurity="TLS", SMTPServerTimeout=2)
    _assert_smtp_failure(probe_smtp(settings, timeout=2))
    assert smtp_plain.inbox.messages == []


def test_smtp_unreachable_port_is_500() -> None:
    settings = SmtpServer(_free_port(), _Inbox()).settings()
    failure = _assert_smtp_failure(probe_smtp(settings, timeout=2))
    assert "refused" in failure.detail.lower()


@pytest.mark.parametrize("port", ["", "abc", "0", "70000", "-1"])
def test_smtp_invalid_port_is_500(port: str) -> None:
    _assert_smtp_failure(probe_smtp({"SMTPServer": "127.0.0.1", "SMTPPort": port}))


def test_smtp_unknown_connection_security_is_500(smtp_plain: SmtpServer) -> None:
    _assert_smtp_failure(probe_smtp(smtp_plain.settings(ConnectionSecurity="SSLv2")))
    assert smtp_plain.inbox.messages == []


# --- loopback only ------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any name lookup or connection attempt is recorded and fails the test."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args))
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


REMOTE_HOSTS = [
    "smtp.example.com",
    "10.0.0.1",
    "192.168.1.10",
    "169.254.169.254",
    "0.0.0.0",
    "::",
    "2001:db8::1",
    "::ffff:10.0.0.1",
    "localhost.example.com",
    "127.0.0.1.nip.io",
    "s3.amazonaws.com",
]


@pytest.mark.parametrize("host", REMOTE_HOSTS)
def test_smtp_refuses_non_loopback_without_traffic(host: str, no_network: list[str]) -> None:
    failure = _assert_smtp_failure(probe_smtp({"SMTPServer": host, "SMTPPort": "25"}))
    assert "loopback" in failure.detail
    assert no_network == []


@pytest.mark.parametrize("host", REMOTE_HOSTS)
def test_s3_refuses_non_loopback_without_traffic(host: str, no_network: list[str]) -> None:
    endpoint = f"[{host}]:9000" if ":" in host else f"{host}:9000"
    failure = probe_s3(
        {"AmazonS3Bucket": "b", "AmazonS3Endpoint": endpoint, "AmazonS3AccessKeyId": "k"}
    )
    assert failure is not None
    assert failure.status == 500
    assert failure.error_id == "api.file.test_connection.app_error"
    assert "loopback" in failure.detail
    assert no_network == []


def test_s3_default_endpoint_is_aws_and_refused(no_network: list[str]) -> None:
    failure = probe_s3({"AmazonS3Bucket": "b", "AmazonS3Endpoint": ""})
    assert failure is not None
    assert "s3.amazonaws.com" in failure.detail
    assert no_network == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost.", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("", False),
        ("example.com", False),
        ("127.0.0.1:25", False),
    ],
)
def test_is_loopback_host(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


# --- S3 against moto -----------------------------------------------------------------------------


@dataclass
class MotoS3:
    url: str
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str

    def settings(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "DriverName": "amazons3",
            "AmazonS3Bucket": self.bucket,
            "AmazonS3PathPrefix": "",
            "AmazonS3Endpoint": self.endpoint,
            "AmazonS3SSL": False,
            "AmazonS3AccessKeyId": self.access_key,
            "AmazonS3SecretAccessKey": self.secret_key,
            "AmazonS3Region": "us-east-1",
            "AmazonS3SignV2": False,
            "AmazonS3RequestTimeoutMilliseconds": 5000,
        }
        base.update(changes)
        return base

    def bucket_names(self) -> list[str]:
        client = boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )
        return [b["Name"] for b in client.list_buckets()["Buckets"]]


@pytest.fixture(scope="module")
def _moto_server() -> Iterator[MotoS3]:
    """moto with an IAM user (allow-all inline policy) and its access key, and one bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    setup = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "setup",
        "aws_secret_access_key": "setup",
    }
    try:
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="mattermost")
        key = iam.create_access_key(UserName="mattermost")["AccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName="mattermost", PolicyName="allow-all", PolicyDocument=json.dumps(policy)
        )
        boto3.client("s3", **setup).create_bucket(Bucket="mattermost-test")
        yield MotoS3(
            url=url,
            endpoint=f"{host}:{port}",
            access_key=key["AccessKeyId"],
            secret_key=key["SecretAccessKey"],
            bucket="mattermost-test",
        )
    finally:
        server.stop()


@pytest.fixture
def moto_s3(_moto_server: MotoS3) -> Iterator[MotoS3]:
    """The moto server with request authentication switched on for the duration of one test.

    moto's switch is process-global (it would also apply to any other moto in this process),
    so it is only on while a test of this module runs, even when pytest-xdist interleaves
    modules in one worker.
    """
    url = f"{_moto_server.url}/moto-api/reset-auth"
    # From now on moto authenticates every request (0 more unauthenticated actions).
    assert httpx.post(url, content=b"0", trust_env=False).status_code == 200
    try:
        yield _moto_server
    finally:
        httpx.post(url, content=b"inf", trust_env=False)


def _assert_s3_failure(result: ProbeFailure | None, error_id: str) -> ProbeFailure:
    assert result is not None
    assert result.status == 500
    assert result.error_id == error_id
    assert result.message
    return result


def test_s3_missing_bucket_is_400() -> None:
    for value in ("", None):
        result = probe_s3({"AmazonS3Bucket": value, "AmazonS3Endpoint": "127.0.0.1:1"})
        assert result == ProbeFailure(
            400, "api.admin.test_s3.missing_s3_bucket", "S3 Bucket is required", ""
        )


def test_s3_moto_enforces_auth(moto_s3: MotoS3) -> None:
    """Guard: without this, the auth tests below would prove nothing (botocore signs here)."""
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3.url,
        region_name="us-east-1",
        aws_access_key_id="AKIAUNKNOWNUNKNOWN00",
        aws_secret_access_key="nope",
    )
    with pytest.raises(ClientError) as info:
        client.head_bucket(Bucket=moto_s3.bucket)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # An unsigned request is not let through either (moto answers 500 for a missing header).
    assert httpx.get(f"{moto_s3.url}/{moto_s3.bucket}", trust_env=False).status_code != 200


def test_s3_existing_bucket_is_ok(moto_s3: MotoS3) -> None:
    assert probe_s3(moto_s3.settings()) is None


def test_s3_empty_region_is_ok(moto_s3: MotoS3) -> None:
    assert probe_s3(moto_s3.settings(AmazonS3Region="")) is None


def test_s3_localhost_endpoint_is_ok(moto_s3: MotoS3) -> None:
    port = moto_s3.endpoint.rsplit(":", 1)[1]
    assert probe_s3(moto_s3.settings(AmazonS3Endpoint=f"localhost:{port}")) is None


def test_s3_with_path_prefix_lists_under_it(moto_s3: MotoS3) -> None:
    assert probe_s3(moto_s3.settings(AmazonS3PathPrefix="data/teams")) is None


@pytest.mark.parametrize("bucket", ["shouldnotcreatenewbucket", "Wrong_bucket"])
def test_s3_missing_bucket_is_reported_and_not_created(moto_s3: MotoS3, bucket: str) -> None:
    _assert_s3_failure(
        probe_s3(moto_s3.settings(AmazonS3Bucket=bucket)),
        "api.file.test_connection_s3_bucket_does_not_exist.app_error",
    )
    assert bucket not in moto_s3.bucket_names()


def test_s3_missing_bucket_with_prefix(moto_s3: MotoS3) -> None:
    _assert_s3_failure(
        probe_s3(moto_s3.settings(AmazonS3Bucket="nothere", AmazonS3PathPrefix="p")),
        "api.file.test_connection_s3_bucket_does_not_exist.app_error",
    )
    assert "nothere" not in moto_s3.bucket_names()


def test_s3_unknown_access_key_is_auth_error(moto_s3: MotoS3) -> None:
    failure = _assert_s3_failure(
        probe_s3(moto_s3.settings(AmazonS3AccessKeyId="invalidaccesskey")),
        "api.file.test_connection_s3_auth.app_error",
    )
    assert "403" in failure.detail


def test_s3_wrong_secret_is_auth_error(moto_s3: MotoS3) -> None:
    _assert_s3_failure(
        probe_s3(moto_s3.settings(AmazonS3SecretAccessKey="wrong-secret")),
        "api.file.test_connection_s3_auth.app_error",
    )


def test_s3_wrong_secret_with_prefix_is_auth_error(moto_s3: MotoS3) -> None:
    _assert_s3_failure(
        probe_s3(moto_s3.settings(AmazonS3SecretAccessKey="wrong", AmazonS3PathPrefix="p")),
        "api.file.test_connection_s3_auth.app_error",
    )


def test_s3_unreachable_endpoint_is_connection_error() -> None:
    settings = {
        "AmazonS3Bucket": "mattermost-test",
        "AmazonS3Endpoint": f"127.0.0.1:{_free_port()}",
        "AmazonS3SSL": False,
        "AmazonS3AccessKeyId": "k",
        "AmazonS3SecretAccessKey": "s",
    }
    failure = _assert_s3_failure(
        probe_s3(settings, timeout=2), "api.file.test_connection.app_error"
    )
    assert "Connect" in failure.detail


def test_s3_tls_against_plain_http_is_connection_error(moto_s3: MotoS3) -> None:
    _assert_s3_failure(
        probe_s3(moto_s3.settings(AmazonS3SSL=True), timeout=2),
        "api.file.test_connection.app_error",
    )


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:9000", "127.0.0.1:9000/path", "127.0.0.1:notaport", "[::1"]
)
def test_s3_malformed_endpoint_is_connection_error(endpoint: str) -> None:
    failure = _assert_s3_failure(
        probe_s3({"AmazonS3Bucket": "b", "AmazonS3Endpoint": endpoint}),
        "api.file.test_connection.app_error",
    )
    assert "endpoint" in failure.detail
