"""Background work (export files) on a few daemon threads, so no request waits for it.

Jobs only produce files and record facts; statuses are still derived from history and the clock.
Every job is bounded: it carries a `Cancel` token that is set when its real-time deadline passes
(`--export-deadline`), when its tenant is reset, or when the emulator shuts down; the database
backends and the file writers poll it, so a runaway query ends as a failed export with a clear
reason. The threads are daemons, so SIGTERM never waits for a job. The count of running jobs is
shared by every worker process, so the control plane can wait (briefly) for jobs anywhere.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.core.shared import Shared

log = logging.getLogger("emulator.core.jobs")

DEFAULT_DEADLINE = 300.0  # seconds of real time one job may run
SETTLE_CAP = 5.0  # the longest a control-plane call waits for jobs, whatever it asks (F13)


class Cancel:
    """A cancellation flag running work polls (reset, shutdown, deadline); the first reason wins."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        self.reason = self.reason or reason
        self._event.set()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass
class Job:
    seq: int
    name: str
    tid: int | None
    fn: Callable[[], None]
    timeout: float
    cancel: Cancel = field(default_factory=Cancel)
    started: float | None = None  # monotonic


class Jobs:
    def __init__(self, shared: Shared, workers: int = 4, deadline: float = DEFAULT_DEADLINE):
        self.shared = shared
        self.workers = workers
        self.deadline = deadline
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, Job] = {}  # queued or running in this process
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._pid = -1
        self._closed = False
        self._local = threading.local()

    def _start_threads(self) -> None:
        if self._pid == os.getpid():
            return
        # threads do not survive a fork: a child starts its own
        self._pid = os.getpid()
        self._queue = queue.SimpleQueue()
        for i in range(self.workers):
            threading.Thread(target=self._worker, name=f"export-{i}", daemon=True).start()
        threading.Thread(target=self._watch, name="export-deadlines", daemon=True).start()

    def _worker(self) -> None:
        q = self._queue
        while True:
            job = q.get()
            if job is None:
                return
            try:
                if not job.cancel.is_set:
                    job.started = time.monotonic()
                    self._local.job = job
                    job.fn()
            except Exception:
                log.exception("background job %s failed", job.name)
            finally:
                self._local.job = None
                with self._lock:
                    self._pending.pop(job.seq, None)
                self.shared.add_jobs(-1)

    def _watch(self) -> None:
        """Sets the cancel token of every job past its deadline."""
        pid = os.getpid()
        while pid == self._pid and not self._closed:
            time.sleep(0.2)
            now = time.monotonic()
            with self._lock:
                late = [
                    j
                    for j in self._pending.values()
                    if j.started is not None and now - j.started > j.timeout
                ]
            for j in late:
                if not j.cancel.is_set:
                    j.cancel.set(
                        f"the job ran longer than its deadline of {j.timeout:g} seconds "
                        "of real time (--export-deadline)"
                    )

    def submit(
        self,
        name: str,
        fn: Callable[[], None],
        tid: int | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run `fn` in the background; `timeout` (default: the deadline) bounds it."""
        if self._closed:
            raise RuntimeError("the emulator is shutting down")
        with self._lock:
            self._start_threads()
            job = Job(next(self._seq), name, tid, fn, self.deadline if timeout is None else timeout)
            self._pending[job.seq] = job
        self.shared.add_jobs(1)
        self._queue.put(job)

    def current(self) -> Cancel | None:
        """The cancel token of the job running on this thread (None outside a job)."""
        job = getattr(self._local, "job", None)
        return job.cancel if job is not None else None

    def cancel(self, tid: int | None = None, reason: str = "the job was cancelled") -> int:
        """Cancel the jobs of one tenant (or all): running ones stop at their next check."""
        with self._lock:
            jobs = [j for j in self._pending.values() if tid is None or j.tid == tid]
        for j in jobs:
            j.cancel.set(reason)
        return len(jobs)

    def wait_idle(self, timeout: float) -> bool:
        """Wait (at most SETTLE_CAP seconds) for the jobs submitted before this call."""
        deadline = time.monotonic() + min(timeout, SETTLE_CAP)
        with self._lock:
            mark = max(self._pending, default=0)
        while True:
            with self._lock:
                mine = sum(1 for s in self._pending if s <= mark)
                local = len(self._pending)
            elsewhere = self.shared.jobs.value - local  # other worker processes
            if mine == 0 and elsewhere <= 0:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)

    @property
    def busy(self) -> int:
        return int(self.shared.jobs.value)

    def shutdown(self) -> None:
        """Cancel every job and return at once (the daemon threads end with the process)."""
        if self._pid != os.getpid():
            return
        self._closed = True
        self.cancel(None, "the emulator is shutting down")
        for _ in range(self.workers):
            self._queue.put(None)
