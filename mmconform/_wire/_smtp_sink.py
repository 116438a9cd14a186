"""A mail server a tested Mattermost can send its test mail to: it listens on this machine's
loopback, accepts every message and keeps it. Scenarios that ask a server to send mail (the
email test) bring it, so that they need no mail service of the target's own."""

from __future__ import annotations

import socket
import socketserver
import threading
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from mmconform._wire._loopback import is_loopback_host

__all__ = ["SmtpSink", "closed_port", "loopback_mail_settings", "on_this_machine"]


class SmtpSink(socketserver.ThreadingTCPServer):
    """A minimal SMTP server on loopback that accepts every message and keeps it. Used as a
    context manager it serves in a thread until the block ends."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.messages: list[bytes] = []
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> SmtpSink:
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="mmconform-smtp-sink", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
        self.server_close()


class _SmtpSession(socketserver.StreamRequestHandler):
    server: SmtpSink

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


def closed_port() -> int:
    """A loopback port nothing listens on (it was bound a moment ago and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def on_this_machine(url: str) -> bool:
    """Whether a server at ``url`` runs on this machine's loopback, and so can reach a mail
    server listening there."""
    return is_loopback_host(urlsplit(url).hostname or "")


def loopback_mail_settings(port: int) -> dict[str, Any]:
    """``EmailSettings`` values that send mail to a server on this machine's loopback at
    ``port``, in plain text and without a login."""
    return {
        "SMTPServer": "127.0.0.1",
        "SMTPPort": str(port),
        "ConnectionSecurity": "",
        "EnableSMTPAuth": False,
        "SMTPUsername": "",
        "SkipServerCertificateVerification": True,
    }
