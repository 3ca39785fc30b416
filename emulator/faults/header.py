"""The per-request fault header (`x-emulator-fault`) under limits, so one signed caller cannot
occupy every request thread (probe F7).

Rules added through the control plane are trusted (whoever can reach the control plane owns the
emulator); a header comes with any signed request, so what it may cost is bounded:
- a latency or dribble above `max_ms` is refused (a lognormal one is capped at `max_ms`);
- a dribbled response is slowed down to last at most `max_ms` in all;
- a tenant holds at most `per_tenant` delayed requests at a time (in each worker process);
  more are refused with `InvalidEmulatorFault` and never wait;
- `max_ms = 0` turns header faults off altogether (`--header-fault-max-ms 0`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from emulator.faults.engine import FaultError, parse_header

DRIBBLE_BYTES = 16  # the serving layer's default chunk size
DRIBBLE_INTERVAL_MS = 100.0  # ... and pause


class HeaderFaults:
    def __init__(self, max_ms: float = 10_000, per_tenant: int = 2):
        self.max_ms = max_ms
        self.per_tenant = max(1, per_tenant)
        self._busy: dict[int | None, list[float]] = {}  # tid -> end times of delays in flight
        self._lock = threading.Lock()

    def parse(self, value: str) -> dict[str, Any]:
        """The header's effect, refused when it costs more than the limits allow."""
        if self.max_ms <= 0:
            raise FaultError(
                "x-emulator-fault: header faults are turned off here (--header-fault-max-ms 0)"
            )
        effect = parse_header(value)
        limit = f"the header limit of {self.max_ms:g} ms (--header-fault-max-ms)"
        if effect["type"] == "latency":
            for key in ("ms", "min_ms", "max_ms", "median_ms"):
                if float(effect.get(key) or 0) > self.max_ms:
                    raise FaultError(f"x-emulator-fault.{key}: above {limit}")
            effect["max_ms"] = min(float(effect.get("max_ms") or self.max_ms), self.max_ms)
        elif effect["type"] == "connection" and effect["mode"] == "dribble":
            if float(effect.get("interval_ms") or 0) > self.max_ms:
                raise FaultError(f"x-emulator-fault.interval_ms: above {limit}")
        return effect

    def reserve(self, tid: int | None, ms: float, now: float | None = None) -> None:
        """Count a delay of `ms` against the tenant; refused when it holds too many already."""
        now = time.monotonic() if now is None else now
        with self._lock:
            busy = [end for end in self._busy.get(tid, []) if end > now]
            if len(busy) >= self.per_tenant:
                raise FaultError(
                    f"x-emulator-fault: tenant {tid} has {len(busy)} delayed requests in flight "
                    f"already (at most {self.per_tenant} at a time)"
                )
            busy.append(now + ms / 1000.0)
            self._busy[tid] = busy

    def admit(self, effect: dict[str, Any], tid: int | None, delay_ms: float = 0.0) -> None:
        """Count what a header effect will cost (a latency's drawn delay, a dribble's ceiling)
        against its tenant before it is applied."""
        if effect["type"] == "latency":
            self.reserve(tid, delay_ms)
        elif effect["type"] == "connection" and effect["mode"] == "dribble":
            self.reserve(tid, self.max_ms)

    def shape(self, effect: dict[str, Any], body_bytes: int) -> dict[str, Any]:
        """A header dribble slowed to last at most `max_ms` for a body of this size."""
        if effect.get("mode") != "dribble":
            return effect
        size = int(effect.get("bytes") or DRIBBLE_BYTES) or 1
        pauses = max(0, -(-body_bytes // size) - 1)
        interval = float(effect.get("interval_ms", DRIBBLE_INTERVAL_MS))
        if pauses and pauses * interval > self.max_ms:
            return {**effect, "interval_ms": self.max_ms / pauses}
        return effect
