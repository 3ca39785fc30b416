"""The TLS front: HTTPS (and plain HTTP) on the public port, relayed to waitress on loopback.

waitress has no TLS. Rather than change the server that every plain-HTTP feature and benchmark
rests on, `--tls` puts this relay in front of it: one selector thread accepts on the public
port, looks at the first byte of each connection (0x16 opens a TLS handshake; anything else is
plain HTTP, served too, as LocalStack does on 4566), terminates TLS, and relays bytes to a
private waitress listener. Each relayed connection is recorded in `PEERS` under the inner
socket's address, so the waitress task knows the client's scheme and address and connection
faults reach the client (netfaults.py): an RST or close on the inner socket becomes one on the
client's, and a client that leaves closes the inner socket.

A connection that sends nothing (or never finishes its handshake) within `first_byte_timeout`
is closed, and at `max_connections` the oldest such connections make room: idle sockets cannot
lock other clients out.

When waitress closes its side (after a reply with `Connection: close`, or a refusal of a body it
will not read), the front relays what it answered, then closes lingering: a FIN to the client,
and what the client still sends is dropped until it closes (at most LINGER_SECONDS and
LINGER_BYTES), so a client sending a refused 16 MiB body reads the 413 instead of a reset.
"""

from __future__ import annotations

import errno
import logging
import selectors
import socket
import ssl
import struct
import threading
import time

from emulator.serving.netfaults import Peer

log = logging.getLogger("emulator.serving.tls")

PEERS: dict[tuple[str, int], Peer] = {}  # inner socket's local address -> the client behind it

TLS_RECORD_HANDSHAKE = 0x16
CHUNK = 65536
HIGH_WATER = 1 << 20  # stop reading one side while this much waits for the other

SNIFF, HANDSHAKE, PUMP, LINGER = "sniff", "handshake", "pump", "linger"
LINGER_SECONDS = 5.0  # after the server's side closed: the client's bytes are dropped this long
LINGER_BYTES = 256 * 1024 * 1024  # and at most this many


class _Conn:
    __slots__ = (
        "outer",
        "inner",
        "state",
        "deadline",
        "born",
        "remote",
        "to_inner",
        "to_outer",
        "outer_eof",
        "inner_eof",
        "peer",
        "key",
        "want_write",
        "tls",
        "retry_len",
        "inner_dead",
        "dropped",
    )

    def __init__(self, outer: socket.socket, remote: tuple[str, int], deadline: float):
        self.outer: socket.socket = outer
        self.inner: socket.socket | None = None
        self.state = SNIFF
        self.born = time.monotonic()
        self.deadline = deadline
        self.remote = remote
        self.to_inner = bytearray()
        self.to_outer = bytearray()
        self.outer_eof = False
        self.inner_eof = False
        self.peer: Peer | None = None
        self.key: tuple[str, int] | None = None
        self.want_write = False  # the handshake (or an SSL read) waits for the socket to drain
        self.tls = False
        self.retry_len = 0  # an SSL write that must be repeated with the same length
        self.inner_dead = False  # the server closed its side: writes to it are dropped
        self.dropped = 0  # client bytes dropped since


