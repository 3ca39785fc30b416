"""Data-change tickets on the wire: CreateDataCorrectOrder, GetDataCorrectOrderDetail,
ListDataCorrectPreCheckSQL, ListDataCorrectPreCheckDB, RetryDataCorrectPreCheck,
ExecuteDataCorrect, GetDataCorrectTaskDetail, GetDataCorrectBackupFiles, CloseOrder.

Parameters in, SDK shapes out (`jobStatus` with its lower-case j, as the SDK model has it).
"""

from __future__ import annotations

from typing import Any

from emulator.core.clock import dms_time, parse_dms_time
from emulator.core.errors import Unsupported
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_int, opt_json, opt_str, req_int, req_json, req_str
from emulator.services.dms.api import specs
from emulator.services.dms.api.common import (
    Action,
    business,
    caller,
    lifecycle_fault,
    plugin_param,
    related_json,
)
from emulator.services.dms.context import DmsContext
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.datachange import ChangePrecheck, RunOptions
from emulator.services.dms.domain.meta import db_type
from emulator.services.dms.domain.model import ChangeSpec, CronClearSpec, Spec
from emulator.services.dms.domain.plugin_types import PluginParamError
from emulator.services.dms.domain.tickets import Ticket

CHANGE_STAGES = ("precheck", "approval", "execution")


def refuse_attachment(spec: Spec) -> None:
    """SqlType ATTACHMENT needs a file uploaded through GetUserUploadFileJob, which the
    emulator does not emulate: refused, naming the way that works (specs/README.md)."""
    if isinstance(spec, ChangeSpec) and spec.sql_type == "ATTACHMENT":
        raise Unsupported(
            "SqlType",
            "SqlType ATTACHMENT is not supported by the emulator (it has no attachment "
            "upload); send the SQL itself as ExecSQL with SqlType TEXT.",
        )


def _order_id(call: Call) -> int:
    return req_int(call.params, "OrderId", 1)


@business
def create_data_correct_order(call: Call, ctx: DmsContext) -> dict[str, Any]:
    from emulator.services.dms.api.plugin_params import DATA_CORRECT, validate_plugin_param

    user = caller(call)
    raw = plugin_param(req_json(call.params, "Param"))
    comment = req_str(call.params, "Comment", 4000)
    related = related_json(call)
    try:
        params = validate_plugin_param(DATA_CORRECT, raw)
    except PluginParamError as exc:
        raise errors.invalid("Param", str(exc)) from None
    spec = specs.from_wire(DATA_CORRECT, params)
    refuse_attachment(spec)
    t = ctx.workflow.create(
        user,
        "DC_COMMON",
        spec,
        comment,
        related,
        opt_str(call.params, "AttachmentKey", 1024),
        lifecycle_fault(call),
        call.now,
    )
    return {"CreateOrderResult": [t.id]}


def _ticket(call: Call, ctx: DmsContext, cron_too: bool = False) -> Ticket:
    user = caller(call)
    order_id = _order_id(call)
    if cron_too:
        t = ctx.tickets.of(user, order_id, call.now)
        if t.plugin_type == "DC_CRON_CLEAR":
            return t
    return ctx.workflow.change_ticket(user, order_id, call.now)


def _affected(t: Ticket) -> int:
    """ActualAffectRows: known once the run's outcome is on the emulated clock."""
    done = t.state is not None and t.state.status in lifecycle.CHANGE_TERMINAL
    return int((t.doc.get("run") or {}).get("affected", 0)) if done else 0


def _precheck(t: Ticket) -> ChangePrecheck | None:
    doc = t.doc.get("precheck")
    return ChangePrecheck.from_doc(doc) if doc and "steps" in doc else None


def _running(t: Ticket) -> bool:
    """The precheck is still under way on the emulated clock (its steps show RUNNING)."""
    return t.state is not None and not lifecycle.change_precheck_done(t.state)


def _databases(
    ctx: DmsContext, t: Ticket, db_ids: tuple[int, ...], logic: bool
) -> list[dict[str, Any]]:
    out = []
    for db_id in db_ids:
        db = ctx.tickets.database_of(t, db_id)
        out.append(
            {
                "DbId": db_id,
                "DbType": db_type(db),
                "EnvType": db.env_type,
                "Logic": logic,
                "SearchName": f"{db.schema}@{db.host}:{db.port}【{db.schema}】",
            }
        )
    return out


