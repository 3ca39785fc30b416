"""What every worker process must see the same, in shared memory created before the fork:
the emulated clock, how many background jobs are running, how many fault rules exist, how
many writes the state store has committed.

One process (no `--workers`) needs no shared memory: the same cells are plain ctypes values and
the locks thread locks, so a start does not load `multiprocessing` (~5 ms, issue 18)."""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from typing import Any

log = logging.getLogger("emulator.core.shared")

STUCK_SECONDS = 5.0  # a shared lock held this long was left by a worker that died holding it

_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))


def pid() -> int:
    """This process's id, kept up to date across forks: os.getpid() is a system call, and the
    request path asks several times per call (is this connection this process's?)."""
    return _PID[0]


class Queued:
    """Holds a lock the worker processes share around one short step. A worker killed while
    holding it would stop every other one for good, so after `STUCK_SECONDS` the lock is taken
    over: released for the others, and this step goes on without it."""

    __slots__ = ("lock", "held")

    def __init__(self, lock: Any):
        self.lock = lock
        self.held = False

    def __enter__(self) -> None:
        self.held = bool(self.lock.acquire(timeout=STUCK_SECONDS))
        if not self.held:
            log.warning("a shared lock was held for %gs: taken over", STUCK_SECONDS)
            try:
                self.lock.release()
            except ValueError:
                pass

    def __exit__(self, *exc: object) -> None:
        if self.held:
            self.lock.release()


class Shared:
    def __init__(self, processes: int = 1) -> None:
        if processes > 1:
            import multiprocessing

            ctx = multiprocessing.get_context("fork")
            lock: Any = ctx.Lock
            array: Any = ctx.RawArray
            value: Any = ctx.RawValue
        else:
            lock = threading.Lock
            array = _array
            value = _value
        self.lock: Any = lock()
        self.clock: Any = array("d", 2)  # base, offset (seconds)
        self.jobs: Any = value("i", 0)  # export/download files being written, all workers
        self.fault_rules: Any = value("i", 0)  # rules stored; 0 lets requests skip the fault table
        # writes committed to the state store, all workers: cached reads are tagged with it
        self.store_writes: Any = value("q", 0)
        self.store_writes_lock: Any = lock()  # its own: taken inside other locks' sections
        # one writer at a time per database file, queued here rather than in SQLite's busy wait
        self.store_writer: Any = lock()
        self.runtime_writer: Any = lock()

    def add_jobs(self, n: int) -> None:
        with self.lock:
            self.jobs.value += n


_TYPES: dict[str, Any] = {"d": ctypes.c_double, "i": ctypes.c_int, "q": ctypes.c_longlong}


def _array(code: str, size: int) -> Any:
    return (_TYPES[code] * size)()


def _value(code: str, initial: Any) -> Any:
    return _TYPES[code](initial)
