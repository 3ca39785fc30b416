"""The console's Sas exports page (/_emulator/ui/sas): every export task of every family with
its progress on the emulated clock and, once done, its download link. Read-only, works without
JavaScript. Its own module (kept by the Sas side) so the console stays small."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from emulator.admin import operations as ops
from emulator.admin.context import emulator
from emulator.core.clock import iso
from emulator.services.sas.domain import lifecycle
from emulator.services.sas.domain.lifecycle import Family

bp = Blueprint("sas_console", __name__, template_folder="templates")

# family -> (start action, poll actions): how a user finds the task again
ACTIONS = {
    Family.RECORD: ("ExportRecord", "DescribeExportInfo"),
    Family.VUL: ("ExportVul", "DescribeVulExportInfo"),
    Family.WARNING: ("ExportWarning", "DescribeWarningExportInfo, DescribeHcExportInfo"),
    Family.SUSP: ("ExportSuspEvents", "DescribeSuspEventExportInfo"),
}


@bp.get("/")
def exports() -> str:
    emu = emulator()
    tid = request.args.get("tid", type=int)
    now = emu.clock.now()
    rows: list[dict[str, Any]] = []
    for tenant, view in emu.sas.list(tid, now):
        p = view.progress
        start, polls = ACTIONS[view.family]
        link = None
        if view.artifact_key:
            link = emu.artifacts.download_link(request.host_url, view.artifact_key, now)
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
        clock=ops.clock(emu),
        message=request.args.get("message"),
        here=request.full_path.rstrip("?"),
        exports=rows,
        tenants=list(emu.accounts.tenants.values()),
        tid=tid,
        refresh=3 if running and request.args.get("refresh") != "0" else None,
    )
