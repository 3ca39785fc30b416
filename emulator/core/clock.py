"""The emulated clock: the only source of time for lifecycles, progress and link expiry.

Request freshness (timestamp skew, nonce window) is judged on real wall time instead, because
real clients sign with it (see `wall_time`); advancing this clock never expires a request.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timezone
from typing import Any

MODES = ("real", "manual")
# the last instant every date format here can show (9999-12-31T23:59:59Z): the clock stops short
MAX_TIME = 253_402_300_799.0

# every time format of the emulator (principle 7: read time once, format it here)
DMS_FORMAT = "%Y-%m-%d %H:%M:%S"  # DMS wire times (UTC)
ISO_MS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the control plane's times
UTC_SECOND_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # journal stamps, x-acs-date
DAY_FORMAT = "%Y%m%d"  # file-name days (Sas export names)


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
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("the clock only moves forward, by a finite number of seconds")
        with self._lock:
            if self.now() + seconds > MAX_TIME:
                raise ValueError(
                    "the clock would pass 9999-12-31T23:59:59Z, the last time DMS dates can show"
                )
            self._cells[1] += seconds
        return self.now()

    def snapshot(self) -> dict[str, float | str]:
        with self._lock:
            return {
                "mode": self.mode,
                "base": float(self._cells[0]),
                "offset": float(self._cells[1]),
            }

    @staticmethod
    def check_snapshot(snap: Any) -> None:
        """Refuse a saved clock this one could not continue (ValueError naming the field)."""
        if not isinstance(snap, dict):
            raise ValueError("clock: must be an object")
        values = {}
        for name in ("base", "offset"):
            value = snap.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"clock.{name}: must be a number")
            if not math.isfinite(value) or not 0 <= abs(value) <= MAX_TIME:
                raise ValueError(
                    f"clock.{name}: must be a finite number of seconds up to {MAX_TIME:.0f}"
                )
            values[name] = float(value)
        if snap.get("mode", "manual") not in MODES:
            raise ValueError(f"clock.mode: one of {', '.join(MODES)}")
        if not 0 <= values["base"] + values["offset"] <= MAX_TIME:
            raise ValueError("clock.offset: base + offset is outside 1970..9999")

    def restore(self, snap: dict[str, Any]) -> None:
        """Continue a saved clock: in manual mode from the same instant, in real mode with the
        same offset (so everything scheduled keeps its distance from now)."""
        self.check_snapshot(snap)
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
