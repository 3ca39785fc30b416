"""The listener's request path (issue 18): a reply leaves in one send, keep-alive requests do
not wake the loop, and what that changed (reading while a request runs, the request thread
sending its own reply) keeps HTTP's promises: half-closing clients, pipelining, large replies
to slow readers, many connections at once.

Real sockets against the real listener (`emulator.serving.listener.Server`) in this process,
serving a small WSGI app whose replies are the oracle.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulator.gateway.parse import MAX_BODY
from emulator.serving import listener
from emulator.serving.listener import Server
from emulator.testing.process import EmulatorProcess

BIG = 8 * 1024 * 1024


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/slow":
        time.sleep(0.3)
    if path == "/big":
        start_response("200 OK", [("Content-Length", str(BIG))])
        return _chunks()
    body = f"reply to {path}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _chunks() -> Iterator[bytes]:
    for i in range(BIG // 65536):
        yield bytes([i % 251]) * 65536


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server(app, "127.0.0.1", 0, threads=3).start()
    try:
        yield s
    finally:
        s.stop()


def request(path: str, close: bool = False) -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def read_reply(sock: socket.socket) -> http.client.HTTPResponse:
    response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
    response.begin()
    return response


def read_body(f: Any) -> bytes:
    """One reply's body from a buffered reader that serves every reply on the connection."""
    status = f.readline()
    assert status.startswith(b"HTTP/1.1 200"), status
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return bytes(f.read(length))


def channel_of(server: Server, timeout: float = 5) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        channels = list(server.stack.waitress.active_channels.values())
        if channels:
            return channels[0]
        time.sleep(0.01)
    raise AssertionError("the connection was never accepted")


def test_a_small_reply_leaves_in_one_send(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request("/warm"))
        assert read_reply(sock).read() == b"reply to /warm"
        channel = channel_of(server)
        sends: list[int] = []
        real = channel.send

        def counted(data: bytes, do_close: bool = True) -> int:
            sends.append(len(data))
            return int(real(data, do_close=do_close))

        channel.send = counted
        sock.sendall(request("/one"))
        reply = read_reply(sock)
        assert reply.status == 200 and reply.read() == b"reply to /one"
    assert len(sends) == 1, sends  # status line, headers and body together


def test_keep_alive_requests_do_not_wake_the_loop(server: Server) -> None:
    trigger = server.stack.waitress.trigger
    pulls: list[float] = []
    real = trigger.pull_trigger

    def counted(thunk: Any = None) -> None:
        pulls.append(time.monotonic())
        real(thunk)

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request("/warm"))
        read_reply(sock).read()
        trigger.pull_trigger = counted
        t0 = time.monotonic()
        for i in range(40):
            sock.sendall(request(f"/n{i}"))
            assert read_reply(sock).read() == f"reply to /n{i}".encode()
        elapsed = time.monotonic() - t0
    assert len(pulls) <= 2, len(pulls)  # waitress pulled once per request
    # the loop still listens between requests: a missed registration would stall each
    # request until the loop's 1 s poll timeout
    assert elapsed < 2, elapsed


def test_a_client_that_half_closes_still_gets_its_reply(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request("/slow"))
        time.sleep(0.05)  # the request runs; the loop reads the end of file meanwhile
        sock.shutdown(socket.SHUT_WR)
        reply = read_reply(sock)
        assert reply.status == 200 and reply.read() == b"reply to /slow"
        sock.settimeout(5)
        assert sock.recv(1) == b""  # and then the server closes


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request("/slow") + request("/a") + request("/b") + request("/c", close=True))
        f = sock.makefile("rb")
        bodies = [read_body(f) for _ in range(4)]
        assert f.read() == b""  # closed after the last, as asked
    assert bodies == [b"reply to /slow", b"reply to /a", b"reply to /b", b"reply to /c"]


