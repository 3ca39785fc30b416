"""The chain's first step: a WSGI environ becomes a `Call` (headers, query, body, parameters).

Kept apart from the chain so the rules for what arrives on the wire (size, encoding) live in one
place and the pipeline only sees a parsed call or a `BodyError`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.errors import ApiError
from emulator.serving.urls import base_url

FORM_TYPE = "application/x-www-form-urlencoded"

MAX_BODY = 16 * 1024 * 1024
# parameters in one query string or form body: no DMS call comes near it, and each one costs a few
# objects in several lists (4 million `&a=b` made one request peak at ~0.9 GB, probe F4)
MAX_PARAMS = 10_000
_DECODE_CHUNK = 1 << 16


class BodyError(Exception):
    """The request cannot be read (size, length, encoding): answered before anything else runs."""

    def __init__(self, error: ApiError):
        self.error = error


def _wire_bytes(text: str) -> bytes:
    """The bytes a WSGI server received for `text` (PEP 3333 hands them over as latin-1)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # not from a real server (a test client passing text)
        return text.encode("utf-8", "surrogateescape")


def _utf8(text: str, what: str) -> str:
    """`text` as the UTF-8 its bytes spell; a request whose bytes are not UTF-8 is refused."""
    if text.isascii():
        return text
    try:
        return _wire_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(not_utf8(what)) from None


_PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")


def not_utf8(what: str) -> ApiError:
    """InvalidX for a parameter with a plain name; InvalidParameter naming anything else."""
    if _PARAM_NAME.fullmatch(what):
        return errors.invalid(what, "It is not valid UTF-8.")
    return ApiError("InvalidParameter", f"Specified parameter {what[:80]} is not valid UTF-8.", 400)


def _headers(environ: dict[str, Any], strict: bool = True) -> dict[str, str]:
    """Lower-cased headers, values decoded as UTF-8 so a signature covers the bytes sent."""
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    if strict:
        for name, value in headers.items():
            if not value.isascii():
                headers[name] = _utf8(value, f"header {name}")
    return headers


_ESCAPES = re.compile(rb"(?:%[0-9A-Fa-f]{2})+")


def _unescape_run(match: re.Match[bytes]) -> bytes:
    return bytes.fromhex(match[0].replace(b"%", b"").decode("ascii"))


def _unquote(raw: bytes) -> bytes:
    """What unquote_to_bytes returns, but that lists every `%` escape and decodes it in Python
    (~1.3 GB peak and seconds for a 16 MiB value of `%25`, probe F4): runs of escapes are
    decoded whole, a long value in chunks that never end inside an escape."""
    if len(raw) <= 64:
        return unquote_to_bytes(raw)
    if len(raw) <= _DECODE_CHUNK:
        return _ESCAPES.sub(_unescape_run, raw)
    out = bytearray()
    start = 0
    while start < len(raw):
        end = min(start + _DECODE_CHUNK, len(raw))
        cut = raw.rfind(b"%", end - 2, end)
        if cut != -1 and end < len(raw):
            end = cut
        out += _ESCAPES.sub(_unescape_run, raw[start:end])
        start = end
    return bytes(out)


def _decode_component(raw: bytes, what: str) -> str:
    data = _unquote(raw.replace(b"+", b" ")) if b"%" in raw or b"+" in raw else raw
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(not_utf8(what)) from None


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    """`a=1&b=%E4%BD%A0` as parse_qsl reads it (blanks kept), but strict: every name and value,
    once percent-decoded, must be UTF-8, or the request is refused naming the parameter."""
    if raw.count(b"&") >= MAX_PARAMS:
        raise BodyError(
            ApiError("InvalidParameter", f"The request has more than {MAX_PARAMS} parameters.")
        )
    pairs: list[tuple[str, str]] = []
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        key = _decode_component(name, "a parameter name")
        pairs.append((key, _decode_component(value, key)))
    return pairs


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
    query_pairs = form_pairs(_wire_bytes(environ.get("QUERY_STRING", "")))
    call = Call(
        request_id=request_id,
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO") or "/",
        host=host,
        base_url=base_url(environ, host),
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
        call.form_pairs = form_pairs(call.body)
        for k, v in call.form_pairs:
            call.params.setdefault(k, v)
        call.action = call.action or call.params.get("Action")
        call.version = call.version or call.params.get("Version")
        call.xml = (call.params.get("Format") or "").upper() == "XML"
    return call


def parse_head_only(environ: dict[str, Any], request_id: str) -> Call:
    """The call as far as it can be known (for a body or encoding error): nothing is refused here."""
    headers = _headers(environ, strict=False)
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    host = headers.get("host", "")
    call = Call(
        request_id=request_id,
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO") or "/",
        host=host,
        base_url=base_url(environ, host),
        headers=headers,
        query_pairs=[],
        form_pairs=[],
        body=b"",
        params=params,
    )
    call.action = headers.get("x-acs-action") or params.get("Action")
    return call
