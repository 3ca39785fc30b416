"""The control plane (`/_emulator/...`): JSON over HTTP, unsigned, as CONTRACT.md fixes it.

Each route reads its input, calls one shared operation and answers JSON; errors are raised as
classes and answered by the one table in `emulator.admin.web`."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request

from emulator.admin import operations as ops
from emulator.admin.context import emulator
from emulator.admin.errors import Invalid, Refused

bp = Blueprint("control", __name__)


def answer(doc: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False), status=status, content_type="application/json"
    )


def body() -> dict[str, Any]:
    """The JSON object sent (an empty body is `{}`)."""
    if not request.get_data():
        return {}
    try:
        doc = json.loads(request.get_data())
    except ValueError:
        raise Invalid("the body must be a JSON object (not valid JSON)") from None
    if not isinstance(doc, dict):
        raise Invalid("the body must be a JSON object")
    return doc


def any_body() -> Any:
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        raise Invalid("the body must be JSON") from None


@bp.get("/health")
def health() -> Response:
    return answer(ops.health(emulator()))


@bp.post("/reset")
def reset() -> Response:
    return answer({"status": "reset", "tid": ops.reset(emulator(), body().get("tid"))})


@bp.get("/clock")
def clock() -> Response:
    return answer(ops.clock(emulator()))


@bp.post("/clock/advance")
def advance() -> Response:
    return answer(ops.advance(emulator(), body().get("seconds")))


@bp.get("/faults")
def faults_list() -> Response:
    return answer({"faults": ops.faults(emulator(), request.args.get("tid"))})


@bp.post("/faults")
def faults_add() -> Response:
    return answer(ops.add_fault(emulator(), any_body()), 201)


@bp.delete("/faults")
def faults_clear() -> Response:
    ops.clear_faults(emulator(), request.args.get("tid"))
    return answer({"deleted": "all"})


@bp.delete("/faults/<rule_id>")
def faults_remove(rule_id: str) -> Response:
    ops.remove_fault(emulator(), rule_id)
    return answer({"deleted": rule_id})


@bp.post("/scenarios")
def scenario_load() -> Response:
    """`{"name": "<shipped>"}`, `{"path": FILE}` or the scenario itself."""
    return answer(ops.load_scenario(emulator(), body()), 201)


@bp.get("/scenarios")
def scenario_list() -> Response:
    return answer({"scenarios": ops.shipped_scenarios()})


@bp.get("/requests")
def journal() -> Response:
    where = ops.journal_filter(request.args)
    entries = ops.requests(emulator(), where, request.args.get("limit"))
    return answer({"requests": entries, "count": len(entries)})


@bp.get("/requests/count")
def journal_count() -> Response:
    return answer({"count": ops.count(emulator(), ops.journal_filter(request.args))})


@bp.post("/requests/verify")
def journal_verify() -> Response:
    return answer(ops.verify(emulator(), body()))


@bp.delete("/requests")
def journal_clear() -> Response:
    ops.clear_requests(emulator(), request.args.get("tid"))
    return answer({"deleted": "all"})


@bp.get("/tickets")
def tickets_list() -> Response:
    emu = emulator()
    views = [ops.ticket_view(emu, t) for t in ops.tickets(emu, request.args.get("tid"))]
    return answer({"tickets": views})


@bp.get("/tickets/<int:order_id>")
def ticket_get(order_id: int) -> Response:
    emu = emulator()
    return answer(ops.ticket_view(emu, ops.ticket(emu, order_id)))


@bp.post("/tickets/<int:order_id>/<any(approve, reject):verdict>")
def ticket_decide(order_id: int, verdict: str) -> Response:
    emu = emulator()
    doc = body()
    t = ops.decide(emu, order_id, verdict, doc.get("comment"), doc.get("uid"))
    return answer(ops.ticket_view(emu, t))


@bp.get("/state")
def state_export() -> Response:
    emu = emulator()
    secrets = request.args.get("secrets", "").lower() in ("1", "true", "yes")
    if secrets and not emu.settings.control_token:
        raise Refused(
            "secrets: the link-signing secret is only handed out by an emulator started with "
            "--control-token"
        )
    return answer(ops.export_state(emu, secrets))


@bp.put("/state")
def state_import() -> Response:
    ops.import_state(emulator(), any_body())
    return answer({"status": "imported"})
