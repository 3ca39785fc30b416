"""The emulator's own base URL as the client reached it, for links it hands out."""

from __future__ import annotations

from typing import Any


def base_url(environ: dict[str, Any], host: str) -> str:
    """`scheme://authority/` from the connection's scheme and the Host header's authority.

    A client configured with `endpoint="http://127.0.0.1:PORT"` (the Python tea SDK keeps the
    scheme) sends that whole string as its Host header: the authority is what follows `://`,
    and the scheme is the connection's, which is what the client will reach the link over.
    """
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0] or f"{environ.get('SERVER_NAME', '127.0.0.1')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}/"
