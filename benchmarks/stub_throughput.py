"""Throughput and latency of the stub for GET /system/ping and GET /config.

Starts the stub as a separate process (``python -m mmconform.stub``, one uvicorn worker) on a
loopback port, then drives it from this process with 1 and 8 concurrent keep-alive connections
using a minimal asyncio HTTP/1.1 client (so the client costs little next to the server).
Request counts are bounded; nothing leaves the loopback interface.

    .venv/bin/python benchmarks/stub_throughput.py [--requests N] [--config-requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmconform._wire import fast_protocol  # noqa: E402
from mmconform.harness._embedded import embedded_stub  # noqa: E402


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def _worker(host: str, port: int, request: bytes, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            start = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"unexpected status {status}")
    finally:
        writer.close()
        await writer.wait_closed()


async def _scenario(
    host: str, port: int, path: str, token: str, total: int, concurrency: int
) -> tuple[float, float, float]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    await _worker(host, port, request, 20, [])  # warm-up
    latencies: list[float] = []
    per_worker = max(1, total // concurrency)
    start = time.perf_counter()
    await asyncio.gather(
        *(_worker(host, port, request, per_worker, latencies) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - start
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, p50 * 1000, p99 * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000, help="ping requests per run")
    parser.add_argument(
        "--config-requests", type=int, default=1500, help="GET /config requests per run"
    )
    args = parser.parse_args(argv)
    with embedded_stub() as target:
        doc = tomllib.loads(target.read_text())
        url = urlsplit(doc["target"]["url"])
        host, port = url.hostname or "127.0.0.1", int(url.port or 80)
        token = doc["tokens"]["system_admin"]
        print(
            f"stub {doc['target']['server_version']} at {doc['target']['url']} "
            f"(one uvicorn worker, {fast_protocol().__name__})"
        )
        print(
            f"{'operation':<18}{'clients':>8}{'requests':>10}{'req/s':>10}"
            f"{'p50 ms':>9}{'p99 ms':>9}"
        )
        for path, total in (
            ("/api/v4/system/ping", args.requests),
            ("/api/v4/config", args.config_requests),
        ):
            for concurrency in (1, 8):
                rps, p50, p99 = asyncio.run(_scenario(host, port, path, token, total, concurrency))
                name = "GET " + path.removeprefix("/api/v4")
                print(f"{name:<18}{concurrency:>8}{total:>10}{rps:>10.0f}{p50:>9.2f}{p99:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
