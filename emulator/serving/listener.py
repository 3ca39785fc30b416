"""Running the app in one process: waitress for HTTP (pure Python, threaded, quick to start,
binds port 0), with the TLS front (front.py) before it for `--tls`. `--workers` is prefork.py.

What this layer promises:
- SIGINT/SIGTERM stop the process within `STOP_GRACE` seconds plus a second, whatever runs
  (a request or an export job that does not finish in time is abandoned: state is durable
  per transaction, exactly as after kill -9), and it exits 0; a second signal exits at once.
- A connection that sends nothing within `FIRST_REQUEST_TIMEOUT` is closed, and at the
  connection limit the oldest such connections make room, so idle sockets lock nobody out.
- A TLS handshake on the plain-HTTP port is closed at once with a log line saying what to
  configure (waitress would otherwise wait for a request line that never comes).
- `--workers` children exit when the supervisor dies, however it dies.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error as WaitressError
from waitress.utilities import RequestEntityTooLarge

from emulator.gateway import errors as api_errors
from emulator.gateway.parse import MAX_BODY
from emulator.serving import memory
from emulator.serving.envelope import control_error_response, error_response
from emulator.serving.netfaults import ENV_WIRE, SocketWire

if TYPE_CHECKING:
    from emulator.serving.tls import TlsConfig

log = logging.getLogger("emulator.serving.listener")

STOP_GRACE = 4.0  # seconds in-flight work gets after SIGTERM
FIRST_REQUEST_TIMEOUT = 10.0  # seconds a new connection may stay silent
CONNECTION_LIMIT = 1000  # per process
TLS_RECORD_HANDSHAKE = 0x16
CA_PATH = "/_emulator/tls/ca.pem"
LINGER_SECONDS = 5.0  # a lingering close (after a refusal) drops the client's bytes this long
LINGER_BYTES = 256 * 1024 * 1024  # and at most this many
COALESCE_LIMIT = 65536  # a first body piece up to this size is sent with the headers

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Task(WSGITask):
    """Puts the connection's `Wire` in the environ (netfaults.py) and, behind the TLS front,
    the client's scheme and address."""

    def get_environment(self) -> dict[str, Any]:
        env = super().get_environment()
        channel = self.channel
        peer = None
        if channel.server.behind_front:  # type: ignore[attr-defined]
            from emulator.serving.front import PEERS

            peer = PEERS.get(channel.addr)
            if peer is not None:
                env["wsgi.url_scheme"] = peer.scheme
                env["REMOTE_ADDR"] = peer.remote[0]
                env["REMOTE_PORT"] = str(peer.remote[1])
        env[ENV_WIRE] = SocketWire(channel.socket, peer)
        return env

    wrote_header: bool
    content_bytes_written: int

    def write(self, data: bytes) -> None:
        """The status line and headers go out in one send with the first piece of the body
        (waitress sends them apart: two syscalls and two segments for every small response)."""
        if (
            not self.wrote_header
            and self.complete
            and self.has_body
            and type(data) is bytes
            and 0 < len(data) <= COALESCE_LIMIT
            and (self.content_length is None or len(data) <= self.content_length)
        ):
            head = self.build_response_header()  # decides chunked_response
            self.wrote_header = True
            if self.chunked_response:  # a reply without Content-Length: framed from its start
                data = b"%X\r\n%s\r\n" % (len(data), data)
            elif self.content_length is not None:
                self.content_bytes_written += len(data)
            self.channel.write_soon(head + data)
            return
        super().write(data)


def _wire_error(error: WaitressError) -> tuple[str, str]:
    """Code and Message for a request waitress refused before the app could see it."""
    detail = str(error.body).strip().rstrip(".")[:200]
    if error.code == 413:
        return "RequestEntityTooLarge", api_errors.body_too_large().message
    if error.code == 431:
        return "RequestHeaderFieldsTooLarge", f"The request headers are too large: {detail}."
    if error.code == 400:
        return "BadRequest", f"The HTTP request is malformed: {detail}."
    if error.code == 501:
        return "NotImplemented", f"The request uses an unsupported HTTP feature: {detail}."
    return "InternalError", "The request processing has failed due to some unknown error."


