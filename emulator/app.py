"""The Flask app factory: the API gateway on `/`, the control plane, and download links."""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flask import Flask, Response, request

from emulator.admin import web as admin_web
from emulator.config import Settings
from emulator.serving.netfaults import ConnectionFaults
from emulator.wiring import Emulator

if TYPE_CHECKING:
    from emulator.gateway.pipeline import Gateway
    from emulator.gateway.registry import Registry

T = TypeVar("T")


class Once(Generic[T]):
    """A value built at its first use, once, whichever request thread asks first."""

    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def built(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value


class LazyGateway(Once["Gateway"]):
    """The API gateway, built at the first API request: the action modules, their domain and
    the registry load then, not at start (issue 18: start-up to first 200 on health)."""

    def __init__(self, emu: Emulator):
        def build() -> Gateway:
            gateway = build_gateway(emu)
            gc.freeze()  # the modules and registry just built live as long as we do
            return gateway

        super().__init__(build)
        self.emu = emu

    @property
    def registry(self) -> Registry:
        return self.built().registry

    def handle(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        return self.built().handle(environ)


def build_gateway(emu: Emulator) -> Gateway:
    """The gateway with every DMS and Sas action registered."""
    from emulator.gateway.pipeline import Gateway
    from emulator.gateway.registry import Registry
    from emulator.services.sas.api import actions as sas_wire

    registry = Registry()
    emu.dms.register(registry)
    sas_wire.register(registry, emu)
    return Gateway(emu, registry)


def create_app(settings: Settings | None = None, emulator: Emulator | None = None) -> Flask:
    emu = emulator or Emulator(settings or Settings())
    app = Flask("emulator")
    gateway = LazyGateway(emu)
    flask_wsgi = app.wsgi_app
    console = lazy_console(emu, gateway)

    def api(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        status, headers, body = gateway.handle(environ)
        start_response(status, headers)
        return [body]

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """`/` goes straight to the gateway (no framework on the hot path); Flask serves the rest,
        the console's pages on their own app."""
        path = environ.get("PATH_INFO", "/")
        if path == "/":
            return api(environ, start_response)
        if admin_web.is_console(path):
            return console.built().wsgi_app(environ, start_response)
        return flask_wsgi(environ, start_response)

    app.wsgi_app = ConnectionFaults(dispatch)  # type: ignore[method-assign,assignment]
    admin_app(app, emu, gateway)
    admin_web.init_app(app)  # control plane, download links, their guard and errors
    return app


def lazy_console(emu: Emulator, gateway: LazyGateway) -> Once[Flask]:
    """The console (HTML pages under /_emulator/ui), a Flask app of its own built at the first
    console request: its modules, templates and routes cost a start nothing."""

    def build() -> Flask:
        ui = Flask("emulator")
        admin_app(ui, emu, gateway)
        admin_web.init_console(ui)
        return ui

    return Once(build)


def admin_app(app: Flask, emu: Emulator, gateway: LazyGateway) -> None:
    """What the control plane's app and the console's share: the emulator, the gateway, the
    answers to unexpected errors and to paths off their routes."""
    app.extensions["dms_emulator"] = emu
    app.extensions["dms_gateway"] = gateway

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        """A bug behind the control plane or console: logged with its traceback, answered in JSON."""
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return exc  # type: ignore[return-value]
        logging.getLogger("emulator.admin.control_api").exception(
            "unexpected error on %s", request.path
        )
        return Response(
            json.dumps({"error": f"internal error ({type(exc).__name__}); see the server log"}),
            status=500,
            content_type="application/json",
        )

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)  # browsers ask for it; not an API call worth a journal entry

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def not_api(exc: Exception) -> Response:
        """Anything off the routes above still answers in the Alibaba envelope."""
        if request.path.startswith("/_emulator"):
            code = getattr(exc, "code", 404)
            return Response(
                f'{{"error": "{getattr(exc, "name", "Not Found")}"}}',
                status=code,
                content_type="application/json",
            )
        status, headers, body = gateway.handle(request.environ)
        return Response(body, status=int(status.split()[0]), headers=headers)
