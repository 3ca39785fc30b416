"""Bounded memory for large requests, whoever sends them (probe F4).

A 16 MiB form body becomes a few 16 MiB objects while it is parsed and its signature checked
(bytes, the decoded value, the canonical query, the string to sign). The gateway keeps those
copies few and frees them when the call is answered; this layer bounds how many requests hold
them at once and makes sure freed memory goes back to the system:

- `LargeBodies` lets at most `RUNNING` requests of `LARGE_BODY` or more (body and query string)
  into the app at once and queues a few more; beyond that, or after `WAIT_S` in the queue, the
  answer is an Alibaba-style 503 ServiceUnavailable (the SDKs retry it). waitress has already
  spooled a waiting body to a temporary file, so a queued request holds no memory.
- `configure_allocator` fixes glibc's mmap threshold: blocks of `MMAP_THRESHOLD` or more are
  mapped and unmapped one by one, so a freed 16 MiB string goes back to the system at once (by
  default glibc raises the threshold after the first such free, and later blocks stay in the
  per-thread arenas: concurrent senders left their peaks behind).
- `release` trims the arenas once a large request is answered (the small blocks it left).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterable
from typing import Any

from emulator.serving.envelope import error_response

LARGE_BODY = 1024 * 1024  # bytes: below this a request's copies are harmless
MMAP_THRESHOLD = 1024 * 1024  # bytes: larger blocks are mmapped and returned when freed
RUNNING = 2  # large-body requests in the app at once
WAIT_S = 30.0  # seconds a large-body request may wait for its turn

_M_MMAP_THRESHOLD = -3  # mallopt parameter numbers (malloc.h)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _libc() -> Any:
    """The process's own symbols, the C library's among them (`find_library` would run
    `ldconfig` in a subprocess at every start: ~10 ms)."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


_LIBC = _libc()
_TRIM = getattr(_LIBC, "malloc_trim", None)  # glibc only (not musl, not macOS)
_MALLOPT = getattr(_LIBC, "mallopt", None)
if _TRIM is not None:
    _TRIM.argtypes = [ctypes.c_size_t]
if _MALLOPT is not None:
    _MALLOPT.argtypes = [ctypes.c_int, ctypes.c_int]


def configure_allocator() -> bool:
    """Large blocks mapped one by one from now on; False where the C library has no mallopt."""
    if _MALLOPT is None or _TRIM is None:
        return False
    return bool(_MALLOPT(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release() -> None:
    if _TRIM is not None:
        _TRIM(0)


class LargeBodies:
    """WSGI middleware: at most `running` large-body requests in `app`, `waiting` more queued."""

    def __init__(self, app: WSGIApp, threads: int, running: int = RUNNING, wait_s: float = WAIT_S):
        self.app = app
        self.running = running
        # queued requests hold request threads: leave at least half of them to small requests
        self.admit_limit = max(running + 1, threads // 2)
        self.wait_s = wait_s
        self._slots = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._admitted = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = environ.get("CONTENT_LENGTH") or ""
        size = (int(length) if length.isdigit() else 0) + len(environ.get("QUERY_STRING", ""))
        if size < LARGE_BODY:  # a query string may carry megabytes too (a 1 MB Script: 3 MB)
            return self.app(environ, start_response)
        with self._lock:
            full = self._admitted >= self.admit_limit
            if not full:
                self._admitted += 1
        if full:
            return self._busy(start_response)
        try:
            if not self._slots.acquire(timeout=self.wait_s):
                return self._busy(start_response)
            try:
                return self.app(environ, start_response)  # the body is parsed by now
            finally:
                self._slots.release()
                release()
        finally:
            with self._lock:
                self._admitted -= 1

    def _busy(self, start_response: Callable[..., Any]) -> list[bytes]:
        status, headers, body = error_response(
            503,
            "ServiceUnavailable",
            f"The emulator is parsing other large requests (at most {self.running} bodies of "
            f"{LARGE_BODY // (1024 * 1024)} MiB or more at once); retry later.",
        )
        start_response(status, headers)
        return [body]