def _control_message(error: WaitressError, limit: int) -> str:
    if error.code == 413:
        return f"request body larger than the control plane accepts ({limit} bytes)"
    return f"{error.reason}: {str(error.body).strip()[:200]}"


CONTROL_PREFIX = "/_emulator"


class _Parser(HTTPRequestParser):
    """An API request whose Content-Length passes MAX_BODY is refused once its headers are read,
    before the body is spooled (waitress's own limit is the largest any route accepts: the
    control plane's)."""

    def received(self, data: bytes) -> int:
        consumed = int(super().received(data))
        if (
            self.headers_finished
            and getattr(self, "error", None) is None
            and not (self.path or "").startswith(CONTROL_PREFIX)
            and max(self.content_length, self.body_bytes_received) > MAX_BODY
        ):  # a chunked body is refused as soon as more than MAX_BODY has come
            self.error = RequestEntityTooLarge(f"exceeds max_body of {MAX_BODY}")
            self.completed = True
        return consumed


class _ErrorTask(ErrorTask):
    """waitress's own refusals (malformed request line or headers, a body over the limit) in
    the Alibaba envelope rather than waitress's plain text, so SDKs report them as API errors;
    under /_emulator in the control plane's `{"error": ...}` form."""

    def execute(self) -> None:
        error: WaitressError = self.request.error
        if (getattr(self.request, "path", None) or "").startswith(CONTROL_PREFIX):
            limit = self.channel.server.adj.max_request_body_size - 1
            status, headers, body = control_error_response(
                error.code, _control_message(error, limit)
            )
        else:
            code, message = _wire_error(error)
            status, headers, body = error_response(error.code, code, message)
        self.status = status
        self.response_headers.extend(headers)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.channel.refused = True  # what follows the refused part is never read: linger
        self.write(body)


_serving = threading.local()  # .channel: the channel this request thread is serving


