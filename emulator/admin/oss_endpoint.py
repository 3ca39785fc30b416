"""OSS-style download endpoint: serves result files behind signed, expiring links only."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from flask import Blueprint, Response, request, send_file

from emulator.core.clock import iso
from emulator.platform.artifacts import LINK_PREFIX, LinkError

if TYPE_CHECKING:
    from emulator.wiring import Emulator


def _denied(emu: Emulator, err: LinkError, expires: str) -> Response:
    rid = emu.rng.token(12).upper()
    extra = ""
    if err.expired:
        try:
            extra = f"<Expires>{iso(int(expires))}</Expires><ServerTime>{iso(emu.clock.now())}</ServerTime>"
        except ValueError:
            extra = ""
    code = "NoSuchKey" if "does not exist" in str(err) else "AccessDenied"
    status = 404 if code == "NoSuchKey" else 403
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
        f"<Code>{code}</Code><Message>{escape(str(err))}</Message><RequestId>{rid}</RequestId>"
        f"<HostId>{escape(request.host)}</HostId>{extra}</Error>"
    )
    return Response(
        body, status=status, content_type="application/xml", headers={"x-oss-request-id": rid}
    )


def oss_blueprint(emu: Emulator) -> Blueprint:
    bp = Blueprint("oss", __name__)

    @bp.route(f"{LINK_PREFIX}/<bucket>/<path:key>", methods=["GET", "HEAD"])
    def download(bucket: str, key: str) -> Response:
        args = request.args
        try:
            art = emu.artifacts.resolve(
                bucket,
                key,
                args.get("OSSAccessKeyId", ""),
                args.get("Expires", ""),
                args.get("Signature", ""),
                emu.clock.now(),
            )
        except LinkError as err:
            return _denied(emu, err, args.get("Expires", ""))
        return send_file(
            art.path or "",
            as_attachment=True,
            download_name=key.rsplit("/", 1)[-1],
            conditional=False,
        )

    return bp
