"""Background work (export files) on a small thread pool, so no request waits for it.

Jobs only produce files and record facts; statuses are still derived from history and the clock.
The count of running jobs is shared by every worker process, so that the control plane's clock
advance can wait for the jobs that are due, wherever they run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from emulator.core.shared import Shared

log = logging.getLogger("emulator.core.jobs")


class Jobs:
    def __init__(self, shared: Shared, workers: int = 2):
        self.shared = shared
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pid = -1

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None or self._pid != os.getpid():  # threads do not survive a fork
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="export")
            self._pid = os.getpid()
        return self._pool

    def submit(self, name: str, fn: Callable[[], None]) -> None:
        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("background job %s failed", name)
            finally:
                self.shared.add_jobs(-1)

        self.shared.add_jobs(1)
        try:
            self._executor().submit(run)
        except RuntimeError:
            self.shared.add_jobs(-1)
            raise

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.shared.jobs.value > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    @property
    def busy(self) -> int:
        return int(self.shared.jobs.value)

    def shutdown(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.shutdown(wait=False, cancel_futures=True)
