"""What every worker process must see the same, in shared memory created before the fork:
the emulated clock, how many background jobs are running, how many fault rules exist, how
many writes the state store has committed."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))


def pid() -> int:
    """This process's id, kept up to date across forks: os.getpid() is a system call, and the
    request path asks several times per call (is this connection this process's?)."""
    return _PID[0]


class Shared:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.lock: Any = ctx.Lock()
        self.clock: Any = ctx.RawArray("d", 2)  # base, offset (seconds)
        self.jobs: Any = ctx.RawValue("i", 0)  # export/download files being written, all workers
        self.fault_rules: Any = ctx.RawValue(
            "i", 0
        )  # rules stored; 0 lets requests skip the fault table
        # writes committed to the state store, all workers: cached reads are tagged with it
        self.store_writes: Any = ctx.RawValue("q", 0)
        self.store_writes_lock: Any = ctx.Lock()  # its own: taken inside other locks' sections
        # one writer at a time per database file, queued here rather than in SQLite's busy wait
        self.store_writer: Any = ctx.Lock()
        self.runtime_writer: Any = ctx.Lock()

    def add_jobs(self, n: int) -> None:
        with self.lock:
            self.jobs.value += n
