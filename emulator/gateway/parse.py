"""The chain's first step: a WSGI environ becomes a `Call` (headers, query, body, parameters).

Kept apart from the chain so the rules for what arrives on the wire (size, encoding) live in one
place and the pipeline only sees a parsed call or a `BodyError`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.errors import ApiError

FORM_TYPE = "application/x-www-form-urlencoded"

MAX_BODY = 16 * 1024 * 1024


class BodyError(Exception):
    def __init__(self, error: ApiError):
        self.error = error


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def _read_body(environ: dict[str, Any]) -> bytes:
    """The exact body bytes (the V3 hash covers them), with a length or chunked (input_terminated)."""
    stream = environ.get("wsgi.input")
    raw_length = environ.get("CONTENT_LENGTH") or ""
    if raw_length:
        if not raw_length.isdigit():
            raise BodyError(errors.invalid("ContentLength", "It is not a number."))
        length = int(raw_length)
        if length > MAX_BODY:
            raise BodyError(errors.body_too_large())
        return stream.read(length) if stream and length else b""
    if stream is not None and environ.get("wsgi.input_terminated"):
        body = stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise BodyError(errors.body_too_large())
        return bytes(body)
    return b""


def parse(environ: dict[str, Any], request_id: str) -> Call:
    """Everything the chain needs from the WSGI environ; no framework request object on this path."""
    headers = _headers(environ)
    host = (
        headers.get("host")
        or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
    )
    query_pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    call = Call(
        request_id=request_id,
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO") or "/",
        host=host,
        base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}/",
        headers=headers,
        query_pairs=query_pairs,
        form_pairs=[],
        body=b"",
        params={},
    )
    for k, v in query_pairs:
        call.params.setdefault(k, v)
    call.action = headers.get("x-acs-action") or call.params.get("Action")
    call.version = headers.get("x-acs-version") or call.params.get("Version")
    call.xml = (call.params.get("Format") or "").upper() == "XML"
    call.body = _read_body(environ)
    if call.body and headers.get("content-type", "").split(";")[0].strip().lower() == FORM_TYPE:
        call.form_pairs = parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True)
        for k, v in call.form_pairs:
            call.params.setdefault(k, v)
        call.action = call.action or call.params.get("Action")
        call.version = call.version or call.params.get("Version")
        call.xml = (call.params.get("Format") or "").upper() == "XML"
    return call


def parse_head_only(environ: dict[str, Any], request_id: str) -> Call:
    """The call as far as it can be known without reading the body (for body errors)."""
    headers = _headers(environ)
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    host = headers.get("host", "")
    call = Call(
        request_id=request_id,
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO") or "/",
        host=host,
        base_url=f"http://{host}/",
        headers=headers,
        query_pairs=[],
        form_pairs=[],
        body=b"",
        params=params,
    )
    call.action = headers.get("x-acs-action") or params.get("Action")
    return call
