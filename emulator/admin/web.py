"""The admin side on the Flask app (`init_app`): the control plane, the console and the download
endpoint, the guard in front of `/_emulator/` (emulator.admin.security), a request-size limit,
and the one error table turned into answers: JSON for the control plane, a page for the console."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from emulator.admin import control_api, oss_endpoint, security
from emulator.admin.context import EXTENSION
from emulator.admin.errors import STATUS, Unauthorized, message_of, status_of

PREFIX = "/_emulator"
CONSOLE = "/_emulator/ui"
LOGIN = "/_emulator/ui/login"

log = logging.getLogger("emulator.admin")


def init_app(app: Flask) -> None:
    """The control plane and the download links (the console is its own app, `init_console`)."""
    guarded(app)
    app.register_blueprint(control_api.bp, url_prefix=PREFIX)
    app.register_blueprint(oss_endpoint.bp)


def init_console(app: Flask) -> None:
    """The console's pages on an app of their own, built at the first console request so that
    a start (and a run that never opens the console) loads none of its modules or routes."""
    from emulator.admin import catalog, console, sas_exports

    guarded(app)
    app.register_blueprint(console.bp, url_prefix=CONSOLE)
    app.register_blueprint(catalog.bp, url_prefix=CONSOLE + "/catalog")
    app.register_blueprint(sas_exports.bp, url_prefix=CONSOLE + "/sas")


def is_console(path: str) -> bool:
    return path == CONSOLE or path.startswith(CONSOLE + "/")


def guarded(app: Flask) -> None:
    """The request-size limits, the guard and the error table, alike on both apps."""
    emu = app.extensions[EXTENSION]
    app.config["MAX_CONTENT_LENGTH"] = emu.settings.control_max_body  # control plane, console
    app.config["MAX_FORM_MEMORY_SIZE"] = min(emu.settings.control_max_body, 1024 * 1024)
    app.before_request(guard)
    for cls in STATUS:
        app.register_error_handler(cls, expected_error)


def guard() -> Any:
    """Host, cross-site and token checks for every `/_emulator/` request, before any work."""
    path = request.path
    if not (path == PREFIX or path.startswith(PREFIX + "/")):
        return None
    settings = app_settings()
    security.check_host(request.host, settings.host, settings.allowed_hosts)
    security.check_cross_site(
        request.method,
        request.host,
        request.headers.get("Origin"),
        request.headers.get("Referer"),
        request.headers.get("Sec-Fetch-Site"),
        request.headers.get("Sec-Fetch-Mode"),
        request.headers.get("Content-Type"),
        json_endpoint=not path.startswith(CONSOLE),
    )
    if path != LOGIN:
        security.check_token(
            settings.control_token,
            request.headers.get(security.TOKEN_HEADER),
            request.cookies.get(security.COOKIE),
        )
    return None


def app_settings() -> Any:
    from emulator.admin.context import emulator

    return emulator().settings


def expected_error(exc: Exception) -> Response | tuple[str, int]:
    """An error of the table: its status, and the message (never a traceback)."""
    if isinstance(exc, HTTPException):  # pragma: no cover - werkzeug's own go their own way
        return exc  # type: ignore[return-value]
    status = status_of(exc) or 500
    message = message_of(exc)
    if request.path.startswith(CONSOLE):
        if isinstance(exc, Unauthorized):
            here = request.full_path.rstrip("?") if request.method == "GET" else None
            return render_template(
                "login.html", next=security.safe_next(here, CONSOLE + "/tickets"), message=None
            ), 401
        return render_template("error.html", status=status, message=message), status
    return Response(
        json.dumps({"error": message}, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )
