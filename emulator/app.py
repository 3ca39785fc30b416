"""The Flask app factory: the API gateway on `/`, the control plane, and download links."""

from __future__ import annotations

from flask import Flask, Response, request

from emulator.control import control_blueprint
from emulator.gateway.pipeline import Gateway
from emulator.gateway.registry import Registry
from emulator.netfaults import ConnectionFaults
from emulator.oss import oss_blueprint
from emulator.runtime import Emulator
from emulator.services.dms import wire as dms_wire
from emulator.services.sas import wire as sas_wire
from emulator.settings import Settings

MAX_BODY = 16 * 1024 * 1024


def create_app(settings: Settings | None = None, emulator: Emulator | None = None) -> Flask:
    emu = emulator or Emulator(settings or Settings())
    app = Flask("emulator")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_BODY  # a form field may be a large PluginParam
    registry = Registry()
    gateway = Gateway(emu, registry)
    dms_wire.register(registry, emu, gateway)
    sas_wire.register(registry, emu, gateway)
    app.wsgi_app = ConnectionFaults(app.wsgi_app)  # type: ignore[method-assign]
    app.extensions["dms_emulator"] = emu
    app.extensions["dms_gateway"] = gateway

    @app.route("/", methods=["GET", "POST"])
    def api() -> Response:
        return gateway.handle(request)

    app.register_blueprint(control_blueprint(emu), url_prefix="/_emulator")
    app.register_blueprint(oss_blueprint(emu))

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
        return gateway.handle(request)

    return app
