"""DMS data tracking on the wire: CreateDataTrackOrder, DownloadDataTrackResult and
QueryDataTrackResultDownloadStatus (same conventions as wire.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.core.errors import DomainError
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_enum, opt_json, req_int, req_json, req_str
from emulator.gateway.registry import DMS, Registry
from emulator.services.dms.api import validate
from emulator.services.dms.api.common import (
    _parse_time,
    _plugin_param,
    _related_json,
    business,
    caller,
)
from emulator.services.dms.domain.datatrack import ColumnFilter, parse_filters
from emulator.services.dms.domain.plugin_types import PluginParamError

if TYPE_CHECKING:
    from emulator.gateway.pipeline import Gateway
    from emulator.wiring import Emulator


def register(
    registry: Registry, emu: Emulator, gateway: Gateway, lifecycle_fault: Callable[..., Any]
) -> None:
    @business
    def create_data_track_order(call: Call) -> dict[str, Any]:
        raw = _plugin_param(req_json(call.params, "Param"))
        validate.datatrack_param(raw)
        comment = req_str(call.params, "Comment", 4000)
        related = _related_json(call)
        user = caller(call)
        try:
            t = emu.workflow.create(
                user,
                "DATA_TRACK",
                raw,
                comment,
                related,
                None,
                lifecycle_fault(call, ("approval",)),
            )
        except PluginParamError as exc:
            raise errors.invalid("Param", str(exc)) from None
        return {"CreateOrderResult": [t.id]}

    def json_list(
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

    @business
    def download_data_track_result(call: Call) -> dict[str, Any]:
        user = caller(call)
        order_id = req_int(call.params, "OrderId", 1)
        tables = json_list(call.params, "FilterTableList", str)
        types = json_list(call.params, "FilterTypeList", str, ("INSERT", "UPDATE", "DELETE"))
        ids = json_list(call.params, "EventIdList", int)
        present, column = opt_json(call.params, "ColumnFilter")
        if present:
            validate.column_filter(column)
        start, end = _parse_time(call, "FilterStartTime"), _parse_time(call, "FilterEndTime")
        rollback = opt_enum(call.params, "RollbackSQLType", ("REVERSE", "FORWARD"), "REVERSE")
        column_filter = None
        if column is not None:  # the SDK's ColumnFilter keys end here, at the edge
            column_filter = ColumnFilter(
                column=str(column.get("ColumnName") or ""),
                operator=str(column.get("Operator") or "EQUAL"),
                value=None if column.get("Value") is None else str(column["Value"]),
                in_list=tuple(str(x) for x in column.get("InList") or []),
                between=(column.get("BetweenStart"), column.get("BetweenEnd")),
            )
        filters = parse_filters(
            tables,
            types,
            call.params.get("FilterStartTime") if start else None,
            call.params.get("FilterEndTime") if end else None,
            column_filter,
            ids,
        )
        t = emu.tickets.get(user.tid, order_id)
        ready = t.state is not None and t.state.status == "success"
        fault = gateway.lifecycle_fault(call, ("datatrack",))
        key = emu.datatrack.start_download(t, ready, filters, rollback == "FORWARD", fault)
        return {"DownloadKeyId": key}

    @business
    def query_data_track_result_download_status(call: Call) -> dict[str, Any]:
        user = caller(call)
        key = req_str(call.params, "DownloadKeyId", 256)
        t = emu.tickets.get(user.tid, req_int(call.params, "OrderId", 1))
        if t.plugin_type != "DATA_TRACK":
            raise DomainError(
                f"The ticket {t.id} is a {t.plugin_type} ticket, not a data tracking ticket.",
                "NotDataTrackOrder",
            )
        view = emu.datatrack.status(user.tid, t.id, key)
        result: dict[str, Any] = {
            "DownloadStatus": view.status,
            "StatusDesc": view.desc,
            "TotalCount": view.total,
        }
        if view.artifact_key:
            expires = int(emu.clock.now()) + emu.settings.link_ttl
            result["DownloadUrl"] = emu.artifacts.link(call.base_url, view.artifact_key, expires)
        return {"StatusResult": result}

    registry.add(DMS, "CreateDataTrackOrder", create_data_track_order)
    registry.add(DMS, "DownloadDataTrackResult", download_data_track_result)
    registry.add(DMS, "QueryDataTrackResultDownloadStatus", query_data_track_result_download_status)
