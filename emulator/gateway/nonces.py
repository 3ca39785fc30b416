"""Replay protection: a nonce may be used once per access key within the freshness window.

One process keeps them in memory; `--workers` share a table in shared memory, so a nonce
replayed to another worker process is still refused; the check and the record are one step.
Memory is bounded: entries expire after the window, and past `capacity` the oldest go first
(they are the nearest to expiring, and an expired timestamp is refused anyway). Bytes are
bounded too: a nonce is kept as a 16-byte digest of (access key, nonce), so a 200 KB nonce
costs what a UUID costs.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
import threading
from collections import OrderedDict
from typing import Union

from emulator.core.clock import wall_time
from emulator.core.shared import Queued

Nonces = Union["MemoryNonces", "SharedNonces"]  # what the gateway checks against
_EXPIRY = struct.Struct("<d")


def digest(access_key_id: str, nonce: str) -> bytes:
    """What is remembered of a nonce: fixed size whatever the caller sent."""
    return hashlib.blake2b(
        f"{access_key_id}\0{nonce}".encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()


class MemoryNonces:
    """One process: a dict in memory (a lock, no I/O), oldest first for eviction."""

    def __init__(self, window_seconds: float = 900.0, capacity: int = 500_000):
        self.window = window_seconds
        self.capacity = capacity
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_record(self, access_key_id: str, nonce: str, now: float) -> bool:
        key = digest(access_key_id, nonce)
        with self._lock:
            while self._seen:
                oldest, expires = next(iter(self._seen.items()))
                if expires > now:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now + self.window
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def __len__(self) -> int:
        return len(self._seen)


SLOT = 24  # bytes per remembered nonce: its 16-byte digest, then its expiry (a double)
PROBE = 8  # slots a digest may occupy, from the one its hash names
_EXPIRIES = struct.Struct("<" + "16xd" * PROBE)  # the expiry of each slot of one window


class SharedNonces:
    """Several worker processes: a hash table in shared memory made before the fork (no file,
    no SQLite write per request). A digest lives in one of `PROBE` slots from its hash; a free
    or expired slot takes it, else the one nearest to expiring is forgotten (as at capacity in
    the other stores). Check and record are one step under a lock every worker shares."""

    def __init__(self, window_seconds: float = 900.0, capacity: int = 500_000):
        self.window = window_seconds
        self.capacity = capacity
        self.slots = max(PROBE, 1 << (max(1, 2 * capacity) - 1).bit_length())  # 2x, a power of 2
        self._mem = mmap.mmap(-1, (self.slots + PROBE) * SLOT)  # anonymous, MAP_SHARED
        import multiprocessing  # only --workers share nonces: one process never loads it

        ctx = multiprocessing.get_context("fork")
        self._lock = ctx.Lock()
        # entries recorded before the last clear() are void (clearing never touches the table)
        self._cleared = ctx.RawValue("d", 0.0)

    def check_and_record(self, access_key_id: str, nonce: str, now: float) -> bool:
        key = digest(access_key_id, nonce)
        first = (int.from_bytes(key[:8], "little") & (self.slots - 1)) * SLOT
        live_after = max(now, self._cleared.value + self.window)  # expiry of a live entry
        mem = self._mem
        with Queued(self._lock):  # a worker killed inside the check must not stop the rest
            window = mem[first : first + PROBE * SLOT]
            expiries = _EXPIRIES.unpack(window)
            at = window.find(key)
            while at >= 0:  # a digest sits at a slot's start; elsewhere it is a chance match
                if at % SLOT == 0 and expiries[at // SLOT] > live_after:
                    return False
                at = window.find(key, at + 1)
            ages = [e if e > live_after else 0.0 for e in expiries]  # free slots go first
            victim = first + ages.index(min(ages)) * SLOT
            mem[victim : victim + SLOT] = key + _EXPIRY.pack(now + self.window)
            return True

    def clear(self) -> None:
        with Queued(self._lock):
            self._cleared.value = wall_time()

    def __len__(self) -> int:
        """Live entries (a scan of the table: for tests and the console, not the request path)."""
        now = max(wall_time(), self._cleared.value + self.window)
        with Queued(self._lock):
            data = self._mem[:]
        return sum(1 for i in range(16, len(data), SLOT) if _EXPIRY.unpack_from(data, i)[0] > now)