def _cron_detail(ctx: DmsContext, t: Ticket, spec: CronClearSpec, now: float) -> dict[str, Any]:
    cron = t.doc.get("cron") or {}
    active = t.state is not None and lifecycle.succeeded(t.plugin_type, t.state)
    nxt = ctx.workflow.cron_next(t, now) if active else None
    detail: dict[str, Any] = {
        "Cron": True,
        "CronCallTimes": int(cron.get("calls", 0)),
        "CronFormat": spec.cron,
        "CronStatus": "RUNNING" if active else "WAITING",
        "DetailType": "CRON_CLEAR",
        "Duration": spec.duration,
        "CronExtConfig": {"CurrentClearTaskCount": len(spec.items)},
    }
    if cron.get("last"):
        detail["CronLastCallStartTime"] = dms_time(float(cron["last"]))
    if nxt is not None:
        detail["CronNextCallTime"] = dms_time(nxt)
    return detail


@business
def get_data_correct_order_detail(call: Call, ctx: DmsContext) -> dict[str, Any]:
    t = _ticket(call, ctx, cron_too=True)
    assert t.state is not None
    spec = t.spec
    if isinstance(spec, CronClearSpec):
        return {
            "DataCorrectOrderDetail": {
                "ConfigDetail": _cron_detail(ctx, t, spec, call.now),
                "DatabaseList": {"Database": _databases(ctx, t, spec.db_ids, False)},
                "OrderDetail": {"Classify": spec.classify, "SqlType": "TEXT"},
                "PreCheckDetail": {"TaskCheckDO": []},
                "Status": t.state.closed or t.state.status,
            }
        }
    assert isinstance(spec, ChangeSpec)
    pc = _precheck(t)
    steps: list[dict[str, Any]] = []
    if pc is not None:
        for s in pc.steps:
            status = "RUNNING" if _running(t) else s.status
            steps.append(
                {
                    "CheckStep": s.step,
                    "CheckStatus": status,
                    "UserTip": "" if _running(t) else s.tip,
                }
            )
    order = {
        "ActualAffectRows": _affected(t),
        "AttachmentName": spec.attachment_name,
        "Classify": spec.classify,
        "EstimateAffectRows": spec.estimate_affect_rows
        if spec.estimate_affect_rows is not None
        else 0,
        "ExeSQL": spec.sql,
        "IgnoreAffectRows": spec.estimate_affect_rows is None,
        "IgnoreAffectRowsReason": "" if spec.estimate_affect_rows is not None else "DC_CHUNK",
        "RbAttachmentName": spec.rollback_attachment_name,
        "RbSQL": spec.rollback_sql,
        "RbSQLType": spec.rollback_sql_type,
        "SqlType": spec.sql_type,
    }
    body: dict[str, Any] = {
        "DataCorrectOrderDetail": {
            "ConfigDetail": {
                "Cron": False,
                "DetailType": "CHUNK" if t.plugin_type == "DC_CHUNK" else "COMMON",
            },
            "DatabaseList": {"Database": _databases(ctx, t, spec.db_ids, spec.logic)},
            "ExecMode": spec.exec_mode or "COMMITOR",
            "OrderDetail": order,
            "PreCheckDetail": {"TaskCheckDO": steps},
            "Status": t.state.status,
        }
    }
    return body


def _page(call: Call) -> tuple[int, int]:
    page = opt_int(call.params, "PageNumber", 1, 100_000) or 1
    size = opt_int(call.params, "PageSize", 1, 1000) or 20
    return page, size


@business
def list_data_correct_pre_check_sql(call: Call, ctx: DmsContext) -> dict[str, Any]:
    t = _ticket(call, ctx)
    db_id = opt_int(call.params, "DbId", 0)
    page, size = _page(call)
    pc = _precheck(t)
    rows: list[dict[str, Any]] = []
    for n, s in enumerate(pc.statements if pc else (), 1):
        if db_id and s.db_id != db_id:
            continue
        rows.append(
            {
                "AffectRows": 0 if _running(t) else s.affect_rows,
                "CheckSQL": s.sql,
                "DbId": s.db_id,
                "SQLReviewQueryKey": f"{t.id}-{n}",
                "SqlReviewStatus": "RUNNING" if _running(t) else s.review,
                "SqlType": s.kind,
                "TableNames": ",".join(s.tables),
            }
        )
    return {"PreCheckSQLList": rows[(page - 1) * size : page * size]}


