"""Requests waitress refuses before the app sees them still answer in the Alibaba envelope.

Raw sockets to a real emulator process: the SDKs parse `Code`/`Message`/`RequestId` from every
error body, so a plain-text 400 would surface as an unparseable response.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from emulator.testing.process import EmulatorProcess


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as proc:
        yield proc


def _exchange(port: int, raw: bytes) -> tuple[bytes, dict[str, str]]:
    """Send `raw`, read until the server closes; the status line and the JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/json" in head.lower(), answer[:400]
    return head.split(b"\r\n", 1)[0], json.loads(body)


@pytest.mark.parametrize(
    "raw",
    [
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Acs-Action: List\x01Orders\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Acs-Action:\x7fListOrders\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12a\r\n\r\n",
    ],
    ids=["control-char", "del-char", "space-in-name", "bad-length"],
)
def test_a_malformed_request_is_answered_in_the_alibaba_envelope(
    emu: EmulatorProcess, raw: bytes
) -> None:
    status, doc = _exchange(emu.port, raw)
    assert status.split()[1] == b"400", status
    assert doc["Code"] == "BadRequest"
    assert doc["Message"].startswith("The HTTP request is malformed: ")
    assert len(doc["RequestId"]) == 36 and doc["RequestId"] == doc["RequestId"].upper()


def test_an_unsupported_transfer_encoding_is_answered_in_the_alibaba_envelope(
    emu: EmulatorProcess,
) -> None:
    raw = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n"
    status, doc = _exchange(emu.port, raw)
    assert status.split()[1] == b"501", status
    assert doc["Code"] == "NotImplemented" and doc["RequestId"]
