"""The console's catalog pages (/_emulator/ui/catalog): each tenant's instances, their databases,
tables with row counts, and one table's columns and indexes, read live like the metadata actions.
Server-rendered, no JavaScript; what an ADMIN of the tenant would see."""

from __future__ import annotations

from flask import Blueprint, abort, request

from emulator.admin.console import page
from emulator.admin.context import emulator

bp = Blueprint("catalog", __name__, template_folder="templates")


@bp.get("/")
def index() -> str:
    from emulator.services.dms.domain import meta as m

    emu = emulator()
    tid = request.args.get("tid", type=int)
    tenants = [t for t in emu.accounts.tenants.values() if tid is None or t.tid == tid]
    view = []
    for t in tenants:
        instances = []
        for inst in emu.meta.instances(t.tid):
            dbs = []
            for db in inst.databases:
                # a server that is down, or a schema dropped behind DMS's back, is shown as such
                try:
                    names = emu.meta.list_tables(db)
                    stats = emu.meta.table_stats(db, [n for n, _ in names])
                    error = None
                except m.Unreadable as exc:
                    names, stats, error = [], {}, str(exc) or type(exc).__name__
                dbs.append(
                    {
                        "db": db,
                        "db_type": m.db_type(db),
                        "tables": [(n, k, stats.get(n, (0, 0))[0]) for n, k in names],
                        "error": error,
                    }
                )
            instances.append({"inst": inst, "databases": dbs})
        view.append({"tenant": t, "instances": instances})
    return page("catalog.html", view=view, tenants=list(emu.accounts.tenants.values()), tid=tid)


@bp.get("/<int:db_id>/<path:table>")
def table(db_id: int, table: str) -> str:
    from emulator.services.dms.domain import meta as m

    emu = emulator()
    db = emu.accounts.databases.get(db_id)
    try:
        found = emu.meta.describe_table(db, table) if db else None
    except m.Unreadable:
        found = None  # the database cannot be read now: no such table to show
    if db is None or found is None:
        abort(404)
    return page(
        "catalog_table.html",
        db=db,
        t=found,
        guid=m.table_guid(db, table),
        table_id=m.table_id(db, table),
    )
