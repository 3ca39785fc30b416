"""Alibaba-style error answers from the serving layer, where no gateway call exists yet.

The serving layer refuses some requests before the app sees them (too many large bodies at
once, a request waitress cannot parse). Those answers use the same envelope as every API error
(RequestId, HostId, Code, Message, Recommend) so an SDK reports them like any other error.
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus

from emulator.gateway.errors import ApiError
from emulator.gateway.render import JSON_TYPE, error_doc

HOST_ID = "dms-enterprise.aliyuncs.com"


def error_response(
    status: int, code: str, message: str, host_id: str = HOST_ID
) -> tuple[str, list[tuple[str, str]], bytes]:
    """WSGI status, headers and body of an error answered before the gateway runs."""
    request_id = str(uuid.uuid4()).upper()
    doc = error_doc(ApiError(code, message, status), request_id, host_id, None)
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    headers = [
        ("Content-Type", JSON_TYPE),
        ("Content-Length", str(len(body))),
        ("x-acs-request-id", request_id),
    ]
    return f"{status} {HTTPStatus(status).phrase}", headers, body


def control_error_response(status: int, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """The control plane's error form (`{"error": ...}`) for a request refused before Flask."""
    body = json.dumps({"error": message}).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return f"{status} {HTTPStatus(status).phrase}", headers, body
