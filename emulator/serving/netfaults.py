"""Connection faults, applied below Flask where the socket is reachable.

The gateway decides (in its one fault slot) and leaves the effect in the WSGI environ; this
middleware acts on the wire: `reset` and `empty` drop the connection without a response (reset
with SO_LINGER 0, so the peer sees RST), `truncated` sends half the body under the full
Content-Length, `dribble` sends the body a few bytes at a time. The socket comes from the
waitress channel (see server.py); it is shut down, never closed here, so waitress still owns
the file descriptor and cannot write into a reused one.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

ENV_EFFECT = "dms_emulator.connection_fault"
ENV_SOCKET = "dms_emulator.socket"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def drop(sock: socket.socket | None, reset: bool) -> None:
    if sock is None:
        return
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class ConnectionFaults:
    def __init__(self, app: WSGIApp):
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = self.app(environ, start_response)
        effect = environ.get(ENV_EFFECT)
        if not effect:
            return body
        mode = effect.get("mode")
        if mode in ("reset", "empty"):
            drop(environ.get(ENV_SOCKET), reset=mode == "reset")
            return []
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if mode == "truncated":
            keep = int(effect.get("bytes", len(data) // 2))
            return [data[: min(keep, max(len(data) - 1, 0))]]
        return self._dribble(
            data, int(effect.get("bytes", 16)) or 1, float(effect.get("interval_ms", 100)) / 1000
        )

    @staticmethod
    def _dribble(data: bytes, size: int, pause: float) -> Iterator[bytes]:
        for i in range(0, len(data), size):
            if i:
                time.sleep(pause)
            yield data[i : i + size]
