"""Data tracking on the wire: CreateDataTrackOrder, DownloadDataTrackResult and
QueryDataTrackResultDownloadStatus. The SDK's ColumnFilter keys end here, at the edge."""

from __future__ import annotations

from typing import Any

from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_enum, opt_json, req_int, req_json, req_str
from emulator.services.dms.api import validate
from emulator.services.dms.api.common import (
    Action,
    business,
    caller,
    parse_time,
    plugin_param,
    related_json,
)
from emulator.services.dms.api.tickets import create_ticket
from emulator.services.dms.context import DmsContext
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.datatrack import ColumnFilter, parse_filters


@business
def create_data_track_order(call: Call, ctx: DmsContext) -> dict[str, Any]:
    raw = plugin_param(req_json(call.params, "Param"))
    validate.datatrack_param(raw)
    comment = req_str(call.params, "Comment", 4000)
    related = related_json(call)
    caller(call)
    t = create_ticket(call, ctx, "DATA_TRACK", raw, comment, related, param_name="Param")
    return {"CreateOrderResult": [t.id]}


def _json_list(
    params: dict[str, str], name: str, item: type, allowed: tuple[str, ...] | None = None
) -> list[Any] | None:
    present, value = opt_json(params, name)
    if not present:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, item) and not isinstance(v, bool) for v in value
    ):
        raise errors.invalid(name, f"It must be a JSON array of {item.__name__}.")
    if allowed and any(v not in allowed for v in value):
        raise errors.invalid(name, f"Valid values: {', '.join(allowed)}.")
    return value


def _column_filter(call: Call) -> ColumnFilter | None:
    present, column = opt_json(call.params, "ColumnFilter")
    if present:
        validate.column_filter(column)
    if column is None:
        return None
    return ColumnFilter(
        column=str(column.get("ColumnName") or ""),
        operator=str(column.get("Operator") or "EQUAL"),
        value=None if column.get("Value") is None else str(column["Value"]),
        in_list=tuple(str(x) for x in column.get("InList") or []),
        between=(column.get("BetweenStart"), column.get("BetweenEnd")),
    )


@business
def download_data_track_result(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    order_id = req_int(call.params, "OrderId", 1)
    tables = _json_list(call.params, "FilterTableList", str)
    types = _json_list(call.params, "FilterTypeList", str, ("INSERT", "UPDATE", "DELETE"))
    ids = _json_list(call.params, "EventIdList", int)
    column_filter = _column_filter(call)
    start, end = parse_time(call, "FilterStartTime"), parse_time(call, "FilterEndTime")
    rollback = opt_enum(call.params, "RollbackSQLType", ("REVERSE", "FORWARD"), "REVERSE")
    filters = parse_filters(
        tables,
        types,
        call.params.get("FilterStartTime") if start else None,
        call.params.get("FilterEndTime") if end else None,
        column_filter,
        ids,
    )
    t = ctx.tickets.of(user, order_id, call.now, "DATA_TRACK", act=True)
    ready = t.state is not None and lifecycle.succeeded(t.plugin_type, t.state)
    key = ctx.datatrack.start_download(
        t, ready, filters, rollback == "FORWARD", call.lifecycle, call.now
    )
    return {"DownloadKeyId": key}


@business
def query_data_track_result_download_status(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    key = req_str(call.params, "DownloadKeyId", 256)
    t = ctx.tickets.of(user, req_int(call.params, "OrderId", 1), call.now, "DATA_TRACK", act=True)
    view = ctx.datatrack.status(user.tid, t.id, key, call.now)
    result: dict[str, Any] = {
        "DownloadStatus": view.status,
        "StatusDesc": view.desc,
        "TotalCount": view.total,
    }
    if view.artifact_key:
        result["DownloadUrl"] = ctx.artifacts.download_link(
            call.base_url, view.artifact_key, call.now
        )
    return {"StatusResult": result}


ACTIONS = {
    "CreateDataTrackOrder": Action(create_data_track_order, ("approval",)),
    "DownloadDataTrackResult": Action(download_data_track_result, ("datatrack",)),
    "QueryDataTrackResultDownloadStatus": Action(query_data_track_result_download_status),
}
