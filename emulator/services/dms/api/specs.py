"""Validated PluginParam/Param documents (wire names) to the domain's typed specs and back.

The same translation converts state files of version 4 and older, which stored the wire
document under `params` (migration 5, attached to the tickets' tables in service.py).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from emulator.services.dms.domain.model import (
    ChangeSpec,
    CronClearItem,
    CronClearSpec,
    ExportSpec,
    RequestSpec,
    Spec,
    TrackSpec,
    spec_doc,
)
from emulator.state.store import dumps

# ExportSpec field <- PluginParam key (where it is not just camelCase of the field)
EXPORT_KEYS = {
    "db_id": "dbId",
    "sql": "exeSQL",
    "classify": "classify",
    "logic": "logic",
    "ignore_affect_rows": "ignoreAffectRows",
    "affect_rows": "affectRows",
    "ignore_reason": "ignoreAffectRowsReason",
    "instance_id": "instanceId",
    "watermark": "watermark",
}
TRACK_KEYS = {
    "db_id": "dbId",
    "tables": "tableNames",
    "start": "jobStartTime",
    "end": "jobEndTime",
    "types": "trackTypes",
}


def _snake(name: str) -> str:
    """`dbItemList` -> `db_item_list`; each capital is a word, so `execSQL` (`exec_s_q_l`) and
    `execSql` (`exec_sql`), which both exist, stay apart and translate back exactly."""
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _convert(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        return {key(k): _convert(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v, key) for v in value]
    return value


def from_wire(plugin_type: str, params: dict[str, Any]) -> Spec:
    """A validated PluginParam (lowerCamel keys) as the domain's spec."""
    if plugin_type == "DATA_EXPORT":
        defaults = ExportSpec(0, "")
        return ExportSpec(
            **{f: params.get(k, getattr(defaults, f)) for f, k in EXPORT_KEYS.items()}
        )
    if plugin_type == "DATA_TRACK":
        return TrackSpec(
            int(params["dbId"]),
            tuple(params["tableNames"]),
            params["jobStartTime"],
            params["jobEndTime"],
            tuple(params["trackTypes"]),
        )
    if "dbItemList" in params:
        db_ids = tuple(int(item["dbId"]) for item in params["dbItemList"])
    else:
        db_ids = (int(params["dbId"]),)
    if plugin_type in ("DC_COMMON", "DC_CHUNK", "DATA_CORRECT"):
        return _change(db_ids, params)
    if plugin_type == "DC_CRON_CLEAR":
        items = tuple(
            CronClearItem(
                str(i["tableName"]),
                str(i["columnName"]),
                int(i["remainDays"]),
                str(i.get("filterSQL") or ""),
            )
            for i in params["cronClearItemList"]
        )
        return CronClearSpec(
            db_ids,
            str(params["cronFormat"]),
            items,
            str(params.get("classify") or ""),
            int(params.get("duration") or 0),
            bool(params.get("specifyDuration")),
        )
    return RequestSpec(db_ids, _convert(params, _snake))


def _change(db_ids: tuple[int, ...], p: dict[str, Any]) -> ChangeSpec:
    """CreateOrder's DC_COMMON/DC_CHUNK PluginParam (`rbSQL`...) or CreateDataCorrectOrder's
    Param (`RollbackSQL`...), both first-letter folded."""
    logic = any(bool(i.get("logic")) for i in p.get("dbItemList", []))
    return ChangeSpec(
        db_ids=db_ids,
        sql=str(p.get("execSQL") or ""),
        estimate_affect_rows=p.get("estimateAffectRows"),
        classify=str(p.get("classify") or ""),
        sql_type=str(p.get("sqlType") or "TEXT"),
        exec_mode=str(p.get("execMode") or ""),
        rollback_sql=str(p.get("rollbackSQL") or p.get("rbSQL") or ""),
        rollback_sql_type=str(p.get("rollbackSqlType") or p.get("rbSQLType") or "TEXT"),
        attachment_name=str(p.get("attachmentName") or ""),
        rollback_attachment_name=str(
            p.get("rollbackAttachmentName") or p.get("rbAttachmentName") or ""
        ),
        logic=logic,
    )


def to_wire(spec: Spec) -> dict[str, Any]:
    """The spec in PluginParam's names (the control plane shows tickets this way)."""
    if isinstance(spec, ExportSpec):
        return {k: getattr(spec, f) for f, k in EXPORT_KEYS.items()}
    if isinstance(spec, TrackSpec):
        values = {k: getattr(spec, f) for f, k in TRACK_KEYS.items()}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
    if isinstance(spec, ChangeSpec):
        return {
            "dbItemList": [{"dbId": d, "logic": spec.logic} for d in spec.db_ids],
            "execSQL": spec.sql,
            "estimateAffectRows": spec.estimate_affect_rows,
            "classify": spec.classify,
            "sqlType": spec.sql_type,
            "execMode": spec.exec_mode,
            "rbSQL": spec.rollback_sql,
            "rbSQLType": spec.rollback_sql_type,
        }
    if isinstance(spec, CronClearSpec):
        return {
            "dbItemList": [{"dbId": d, "logic": False} for d in spec.db_ids],
            "cronFormat": spec.cron,
            "classify": spec.classify,
            "duration": spec.duration,
            "specifyDuration": spec.specify_duration,
            "cronClearItemList": [
                {
                    "tableName": i.table,
                    "columnName": i.column,
                    "remainDays": i.remain_days,
                    "filterSQL": i.filter_sql or None,
                }
                for i in spec.items
            ],
        }
    return _convert(spec.fields, _camel)


def convert_tickets(conn: sqlite3.Connection) -> None:
    """v5: ticket documents keep a typed spec (snake_case) instead of the wire `params`."""
    rows = conn.execute(
        "SELECT id, plugin_type, doc FROM orders WHERE json_type(doc, '$.params') IS NOT NULL"
    ).fetchall()
    for order_id, plugin_type, text in rows:
        doc = json.loads(text)
        doc["spec"] = spec_doc(from_wire(plugin_type, doc.pop("params")))
        conn.execute("UPDATE orders SET doc=? WHERE id=?", (dumps(doc), order_id))
