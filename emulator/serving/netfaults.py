"""Connection faults, applied below Flask where the connection is reachable.

The contract between the gateway, this middleware and the listeners:

1. The gateway decides (in its one fault slot) and leaves the rule's effect in the WSGI environ
   under `ENV_EFFECT`; it never touches a socket.
2. Every listener puts a `Wire` in the environ under `ENV_WIRE`: the client's connection as
   faults see it. `drop(reset)` ends the connection without (more of) a response, with an RST
   when `reset` (else a plain close); `gone()` says whether the client has gone away.
   Plain HTTP: the wire is waitress's socket. HTTPS (and plain HTTP on the TLS port): the wire is
   the inner socket between the TLS front and waitress plus the front's `Peer` record, so a reset
   asked for here becomes an RST on the client's TCP connection, a close becomes a close, and a
   client that leaves closes the inner socket (front.py).
3. This middleware acts on the wire: `reset` and `empty` drop it without a response; `truncated`
   sends part of the body under the full Content-Length, after which waitress closes the
   connection; `dribble` sends the body a few bytes at a time and stops as soon as the client
   has gone away. Sockets are shut down, never closed here: waitress owns the descriptor and
   would otherwise write into a reused one.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

ENV_EFFECT = "dms_emulator.connection_fault"
ENV_WIRE = "dms_emulator.wire"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# a dribble pause is slept in slices this long, checking between them for a departed client
GONE_CHECK = 0.1


class Peer:
    """The client side of a connection the TLS front relays (front.py)."""

    __slots__ = ("scheme", "remote", "reset")

    def __init__(self, scheme: str, remote: tuple[str, int]):
        self.scheme = scheme
        self.remote = remote
        self.reset = False  # set by a reset fault: the front then resets the client's connection


class Wire(Protocol):
    def drop(self, reset: bool) -> None: ...

    def gone(self) -> bool: ...


class SocketWire:
    """The connection as a waitress task sees it (its channel's socket)."""

    __slots__ = ("sock", "peer")

    def __init__(self, sock: socket.socket, peer: Peer | None = None):
        self.sock = sock
        self.peer = peer

    def drop(self, reset: bool) -> None:
        if self.peer is not None:
            self.peer.reset = reset
        try:
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def gone(self) -> bool:
        """The peer closed or reset (EOF is readable); data it sent ahead is not a departure."""
        try:
            poller = select.poll()  # not select(): descriptors above 1024 are fine
            poller.register(self.sock, select.POLLIN)
            if not poller.poll(0):
                return False
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except (OSError, ValueError):
            return True


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
        wire: Wire | None = environ.get(ENV_WIRE)
        mode = effect.get("mode")
        if mode in ("reset", "empty"):
            if wire is not None:
                wire.drop(reset=mode == "reset")
            return []
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if mode == "truncated":
            keep = int(effect.get("bytes", len(data) // 2))
            return [data[: min(keep, max(len(data) - 1, 0))]]
        return _dribble(
            data,
            int(effect.get("bytes", 16)) or 1,
            float(effect.get("interval_ms", 100)) / 1000,
            wire,
        )


def _dribble(data: bytes, size: int, pause: float, wire: Wire | None) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        if i:
            end = time.monotonic() + pause
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                if wire is not None and wire.gone():
                    return  # the thread is free again at once, not after the whole body
                time.sleep(min(GONE_CHECK, left))
        yield data[i : i + size]
