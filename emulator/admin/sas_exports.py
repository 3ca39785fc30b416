"""The console's Sas exports page (/_emulator/ui/sas): every export task of every family with
its progress on the emulated clock and, once done, its download link. Read-only, works without
JavaScript. Kept in its own module (owned by the Sas side) so the console stays small."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, render_template, request

from emulator.core.clock import iso
from emulator.services.sas.domain import lifecycle
from emulator.services.sas.domain.lifecycle import Family

if TYPE_CHECKING:
    from emulator.wiring import Emulator

# family -> (start action, poll actions): how a user would find the task again
ACTIONS = {
    Family.RECORD: ("ExportRecord", "DescribeExportInfo"),
    Family.VUL: ("ExportVul", "DescribeVulExportInfo"),
    Family.WARNING: ("ExportWarning", "DescribeWarningExportInfo, DescribeHcExportInfo"),
    Family.SUSP: ("ExportSuspEvents", "DescribeSuspEventExportInfo"),
}


def sas_exports_blueprint(emu: Emulator) -> Blueprint:
    bp = Blueprint("sas_console", __name__, template_folder="templates")

    @bp.get("/")
    def exports() -> str:
        tid = request.args.get("tid", type=int)
        now = emu.clock.now()
        rows: list[dict[str, Any]] = []
        for tenant, view in emu.sas.list(tid):
            p = view.progress
            start, polls = ACTIONS[view.family]
            link = None
            if view.artifact_key:
                expires = int(now) + emu.settings.link_ttl
                link = emu.artifacts.link(request.host_url, view.artifact_key, expires)
            rows.append(
                {
                    "tid": tenant,
                    "id": view.id,
                    "start": start,
                    "polls": polls,
                    "file_name": view.file_name,
                    "status": lifecycle.STANDARD[p.phase],
                    "percent": p.percent,
                    "current": p.current,
                    "total": p.total,
                    "created": iso(view.created_at),
                    "message": view.message,
                    "link": link,
                    "filters": view.properties,
                }
            )
        running = any(r["status"] not in ("success", "failed") for r in rows)
        return render_template(
            "sas_exports.html",
            clock={"now": iso(now), "mode": emu.clock.mode},
            message=request.args.get("message"),
            exports=rows,
            tenants=list(emu.accounts.tenants.values()),
            tid=tid,
            refresh=3 if running and request.args.get("refresh") != "0" else None,
        )

    return bp
