"""The control plane (`/_emulator/...`): JSON over HTTP, unsigned, as CONTRACT.md fixes it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from emulator import __version__
from emulator.core.clock import iso
from emulator.core.errors import DomainError, NotFound
from emulator.faults.engine import FaultError, validate_rule
from emulator.faults.scenarios import (
    ScenarioError,
    check_scenario,
    read_scenario,
    shipped_scenario,
    shipped_scenarios,
)
from emulator.services.dms.views import all_tickets, decide, find_ticket, ticket_view
from emulator.state.store import StoreVersionError

if TYPE_CHECKING:
    from emulator.wiring import Emulator

SETTLE_SECONDS = 30.0


def _json(doc: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False), status=status, content_type="application/json"
    )


def _bad(message: str, status: int = 400) -> Response:
    return _json({"error": message}, status)


def _body() -> dict[str, Any]:
    if not request.get_data():
        return {}
    doc = request.get_json(silent=True)
    if not isinstance(doc, dict):
        raise ValueError("the body must be a JSON object")
    return doc


def control_blueprint(emu: Emulator) -> Blueprint:
    bp = Blueprint("control", __name__)

    @bp.errorhandler(ValueError)
    def bad_value(exc: ValueError) -> Response:
        return _bad(str(exc))

    @bp.get("/health")
    def health() -> Response:
        return _json(
            {
                "status": "ok",
                "version": __version__,
                "clock": emu.clock.mode,
                "tenants": sorted(emu.accounts.tenants),
                "state": emu.settings.state or "memory",
                "workers": emu.settings.workers,
                "jobs_running": emu.jobs.busy,
            }
        )

    @bp.post("/reset")
    def reset() -> Response:
        body = _body()
        tid = body.get("tid")
        if tid is not None and (isinstance(tid, bool) or not isinstance(tid, int)):
            return _bad("tid: must be an integer")
        if tid is not None and tid not in emu.accounts.tenants:
            return _bad(f"tid: unknown tenant {tid}", 404)
        emu.jobs.wait_idle(SETTLE_SECONDS)
        emu.reset(tid)
        return _json({"status": "reset", "tid": tid})

    def clock_doc() -> dict[str, Any]:
        now = emu.clock.now()
        return {"now": iso(now), "epoch": now, "mode": emu.clock.mode}

    @bp.get("/clock")
    def clock() -> Response:
        return _json(clock_doc())

    @bp.post("/clock/advance")
    def advance() -> Response:
        seconds = _body().get("seconds")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not 0 <= seconds <= 10**9
        ):
            return _bad("seconds: must be a number between 0 and 1e9")
        emu.clock.advance(float(seconds))
        emu.save_clock()
        settled = emu.jobs.wait_idle(SETTLE_SECONDS)  # jobs due by now finish before we answer
        return _json({**clock_doc(), "settled": settled})

    @bp.get("/faults")
    def faults_list() -> Response:
        tid = _int_arg("tid")
        rules = [r for r in emu.faults.list() if tid is None or r["match"].get("tid") == tid]
        return _json({"faults": rules})

    @bp.post("/faults")
    def faults_add() -> Response:
        doc = request.get_json(silent=True)
        try:
            clean = validate_rule(doc)
        except FaultError as exc:
            return _bad(str(exc))
        match = clean.get("match") or {}
        if clean["effect"]["type"] == "lifecycle" and "order_id" in match:
            # aimed at one existing ticket: change its schedule now instead of waiting for a request
            try:
                how = emu.workflow.apply_fault(
                    match.get("tid"), int(match["order_id"]), clean["effect"]
                )
            except DomainError as exc:
                return _bad(
                    f"match.order_id: {exc.message}", 404 if isinstance(exc, NotFound) else 409
                )
            return _json({**clean, "id": None, "applied": how}, 201)
        rule = emu.faults.add(clean)
        return _json(rule.to_doc(), 201)

    @bp.delete("/faults")
    def faults_clear() -> Response:
        emu.faults.clear(_int_arg("tid"))
        return _json({"deleted": "all"})

    @bp.post("/scenarios")
    def scenario_load() -> Response:
        """Load a scenario: `{"name": "<shipped>"}`, `{"path": FILE}` or the scenario itself."""
        body = _body()
        try:
            if "name" in body and "faults" not in body:
                doc = read_scenario(shipped_scenario(str(body["name"])))
            elif "path" in body:
                doc = read_scenario(str(body["path"]))
            else:
                doc = check_scenario(body, "in the request body")
        except ScenarioError as exc:
            return _bad(str(exc))
        ids = [
            emu.faults.add({**rule, "name": rule.get("name") or doc.get("name")}).id
            for rule in doc["faults"]
        ]
        return _json({"name": doc.get("name"), "fault_ids": ids}, 201)

    @bp.get("/scenarios")
    def scenario_list() -> Response:
        return _json({"scenarios": shipped_scenarios()})

    @bp.delete("/faults/<rule_id>")
    def faults_remove(rule_id: str) -> Response:
        if not emu.faults.remove(rule_id):
            return _bad(f"no fault rule {rule_id}", 404)
        return _json({"deleted": rule_id})

    def _int_arg(name: str) -> int | None:
        raw = request.args.get(name)
        if raw in (None, ""):
            return None
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name}: must be an integer") from None

    def _float_arg(name: str) -> float | None:
        raw = request.args.get(name)
        if raw in (None, ""):
            return None
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{name}: must be a number (UNIX seconds)") from None

    @bp.get("/requests")
    def journal() -> Response:
        a = request.args
        entries = emu.journal.query(
            action=a.get("action") or None,
            code=a.get("code") or None,
            access_key_id=a.get("access_key_id") or None,
            tid=_int_arg("tid"),
            request_id=a.get("request_id") or None,
            since=_float_arg("since"),
            until=_float_arg("until"),
            limit=_int_arg("limit"),
        )
        return _json({"requests": entries, "count": len(entries)})

    @bp.delete("/requests")
    def journal_clear() -> Response:
        emu.journal.clear(_int_arg("tid"))
        return _json({"deleted": "all"})

    @bp.get("/tickets")
    def tickets_list() -> Response:
        return _json(
            {
                "tickets": [
                    ticket_view(emu.dms.ctx, t) for t in all_tickets(emu.dms.ctx, _int_arg("tid"))
                ]
            }
        )

    @bp.get("/tickets/<int:order_id>")
    def ticket_get(order_id: int) -> Response:
        try:
            return _json(ticket_view(emu.dms.ctx, find_ticket(emu.dms.ctx, order_id)))
        except DomainError as exc:
            return _bad(exc.message, 404)

    @bp.post("/tickets/<int:order_id>/<any(approve, reject):verdict>")
    def ticket_decide(order_id: int, verdict: str) -> Response:
        body = _body()
        uid = body.get("uid")
        if uid is not None and (isinstance(uid, bool) or not isinstance(uid, int)):
            return _bad("uid: must be an integer")
        try:
            t = decide(
                emu.dms.ctx,
                order_id,
                "AGREE" if verdict == "approve" else "REJECT",
                str(body.get("comment") or ""),
                uid,
            )
        except DomainError as exc:
            return _bad(exc.message, 404 if isinstance(exc, NotFound) else 409)
        return _json(ticket_view(emu.dms.ctx, t))

    @bp.get("/state")
    def state_export() -> Response:
        emu.jobs.wait_idle(SETTLE_SECONDS)
        return _json(
            {
                "format": "dms-emulator-state",
                "version": 1,
                "clock": emu.clock.snapshot(),
                "tables": emu.store.dump(),
                "faults": emu.faults.list(),
            }
        )

    @bp.put("/state")
    def state_import() -> Response:
        doc = request.get_json(silent=True)
        if not isinstance(doc, dict) or doc.get("format") != "dms-emulator-state":
            return _bad("the body must be a state document from GET /_emulator/state")
        if not isinstance(doc.get("tables"), dict):
            return _bad("tables: missing or not an object")
        emu.jobs.wait_idle(SETTLE_SECONDS)
        try:
            emu.store.load(doc["tables"])
        except (ValueError, StoreVersionError, Exception) as exc:  # the store rolled back
            return _bad(f"state not imported: {exc}")
        emu.artifacts.reload_keys()
        if isinstance(doc.get("clock"), dict):
            emu.clock.restore({**doc["clock"], "mode": emu.clock.mode})
            emu.save_clock()
        return _json({"status": "imported"})

    return bp