class Front:
    """Accepts on `listener` (already bound and listening) and relays to `backend`."""

    def __init__(
        self,
        listener: socket.socket,
        backend: tuple[str, int],
        context: ssl.SSLContext,
        ca_hint: str | None = None,
        first_byte_timeout: float = 10.0,
        max_connections: int = 4000,
    ):
        self.listener = listener
        self.listener.setblocking(False)
        self.backend = backend
        self.context = context
        self.ca_hint = ca_hint
        self.first_byte_timeout = first_byte_timeout
        self.max_connections = max_connections
        self.sel = selectors.DefaultSelector()
        self.conns: set[_Conn] = set()
        self._events: dict[socket.socket, int] = {}
        self._stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._plain_logged = False
        self.thread: threading.Thread | None = None

    # ---- life cycle
    def start(self) -> Front:
        self.thread = threading.Thread(target=self.serve_forever, name="tls-front", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self.thread:
            self.thread.join(timeout=5)

    def serve_forever(self) -> None:
        next_sweep = time.monotonic() + 1
        try:
            while not self._stopping:
                ready: list[_Conn] = []
                for key, mask in self.sel.select(timeout=0.5):
                    if key.data is None:
                        self._accept()
                    elif key.data == "wake":
                        try:
                            self._wake_r.recv(64)
                        except OSError:
                            pass
                    else:
                        conn, side = key.data
                        if conn in self.conns:
                            self._service(conn, side, mask)
                            ready.append(conn)
                for conn in ready:
                    if conn in self.conns:
                        self._update(conn)
                now = time.monotonic()
                if now >= next_sweep:
                    next_sweep = now + 1
                    self._sweep(now)
        finally:
            for conn in list(self.conns):
                self._close(conn)
            self.sel.close()
            self._wake_r.close()
            self._wake_w.close()

    # ---- accepting and sniffing
    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return  # another worker won the race, or nothing left
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    self._evict()  # out of descriptors: silent connections make room
                    if not any(c.state != PUMP for c in self.conns):
                        time.sleep(0.05)  # nothing to evict: do not spin on a full table
                else:
                    log.warning("accept failed: %s", exc)
                return
            if len(self.conns) >= self.max_connections:
                self._evict()
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock, addr[:2], time.monotonic() + self.first_byte_timeout)
            self.conns.add(conn)
            self._register(sock, selectors.EVENT_READ, (conn, "outer"))

    def _evict(self) -> None:
        idle = sorted((c for c in self.conns if c.state != PUMP), key=lambda c: c.born)
        for conn in idle[: max(1, self.max_connections // 10)]:
            self._close(conn)
        log.warning(
            "connection limit (%d) reached: closed %d connections that sent no request",
            self.max_connections,
            min(len(idle), max(1, self.max_connections // 10)),
        )

    def _sweep(self, now: float) -> None:
        for conn in [c for c in self.conns if c.state != PUMP and c.deadline < now]:
            log.debug("closing %s: nothing sent for %.0f s", conn.remote, self.first_byte_timeout)
            self._close(conn)

    def _sniff(self, conn: _Conn) -> None:
        try:
            first = conn.outer.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not first:
            self._close(conn)
            return
        if first[0] == TLS_RECORD_HANDSHAKE:
            self._unregister(conn.outer)
            try:
                conn.outer = self.context.wrap_socket(
                    conn.outer, server_side=True, do_handshake_on_connect=False
                )
            except (OSError, ValueError) as exc:
                log.warning("TLS setup for %s failed: %s", conn.remote, exc)
                self._close(conn)
                return
            conn.tls = True
            conn.state = HANDSHAKE
            self._register(conn.outer, selectors.EVENT_READ, (conn, "outer"))
            self._handshake(conn)
            return
        if not self._plain_logged:
            self._plain_logged = True
            log.info(
                "plain HTTP on the TLS port from %s: served as http (links it receives say http)",
                conn.remote[0],
            )
        self._connect_inner(conn, "http")

    def _handshake(self, conn: _Conn) -> None:
        assert isinstance(conn.outer, ssl.SSLSocket)
        try:
            conn.outer.do_handshake()
        except ssl.SSLWantReadError:
            conn.want_write = False
            return
        except ssl.SSLWantWriteError:
            conn.want_write = True
            return
        except (ssl.SSLError, OSError) as exc:
            self._handshake_failed(conn, exc)
            return
        conn.want_write = False
        self._connect_inner(conn, "https")
        if conn in self.conns:
            self._read_outer(conn)  # the request may have come with the handshake's last flight

    def _handshake_failed(self, conn: _Conn, exc: BaseException) -> None:
        reason = getattr(exc, "reason", None) or str(exc)
        text = str(reason).upper()
        if any(w in text for w in ("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN")):
            hint = (
                f"; trust the emulator's CA {self.ca_hint} (SSL_CERT_FILE, Config(ca=...), "
                "NODE_EXTRA_CA_CERTS), or use protocol http"
                if self.ca_hint
                else "; the client does not trust --tls-cert"
            )
            log.warning(
                "TLS client %s rejected the server certificate (%s)%s", conn.remote, reason, hint
            )
        else:
            log.warning("TLS handshake with %s failed: %s", conn.remote, reason)
        self._close(conn)

    def _connect_inner(self, conn: _Conn, scheme: str) -> None:
        inner = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            inner.bind(("127.0.0.1", 0))
            key = inner.getsockname()[:2]
            conn.peer = Peer(scheme, conn.remote)
            PEERS[key] = conn.peer
            conn.key = key
            inner.settimeout(2)
            inner.connect(self.backend)
        except OSError as exc:
            log.error("cannot reach the server behind the TLS front: %s", exc)
            inner.close()
            self._close(conn)
            return
        inner.setblocking(False)
        inner.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.inner = inner
        conn.state = PUMP
        self._register(inner, selectors.EVENT_READ, (conn, "inner"))

    # ---- relaying
    def _service(self, conn: _Conn, side: str, mask: int) -> None:
        if conn.state == SNIFF:
            self._sniff(conn)
            return
        if conn.state == HANDSHAKE:
            self._handshake(conn)
            return
        if conn.state == LINGER:
            self._drop_outer(conn)
            return
        if side == "outer":
            if mask & selectors.EVENT_WRITE:
                self._write_outer(conn)
            if conn in self.conns and mask & selectors.EVENT_READ:
                self._read_outer(conn)
        else:
            if mask & selectors.EVENT_WRITE:
                self._write_inner(conn)
            if conn in self.conns and mask & selectors.EVENT_READ:
                self._read_inner(conn)

    def _read_outer(self, conn: _Conn) -> None:
        while len(conn.to_inner) < HIGH_WATER:
            try:
                data = conn.outer.recv(CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLWantWriteError:
                conn.want_write = True
                break
            except (BlockingIOError, InterruptedError):
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                data = b""
            except OSError:
                self._close(conn)
                return
            if not data:
                conn.outer_eof = True
                break
            conn.to_inner += data
        self._write_inner(conn)

    def _write_inner(self, conn: _Conn) -> None:
        if conn.inner is None:
            return
        if conn.inner_dead:
            conn.dropped += len(conn.to_inner)
            conn.to_inner.clear()
            if conn.dropped > LINGER_BYTES:
                self._close(conn)
            return
        while conn.to_inner:
            try:
                n = conn.inner.send(conn.to_inner[:CHUNK])
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # the server closed its side (after refusing a body it will not read): what it
                # answered may still wait on the inner socket, to be relayed before any close
                conn.inner_dead = True
                conn.to_inner.clear()
                return
            del conn.to_inner[:n]
        if conn.outer_eof and not conn.inner_eof:
            try:
                conn.inner.shutdown(socket.SHUT_WR)  # the client left: waitress sees it go
            except OSError:
                pass

    def _read_inner(self, conn: _Conn) -> None:
        assert conn.inner is not None
        while len(conn.to_outer) < HIGH_WATER:
            try:
                data = conn.inner.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionResetError:
                if conn.peer is not None and conn.peer.reset:
                    self._close(conn, reset=True)  # a reset fault: reset the client too
                    return
                conn.inner_eof = True  # the server closed over bytes it did not read
                break
            except OSError:
                self._close(conn)
                return
            if not data:
                conn.inner_eof = True
                break
            conn.to_outer += data
        self._write_outer(conn)

    def _write_outer(self, conn: _Conn) -> None:
        while conn.to_outer:
            size = conn.retry_len or min(len(conn.to_outer), CHUNK)
            try:
                n = conn.outer.send(conn.to_outer[:size])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                conn.retry_len = size  # OpenSSL wants the same write again
                return
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close(conn)
                return
            conn.retry_len = 0
            del conn.to_outer[:n]
        if conn.inner_eof:
            self._finish(conn)

    def _finish(self, conn: _Conn) -> None:
        """The server's side closed and everything it sent reached the client: a lingering
        close. The client gets a FIN, and what it still sends (the rest of a refused body) is
        read and dropped until it closes, for at most LINGER_SECONDS and LINGER_BYTES; closing
        over bytes still arriving would answer them with a reset, and the client would see a
        broken connection while it sends rather than the reply waiting for it. A reset fault
        still resets."""
        if conn.peer is not None and conn.peer.reset:
            self._close(conn, reset=True)
            return
        if conn.inner is not None:
            self._unregister(conn.inner)
            try:
                conn.inner.close()
            except OSError:
                pass
            conn.inner = None
        if conn.key is not None:
            PEERS.pop(conn.key, None)
            conn.key = None
        try:
            conn.outer.shutdown(socket.SHUT_WR)  # on a TLS socket: the raw socket from here on
        except OSError:
            self._close(conn)
            return
        conn.state = LINGER
        conn.deadline = time.monotonic() + LINGER_SECONDS
        conn.dropped = 0
        self._register(conn.outer, selectors.EVENT_READ, (conn, "outer"))

    def _drop_outer(self, conn: _Conn) -> None:
        for _ in range(16):
            try:
                data = conn.outer.recv(CHUNK)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                return
            except OSError:
                data = b""
            conn.dropped += len(data)
            if not data or conn.dropped > LINGER_BYTES:
                self._close(conn)
                return

    def _update(self, conn: _Conn) -> None:
        """Register each side for what it waits on now."""
        if conn.state == HANDSHAKE:
            ev = selectors.EVENT_WRITE if conn.want_write else selectors.EVENT_READ
            self._register(conn.outer, ev, (conn, "outer"))
            return
        if conn.state != PUMP or conn.inner is None:
            return
        outer_ev = 0
        if not conn.outer_eof and len(conn.to_inner) < HIGH_WATER:
            outer_ev |= selectors.EVENT_READ
        if conn.to_outer or conn.want_write:
            outer_ev |= selectors.EVENT_WRITE
        conn.want_write = False
        inner_ev = 0
        if not conn.inner_eof and len(conn.to_outer) < HIGH_WATER:
            inner_ev |= selectors.EVENT_READ
        if conn.to_inner:
            inner_ev |= selectors.EVENT_WRITE
        self._register(conn.outer, outer_ev, (conn, "outer"))
        self._register(conn.inner, inner_ev, (conn, "inner"))
        if (
            conn.tls
            and outer_ev & selectors.EVENT_READ
            and isinstance(conn.outer, ssl.SSLSocket)
            and conn.outer.pending()
        ):
            self._read_outer(conn)  # decrypted bytes wait inside SSL: the selector cannot see them
            if conn in self.conns:
                self._update(conn)

    def _register(self, sock: socket.socket, events: int, data: object) -> None:
        old = self._events.get(sock)
        if old == events:
            return
        if events == 0:
            if old:
                self.sel.unregister(sock)
            self._events[sock] = 0
            return
        if old:
            self.sel.modify(sock, events, data)
        else:
            self.sel.register(sock, events, data)
        self._events[sock] = events

    def _unregister(self, sock: socket.socket) -> None:
        if self._events.pop(sock, 0):
            try:
                self.sel.unregister(sock)
            except (KeyError, ValueError):
                pass

    def _close(self, conn: _Conn, reset: bool = False) -> None:
        self.conns.discard(conn)
        for sock in (conn.outer, conn.inner):
            if sock is None:
                continue
            self._unregister(sock)
        if reset:
            try:
                conn.outer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        else:
            try:
                conn.outer.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                if exc.errno not in (errno.ENOTCONN, errno.EBADF):
                    pass
        for sock in (conn.outer, conn.inner):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        if conn.key is not None:
            PEERS.pop(conn.key, None)