class _Channel(HTTPChannel):
    """waitress's channel, changed where it cost every request a trip through the loop:

    - While a request runs, the channel stays registered for reading, so the request thread
      that sent the whole reply need not wake the loop (a pipe write, a poll and a pass over
      every channel per request) just to have it listen again. At most one further request
      is read ahead; an end of file read meanwhile is kept until the reply has gone, so a
      client that half-closes after its request still gets the answer.
    - While a request thread is inside write_soon (which sends what it can at once), the
      loop does not also poll the socket for writing: it would wake for every reply and
      contend for the buffer's lock. What the thread cannot send wakes the loop as before.
    - A TLS handshake on the plain-HTTP port is closed at once, with a log line.
    """

    task_class = _Task
    error_task_class = _ErrorTask
    parser_class = _Parser
    spoke = False  # has the peer sent anything yet
    peer_done = False  # end of file read while a request ran
    writing = False  # a request thread is inside write_soon (which sends what it can itself)
    refused = False  # a refusal was answered: the rest of that request was never read
    closing_after_reply = False
    lingering = 0.0  # when the lingering close began (0: not lingering)
    lingered = 0  # bytes dropped since
    linger_over = False  # set by the server's maintenance: close now

    def readable(self) -> bool:
        if self.lingering:
            return True
        if self.requests:
            return not (
                self.will_close
                or self.close_when_flushed
                or self.peer_done
                or len(self.requests) > 1
            )
        return bool(super().readable())

    def writable(self) -> bool:
        if self.lingering:
            return self.linger_over
        if (
            self.writing
            # below, not at, the watermark: a thread waiting there is woken only by the loop's
            # flush taking it under (waitress notifies below the mark, waits above it)
            and self.total_outbufs_len < self.adj.outbuf_high_watermark
            and not (self.will_close or self.close_when_flushed)
        ):
            return False  # the request thread is sending this itself
        return bool(super().writable())

    def write_soon(self, data: Any) -> int:
        self.writing = True
        try:
            return int(super().write_soon(data))
        finally:
            self.writing = False

    def handle_read(self) -> None:
        if self.lingering:
            self._linger_read()
            return
        if not self.requests:
            super().handle_read()
            return
        try:
            data = self.socket.recv(self.adj.recv_bytes)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.handle_close()
            return
        if data:
            self.last_activity = time.time()
            self.received(data)
        else:
            self.peer_done = True  # answered first, then closed (the loop reads the EOF again)

    def send_continue(self) -> None:
        """A request refused from its headers (a body over the limit) gets its refusal, not
        `100 Continue`: waitress sent the 100 and un-completed the refused request, so the
        client uploaded the whole body (or waited for ever) before it saw the 413."""
        request = self.request
        if request is not None and request.error is not None:
            request.expect_continue = False
            return
        super().send_continue()

    def settled(self) -> bool:
        """Nothing here needs the loop: no reply left to send, nothing to close, no request
        queued behind, and the loop already listens on this socket (readable() above)."""
        return bool(
            self.connected
            and not self.requests
            and not self.total_outbufs_len
            and not self.will_close
            and not self.close_when_flushed
            and not self.peer_done
        )

    def service(self) -> None:
        _serving.channel = self
        try:
            super().service()
        finally:
            _serving.channel = None

    def received(self, data: bytes) -> bool:
        if not self.spoke and data:
            self.spoke = True
            if data[0] == TLS_RECORD_HANDSHAKE and not self.server.behind_front:
                log.warning(
                    "TLS handshake from %s on the plain-HTTP port: closed. This port serves "
                    "http: configure the client with protocol http (Python Config(protocol="
                    "'HTTP') or endpoint 'http://HOST:PORT', Node protocol 'HTTP', aliyun CLI "
                    "--insecure), or start the emulator with --tls",
                    self.addr[0] if isinstance(self.addr, tuple) else self.addr,
                )
                self.handle_close()
                return False
        return bool(super().received(data))

    def handle_write(self) -> None:
        if self.lingering:
            if self.linger_over:
                self._close_now()
            return
        self.closing_after_reply = True  # a close from here comes after a reply went out
        try:
            super().handle_write()
        finally:
            self.closing_after_reply = False

    def handle_close(self) -> None:
        """After a refusal, a lingering close: the reply is followed by a FIN, and what the
        client still sends (the rest of a 16 MiB body) is read and dropped until it closes,
        for at most LINGER_SECONDS and LINGER_BYTES. Closing over bytes still arriving makes
        the kernel answer them with a reset, and the client then sees a broken connection
        while it sends, never the 413 waiting for it."""
        if self.closing_after_reply and self.refused and not self.lingering:
            if self._start_lingering():
                return
        self._close_now()

    def _start_lingering(self) -> bool:
        if self.server.behind_front or self.socket is None or self.total_outbufs_len:
            return False
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            return False
        self.lingering = time.monotonic()
        self.will_close = self.close_when_flushed = False
        return True

    def _linger_read(self) -> None:
        try:
            data = self.socket.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self.lingered += len(data)
        if not data or self.lingered > LINGER_BYTES:
            self._close_now()

    def _close_now(self) -> None:
        """Close after what already arrived and nobody read is discarded (no waiting)."""
        sock = self.socket
        if sock is not None and not self.server.behind_front:
            try:
                sock.setblocking(False)
                for _ in range(1024):  # at most 64 MiB
                    if not sock.recv(65536):
                        break
            except OSError:
                pass
        super().handle_close()


