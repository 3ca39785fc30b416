"""Give the memory of large request bodies back to the system.

glibc keeps freed memory in per-thread arenas: after a 16 MiB body has been parsed, hashed and
refused, each request thread still holds its peak (probe F4 measured ~1 GB after 25 large
unauthenticated requests, with the journal already bounded). Trimming after a large request
returns it; small requests never pay for the call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

LARGE_BODY = 1024 * 1024  # bytes: below this the arenas' high-water mark is harmless


def _trimmer() -> Callable[[], None]:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        trim = None
    if trim is None:  # not glibc (musl, macOS): nothing to do
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]

    def release() -> None:
        trim(0)

    return release


release = _trimmer()


def after_request(content_length: str | None) -> None:
    """Called once a request is answered: trims when its body was large."""
    if content_length and content_length.isdigit() and int(content_length) >= LARGE_BODY:
        release()
