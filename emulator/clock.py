"""The emulated clock: the only source of time for lifecycles, progress and link expiry.

Request freshness (timestamp skew, nonce window) is judged on real wall time instead, because
real clients sign with it (see `wall_time`); advancing this clock never expires a request.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

MODES = ("real", "manual")


def wall_time() -> float:
    """Real UNIX time, for request freshness only."""
    return time.time()


class Clock:
    """Real or manual time plus an offset that `advance` grows.

    In `real` mode now = wall time + offset. In `manual` mode now = frozen base + offset, so
    time stands still until a test advances it.
    """

    def __init__(self, mode: str = "real", start: float | None = None, offset: float = 0.0):
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {', '.join(MODES)}, not {mode!r}")
        self._lock = threading.Lock()
        self.mode = mode
        self._base = wall_time() if start is None else start
        self._offset = offset

    def now(self) -> float:
        with self._lock:
            base = wall_time() if self.mode == "real" else self._base
            return base + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def snapshot(self) -> dict[str, float | str]:
        with self._lock:
            return {"mode": self.mode, "base": self._base, "offset": self._offset}

    def restore(self, snap: dict) -> None:
        with self._lock:
            self.mode = str(snap.get("mode", self.mode))
            self._base = float(snap.get("base", self._base))
            self._offset = float(snap.get("offset", 0.0))

    def reset(self) -> None:
        with self._lock:
            self._base = wall_time()
            self._offset = 0.0


def iso(ts: float) -> str:
    """ISO-8601 UTC with a Z, as the control plane shows time."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dms_time(ts: float) -> str:
    """DMS renders times as 'yyyy-MM-dd HH:mm:ss' (UTC here)."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
