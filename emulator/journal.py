"""The request journal: what came in, who sent it, what it got; bounded, newest last."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any


class Journal:
    def __init__(self, capacity: int = 10_000):
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({"seq": self._seq, **entry})

    def query(
        self,
        *,
        action: str | None = None,
        code: str | None = None,
        access_key_id: str | None = None,
        tid: int | None = None,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._entries)
        out = [
            e
            for e in items
            if (action is None or e.get("action") == action)
            and (code is None or e.get("code") == code)
            and (access_key_id is None or e.get("access_key_id") == access_key_id)
            and (tid is None or e.get("tid") == tid)
            and (request_id is None or e.get("request_id") == request_id)
            and (since is None or e.get("ts", 0) >= since)
            and (until is None or e.get("ts", 0) <= until)
        ]
        return out[-limit:] if limit else out

    def clear(self, tid: int | None = None) -> None:
        with self._lock:
            if tid is None:
                self._entries.clear()
            else:
                kept = [e for e in self._entries if e.get("tid") != tid]
                self._entries.clear()
                self._entries.extend(kept)
