"""Data export on the wire: CreateDataExportOrder, GetDataExportOrderDetail,
GetDataExportPreCheckDetail, ExecuteDataExport, GetDataExportDownloadURL."""

from __future__ import annotations

from typing import Any

from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_int, opt_json, req_int, req_json, req_str
from emulator.services.dms.api.common import (
    Action,
    business,
    caller,
    lifecycle_fault,
    plugin_param,
    related_json,
)
from emulator.services.dms.api.tickets import CREATE_STAGES, create_ticket
from emulator.services.dms.context import DmsContext
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.model import ExportSpec
from emulator.services.dms.domain.tickets import Ticket


def _db_label(ctx: DmsContext, t: Ticket, db_id: int) -> str:
    db = ctx.tickets.database_of(t, db_id)
    return f"{db.schema} @ {db.host}:{db.port} [{db.schema}]"


def _export_ticket(call: Call, ctx: DmsContext) -> tuple[Ticket, ExportSpec]:
    user = caller(call)
    t = ctx.tickets.of(user, req_int(call.params, "OrderId", 1), call.now, "DATA_EXPORT")
    spec = t.spec
    assert isinstance(spec, ExportSpec)
    return t, spec


@business
def create_data_export_order(call: Call, ctx: DmsContext) -> dict[str, Any]:
    raw = plugin_param(req_json(call.params, "PluginParam"))
    comment = req_str(call.params, "Comment", 4000)
    related = related_json(call)
    opt_int(call.params, "ParentId", 0)
    t = create_ticket(call, ctx, "DATA_EXPORT", raw, comment, related)
    return {"CreateOrderResult": {"CreateOrderResult": [t.id]}}


@business
def get_data_export_order_detail(call: Call, ctx: DmsContext) -> dict[str, Any]:
    t, p = _export_ticket(call, ctx)
    state = t.state
    assert state is not None
    key: dict[str, Any] = {
        "JobStatus": state.status,
        "PreCheckId": t.doc.get("precheck", {}).get("id"),
    }
    if "job" in t.doc and lifecycle.reached_execution(state):
        key["JobId"] = t.doc["job"]["id"]
    detail = {
        "ActualAffectRows": t.doc.get("precheck", {}).get("affect_rows", 0)
        if lifecycle.precheck_done(state)
        else 0,
        "Classify": p.classify,
        "Database": _db_label(ctx, t, p.db_id),
        "DbId": p.db_id,
        "EnvType": ctx.tickets.database_of(t, p.db_id).env_type,
        "ExeSQL": p.sql,
        "IgnoreAffectRows": p.ignore_affect_rows,
        "IgnoreAffectRowsReason": p.ignore_reason or "",
        "Logic": p.logic,
    }
    return {
        "DataExportOrderDetail": {
            "KeyInfo": {k: v for k, v in key.items() if v is not None},
            "OrderDetail": detail,
        }
    }


@business
def get_data_export_pre_check_detail(call: Call, ctx: DmsContext) -> dict[str, Any]:
    t, spec = _export_ticket(call, ctx)
    pc = t.doc.get("precheck", {})
    items: list[dict[str, Any]] = []
    if t.state and lifecycle.precheck_done(t.state):
        if pc.get("ok"):
            items = [
                {**d, "CheckResult": "SUCCESS", "CheckMessage": ""} for d in pc.get("details", [])
            ]
        else:
            items = [
                {
                    "SQL": spec.sql,
                    "AffectRows": pc.get("affect_rows", 0),
                    "CheckResult": "FAIL",
                    "CheckMessage": pc.get("reason", ""),
                }
            ]
    body: dict[str, Any] = {
        "PreCheckResult": {
            "IgnoreAffectRows": spec.ignore_affect_rows,
            "PreCheckDetailList": {"PreCheckDetailList": items},
        }
    }
    if items and not pc.get("ok"):
        # SDK models drop CheckMessage; ErrorMessage (present in documented success bodies) carries it
        body.update(ErrorCode="PreCheckFailed", ErrorMessage=pc.get("reason", ""))
    return body


@business
def execute_data_export(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    order_id = req_int(call.params, "OrderId", 1)
    present, detail = opt_json(call.params, "ActionDetail")
    if present and not isinstance(detail, dict):
        raise errors.invalid("ActionDetail", "It must be a JSON object.")
    ctx.workflow.execute(user, order_id, detail or {}, lifecycle_fault(call), call.now)
    return {}


@business
def get_data_export_download_url(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    key, tip = ctx.workflow.download(user, req_int(call.params, "OrderId", 1), call.now)
    if key is None:
        return {"DownloadURLResult": {"HasResult": False, "TipMessage": tip}}
    return {
        "DownloadURLResult": {
            "HasResult": True,
            "TipMessage": "",
            "URL": ctx.artifacts.download_link(call.base_url, key, call.now),
        }
    }


ACTIONS = {
    "CreateDataExportOrder": Action(create_data_export_order, CREATE_STAGES),
    "GetDataExportOrderDetail": Action(get_data_export_order_detail),
    "GetDataExportPreCheckDetail": Action(get_data_export_pre_check_detail),
    "ExecuteDataExport": Action(execute_data_export, ("export",)),
    "GetDataExportDownloadURL": Action(get_data_export_download_url),
}
