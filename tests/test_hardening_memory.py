"""Large request bodies cannot make the emulator hold memory (probe F4, issue 17).

A real `python -m emulator serve` process and real sockets; the process's memory is read from
/proc/<pid>/status: VmRSS after bounded loops of 16 MiB requests (sequential and concurrent),
and VmHWM (the peak, reset through /proc/<pid>/clear_refs) while they run. The bounds are
stated in README.md's security section.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import ALICE, v1_request

MIB = 1024 * 1024
BODY = 16 * MIB  # the largest body the emulator accepts
AFTER_BOUND_MB = 100  # RSS over the starting RSS once the requests are answered, whatever N
PEAK_BOUND_MB = 320  # peak RSS over the starting RSS while they run, whatever the senders


def _status(pid: int, field: str) -> int:
    """A /proc/<pid>/status figure in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux 4.0+)


def _bogus_v1_body() -> bytes:
    """The probe's body: a known AccessKey ID, a bogus signature, 16 MiB in all."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).replace(":", "%3A")
    head = (
        "Action=ListOrders&Version=2018-11-01&AccessKeyId=" + ALICE[0] + "&SignatureMethod="
        "HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=x&Timestamp=" + stamp + "&Signature=bogus&X="
    )
    return (head + "a" * (BODY - len(head))).encode()


def _post(port: int, body: bytes, results: list[tuple[int, str]]) -> None:
    r = requests.post(
        f"http://127.0.0.1:{port}/",
        data=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    results.append((r.status_code, r.json()["Code"]))


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as proc:
        yield proc


@pytest.fixture()
def start_rss(emu: EmulatorProcess) -> int:
    """RSS once one large request has warmed the process up (imports, caches, first arenas)."""
    assert emu.proc is not None
    _post(emu.port, _bogus_v1_body(), [])
    time.sleep(0.2)
    return _status(emu.proc.pid, "VmRSS")


def test_sequential_refused_16mib_requests_give_their_memory_back(
    emu: EmulatorProcess, start_rss: int
) -> None:
    assert emu.proc is not None
    pid, body = emu.proc.pid, _bogus_v1_body()
    _reset_peak(pid)
    results: list[tuple[int, str]] = []
    for _ in range(12):
        _post(emu.port, body, results)
    assert results == [(400, "SignatureDoesNotMatch")] * 12
    grown, peak = _status(pid, "VmRSS") - start_rss, _status(pid, "VmHWM") - start_rss
    assert grown < AFTER_BOUND_MB, f"RSS grew {grown} MB over {start_rss} MB after 12 requests"
    assert peak < PEAK_BOUND_MB, f"peak RSS {peak} MB over {start_rss} MB"


def test_concurrent_16mib_senders_are_bounded_too(emu: EmulatorProcess, start_rss: int) -> None:
    """8 senders at once on 8 request threads: a few are parsed at a time, the rest wait or are
    answered 503 ServiceUnavailable; the peak stays under the bound."""
    assert emu.proc is not None
    pid, body = emu.proc.pid, _bogus_v1_body()
    _reset_peak(pid)
    results: list[tuple[int, str]] = []
    for _ in range(2):
        senders = [threading.Thread(target=_post, args=(emu.port, body, results)) for _ in range(8)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
    assert len(results) == 16
    assert set(results) <= {(400, "SignatureDoesNotMatch"), (503, "ServiceUnavailable")}
    assert results.count((400, "SignatureDoesNotMatch")) >= 4, results
    grown, peak = _status(pid, "VmRSS") - start_rss, _status(pid, "VmHWM") - start_rss
    assert grown < AFTER_BOUND_MB, f"RSS grew {grown} MB over {start_rss} MB"
    assert peak < PEAK_BOUND_MB, f"peak RSS {peak} MB over {start_rss} MB with 8 senders"


def _crafted(filler: bytes, size: int) -> bytes:
    head = _bogus_v1_body()[:400].split(b"&X=")[0] + b"&X="
    return head + filler * ((size - len(head)) // len(filler))


@pytest.mark.parametrize(
    "filler, code",
    [
        (b"%25", "SignatureDoesNotMatch"),
        (b"&a=b", "InvalidParameter"),
        (b"&a=%25", "InvalidParameter"),
    ],
    ids=["percent-escapes", "many-parameters", "many-escaped-parameters"],
)
def test_crafted_4mib_bodies_stay_within_a_few_copies(
    emu: EmulatorProcess, start_rss: int, filler: bytes, code: str
) -> None:
    """Bodies made of what costs most per byte (an escape for every 3 bytes, a parameter for
    every 4) peak at a few times their size, not at a hundred: 4 MiB of `%25` peaked at +320 MB,
    4 MiB of `&a=b` at +230 MB (the 16 MiB forms at 1.3 GB and 0.9 GB)."""
    assert emu.proc is not None
    pid = emu.proc.pid
    _reset_peak(pid)
    results: list[tuple[int, str]] = []
    _post(emu.port, _crafted(filler, 4 * MIB), results)
    assert results == [(400, code)]
    peak = _status(pid, "VmHWM") - start_rss
    assert peak < 60, f"peak RSS {peak} MB over {start_rss} MB for a 4 MiB body"


def test_a_signed_large_request_still_works(emu: EmulatorProcess) -> None:
    """The bounds do not refuse a legitimate large request: 14 MiB in one signed V1 parameter
    (1 MiB of it percent-encoded), as a 15 MB ExecSQL would be."""
    value = "é " * MIB + "a" * (7 * MIB)
    params = {"OrderResultType": "AS_ADMIN", "X": value}
    prepared = v1_request(emu.endpoint, "ListOrders", params, method="POST")
    assert 13 * MIB < len(prepared.body) < BODY
    r = prepared.send()
    assert r.status_code == 200, r.text[:300]
    assert r.json()["Success"] is True


def test_a_body_over_16mib_is_refused_from_its_headers(emu: EmulatorProcess) -> None:
    """Content-Length over 16 MiB: an Alibaba-style 413 before any of the body is sent (the
    server does not spool a gigabyte to disk to refuse it)."""
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % (BODY + 1)
        )
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after refusing
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    doc = json.loads(body)
    assert doc["Code"] == "RequestEntityTooLarge"
    assert "16 MiB" in doc["Message"] and doc["RequestId"]


def test_a_chunked_body_is_refused_once_it_passes_16mib(emu: EmulatorProcess) -> None:
    """No Content-Length to judge by: the 413 comes as soon as more than 16 MiB has arrived,
    not after the sender's last chunk (this one never sends it)."""
    chunk = b"a" * MIB
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        for _ in range(16):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"10\r\n" + b"a" * 16 + b"\r\n")  # past the limit; no terminating chunk
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"413", answer[:300]
    assert json.loads(body)["Code"] == "RequestEntityTooLarge"


def test_the_control_plane_keeps_its_own_larger_body_limit(emu: EmulatorProcess) -> None:
    """The API's 16 MiB is not imposed on PUT /_emulator/state (64 MiB by default): a 20 MB
    document reaches the control plane and is judged there (refused as JSON, not as too large);
    past 64 MiB it is refused from its headers in the control plane's `{"error"}` form."""
    r = requests.put(
        f"{emu.url}/_emulator/state",
        data=b'{"x": "' + b"a" * (20 * 1000 * 1000) + b'"}',
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 400 and "error" in r.json(), r.text[:300]
    assert "larger" not in r.text
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(
            b"PUT /_emulator/state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (65 * MIB)
        )
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after refusing
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"413", answer[:300]
    assert "control plane accepts" in json.loads(body)["error"]
