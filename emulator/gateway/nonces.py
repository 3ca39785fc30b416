"""Replay protection: a nonce may be used once per access key within the freshness window.

Memory is bounded: entries expire after the window, and past `capacity` the oldest go first
(they are the nearest to expiring, and an expired timestamp is refused anyway).
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class NonceCache:
    def __init__(self, window_seconds: float = 900.0, capacity: int = 500_000):
        self.window = window_seconds
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_record(self, access_key_id: str, nonce: str, now: float) -> bool:
        """True if the nonce is fresh (and is now recorded); False if it was used already."""
        key = (access_key_id, nonce)
        with self._lock:
            self._expire(now)
            if key in self._seen:
                return False
            self._seen[key] = now + self.window
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return True

    def _expire(self, now: float) -> None:
        while self._seen:
            _, expires = next(iter(self._seen.items()))
            if expires > now:
                break
            self._seen.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def __len__(self) -> int:
        return len(self._seen)
