"""A ring buffer of the stub's own JSON log lines (what GET /logs serves)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

LEVELS: dict[str, int] = {"debug": 10, "info": 20, "warn": 30, "error": 40}


def level_rank(name: str) -> int:
    name = name.strip().lower()
    if name == "warning":
        name = "warn"
    return LEVELS.get(name, 20)


def format_timestamp(now: float) -> str:
    """Mattermost's log timestamp layout: ``2006-01-02 15:04:05.000 Z``."""
    whole = int(now)
    millis = int((now - whole) * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + f".{millis:03d} Z"


class LogBuffer:
    """Thread-safe bounded list of JSON log lines, oldest first."""

    def __init__(
        self,
        capacity: int = 20000,
        *,
        echo_level: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lines: deque[str] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._echo_rank = level_rank(echo_level) if echo_level else None
        self._clock = clock

    def log(
        self,
        level: str,
        msg: str,
        *,
        min_level: str = "info",
        caller: str = "stub/server.go",
        **fields: Any,
    ) -> None:
        rank = level_rank(level)
        record: dict[str, Any] = {
            "timestamp": format_timestamp(self._clock()),
            "level": "warn" if level == "warning" else level,
            "msg": msg,
            "caller": caller,
        }
        record.update(fields)
        line = json.dumps(record, separators=(",", ":"))
        if rank >= level_rank(min_level):
            with self._lock:
                self._lines.append(line)
        if self._echo_rank is not None and rank >= self._echo_rank:
            print(line, file=sys.stderr, flush=True)

    def page(self, page: int, per_page: int) -> list[str]:
        """Page 0 is the newest ``per_page`` lines, in chronological order."""
        with self._lock:
            lines = list(self._lines)
        end = len(lines) - page * per_page
        if end <= 0 or per_page <= 0:
            return []
        start = max(0, end - per_page)
        return lines[start:end]

    def all(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._lines)
