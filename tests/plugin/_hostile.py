"""A hostile target: a small HTTP proxy in front of the stub that misbehaves on purpose.

It forwards each request to the stub on a fresh connection and answers the client once, then
closes (``Connection: close``), so that "the Nth request" means the same thing for every
client. From request number ``after`` on (counting from 0) it applies its ``mode``:

``hang``          accept and never answer
``slow``          answer after ``delay`` seconds
``truncate``      send the status line, the headers and half the body, then close
``reset``         close the connection with a TCP reset instead of answering
``reset_path``    reset only requests whose path is ``path`` (the target stays alive)
``redirect``      answer 302 to another host
``redirect_loop`` answer 302 to the very same URL
``html``          answer 200 with an HTML page
``flaky503``      answer every second request with 503
``pass``          forward faithfully (with ``tls``: the self-signed TLS front only)

With ``tls`` the proxy speaks HTTPS with a self-signed certificate for 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Hostility:
    mode: str = "pass"
    after: int = 0
    delay: float = 0.0
    path: str = ""
    tls: bool = False


@dataclass
class RunningProxy:
    url: str
    #: PEM of the self-signed certificate (with tls), usable as a CA bundle
    certificate: Path | None
    counter: list[int]

    @property
    def requests(self) -> int:
        return self.counter[0]


def write_self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key; returns (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / "proxy-cert.pem"
    key_file = folder / "proxy-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or b"0")
    body = await reader.readexactly(length) if length else b""
    return head + body


def _close_after_answer(raw: bytes) -> bytes:
    """The request with ``Connection: close``, so that the stub closes after answering."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _plain(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@contextmanager
def hostile_proxy(upstream: str, hostility: Hostility, folder: Path) -> Iterator[RunningProxy]:
    """Run the proxy in a thread of its own for the duration of the block."""
    parts = urlsplit(upstream)
    up_host, up_port = parts.hostname or "127.0.0.1", int(parts.port or 80)
    counter = [0]
    lock = threading.Lock()
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    address: list[tuple[str, int]] = []
    certificate: Path | None = None
    ssl_context = None
    if hostility.tls:
        import ssl

        certificate, key = write_self_signed(folder)
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(certificate, key)

    async def forward(raw: bytes) -> bytes:
        reader, writer = await asyncio.open_connection(up_host, up_port)
        writer.write(_close_after_answer(raw))
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            raw = await _read_request(reader)
            if raw is None:
                writer.close()
                return
            with lock:
                index = counter[0]
                counter[0] += 1
            request_line = raw.split(b"\r\n", 1)[0].decode("latin-1")
            target = ([*request_line.split(" "), "", ""])[1]
            mode = hostility.mode if index >= hostility.after else "pass"
            if mode == "reset_path" and urlsplit(target).path != hostility.path:
                mode = "pass"
            if mode == "hang":
                await stop.wait()
                writer.close()
                return
            if mode in ("reset", "reset_path"):
                _reset(writer)
                return
            if mode == "redirect":
                answer = _plain("302 Found", {"Location": "http://127.0.0.1:9/elsewhere"})
            elif mode == "redirect_loop":
                scheme = "https" if hostility.tls else "http"
                host, port = address[0]
                location = f"{scheme}://{host}:{port}{target}"
                answer = _plain("302 Found", {"Location": location})
            elif mode == "html":
                page = b"<html><body><h1>Welcome</h1></body></html>"
                answer = _plain("200 OK", {"Content-Type": "text/html"}, page)
            elif mode == "flaky503" and index % 2 == 1:
                answer = _plain("503 Service Unavailable", {"Content-Type": "text/plain"}, b"busy")
            else:
                if mode == "slow":
                    await asyncio.sleep(hostility.delay)
                answer = await forward(raw)
                if mode == "truncate":
                    head, _, body = answer.partition(b"\r\n\r\n")
                    answer = head + b"\r\n\r\n" + body[: max(1, len(body) // 2)]
            writer.write(answer)
            await writer.drain()
            writer.close()
        except (ConnectionError, OSError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
        address.append(server.sockets[0].getsockname()[:2])
        ready.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(10)
    host, port = address[0]
    scheme = "https" if hostility.tls else "http"
    try:
        yield RunningProxy(
            url=f"{scheme}://{host}:{port}", certificate=certificate, counter=counter
        )
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