@business
def list_data_correct_pre_check_db(call: Call, ctx: DmsContext) -> dict[str, Any]:
    t = _ticket(call, ctx)
    spec = t.spec
    assert isinstance(spec, ChangeSpec)
    page, size = _page(call)
    pc = _precheck(t)
    rows = []
    for db in _databases(ctx, t, spec.db_ids, spec.logic):
        count = sum(1 for s in (pc.statements if pc else ()) if s.db_id == db["DbId"])
        rows.append({"DbId": db["DbId"], "SearchName": db["SearchName"], "SqlNum": count})
    return {"PreCheckDBList": rows[(page - 1) * size : page * size]}


@business
def retry_data_correct_pre_check(call: Call, ctx: DmsContext) -> dict[str, Any]:
    ctx.workflow.retry_precheck(caller(call), _order_id(call), lifecycle_fault(call))
    return {}


def _flag(detail: dict[str, Any], name: str, default: bool) -> bool:
    value = detail.get(name, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise errors.invalid("ActionDetail", f"ActionDetail.{name} must be true or false.")
    return value


def run_options(call: Call) -> RunOptions:
    """ActionDetail {startTime, endTime, transaction, backupData} as the domain's options."""
    present, detail = opt_json(call.params, "ActionDetail")
    if not present or detail is None:
        return RunOptions()
    if not isinstance(detail, dict):
        raise errors.invalid("ActionDetail", "It must be a JSON object.")
    start = detail.get("startTime")
    when = None
    if start not in (None, ""):
        if isinstance(start, bool) or not isinstance(start, (str, int)):
            raise errors.invalid("ActionDetail", "ActionDetail.startTime: yyyy-MM-dd HH:mm:ss.")
        if isinstance(start, int):
            when = start / 1000.0  # epoch milliseconds
        else:
            try:
                when = parse_dms_time(start)
            except ValueError:
                raise errors.invalid(
                    "ActionDetail", "ActionDetail.startTime: use yyyy-MM-dd HH:mm:ss."
                ) from None
    return RunOptions(when, _flag(detail, "backupData", True), _flag(detail, "transaction", True))


@business
def execute_data_correct(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    ctx.workflow.execute_change(
        user, _order_id(call), run_options(call), lifecycle_fault(call), call.now
    )
    return {}


@business
def get_data_correct_task_detail(call: Call, ctx: DmsContext) -> dict[str, Any]:
    t = _ticket(call, ctx)
    assert t.state is not None
    run = t.doc.get("run") or {}
    detail: dict[str, Any] = {
        "ActualAffectRows": _affected(t),
        "CreateTime": dms_time(t.created_at),
        "jobStatus": lifecycle.change_job_status(t.state),
    }
    if run and lifecycle.change_reached_execution(t.state):
        detail["DBTaskGroupId"] = int(run["id"])
    body: dict[str, Any] = {"DataCorrectTaskDetail": detail}
    if run.get("message") and t.state.status == lifecycle.ChangeStatus.FAIL.value:
        body["ErrorMessage"] = run["message"]  # the database's message (the model has no field)
    return body


@business
def get_data_correct_backup_files(call: Call, ctx: DmsContext) -> dict[str, Any]:
    t = _ticket(call, ctx)
    key = (t.doc.get("run") or {}).get("backup_key")
    urls = []
    if key and t.state is not None and ctx.artifacts.get(key) is not None:
        urls.append(ctx.artifacts.download_link(call.base_url, key, call.now))
    return {"DataCorrectBackupFiles": {"FileUrl": urls}}


@business
def close_order(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    reason = req_str(call.params, "CloseReason", 4000)
    ctx.workflow.close(user, _order_id(call), reason, call.now)
    return {}


ACTIONS = {
    "CreateDataCorrectOrder": Action(create_data_correct_order, CHANGE_STAGES),
    "GetDataCorrectOrderDetail": Action(get_data_correct_order_detail),
    "ListDataCorrectPreCheckSQL": Action(list_data_correct_pre_check_sql),
    "ListDataCorrectPreCheckDB": Action(list_data_correct_pre_check_db),
    "RetryDataCorrectPreCheck": Action(retry_data_correct_pre_check, ("precheck",)),
    "ExecuteDataCorrect": Action(execute_data_correct, ("execution",)),
    "GetDataCorrectTaskDetail": Action(get_data_correct_task_detail),
    "GetDataCorrectBackupFiles": Action(get_data_correct_backup_files),
    "CloseOrder": Action(close_order),
}
