"""The contract tests' transport: a schemathesis case on a pseudo-path `/{Action}` becomes a real,
signed Alibaba Cloud RPC call `POST /` (V3 by default, V1 selectable), sent with `requests`.

Signatures come from the official SDK's own functions (tea-openapi `Utils`), so the emulator's
signature checks stay on and are exercised by every generated request.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from alibabacloud_tea_openapi.utils import Utils


def _wire(value: Any) -> str:
    """How the SDK stringifies a parameter (bools as True/False, containers as compact JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


V1_RESERVED = {
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
    "SecurityToken",
}


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_call(
    base_url: str,
    action: str,
    version: str,
    query: dict[str, Any],
    form: Any,
    key: tuple[str, str],
    scheme: str = "v3",
    session: requests.Session | None = None,
    timeout: float = 30,
) -> requests.Response:
    host = urlsplit(base_url).netloc
    q = {k: _wire(v) for k, v in (query or {}).items() if v is not None}
    if isinstance(form, dict):
        # one name in both query and body is ambiguous to sign (SDKs merge them into one map)
        form = {k: v for k, v in form.items() if k not in q and k not in V1_RESERVED}
    if isinstance(form, dict):
        body = urlencode({k: _wire(v) for k, v in form.items() if v is not None}).encode()
    elif form is None:
        body = b""
    else:
        body = _wire(form).encode()
    http = session or requests
    if scheme == "v1":
        params = {
            "Action": action,
            "Version": version,
            "Format": "JSON",
            "AccessKeyId": key[0],
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": _stamp(),
            **q,
        }
        signed = dict(params)
        if isinstance(form, dict):
            signed.update({k: _wire(v) for k, v in form.items() if v is not None})
        params["Signature"] = Utils.get_rpcsignature(signed, "POST", key[1])
        headers = {"content-type": "application/x-www-form-urlencoded"} if body else {}
        return http.post(
            f"{base_url.rstrip('/')}/?{urlencode(params)}",
            data=body,
            headers=headers,
            timeout=timeout,
        )
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": _stamp(),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "accept": "application/json",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    req = SimpleNamespace(pathname="/", query=q, headers=headers, method="POST")
    headers["Authorization"] = Utils.get_authorization(
        req, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"], key[0], key[1]
    )
    url = f"{base_url.rstrip('/')}/" + (f"?{urlencode(q)}" if q else "")
    return http.post(url, data=body, headers=headers, timeout=timeout)


def send_case(case: Any, target: Any, scheme: str | None = None) -> requests.Response:
    """Send a schemathesis case to the target as the RPC call its pseudo-path names."""
    op = case.operation.definition.raw
    body = case.body if isinstance(case.body, (dict, list, str, int, float)) else None
    return signed_call(
        target.url,
        op["x-acs-action"],
        op["x-acs-version"],
        dict(case.query or {}),
        body,
        target.key,
        scheme or target.scheme,
    )