class _Waitress(TcpWSGIServer):
    """waitress's TCP server with the idle-connection rules and a bounded stop."""

    channel_class = _Channel
    behind_front = False

    def readable(self) -> bool:
        if self.accepting and len(self._map) >= self.adj.connection_limit:
            self._evict_silent()
        return bool(super().readable())

    def _evict_silent(self) -> None:
        """Mark the oldest silent connections to close (they close in the loop's write phase:
        closing here, while the loop collects descriptors, would hand select() a dead one)."""
        channels = list(self.active_channels.values())
        if any(c.will_close for c in channels):
            return  # the last batch is still closing
        silent = sorted(
            (c for c in channels if not c.spoke and not c.requests),
            key=lambda c: c.creation_time,
        )
        batch = silent[: max(1, self.adj.connection_limit // 10)]
        for channel in batch:
            channel.will_close = True
        if batch:
            log.warning(
                "connection limit (%d) reached: closing %d connections that sent no request",
                self.adj.connection_limit,
                len(batch),
            )

    def pull_trigger(self) -> None:
        channel = getattr(_serving, "channel", None)
        if channel is not None:
            if channel.settled():
                return  # the request thread sent the whole reply itself (_Channel)
            # what the thread could not send is the loop's from now: cleared before the wake,
            # or the loop could poll once more while `writing` still hides the socket from it
            # and leave the rest waiting for the poll timeout or the thread's next write
            channel.writing = False
        super().pull_trigger()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        cutoff = now - FIRST_REQUEST_TIMEOUT
        linger_cutoff = time.monotonic() - LINGER_SECONDS
        for channel in list(self.active_channels.values()):
            if not channel.spoke and not channel.requests and channel.creation_time < cutoff:
                channel.will_close = True
            if channel.lingering and channel.lingering < linger_cutoff:
                channel.linger_over = True  # closed in the loop's write phase

    def run(self) -> None:
        try:
            self.asyncore.loop(
                timeout=self.adj.asyncore_loop_timeout,
                map=self._map,
                use_poll=self.adj.asyncore_use_poll,
            )
        except (SystemExit, KeyboardInterrupt):
            self.task_dispatcher.shutdown(timeout=STOP_GRACE)


def _body_limit(app: WSGIApp) -> int:
    """The largest body any route accepts: the API's, or the control plane's (Flask's config)."""
    config = getattr(app, "config", None)
    control = config.get("MAX_CONTENT_LENGTH") if isinstance(config, dict) else None
    return max(MAX_BODY, control or 0)


def _waitress(app: WSGIApp, sock: socket.socket, threads: int, behind_front: bool) -> _Waitress:
    memory.configure_allocator()
    adj = Adjustments(
        sockets=[sock],
        threads=threads,
        ident="dms-emulator",
        channel_timeout=120,
        connection_limit=CONNECTION_LIMIT,
        cleanup_interval=2,
        clear_untrusted_proxy_headers=True,
        asyncore_use_poll=True,  # select() fails outright on a descriptor above 1024
        max_request_body_size=_body_limit(app) + 1,  # refused from its headers, not spooled
        # the DMS SDK sends every parameter in the query string: a 1 MB ExecuteScript Script,
        # percent-encoded, is up to 3 MB of request line (console helper)
        max_request_header_size=4 * 1024 * 1024,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    server = _Waitress(
        memory.LargeBodies(app, threads),
        {},
        True,
        sock,
        dispatcher=dispatcher,
        adj=adj,
        bind_socket=False,
        sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
    )
    server.behind_front = behind_front
    return server


def with_ca_endpoint(app: WSGIApp, ca_pem: bytes | None) -> WSGIApp:
    """`GET /_emulator/tls/ca.pem`: the generated CA, for clients that fetch what they trust."""
    if ca_pem is None:
        return app

    def serve_ca(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") == CA_PATH and method in ("GET", "HEAD"):
            start_response(
                "200 OK",
                [("Content-Type", "application/x-pem-file"), ("Content-Length", str(len(ca_pem)))],
            )
            # waitress sends whatever the app returns, HEAD or not; a HEAD body would be read
            # as the start of the next reply on the connection
            return [] if method == "HEAD" else [ca_pem]
        return app(environ, start_response)

    return serve_ca


class Stack:
    """One process's listeners on an open socket: waitress, with the TLS front before it."""

    def __init__(
        self, app: WSGIApp, sock: socket.socket, threads: int, tls: TlsConfig | None = None
    ):
        self.front = None
        if tls is None:
            self.waitress = _waitress(app, sock, threads, behind_front=False)
            return
        from emulator.serving.front import Front

        context = tls.context()
        inner = listen_socket("127.0.0.1", 0)
        self.waitress = _waitress(
            with_ca_endpoint(app, tls.ca_pem()), inner, threads, behind_front=True
        )
        self.front = Front(sock, inner.getsockname()[:2], context, ca_hint=tls.ca)

    def run(self) -> None:
        """Serve in this thread until SystemExit (a signal handler raises it)."""
        if self.front:
            self.front.start()
        try:
            self.waitress.run()
        finally:
            if self.front:
                self.front.stop()

    def close(self) -> None:
        from waitress import wasyncore

        if self.front:
            self.front.stop()
        self.waitress.close()
        self.waitress.task_dispatcher.shutdown(timeout=STOP_GRACE)
        wasyncore.close_all(self.waitress._map)


def raise_descriptor_limit() -> None:
    """Up to the hard limit: with the common soft limit of 1024, a thousand idle connections
    would exhaust descriptors before the connection rules above can act."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = hard if hard != resource.RLIM_INFINITY else 65536
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, ValueError, OSError):
        pass


def listen_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    # every worker wakes for a new connection and all but one lose the race to accept it: on a
    # blocking socket the losers would sit inside accept(), freezing their event loops
    sock.setblocking(False)
    return sock


def url_of(host: str, port: int, tls: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def announce(url: str, tls: TlsConfig | None, banner: Callable[[str], str] | None) -> None:
    if banner is not None:
        print(banner(url), file=sys.stderr, flush=True)
    if tls is not None and tls.ca:
        print(f"dms-emulator tls ca certificate: {tls.ca}", flush=True)
    print(f"dms-emulator listening on {url}", flush=True)


def stop_on_signals(on_stop: Callable[[], None] | None = None) -> None:
    """First SIGTERM/SIGINT: stop serving, with a watchdog that ends the process after
    STOP_GRACE + 1 s whatever still runs; a second signal ends it at once."""
    stopping = threading.Event()

    def watchdog() -> None:
        time.sleep(STOP_GRACE + 1)
        log.warning("still busy %.0f s after the stop signal: exiting now", STOP_GRACE + 1)
        logging.shutdown()
        os._exit(0)

    def stop(signum: int, frame: Any) -> None:
        if stopping.is_set():
            os._exit(0)
        stopping.set()
        threading.Thread(target=watchdog, name="stop-watchdog", daemon=True).start()
        if on_stop is not None:
            on_stop()
        else:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1` dumps every thread


class Server:
    """The emulator on one port, in the foreground (CLI) or a thread (tests, plugin)."""

    def __init__(
        self,
        app: WSGIApp,
        host: str,
        port: int,
        threads: int = 16,
        tls: TlsConfig | None = None,
    ):
        self.host = host
        self.tls = tls
        self._sock = listen_socket(host, port)
        self.port = int(self._sock.getsockname()[1])
        self.stack = Stack(app, self._sock, threads, tls)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return url_of(self.host, self.port, self.tls is not None)

    def serve_forever(self, banner: Callable[[str], str] | None = None) -> None:
        raise_descriptor_limit()
        stop_on_signals()
        announce(self.url, self.tls, banner)
        self.stack.run()

    def start(self) -> Server:
        self._thread = threading.Thread(target=self.stack.run, name="dms-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listeners and every open connection."""
        self.stack.close()
        self._sock.close()
        if self._thread:
            self._thread.join(timeout=5)
