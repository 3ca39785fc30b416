"""The emulated clock: the only source of time for lifecycles, progress and link expiry.

Request freshness (timestamp skew, nonce window) is judged on real wall time instead, because
real clients sign with it (see `wall_time`); advancing this clock never expires a request.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

MODES = ("real", "manual")

# every time format of the emulator (principle 7: read time once, format it here)
DMS_FORMAT = "%Y-%m-%d %H:%M:%S"  # DMS wire times (UTC)
ISO_MS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the control plane's times
UTC_SECOND_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # journal stamps, x-acs-date
DAY_FORMAT = "%Y%m%d"  # file-name days (Sas export names)
# the latest instant the clock may reach: every format above renders it (datetime stops at
# 9999), with centuries to spare for what is scheduled after now (retention, link expiry)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc).timestamp()


def representable(ts: float) -> bool:
    """A time every format can render (finite, from 1970 up to LATEST)."""
    return 0.0 <= ts <= LATEST


def wall_time() -> float:
    """Real UNIX time, for request freshness only."""
    return time.time()


class Clock:
    """Real or manual time plus an offset that `advance` grows.

    In `real` mode now = wall time + offset. In `manual` mode now = frozen base + offset, so
    time stands still until a test advances it. Base and offset live in shared memory
    (`cells`, with `lock`) so that every worker process reads the same clock.
    """

    def __init__(
        self,
        mode: str = "real",
        start: float | None = None,
        offset: float = 0.0,
        cells: Any = None,
        lock: Any = None,
    ):
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {', '.join(MODES)}, not {mode!r}")
        self._lock = lock if lock is not None else threading.Lock()
        self._cells = cells if cells is not None else [0.0, 0.0]
        self.mode = mode
        self._cells[0] = wall_time() if start is None else start
        self._cells[1] = offset

    def now(self) -> float:
        base = wall_time() if self.mode == "real" else self._cells[0]
        return float(base + self._cells[1])

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            if not representable(self.now() + seconds):
                raise ValueError("the clock would pass its latest representable time")
            self._cells[1] += seconds
        return self.now()

    def snapshot(self) -> dict[str, float | str]:
        with self._lock:
            return {
                "mode": self.mode,
                "base": float(self._cells[0]),
                "offset": float(self._cells[1]),
            }

    def restore(self, snap: dict[str, Any]) -> None:
        """Continue a saved clock: in manual mode from the same instant, in real mode with the
        same offset (so everything scheduled keeps its distance from now)."""
        with self._lock:
            self.mode = str(snap.get("mode", self.mode))
            if self.mode == "manual":
                self._cells[0] = float(snap.get("base", self._cells[0]))
            self._cells[1] = float(snap.get("offset", 0.0))

    def reset(self) -> None:
        with self._lock:
            self._cells[0] = wall_time()
            self._cells[1] = 0.0


def iso(ts: float) -> str:
    """ISO-8601 UTC with a Z, as the control plane shows time."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime(ISO_MS_FORMAT)


def dms_time(ts: float) -> str:
    """DMS renders times as 'yyyy-MM-dd HH:mm:ss' (UTC here)."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime(DMS_FORMAT)


def parse_dms_time(text: str) -> float:
    """A DMS 'yyyy-MM-dd HH:mm:ss' (UTC) as a UNIX time; ValueError if it is not one."""
    return datetime.strptime(text, DMS_FORMAT).replace(tzinfo=timezone.utc).timestamp()


def utc_second(ts: float) -> str:
    """'yyyy-MM-ddTHH:mm:ssZ' (UTC), as the journal and x-acs-date write time."""
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime(UTC_SECOND_FORMAT)


def day_stamp(ts: float) -> str:
    """'yyyyMMdd' (UTC), as file names carry a day."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime(DAY_FORMAT)
