"""The listener under the races its request path invites (review of issue 18's change): the
loop thread and the request threads share each connection, and a wake-up one of them skips must
never leave a reply half sent, a request read ahead unserved, or a close undone.

Real sockets against the real listener (`emulator.serving.listener.Server`, a small WSGI app
whose replies are the oracle) and against `python -m emulator serve` (plain, `--tls`,
`--workers 2`, connection faults). A stall is measured against the loop's 1 s poll timeout:
whatever waits for that timeout was a lost wake-up.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulator.gateway.parse import MAX_BODY
from emulator.serving.listener import CA_PATH, Server
from emulator.serving.tls import ensure_certificates
from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import ALICE, DAVE, v3_request

MIB = 1024 * 1024
PAUSED = 12 * MIB  # more than the socket buffers hold, less than waitress's 16 MiB watermark
HUGE = 40 * MIB  # past the watermark: the request thread must wait for the loop
STALL = 0.9  # the loop's poll timeout is 1 s


def _pattern(n: int, seed: int = 0) -> bytes:
    return bytes((i * 7 + seed) % 251 for i in range(251)) * (n // 251) + b"z" * (n % 251)


PIECE = _pattern(MIB)


class App:
    """Replies the tests know in advance; `/pause` holds its reply until `release` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/slow":
            time.sleep(0.3)
        if path == "/echo":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            out = f"{len(body)} {hashlib.sha256(body).hexdigest()}".encode()
            start("200 OK", [("Content-Length", str(len(out)))])
            return [out]
        if path.startswith("/stream/"):  # no Content-Length: chunked
            sizes = [int(s) for s in path.split("/")[2].split(",")]
            start("200 OK", [("Content-Type", "application/octet-stream")])
            return (_pattern(n, i) for i, n in enumerate(sizes))
        if path == "/pause":
            start("200 OK", [("Content-Length", str(PAUSED + 1))])
            return self._paused()
        if path == "/huge":
            start("200 OK", [("Content-Length", str(HUGE))])
            return (PIECE for _ in range(HUGE // MIB))
        if path == "/blob":  # one write past the watermark
            start("200 OK", [("Content-Length", str(24 * MIB))])
            return [PIECE * 24]
        body = f"reply to {path}".encode()
        start("200 OK", [("Content-Length", str(len(body)))])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def _paused(self) -> Iterator[bytes]:
        yield b"p" * PAUSED
        self.release.wait(5)
        yield b"!"


@pytest.fixture(scope="module")
def app() -> App:
    return App()


class Target:
    """The listener as a client reaches it: directly, or through the TLS front (HTTPS, or plain
    HTTP on the TLS port)."""

    def __init__(self, server: Server, ca: str | None = None, tls: bool = False):
        self.server = server
        self.port = server.port
        self.context = ssl.create_default_context(cafile=ca) if tls else None

    def connect(self, timeout: float = 10) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if self.context is None:
            return sock
        return self.context.wrap_socket(sock, server_hostname="127.0.0.1")

    def channels(self) -> dict[int, Any]:
        return dict(self.server.stack.waitress.active_channels)


@pytest.fixture(scope="module")
def server(app: App) -> Iterator[Server]:
    s = Server(app, "127.0.0.1", 0, threads=6).start()
    try:
        yield s
    finally:
        app.release.set()
        s.stop()


@pytest.fixture(scope="module")
def fronted(app: App, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    config = ensure_certificates(tmp_path_factory.mktemp("certs"))
    s = Server(app, "127.0.0.1", 0, threads=6, tls=config).start()
    try:
        assert config.ca is not None
        yield s, config.ca
    finally:
        app.release.set()
        s.stop()


def _target(request: pytest.FixtureRequest) -> Target:
    if request.param == "plain":
        return Target(request.getfixturevalue("server"))
    fronted, ca = request.getfixturevalue("fronted")
    return Target(fronted, ca, tls=request.param == "https")


@pytest.fixture(params=["plain", "https", "http-on-tls-port"])
def target(request: pytest.FixtureRequest) -> Target:
    return _target(request)


@pytest.fixture(params=["plain", "http-on-tls-port"])
def tcp_target(request: pytest.FixtureRequest) -> Target:
    """Where the client's own TCP half-close reaches the listener (TLS has no half-close)."""
    return _target(request)


def get(path: str, close: bool = False, method: str = "GET") -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode()


def connect(server: Server, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def reply_of(sock: Any, method: str = "GET") -> http.client.HTTPResponse:
    """One reply, parsed (and its framing checked) by http.client."""
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    return response


def head_and_body(f: Any, head_request: bool = False) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One Content-Length reply from a buffered reader shared by every reply on a connection."""
    status = f.readline()
    headers: dict[bytes, bytes] = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head_request else int(headers.get(b"content-length", b"0"))
    return status, headers, bytes(f.read(length))


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# ---- the in-process listener


@pytest.mark.parametrize(
    "sizes",
    [[5], [6, 5], [70000, 3], [1, 65536, 131072, 1]],
    ids=["one-piece", "two-pieces", "first-over-64k", "mixed"],
)
def test_a_reply_without_content_length_is_chunk_framed_from_its_first_piece(
    server: Server, sizes: list[int]
) -> None:
    """The first body piece leaves with the headers; it was sent unframed under
    `Transfer-Encoding: chunked` (http.client: IncompleteRead)."""
    path = "/stream/" + ",".join(map(str, sizes))
    with connect(server) as sock:
        sock.sendall(get(path))
        reply = reply_of(sock)
        assert reply.getheader("Transfer-Encoding") == "chunked"
        body = reply.read()
    assert body == b"".join(_pattern(n, i) for i, n in enumerate(sizes))


def test_the_loop_drains_a_reply_while_the_app_pauses(target: Target, app: App) -> None:
    """The request thread sends what the socket takes and wakes the loop for the rest; the loop
    must take it at once. It could poll on that wake-up while the thread was still marked as
    sending, skip the socket and leave 12 MiB waiting for the 1 s poll timeout (up to 3 in 8)."""
    times = []
    for _ in range(16):
        app.release.clear()
        with target.connect() as sock:
            sock.sendall(get("/pause"))
            t0 = time.monotonic()
            reply = reply_of(sock)
            got = 0
            while got < PAUSED:
                got += len(reply.read1(MIB))
            times.append(time.monotonic() - t0)
            app.release.set()
            assert reply.read() == b"!"
    assert max(times) < STALL / 2, [round(t, 3) for t in times]


def test_the_loop_keeps_flushing_for_a_thread_waiting_at_the_watermark(server: Server) -> None:
    """waitress's request thread waits while more than the watermark is buffered and is woken
    when the loop's flush takes it below; the loop stops polling a socket whose thread is
    sending. At exactly the watermark neither happened: a reply hung for good."""
    with connect(server) as sock:
        sock.sendall(get("/warm"))
        assert reply_of(sock).read() == b"reply to /warm"
        waitress = server.stack.waitress
        channel = next(iter(waitress.active_channels.values()))
        mark = waitress.adj.outbuf_high_watermark
        for buffered, polled in ((mark + 1, True), (mark, True), (mark - 1, False)):
            channel.writing, channel.total_outbufs_len = True, buffered  # a sending thread
            try:
                assert bool(channel.writable()) is polled, buffered
            finally:
                channel.writing, channel.total_outbufs_len = False, 0


@pytest.mark.parametrize("path,size", [("/huge", HUGE), ("/blob", 24 * MIB)])
def test_a_reply_past_the_watermark_reaches_a_slow_reader_and_the_connection_lives(
    target: Target, path: str, size: int
) -> None:
    expected = hashlib.sha256(b"".join([PIECE] * (size // MIB))).hexdigest()
    with target.connect(timeout=30) as sock:
        sock.sendall(get(path) + get("/after"))  # the next request is read ahead meanwhile
        time.sleep(0.4)  # every buffer fills; the request thread waits for the loop
        f = sock.makefile("rb")
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        while f.readline() not in (b"\r\n", b""):
            pass
        digest, got = hashlib.sha256(), 0
        while got < size:
            chunk = f.read1(min(256 * 1024, size - got))
            assert chunk, f"the reply ended after {got} bytes"
            digest.update(chunk)
            got += len(chunk)
            if got < 4 * MIB:
                time.sleep(0.002)  # slowly at first
        assert digest.hexdigest() == expected
        assert head_and_body(f)[2] == b"reply to /after"


def test_pipelined_requests_expecting_100_continue_are_answered_in_order(target: Target) -> None:
    """The second request's headers are read while the first runs; its 100 Continue must follow
    the first reply (never precede it, never wait for the poll timeout), then its body is read
    and served."""
    body = _pattern(300_000)
    head = (
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with target.connect() as sock:
        sock.sendall(get("/slow") + head)
        f = sock.makefile("rb")
        status, _, first = head_and_body(f)
        assert status.startswith(b"HTTP/1.1 200") and first == b"reply to /slow"
        t0 = time.monotonic()
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n" and f.readline() == b"\r\n"
        assert time.monotonic() - t0 < STALL
        sock.sendall(body)
        status, _, echoed = head_and_body(f)
        assert echoed == f"{len(body)} {hashlib.sha256(body).hexdigest()}".encode()
        # and again on the same connection, now that nothing runs ahead of it
        sock.sendall(head)
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n" and f.readline() == b"\r\n"
        sock.sendall(body)
        assert head_and_body(f)[2] == echoed


@pytest.mark.parametrize("path,length", [("/", MAX_BODY + 1), ("/_emulator/x", 10**10)])
@pytest.mark.parametrize("behind", [False, True], ids=["first", "pipelined"])
def test_a_body_refused_from_its_headers_gets_the_refusal_not_100_continue(
    target: Target, path: str, length: int, behind: bool
) -> None:
    """waitress answered `Expect: 100-continue` with 100 even for a Content-Length it refuses,
    and the 413 then waited for the whole body: a client that waits for the 100 sent 16 MiB
    first, or (the control plane, 10 GB) never got an answer."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    with target.connect(timeout=5) as sock:
        sock.sendall((get("/slow") if behind else b"") + head)
        f = sock.makefile("rb")
        if behind:
            assert head_and_body(f)[2] == b"reply to /slow"
        status, headers, body = head_and_body(f)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert headers[b"connection"] == b"close"
    assert b"RequestEntityTooLarge" in body or b"larger than the control plane" in body, body


def test_head_replies_carry_no_body_on_a_kept_connection(target: Target) -> None:
    with target.connect() as sock:
        sock.sendall(get("/slow", method="HEAD") + get("/x") + get("/y", method="HEAD") + get("/z"))
        f = sock.makefile("rb")
        answers = [
            head_and_body(f, head_request=m == "HEAD") for m in ("HEAD", "GET", "HEAD", "GET")
        ]
    assert [a[0][:12] for a in answers] == [b"HTTP/1.1 200"] * 4
    assert [a[1][b"content-length"] for a in answers] == [b"14", b"11", b"11", b"11"]
    assert [a[2] for a in answers] == [b"", b"reply to /x", b"", b"reply to /z"]


def test_half_closing_after_pipelined_requests_gets_every_reply_then_a_close(
    tcp_target: Target,
) -> None:
    with tcp_target.connect() as sock:
        sock.sendall(get("/slow") + get("/a") + get("/b") + get("/slow"))
        sock.shutdown(socket.SHUT_WR)  # the end of file is read while the first still runs
        t0 = time.monotonic()
        f = sock.makefile("rb")
        bodies = [head_and_body(f)[2] for _ in range(4)]
        assert f.read() == b""  # the server closes once the last reply has gone
        elapsed = time.monotonic() - t0
    assert bodies == [b"reply to /slow", b"reply to /a", b"reply to /b", b"reply to /slow"]
    assert elapsed < 0.6 + STALL, elapsed


def test_a_close_asked_for_mid_pipeline_answers_that_request_then_closes(target: Target) -> None:
    """The request behind it was read ahead while the first ran; it is dropped, not answered,
    and the close is not delayed by it."""
    with target.connect(timeout=5) as sock:
        sock.sendall(get("/slow") + get("/last", close=True) + get("/dropped"))
        t0 = time.monotonic()
        f = sock.makefile("rb")
        bodies = [head_and_body(f)[2] for _ in range(2)]
        assert f.read() == b"" and time.monotonic() - t0 < 0.3 + STALL
    assert bodies == [b"reply to /slow", b"reply to /last"]


@pytest.mark.parametrize("keep_alive", [False, True])
def test_http_1_0_replies_end_as_1_0_expects(target: Target, keep_alive: bool) -> None:
    """No chunked framing for HTTP/1.0: a reply without Content-Length ends with the close;
    one with it keeps the connection when asked to."""
    extra = "Connection: keep-alive\r\n" if keep_alive else ""
    with target.connect(timeout=5) as sock:
        sock.sendall(f"GET /stream/6,70000 HTTP/1.0\r\nHost: localhost\r\n{extra}\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and b"transfer-encoding" not in head.lower()
    assert body == _pattern(6, 0) + _pattern(70000, 1)
    with target.connect(timeout=5) as sock:
        sock.sendall(f"GET /one HTTP/1.0\r\nHost: localhost\r\n{extra}\r\n".encode() * 2)
        f = sock.makefile("rb")
        assert head_and_body(f)[2] == b"reply to /one"
        if keep_alive:  # the connection serves the second as well
            assert head_and_body(f)[2] == b"reply to /one"
        else:  # closed after the first
            assert f.read() == b""


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("leave", ["reset", "close"])
def test_a_client_leaving_while_its_request_runs_frees_the_connection(
    target: Target, leave: str
) -> None:
    """20 clients leave (RST, or a close without reading) while their requests run, some with
    a request pipelined behind: every connection is closed, every thread freed."""
    socks = []
    for i in range(20):
        sock = target.connect()
        sock.sendall(get("/slow") + (get("/next") if i % 2 else b""))
        socks.append(sock)
    time.sleep(0.05)
    for sock in socks:
        _reset(sock) if leave == "reset" else sock.close()
    assert wait_for(lambda: not target.channels(), 0.3 * 20 / 6 + 3), target.channels()
    with target.connect() as sock:  # and the server still answers at once
        t0 = time.monotonic()
        sock.sendall(get("/fine"))
        assert reply_of(sock).read() == b"reply to /fine" and time.monotonic() - t0 < 0.5


def test_keep_alive_pipelines_under_load_lose_no_request(target: Target) -> None:
    """12 connections each pipeline bursts of requests (some before a slow one) while the loop
    reads ahead: every reply arrives, in order, none after a poll timeout."""

    def client(n: int) -> float:
        worst = 0.0
        with target.connect() as sock:
            f = sock.makefile("rb")
            for burst in range(6):
                paths = [f"/c{n}-{burst}-{i}" for i in range(4)]
                if burst % 3 == 0:
                    paths[1] = "/slow"
                t0 = time.monotonic()
                sock.sendall(b"".join(get(p) for p in paths))
                for p in paths:
                    assert head_and_body(f)[2] == f"reply to {p}".encode()
                worst = max(worst, time.monotonic() - t0 - (0.3 if burst % 3 == 0 else 0))
        return worst

    with ThreadPoolExecutor(12) as pool:
        worst = list(pool.map(client, range(12), timeout=60))
    assert max(worst) < STALL, max(worst)


# ---- python -m emulator serve


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    cache = tmp_path_factory.mktemp("xdg-cache")
    with EmulatorProcess("--tls", env={"XDG_CACHE_HOME": str(cache)}) as proc:
        yield proc


def _tls_connect(proc: EmulatorProcess) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=proc.tls_ca())
    raw = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_behind_the_tls_front_pipelines_and_head_keep_their_framing(
    tls: EmulatorProcess, scheme: str
) -> None:
    """HEAD of the CA certificate sent the certificate: the next reply on the connection
    began inside it."""
    with open(tls.tls_ca(), "rb") as f:
        ca = f.read()
    sock: socket.socket = (
        _tls_connect(tls)
        if scheme == "https"
        else socket.create_connection(("127.0.0.1", tls.port), timeout=10)
    )
    with sock:
        batch = [("HEAD", CA_PATH), ("GET", CA_PATH), ("GET", "/_emulator/health")] * 3
        sock.sendall(b"".join(get(p, method=m) for m, p in batch))
        f = sock.makefile("rb")
        answers = [head_and_body(f, head_request=m == "HEAD") for m, _ in batch]
    for (method, path), (status, headers, body) in zip(batch, answers, strict=True):
        assert status.startswith(b"HTTP/1.1 200"), (method, path, status)
        if path == CA_PATH:
            assert headers[b"content-length"] == str(len(ca)).encode()
            assert body == (b"" if method == "HEAD" else ca)
        else:
            assert json.loads(body)


def test_behind_the_tls_front_keep_alive_requests_do_not_stall(tls: EmulatorProcess) -> None:
    def client(n: int) -> float:
        worst = 0.0
        with _tls_connect(tls) as sock:
            f = sock.makefile("rb")
            for _ in range(25):
                t0 = time.monotonic()
                sock.sendall(get("/_emulator/health"))
                status, _, body = head_and_body(f)
                assert status.startswith(b"HTTP/1.1 200") and json.loads(body)
                worst = max(worst, time.monotonic() - t0)
        return worst

    with ThreadPoolExecutor(6) as pool:
        assert max(pool.map(client, range(6), timeout=60)) < STALL


def test_two_workers_answer_keep_alive_and_pipelined_requests_without_stalls() -> None:
    with EmulatorProcess("--workers", "2") as proc:

        def client(n: int) -> float:
            worst = 0.0
            with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as sock:
                f = sock.makefile("rb")
                for i in range(20):
                    t0 = time.monotonic()
                    count = 1 + i % 3
                    sock.sendall(get("/_emulator/health") * count)
                    for _ in range(count):
                        status, _, body = head_and_body(f)
                        assert status.startswith(b"HTTP/1.1 200") and json.loads(body)
                    worst = max(worst, time.monotonic() - t0)
            return worst

        with ThreadPoolExecutor(8) as pool:
            assert max(pool.map(client, range(8), timeout=60)) < STALL


def _raw(prepared: Any, close: bool = False) -> bytes:
    url = urlsplit(prepared.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    lines = [f"{prepared.method} {target} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in prepared.headers.items()]
    lines += ["Connection: close"] if close else []
    lines.append(f"Content-Length: {len(prepared.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + prepared.body


DRIBBLE = '{"type": "connection", "mode": "dribble", "bytes": 64, "interval_ms": 5}'


def _faulted(endpoint: str, mode: str, key: tuple[str, str]) -> tuple[str, bytes]:
    """What the client sees after a connection fault, followed by a normal request."""
    header = DRIBBLE if mode == "dribble" else f"connection:{mode}"
    extra = {"x-emulator-fault": header}
    faulted = v3_request(endpoint, "ListOrders", key=key, extra_headers=extra)
    normal = v3_request(endpoint, "ListOrders", key=key)
    host, port = endpoint.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(_raw(faulted) + _raw(normal, close=True))  # the second is read ahead meanwhile
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            return "reset", data
    return "closed", data


def test_connection_faults_under_concurrency_end_each_connection_as_documented() -> None:
    """Each fault on a connection with a request read ahead behind it: reset/empty send no
    reply, truncated sends fewer bytes than its Content-Length, dribble the whole reply and
    then the read-ahead request's; then the server closes (nothing hangs), and keeps serving."""
    with EmulatorProcess() as proc:
        modes = ["reset", "empty", "truncated", "dribble"] * 4
        keys = [(ALICE, DAVE)[i // 4 % 2] for i in range(len(modes))]  # 2 dribbles per tenant
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(
                pool.map(lambda m, k: _faulted(proc.endpoint, m, k), modes, keys, timeout=60)
            )
        assert time.monotonic() - t0 < 15
        for mode, (end, data) in zip(modes, outcomes, strict=True):
            if mode in ("reset", "empty"):
                assert data == b"", (mode, data[:200])
                if mode == "empty":
                    assert end == "closed"
                continue
            head, _, rest = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), (mode, head)
            length = int(
                next(
                    h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")
                ).split(b":")[1]
            )
            if mode == "truncated":
                assert 0 < len(rest) < length and end == "closed", (mode, len(rest), length)
            else:  # dribble: whole, then the next request's reply
                assert json.loads(rest[:length])["Success"] is True
                second = rest[length:]
                assert second.startswith(b"HTTP/1.1 200") and b'"Success":true' in second.replace(
                    b" ", b""
                )
        r = v3_request(proc.endpoint, "ListOrders").send()
        assert r.status_code == 200 and r.json()["Success"] is True
