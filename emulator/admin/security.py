"""Who may use the control plane and the console (everything under `/_emulator/`).

What is trusted: a program that can reach the port and, with `--control-token`, knows the token.
What is not: a web browser, whose pages may come from any site. So, for every request:
1. Host: on a loopback bind, only a loopback name or address (or an `--allowed-host` name) is
   accepted, which defeats DNS rebinding (a foreign name resolving to 127.0.0.1).
2. Cross-site: an `Origin` (or, without one, a `Referer`) that is not this emulator, a
   `Sec-Fetch-Site` of another site on anything but a plain navigation, or a JSON endpoint
   called with a form or text body (what a page can send without CORS) is refused with 403
   before anything runs.
3. Token: with `--control-token`, the `x-emulator-token` header (or the console's cookie, set
   by its login form) must carry it; otherwise 401.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from emulator.admin.errors import CrossSite, Unauthorized

TOKEN_HEADER = "x-emulator-token"
COOKIE = "dms_emulator_console"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def split_host(host: str) -> tuple[str, str]:
    """`[::1]:8787` -> (`::1`, `8787`); `localhost` -> (`localhost`, ``)."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.lstrip(":")
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, port
    return host, ""


def is_loopback(name: str) -> bool:
    name = name.strip().lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def bind_warning(settings: object) -> str | None:
    """The stderr warning for a bind beyond loopback without a token (None: nothing to say)."""
    host = str(getattr(settings, "host", "127.0.0.1"))
    if is_loopback(host) or getattr(settings, "control_token", None):
        return None
    return (
        f"--host {host} exposes the unauthenticated control plane (/_emulator/: reset, state, "
        "faults, tickets) to everyone who can reach this address; anyone there can replace or "
        "read all state. Set --control-token TOKEN (env DMS_EMULATOR_CONTROL_TOKEN) or bind to "
        "127.0.0.1."
    )


def cookie_value(token: str) -> str:
    """What the console's cookie holds: derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"dms-emulator console", hashlib.sha256).hexdigest()


def check_host(host: str, bind: str, allowed: Iterable[str]) -> None:
    if not is_loopback(bind):
        return  # bound beyond loopback: the names it is reached by are the user's (token guards)
    name, _ = split_host(host)
    if is_loopback(name) or name in {a.strip().lower() for a in allowed}:
        return
    raise CrossSite(
        f"Host {name!r} is not a loopback name: refused (DNS rebinding guard); "
        "start the emulator with --allowed-host NAME to accept it"
    )


def _same_origin(url: str, host: str) -> bool:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return False
    default = {"http": "80", "https": "443"}.get(parts.scheme, "")
    name, port = split_host(parts.netloc)
    own_name, own_port = split_host(host)
    return name == own_name and (port or default) == (own_port or default)


def check_cross_site(
    method: str,
    host: str,
    origin: str | None,
    referer: str | None,
    fetch_site: str | None,
    fetch_mode: str | None,
    content_type: str | None,
    json_endpoint: bool,
) -> None:
    if origin is not None and (origin == "null" or not _same_origin(origin, host)):
        raise CrossSite(f"cross-site request from {origin} refused")
    safe = method in SAFE_METHODS
    if fetch_site in ("cross-site", "same-site") and not (safe and fetch_mode == "navigate"):
        raise CrossSite(f"cross-site request refused (Sec-Fetch-Site: {fetch_site})")
    if safe:
        return
    if origin is None and referer and not _same_origin(referer, host):
        raise CrossSite("cross-site request refused (Referer of another site)")
    mime = (content_type or "").split(";")[0].strip().lower()
    if json_endpoint and mime in SIMPLE_TYPES:
        raise CrossSite(
            f"the control plane takes JSON: Content-Type {mime} refused "
            "(send application/json, or no body)"
        )


def check_token(expected: str | None, header: str | None, cookie: str | None) -> None:
    if not expected:
        return
    if header is not None and hmac.compare_digest(header.encode(), expected.encode()):
        return
    if cookie is not None and hmac.compare_digest(cookie.encode(), cookie_value(expected).encode()):
        return
    raise Unauthorized(
        f"this emulator was started with --control-token: send the {TOKEN_HEADER} header"
        if header is None
        else f"wrong {TOKEN_HEADER}"
    )


def safe_next(target: str | None, default: str) -> str:
    """A redirect target the console issued itself: a path under /_emulator/ui, nothing else."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/_emulator/ui"):
        return default
    if "\\" in target or target.startswith("//"):
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")
