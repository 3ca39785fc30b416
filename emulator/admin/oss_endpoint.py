"""OSS-style download endpoint: serves result files behind signed, expiring links only.

A refused link answers OSS's XML error; which code and status comes from the class of the
link error (its table below), never from the message."""

from __future__ import annotations

from flask import Blueprint, Response, request, send_file

from emulator.admin.context import emulator
from emulator.admin.errors import lookup
from emulator.core.clock import iso
from emulator.platform.artifacts import LINK_PREFIX, LinkError, LinkExpired, NoSuchKey

bp = Blueprint("oss", __name__)

# link error class -> (OSS code, HTTP status), looked up along the class hierarchy
OSS_ERRORS: dict[type[Exception], tuple[str, int]] = {
    NoSuchKey: ("NoSuchKey", 404),
    LinkExpired: ("AccessDenied", 403),
    LinkError: ("AccessDenied", 403),
}


def denied(err: LinkError, expires: str) -> Response:
    from xml.sax.saxutils import escape  # an error page is rare: not loaded at start

    emu = emulator()
    rid = emu.rng.token(12).upper()
    extra = ""
    if isinstance(err, LinkExpired):
        try:
            extra = f"<Expires>{iso(int(expires))}</Expires><ServerTime>{iso(emu.clock.now())}</ServerTime>"
        except (ValueError, OverflowError, OSError):
            extra = ""
    code, status = lookup(OSS_ERRORS, err) or ("AccessDenied", 403)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
        f"<Code>{code}</Code><Message>{escape(str(err))}</Message><RequestId>{rid}</RequestId>"
        f"<HostId>{escape(request.host)}</HostId>{extra}</Error>"
    )
    return Response(
        body, status=status, content_type="application/xml", headers={"x-oss-request-id": rid}
    )


@bp.route(f"{LINK_PREFIX}/<bucket>/<path:key>", methods=["GET", "HEAD"])
def download(bucket: str, key: str) -> Response:
    emu = emulator()
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
        return denied(err, args.get("Expires", ""))
    return send_file(
        art.path or "",
        as_attachment=True,
        download_name=key.rsplit("/", 1)[-1],
        conditional=False,
    )
