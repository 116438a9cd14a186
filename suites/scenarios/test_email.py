"""The email test: it checks the posted settings and sends through the stored ones."""

from __future__ import annotations

import copy
import ipaddress
import socketserver
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mmconform.harness import Target
from suites.scenarios.support_test import (
    Verdict,
)


@pytest.mark.mm_operation("TestEmail", "GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("email.posted-settings-checked", "errors.app-error-shape")
def test_email_test_checks_the_posted_settings(
    admin_client: httpx.Client, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    body = copy.deepcopy(admin_config)
    body["EmailSettings"]["SMTPServer"] = ""
    response = verdict.record(admin_client.post("/email/test", json=body))
    verdict.app_error(
        response,
        status=400,
        error_id="api.admin.test_email.missing_server",
        requirement="email.posted-settings-checked",
    )


class _SmtpSink(socketserver.ThreadingTCPServer):
    """A minimal SMTP server on loopback that accepts every message and keeps it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.messages: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _SmtpSession(socketserver.StreamRequestHandler):
    server: _SmtpSink

    def handle(self) -> None:
        self.wfile.write(b"220 mmconform test sink\r\n")
        data: list[bytes] | None = None
        while line := self.rfile.readline(65536):
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    self.server.messages.append(b"".join(data))
                    data = None
                    self.wfile.write(b"250 kept\r\n")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-mmconform\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = []
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_sink(target: Target) -> Iterator[_SmtpSink]:
    """An SMTP server on this machine's loopback, for a target on the same machine (the
    scenario brings its own mail server, so it does not need the target's ``smtp`` feature)."""
    host = urlsplit(target.url).hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        pytest.skip(
            f"the target ({host}) is not on this machine, so it cannot reach a test SMTP "
            "server here"
        )
    sink = _SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.shutdown()
        sink.server_close()


def _mail_settings(port: int) -> dict[str, Any]:
    return {
        "SMTPServer": "127.0.0.1",
        "SMTPPort": str(port),
        "ConnectionSecurity": "",
        "EnableSMTPAuth": False,
        "SMTPUsername": "",
        "SkipServerCertificateVerification": True,
    }


@pytest.mark.mm_operation("TestEmail", "PatchConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("email.stored-settings-used", "errors.app-error-shape")
@pytest.mark.usefixtures("config_guard")
def test_email_test_sends_through_the_stored_settings(
    admin_client: httpx.Client, smtp_sink: _SmtpSink, verdict: Verdict
) -> None:
    """Stored settings reach the test SMTP server and the posted ones name a closed port: the
    mail arrives. Swapped round, it fails with app.admin.test_email.failure."""
    requirement = "email.stored-settings-used"
    closed = _SmtpSink()
    closed_port = closed.port
    closed.server_close()  # nothing listens there any more

    def post_test(posted_port: int) -> httpx.Response:
        body = verdict.record(admin_client.get("/config")).json()
        body["EmailSettings"].update(_mail_settings(posted_port), SMTPPassword="")
        return verdict.record(admin_client.post("/email/test", json=body))

    stored = {"EmailSettings": _mail_settings(smtp_sink.port)}
    verdict.status(
        verdict.record(admin_client.put("/config/patch", json=stored)), 200, requirement=requirement
    )
    sent = post_test(closed_port)
    verdict.status(sent, 200, requirement=requirement, what="stored settings reachable")
    verdict.check(
        len(smtp_sink.messages) == 1,
        "the test mail delivered through the stored settings",
        received=f"{len(smtp_sink.messages)} messages at the stored SMTP server",
        response=sent,
        requirement=requirement,
    )
    stored = {"EmailSettings": _mail_settings(closed_port)}
    verdict.status(
        verdict.record(admin_client.put("/config/patch", json=stored)), 200, requirement=requirement
    )
    failed = post_test(smtp_sink.port)
    verdict.app_error(
        failed, status=500, error_id="app.admin.test_email.failure", requirement=requirement
    )
    verdict.check(
        len(smtp_sink.messages) == 1,
        "no mail through the posted settings",
        received=f"{len(smtp_sink.messages) - 1} more messages at the posted SMTP server",
        response=failed,
        requirement=requirement,
    )