def test_a_large_reply_to_a_slow_reader_arrives_whole(server: Server) -> None:
    expected = hashlib.sha256(b"".join(_chunks())).hexdigest()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(request("/big"))
        time.sleep(0.5)  # the server fills every buffer and must wait for this reader
        reply = read_reply(sock)
        digest = hashlib.sha256()
        got = 0
        while chunk := reply.read(65536):
            digest.update(chunk)
            got += len(chunk)
            if got < 1024 * 1024:
                time.sleep(0.005)
        assert got == BIG and digest.hexdigest() == expected
        sock.sendall(request("/after"))  # and the connection still serves
        assert read_reply(sock).read() == b"reply to /after"


def test_many_keep_alive_connections_are_served_without_stalls(server: Server) -> None:
    def client(n: int) -> float:
        worst = 0.0
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            for i in range(60):
                t0 = time.monotonic()
                sock.sendall(request(f"/c{n}-{i}"))
                assert read_reply(sock).read() == f"reply to /c{n}-{i}".encode()
                worst = max(worst, time.monotonic() - t0)
        return worst

    errors: list[BaseException] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(client, n) for n in range(16)]
        worst = []
        for f in futures:
            try:
                worst.append(f.result(timeout=60))
            except BaseException as exc:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(exc)
    assert not errors, errors[:3]
    assert max(worst) < 0.9, max(worst)  # no request waited for the loop's 1 s poll timeout


def refused_head(length: int) -> bytes:
    return f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()


def test_a_client_still_sending_a_refused_body_reads_the_413(server: Server) -> None:
    """The server answers 413 from the headers; the client, as HTTP clients do, sends the whole
    body before it reads. A plain close would reset the connection under its send."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(refused_head(MAX_BODY + 1))
        piece = b"x" * (1024 * 1024)
        for _ in range(48):
            sock.sendall(piece)  # raised BrokenPipe/ConnectionReset before the lingering close
        f = sock.makefile("rb")
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 413"), status
        rest = f.read()  # headers and body, then the server's close
    assert b'"Code": "RequestEntityTooLarge"' in rest, rest[-300:]


def test_a_lingering_close_ends_when_the_client_never_does(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listener, "LINGER_SECONDS", 0.5)
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(refused_head(MAX_BODY + 1) + b"y" * 1000)
        f = sock.makefile("rb")
        assert f.readline().startswith(b"HTTP/1.1 413")
        f.read()  # the 413, then the server's FIN (it lingers, reading)
        t0 = time.monotonic()
        channels = server.stack.waitress.active_channels
        while channels and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        waited = time.monotonic() - t0
        assert not channels, "the lingering connection was never closed"
    assert waited < 5, waited  # cleanup runs every 2 s


@pytest.fixture(scope="module")
def tls_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    cache = tmp_path_factory.mktemp("xdg-cache")
    with EmulatorProcess("--tls", env={"XDG_CACHE_HOME": str(cache)}) as proc:
        yield proc


def _through_front(proc: EmulatorProcess, scheme: str) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", proc.port), timeout=20)
    if scheme == "http":
        return raw
    context = ssl.create_default_context(cafile=proc.tls_ca())
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


@pytest.mark.parametrize("mib", [1, 20])
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_behind_the_tls_front_a_refused_body_still_gets_the_413(
    tls_proc: EmulatorProcess, scheme: str, mib: int
) -> None:
    """The refusal crosses the front whether the client sent a little of its body before it
    reads or all of it (the front used to drop the 413 when its write to the closed inner
    socket failed, and to reset a client still sending)."""
    for _ in range(4):
        with _through_front(tls_proc, scheme) as sock:
            sock.sendall(refused_head(MAX_BODY + 1))
            piece = b"x" * (1024 * 1024)
            for _ in range(mib):
                sock.sendall(piece)
            f = sock.makefile("rb")
            status = f.readline()
            assert status.startswith(b"HTTP/1.1 413"), status
            head = f.read(4096)
        assert b"RequestEntityTooLarge" in head, head[-300:]
