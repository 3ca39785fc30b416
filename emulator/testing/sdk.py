"""Official-SDK clients, the built-in accounts' keys, and raw requests signed by tea-openapi's own functions."""

from __future__ import annotations

import hashlib
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
