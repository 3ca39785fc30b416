"""The web console at /_emulator/ui: tickets with their history and lifecycle diagram, approve and
reject buttons (what a DBA does in the DMS console), fault rules, the request journal.
Server-rendered HTML forms: everything reads and works with JavaScript disabled."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from emulator.core.errors import DomainError
from emulator.faults.engine import FaultError
from emulator.faults.scenarios import (
    ScenarioError,
    read_scenario,
    shipped_scenario,
    shipped_scenarios,
)
from emulator.services.dms import diagram
from emulator.services.dms.views import all_tickets, decide, find_ticket, ticket_view

if TYPE_CHECKING:
    from emulator.wiring import Emulator


def console_blueprint(emu: Emulator) -> Blueprint:
    bp = Blueprint("console", __name__, template_folder="templates")

    def page(template: str, **kw: Any) -> str:
        from emulator.core.clock import iso

        clock = {"now": iso(emu.clock.now()), "mode": emu.clock.mode}
        return render_template(template, clock=clock, message=request.args.get("message"), **kw)

    def back(endpoint: str, message: str, **kw: Any) -> Response:
        return redirect(url_for(endpoint, message=message, **kw), code=303)  # type: ignore[return-value]

    @bp.get("/")
    def index() -> Response:
        return redirect(url_for("console.tickets"))  # type: ignore[return-value]

    @bp.get("/tickets")
    def tickets() -> str:
        tid = request.args.get("tid", type=int)
        views = [ticket_view(emu.dms.ctx, t) for t in all_tickets(emu.dms.ctx, tid)]
        running = any(not v["finished"] for v in views)
        return page(
            "tickets.html",
            tickets=views,
            tenants=list(emu.accounts.tenants.values()),
            tid=tid,
            refresh=3 if running and request.args.get("refresh") != "0" else None,
        )

    @bp.get("/tickets/<int:order_id>")
    def ticket(order_id: int) -> Any:
        try:
            t = find_ticket(emu.dms.ctx, order_id)
        except DomainError as exc:
            return exc.message, 404
        view = ticket_view(emu.dms.ctx, t)
        download = None
        if view["result_key"]:
            expires = int(emu.clock.now()) + emu.settings.link_ttl
            download = emu.artifacts.link(request.host_url, view["result_key"], expires)
        waiting = (
            view["status"] in ("WAITING_APPLY_AUDIT", "APPLY_AUDIT_SUCCESS")
            or view["status_code"] in ("new", "toaudit")
            and view["plugin_type"] != "DATA_EXPORT"
        )
        return page(
            "ticket.html",
            t=view,
            download=download,
            can_decide=waiting and not view["closed"],
            svg=diagram.render(view["plugin_type"], view["path"], view["closed"]),
            refresh=2 if not view["finished"] and request.args.get("refresh") != "0" else None,
        )

    def decide_(order_id: int, verdict: str) -> Response:
        try:
            decide(
                emu.dms.ctx,
                order_id,
                "AGREE" if verdict == "approve" else "REJECT",
                request.form.get("comment", ""),
            )
            message = f"Ticket {order_id} {'approved' if verdict == 'approve' else 'rejected'}."
        except DomainError as exc:
            message = f"Not possible: {exc.message}"
        return back("console.ticket", message, order_id=order_id)

    bp.add_url_rule(
        "/tickets/<int:order_id>/<any(approve, reject):verdict>",
        "decide",
        decide_,
        methods=["POST"],
    )

    @bp.post("/clock/advance")
    def advance() -> Response:
        try:
            seconds = float(request.form.get("seconds", "0"))
            if not 0 <= seconds <= 10**9:
                raise ValueError
        except ValueError:
            return back("console.tickets", "seconds: a number between 0 and 1e9")
        emu.clock.advance(seconds)
        emu.save_clock()
        emu.jobs.wait_idle(30)
        target = request.referrer or url_for("console.tickets")
        return redirect(target, code=303)  # type: ignore[return-value]

    @bp.get("/faults")
    def faults() -> str:
        return page("faults.html", faults=emu.faults.list(), scenarios=shipped_scenarios())

    @bp.post("/faults")
    def fault_add() -> Response:
        try:
            rule = emu.faults.add(json.loads(request.form.get("rule", "")))
            message = f"Added rule {rule.id}."
        except (ValueError, FaultError) as exc:
            message = f"Invalid rule: {exc}"
        return back("console.faults", message)

    @bp.post("/faults/<rule_id>/remove")
    def fault_remove(rule_id: str) -> Response:
        emu.faults.remove(rule_id)
        return back("console.faults", f"Removed rule {rule_id}.")

    @bp.post("/scenarios")
    def scenario_load() -> Response:
        try:
            doc = read_scenario(shipped_scenario(request.form.get("name", "")))
            ids = [
                emu.faults.add({**r, "name": r.get("name") or doc.get("name")}).id
                for r in doc["faults"]
            ]
            message = f"Loaded {doc.get('name')}: {', '.join(ids)}."
        except ScenarioError as exc:
            message = str(exc)
        return back("console.faults", message)

    @bp.get("/requests")
    def journal() -> str:
        a = request.args
        f: dict[str, Any] = {
            "action": a.get("action") or None,
            "code": a.get("code") or None,
            "access_key_id": a.get("access_key_id") or None,
            "tid": a.get("tid", type=int),
        }
        entries = emu.journal.query(
            action=f["action"],
            code=f["code"],
            access_key_id=f["access_key_id"],
            tid=f["tid"],
            limit=300,
        )
        return page("journal.html", entries=list(reversed(entries)), f=f)

    return bp
