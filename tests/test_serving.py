"""The serving layer under abuse (issue 17: F10, the dribble part of F7, F2's SIGTERM part, F19).

Each test reproduces a probe of `shared/probes/` through real sockets and processes.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.testing.flows import create_export
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import dms, v3_request


def raw_signed(endpoint: str, action: str, headers: dict[str, str] | None = None) -> bytes:
    """A signed V3 request as bytes, for a socket the test controls."""
    p = v3_request(endpoint, action, extra_headers=headers)
    head = "".join(f"{k}: {v}\r\n" for k, v in p.headers.items())
    return f"POST / HTTP/1.1\r\n{head}content-length: 0\r\n\r\n".encode()


def connect(proc: EmulatorProcess, tls: bool) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
    if not tls:
        return raw
    return ssl.create_default_context(cafile=proc.tls_ca()).wrap_socket(
        raw, server_hostname="localhost"
    )


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_idle_connections_cannot_lock_everyone_out(tls: bool) -> None:
    """r10: 1100 connections that never send a byte; a real client is still served at once."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))  # our side
    with EmulatorProcess(*(["--tls"] if tls else [])) as proc:
        idle = [socket.create_connection(("127.0.0.1", proc.port)) for _ in range(1100)]
        try:
            time.sleep(1)
            t0 = time.monotonic()
            with connect(proc, tls) as s:
                s.sendall(raw_signed(proc.endpoint, "ListUserTenants"))
                first = s.recv(64)
            assert first.startswith(b"HTTP/1.1 200"), first
            assert time.monotonic() - t0 < 5
        finally:
            for c in idle:
                c.close()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_dribbled_response_stops_when_the_client_goes_away(tls: bool) -> None:
    """r07 (dribble): one request thread; a client that leaves a slow dribble frees it at once."""
    with EmulatorProcess("--threads", "1", *(["--tls"] if tls else [])) as proc:
        control = Control(f"http://127.0.0.1:{proc.port}")
        fault = {"type": "connection", "mode": "dribble", "bytes": 1, "interval_ms": 10000}
        control.post(
            "/faults", {"match": {"action": "ListUserTenants"}, "effect": fault}
        ).raise_for_status()
        s = connect(proc, tls)
        s.sendall(raw_signed(proc.endpoint, "ListUserTenants"))
        assert s.recv(64).startswith(b"HTTP/1.1 200")  # the head and the first byte
        s.close()
        t0 = time.monotonic()
        r = requests.get(f"http://127.0.0.1:{proc.port}/_emulator/health", timeout=8)
        assert r.status_code == 200
        assert time.monotonic() - t0 < 3, "the only thread was still dribbling to nobody"


HEAVY = (
    "SELECT c.id, (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r "
    "WHERE i < 100000000) SELECT count(*) FROM r WHERE r.i > c.id) AS n FROM customers c"
)


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_sigterm_stops_the_server_within_seconds_whatever_runs(tls: bool) -> None:
    """r02 (SIGTERM part): runaway exports and a request sleeping in a latency fault."""
    proc = EmulatorProcess("--clock", "manual", *(["--tls"] if tls else [])).start()
    try:
        client = dms(f"http://{proc.endpoint}")
        for _ in range(2):
            create_export(client, HEAVY)
        try:  # starts the jobs (the call itself may wait for them: not this test's concern)
            requests.post(
                f"http://{proc.endpoint}/_emulator/clock/advance", json={"seconds": 60}, timeout=3
            )
        except requests.RequestException:
            pass
        health = requests.get(f"http://{proc.endpoint}/_emulator/health", timeout=10).json()
        assert health["jobs_running"] >= 1, "the runaway exports run"
        rule: dict[str, Any] = {
            "match": {"action": "ListUserTenants"},
            "effect": {"type": "latency", "ms": 60000},
        }
        requests.post(
            f"http://{proc.endpoint}/_emulator/faults", json=rule, timeout=10
        ).raise_for_status()
        sleeper = socket.create_connection(("127.0.0.1", proc.port))
        sleeper.sendall(raw_signed(proc.endpoint, "ListUserTenants"))
        time.sleep(1)
        assert proc.proc is not None
        t0 = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        code = proc.proc.wait(timeout=30)
        took = time.monotonic() - t0
        sleeper.close()
        assert code == 0
        assert took < 8, f"SIGTERM took {took:.1f} s"
    finally:
        proc.stop(signal.SIGKILL)


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_exit_when_the_supervisor_dies() -> None:
    """F19: kill -9 the supervisor of `--workers 2`; its workers follow, the port closes."""
    proc = EmulatorProcess("--workers", "2").start()
    assert proc.proc is not None
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 10
        kids = children_of(proc.proc.pid)
        while len(kids) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            kids = children_of(proc.proc.pid)
        assert len(kids) == 2, kids
        assert requests.get(f"{proc.url}/_emulator/health", timeout=5).status_code == 200
        os.kill(proc.proc.pid, signal.SIGKILL)
        proc.proc.wait()
        deadline = time.monotonic() + 10
        while any(alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(k) for k in kids), "workers outlived their supervisor"
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{proc.url}/_emulator/health", timeout=2)
    finally:
        for k in kids:  # on a failure, no orphan keeps serving
            if alive(k):
                os.kill(k, signal.SIGKILL)
