"""Test support: run a real emulator process, build official SDK clients, sign raw requests.

Raw requests are signed with the official SDK's own functions (tea-openapi `Utils`), never with
the emulator's signer, so a bug in our signing code cannot hide itself.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import requests
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.utils import Utils

ALICE = ("LTAI5tDemoAlice00000001", "DemoAliceSecret0000000000000001")  # tenant 3000, ADMIN, auto
BOB = ("LTAI5tDemoBob0000000002", "DemoBobSecret00000000000000002")  # tenant 3000, DBA
CAROL = ("LTAI5tDemoCarol00000003", "DemoCarolSecret0000000000000003")  # tenant 3000, USER
DAVE = ("LTAI5tAcmeDave000000001", "AcmeDaveSecret000000000000001")  # tenant 4000, ADMIN, manual
ERIN = ("LTAI5tAcmeErin000000002", "AcmeErinSecret000000000000002")  # tenant 4000, DBA
FRANK = ("LTAI5tAcmeFrank00000003", "AcmeFrankSecret00000000000003")  # tenant 4000, USER
DMS_VERSION, SAS_VERSION = "2018-11-01", "2018-12-03"


class EmulatorProcess:
    """`python -m emulator serve` on a free port, stopped with SIGTERM."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.args = ["--port", "0", *args]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []
        # stderr goes to a file: an undrained pipe would block the server once 64 KB of logs pile up
        self.log = tempfile.NamedTemporaryFile(prefix="dms-emulator-", suffix=".log", delete=False)

    def start(self, timeout: float = 20) -> EmulatorProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", *self.args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=self.env,
        )
        deadline = time.time() + timeout
        assert self.proc.stdout is not None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "listening on " in line:
                self.url = line.split("listening on ", 1)[1].strip()
                return self
        err = self.logs()
        raise RuntimeError(f"emulator did not start: {''.join(self.output)} {err}")

    def logs(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Control:
    """The control plane over HTTP, as a user's test would drive it."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def get(self, path: str, **params: Any) -> Any:
        r = requests.get(f"{self.url}/_emulator{path}", params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(f"{self.url}/_emulator{path}", json=body, timeout=60)

    def reset(self, tid: int | None = None) -> None:
        self.post("/reset", {"tid": tid} if tid else {}).raise_for_status()

    def advance(self, seconds: float) -> dict[str, Any]:
        r = self.post("/clock/advance", {"seconds": seconds})
        r.raise_for_status()
        return r.json()

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/requests", **filters)["requests"]


def sdk_config(endpoint: str, key: tuple[str, str], **kw: Any) -> Config:
    return Config(
        access_key_id=key[0], access_key_secret=key[1], endpoint=endpoint, protocol="http", **kw
    )


def dms(endpoint: str, key: tuple[str, str] = ALICE, **kw: Any) -> Any:
    from alibabacloud_dms_enterprise20181101.client import Client

    return Client(sdk_config(endpoint, key, **kw))


def sas(endpoint: str, key: tuple[str, str] = ALICE, **kw: Any) -> Any:
    from alibabacloud_sas20181203.client import Client

    return Client(sdk_config(endpoint, key, **kw))


def utc_stamp(offset: float = 0.0, millis: bool = False) -> str:
    dt = datetime.fromtimestamp(time.time() + offset, timezone.utc)
    return (
        dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if millis
        else dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )


@dataclass
class Prepared:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    def send(self) -> requests.Response:
        return requests.request(
            self.method, self.url, headers=self.headers, data=self.body, timeout=30
        )


def v3_request(
    endpoint: str,
    action: str,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    key: tuple[str, str] = ALICE,
    version: str = DMS_VERSION,
    date: str | None = None,
    nonce: str | None = None,
    extra_headers: dict[str, str] | None = None,
    signed_body: bytes | None = None,
) -> Prepared:
    """A V3 request signed the way tea-openapi signs (its own Utils.get_authorization)."""
    query = query or {}
    body = urlencode(form).encode() if form else b""
    headers = {
        "host": endpoint,
        "x-acs-version": version,
        "x-acs-action": action,
        "x-acs-date": date or utc_stamp(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "accept": "application/json",
        "x-acs-content-sha256": hashlib.sha256(
            signed_body if signed_body is not None else body
        ).hexdigest(),
        **(extra_headers or {}),
    }
    if form:
        headers["content-type"] = "application/x-www-form-urlencoded"
    req = SimpleNamespace(pathname="/", query=query, headers=headers, method="POST")
    headers["Authorization"] = Utils.get_authorization(
        req, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"], key[0], key[1]
    )
    url = f"http://{endpoint}/" + (f"?{urlencode(query)}" if query else "")
    return Prepared("POST", url, headers, body)


def v1_request(
    endpoint: str,
    action: str,
    params: dict[str, str] | None = None,
    key: tuple[str, str] = ALICE,
    version: str = DMS_VERSION,
    method: str = "GET",
    timestamp: str | None = None,
    nonce: str | None = None,
    secret: str | None = None,
) -> Prepared:
    """A V1 (HMAC-SHA1) request signed with tea-openapi's Utils.get_rpcsignature."""
    p = {
        "Action": action,
        "Version": version,
        "Format": "JSON",
        "AccessKeyId": key[0],
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": timestamp or utc_stamp(),
        **(params or {}),
    }
    p["Signature"] = Utils.get_rpcsignature(p, method, secret or key[1])
    if method == "GET":
        return Prepared("GET", f"http://{endpoint}/?{urlencode(p)}", {}, b"")
    return Prepared(
        "POST",
        f"http://{endpoint}/",
        {"content-type": "application/x-www-form-urlencoded"},
        urlencode(p).encode(),
    )
