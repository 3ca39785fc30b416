"""DMS Enterprise on the wire: parameters in, response shapes out (the SDK models' names).

Convention (specs/README.md): malformed or missing parameters are gateway errors (HTTP 400
`Missing*`/`Invalid*`); business failures (unknown ticket, wrong state, wrong tenant, no right
to approve) are HTTP 200 with `Success:false`, `ErrorCode` and `ErrorMessage`, as every DMS
response model carries those fields and the SDKs do not raise on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.core.clock import dms_time
from emulator.core.errors import DomainError
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import (
    opt_enum,
    opt_int,
    opt_json,
    opt_str,
    req_enum,
    req_int,
    req_json,
    req_str,
)
from emulator.gateway.registry import DMS, Registry
from emulator.platform.accounts import User
from emulator.services.dms.api import datatrack as wire_datatrack
from emulator.services.dms.api import meta as wire_meta
from emulator.services.dms.api import users as wire_users
from emulator.services.dms.api.common import (
    _parse_time,
    _plugin_param,
    _related_json,
    business,
    caller,
)
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.permissions import TicketGrants
from emulator.services.dms.domain.plugin_types import PLUGIN_TYPES, PluginParamError
from emulator.services.dms.domain.tickets import Ticket
from emulator.services.dms.domain.workflow import LifecycleFault

if TYPE_CHECKING:
    from emulator.gateway.pipeline import Gateway
    from emulator.wiring import Emulator

APPROVAL_TYPES = ("AGREE", "CANCEL", "REJECT", "TRANSFER", "ADD_APPROVAL_NODE")
ORDER_STATUS = ("ALL", "FINISHED", "RUNNING")
RESULT_TYPES = ("AS_ADMIN", "AS_COMMITTER", "AS_HANDLER", "AS_OWNER", "AS_Related")


def _db_label(emu: Emulator, db_id: int) -> str:
    db = emu.accounts.databases[db_id]
    return f"{db.schema} @ {db.host}:{db.port} [{db.schema}]"


def register(registry: Registry, emu: Emulator, gateway: Gateway) -> None:
    def lifecycle_fault(call: Call, stages: tuple[str, ...]) -> LifecycleFault | None:
        eff = gateway.lifecycle_fault(call, stages)
        if not eff:
            return None
        return LifecycleFault(
            eff["stage"], eff["outcome"], eff.get("reason", ""), eff.get("seconds")
        )

    def create(call: Call, plugin_type: str, raw: Any, comment: str, related: list[str]) -> Ticket:
        user = caller(call)
        try:
            return emu.workflow.create(
                user,
                plugin_type,
                raw,
                comment,
                related,
                opt_str(call.params, "AttachmentKey", 1024),
                lifecycle_fault(call, ("precheck", "approval", "export")),
            )
        except PluginParamError as exc:
            raise errors.invalid("PluginParam", str(exc)) from None

    @business
    def create_order(call: Call) -> dict[str, Any]:
        plugin_type = req_enum(call.params, "PluginType", PLUGIN_TYPES)
        raw = _plugin_param(req_json(call.params, "PluginParam"))
        comment = req_str(call.params, "Comment", 4000)
        related_raw = opt_str(call.params, "RelatedUserList", 10_000) or ""
        related = [x.strip() for x in related_raw.split(",") if x.strip()]
        t = create(call, plugin_type, raw, comment, related)
        return {"CreateOrderResult": {"OrderIds": [t.id]}}

    @business
    def create_data_export_order(call: Call) -> dict[str, Any]:
        raw = _plugin_param(req_json(call.params, "PluginParam"))
        comment = req_str(call.params, "Comment", 4000)
        related = _related_json(call)
        opt_int(call.params, "ParentId", 0)
        t = create(call, "DATA_EXPORT", raw, comment, related)
        return {"CreateOrderResult": {"CreateOrderResult": [t.id]}}

    def export_ticket(call: Call) -> Ticket:
        user = caller(call)
        t = emu.tickets.get(user.tid, req_int(call.params, "OrderId", 1))
        if t.plugin_type != "DATA_EXPORT":
            raise DomainError(
                f"The ticket {t.id} is a {t.plugin_type} ticket, not a data export.",
                "NotDataExportOrder",
            )
        return t

    @business
    def get_data_export_order_detail(call: Call) -> dict[str, Any]:
        t = export_ticket(call)
        p, state = t.params, t.state
        assert state is not None
        key: dict[str, Any] = {
            "JobStatus": state.status,
            "PreCheckId": t.doc.get("precheck", {}).get("id"),
        }
        if "job" in t.doc and lifecycle.JobStatus.WAITING_EXPORT.value in state.path:
            key["JobId"] = t.doc["job"]["id"]
        precheck_done = state.status != lifecycle.JobStatus.PRE_CHECKING.value
        detail = {
            "ActualAffectRows": t.doc.get("precheck", {}).get("affect_rows", 0)
            if precheck_done
            else 0,
            "Classify": p.get("classify", ""),
            "Database": _db_label(emu, p["dbId"]),
            "DbId": p["dbId"],
            "EnvType": emu.accounts.databases[p["dbId"]].env_type,
            "ExeSQL": p["exeSQL"],
            "IgnoreAffectRows": p.get("ignoreAffectRows", False),
            "IgnoreAffectRowsReason": p.get("ignoreAffectRowsReason") or "",
            "Logic": p.get("logic", False),
        }
        return {
            "DataExportOrderDetail": {
                "KeyInfo": {k: v for k, v in key.items() if v is not None},
                "OrderDetail": detail,
            }
        }

    @business
    def get_data_export_pre_check_detail(call: Call) -> dict[str, Any]:
        t = export_ticket(call)
        pc = t.doc.get("precheck", {})
        items: list[dict[str, Any]] = []
        if t.state and t.state.status != lifecycle.JobStatus.PRE_CHECKING.value:
            if pc.get("ok"):
                items = [
                    {**d, "CheckResult": "SUCCESS", "CheckMessage": ""}
                    for d in pc.get("details", [])
                ]
                if pc.get("details") == []:
                    items = []
            else:
                items = [
                    {
                        "SQL": t.params["exeSQL"],
                        "AffectRows": pc.get("affect_rows", 0),
                        "CheckResult": "FAIL",
                        "CheckMessage": pc.get("reason", ""),
                    }
                ]
        body: dict[str, Any] = {
            "PreCheckResult": {
                "IgnoreAffectRows": t.params.get("ignoreAffectRows", False),
                "PreCheckDetailList": {"PreCheckDetailList": items},
            }
        }
        if items and not pc.get("ok"):
            # SDK models drop CheckMessage; ErrorMessage (present in documented success bodies) carries it
            body.update(ErrorCode="PreCheckFailed", ErrorMessage=pc.get("reason", ""))
        return body

    @business
    def submit_order_approval(call: Call) -> dict[str, Any]:
        emu.workflow.submit(caller(call), req_int(call.params, "OrderId", 1))
        return {}

    @business
    def approve_order(call: Call) -> dict[str, Any]:
        user = caller(call)
        approval = req_enum(call.params, "ApprovalType", APPROVAL_TYPES)
        emu.workflow.approve(
            user,
            req_int(call.params, "WorkflowInstanceId", 1),
            approval,
            opt_str(call.params, "Comment", 4000) or "",
        )
        return {}

    @business
    def execute_data_export(call: Call) -> dict[str, Any]:
        user = caller(call)
        order_id = req_int(call.params, "OrderId", 1)
        present, detail = opt_json(call.params, "ActionDetail")
        if present and not isinstance(detail, dict):
            raise errors.invalid("ActionDetail", "It must be a JSON object.")
        emu.workflow.execute(user, order_id, detail or {}, lifecycle_fault(call, ("export",)))
        return {}

    def base_info(t: Ticket) -> dict[str, Any]:
        assert t.state is not None
        code = lifecycle.status_code(t.plugin_type, t.state)
        tenant = emu.accounts.tenants[t.tid]
        committer = emu.accounts.user_by_uid(t.tid, t.committer_uid)
        names = {u.uid: u.name for u in tenant.users}
        return {
            "AttachmentKey": t.doc.get("attachment_key", ""),
            "Comment": t.comment,
            "Committer": committer.name if committer else str(t.committer_uid),
            "CommitterId": t.committer_uid,
            "CreateTime": dms_time(t.created_at),
            "LastModifyTime": dms_time(t.last_modified),
            "OrderId": t.id,
            "OriginAttachmentName": "",
            "PluginType": t.plugin_type,
            "RelatedUserList": {"UserIds": [str(u) for u in t.doc.get("related", [])]},
            "RelatedUserNickList": {
                "UserNicks": [names.get(u, str(u)) for u in t.doc.get("related", [])]
            },
            "StatusCode": code,
            "StatusDesc": lifecycle.STATUS_DESC.get(code, code),
            "WorkflowInstanceId": t.workflow_id,
            "WorkflowStatusDesc": {"toaudit": "Waiting for approval", "reject": "Rejected"}.get(
                code,
                "Approved"
                if code in ("Approved", "processing", "success")
                else "Not submitted"
                if code == "new"
                else "Closed",
            ),
        }

    @business
    def get_order_base_info(call: Call) -> dict[str, Any]:
        user = caller(call)
        return {
            "OrderBaseInfo": base_info(
                emu.tickets.get(user.tid, req_int(call.params, "OrderId", 1))
            )
        }

    @business
    def list_orders(call: Call) -> dict[str, Any]:
        user = caller(call)
        page = opt_int(call.params, "PageNumber", 1, 100_000) or 1
        size = opt_int(call.params, "PageSize", 1, 100) or 20
        total, tickets = emu.tickets.search(
            user,
            plugin_type=opt_enum(call.params, "PluginType", PLUGIN_TYPES),
            status=opt_enum(call.params, "OrderStatus", ORDER_STATUS, "ALL") or "ALL",
            scope=opt_enum(call.params, "OrderResultType", RESULT_TYPES, "AS_ADMIN") or "AS_ADMIN",
            search=opt_str(call.params, "SearchContent", 256),
            date_field=opt_enum(
                call.params, "SearchDateType", ("CREATE_TIME", "MODIFY_TIME"), "CREATE_TIME"
            )
            or "CREATE_TIME",
            start=_parse_time(call, "StartTime"),
            end=_parse_time(call, "EndTime"),
            page=page,
            size=size,
        )
        fields = (
            "Comment",
            "Committer",
            "CommitterId",
            "CreateTime",
            "LastModifyTime",
            "OrderId",
            "PluginType",
            "StatusCode",
            "StatusDesc",
        )
        orders = [{k: v for k, v in base_info(t).items() if k in fields} for t in tickets]
        return {"TotalCount": total, "Orders": {"Order": orders}}

    def tenant_doc(user: User) -> dict[str, Any]:
        t = emu.accounts.tenants[user.tid]
        return {"Tid": t.tid, "TenantName": t.name, "Status": "ACTIVE"}

    @business
    def get_user_active_tenant(call: Call) -> dict[str, Any]:
        return {"Tenant": tenant_doc(caller(call))}

    @business
    def list_user_tenants(call: Call) -> dict[str, Any]:
        return {"TenantList": [tenant_doc(caller(call))]}

    @business
    def get_data_export_download_url(call: Call) -> dict[str, Any]:
        user = caller(call)
        key, tip = emu.workflow.download(user, req_int(call.params, "OrderId", 1))
        if key is None:
            return {"DownloadURLResult": {"HasResult": False, "TipMessage": tip}}
        expires = int(emu.clock.now()) + emu.settings.link_ttl
        return {
            "DownloadURLResult": {
                "HasResult": True,
                "TipMessage": "",
                "URL": emu.artifacts.link(call.base_url, key, expires),
            }
        }

    for action, fn in {
        "CreateOrder": create_order,
        "CreateDataExportOrder": create_data_export_order,
        "GetDataExportOrderDetail": get_data_export_order_detail,
        "GetDataExportPreCheckDetail": get_data_export_pre_check_detail,
        "SubmitOrderApproval": submit_order_approval,
        "ApproveOrder": approve_order,
        "ExecuteDataExport": execute_data_export,
        "GetOrderBaseInfo": get_order_base_info,
        "ListOrders": list_orders,
        "GetUserActiveTenant": get_user_active_tenant,
        "ListUserTenants": list_user_tenants,
        "GetDataExportDownloadURL": get_data_export_download_url,
    }.items():
        registry.add(DMS, action, fn)
    wire_datatrack.register(registry, emu, gateway, lifecycle_fault)
    wire_users.register(
        registry, wire_users.UsersContext(emu.users, emu.accounts), gateway.user_checks
    )
    wire_meta.register(
        registry,
        wire_meta.MetaContext(emu.meta, emu.accounts, TicketGrants(emu.tickets, emu.clock)),
    )
