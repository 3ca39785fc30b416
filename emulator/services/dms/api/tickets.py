"""Tickets of every type on the wire: CreateOrder, SubmitOrderApproval, ApproveOrder,
GetOrderBaseInfo, ListOrders. Parameters in, SDK shapes out; the domain never sees wire names."""

from __future__ import annotations

from typing import Any

from emulator.core.clock import dms_time
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_enum, opt_int, opt_str, req_enum, req_int, req_json, req_str
from emulator.services.dms.api import specs
from emulator.services.dms.api.common import (
    Action,
    business,
    caller,
    lifecycle_fault,
    parse_time,
    plugin_param,
)
from emulator.services.dms.context import DmsContext
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.model import ChangeSpec, CronClearSpec
from emulator.services.dms.domain.plugin_types import PLUGIN_TYPES, PluginParamError
from emulator.services.dms.domain.tickets import Ticket

APPROVAL_TYPES = ("AGREE", "CANCEL", "REJECT", "TRANSFER", "ADD_APPROVAL_NODE")
ORDER_STATUS = ("ALL", "FINISHED", "RUNNING")
RESULT_TYPES = ("AS_ADMIN", "AS_COMMITTER", "AS_HANDLER", "AS_OWNER", "AS_Related")
# a ticket created by these actions may carry faults for these stages
CREATE_STAGES = ("precheck", "approval", "export", "execution")
LIST_FIELDS = (
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


def create_ticket(
    call: Call,
    ctx: DmsContext,
    plugin_type: str,
    raw: Any,
    comment: str,
    related: list[str],
    param_name: str = "PluginParam",
) -> Ticket:
    """Validate the wire parameters of a new ticket (400 naming `param_name`) and create it."""
    from emulator.services.dms.api.plugin_params import (
        validate_plugin_param,  # marshmallow, loaded on first use (start-up stays short)
    )

    user = caller(call)
    try:
        params = validate_plugin_param(plugin_type, raw)
    except PluginParamError as exc:
        raise errors.invalid(param_name, str(exc)) from None
    spec = specs.from_wire(plugin_type, params)
    if isinstance(spec, CronClearSpec):
        from emulator.services.dms.domain.datachange import Cron

        try:
            Cron.parse(spec.cron)
        except ValueError as exc:
            raise errors.invalid(param_name, f"cronFormat: {exc}") from None
    if isinstance(spec, ChangeSpec) and spec.sql_type == "ATTACHMENT":
        from emulator.services.dms.api.datachange import refuse_attachment

        refuse_attachment(spec)
    return ctx.workflow.create(
        user,
        plugin_type,
        spec,
        comment,
        related,
        opt_str(call.params, "AttachmentKey", 1024),
        lifecycle_fault(call),
        call.now,
    )


@business
def create_order(call: Call, ctx: DmsContext) -> dict[str, Any]:
    plugin_type = req_enum(call.params, "PluginType", PLUGIN_TYPES)
    raw = plugin_param(req_json(call.params, "PluginParam"))
    comment = req_str(call.params, "Comment", 4000)
    related_raw = opt_str(call.params, "RelatedUserList", 10_000) or ""
    related = [x.strip() for x in related_raw.split(",") if x.strip()]
    t = create_ticket(call, ctx, plugin_type, raw, comment, related)
    return {"CreateOrderResult": {"OrderIds": [t.id]}}


@business
def submit_order_approval(call: Call, ctx: DmsContext) -> dict[str, Any]:
    ctx.workflow.submit(caller(call), req_int(call.params, "OrderId", 1), call.now)
    return {}


@business
def approve_order(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    approval = req_enum(call.params, "ApprovalType", APPROVAL_TYPES)
    ctx.workflow.approve(
        user,
        req_int(call.params, "WorkflowInstanceId", 1),
        approval,
        opt_str(call.params, "Comment", 4000) or "",
        call.now,
    )
    return {}


def base_info(ctx: DmsContext, t: Ticket) -> dict[str, Any]:
    """GetOrderBaseInfo's OrderBaseInfo (ListOrders shows a subset)."""
    assert t.state is not None
    code = lifecycle.status_code(t.plugin_type, t.state)
    tenant = ctx.accounts.tenants[t.tid]
    committer = ctx.accounts.user_by_uid(t.tid, t.committer_uid)
    names = {u.uid: u.name for u in tenant.users}
    related = t.doc.get("related", [])
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
        "RelatedUserList": {"UserIds": [str(u) for u in related]},
        "RelatedUserNickList": {"UserNicks": [names.get(u, str(u)) for u in related]},
        "StatusCode": code,
        "StatusDesc": lifecycle.STATUS_DESC.get(code, code),
        "WorkflowInstanceId": t.workflow_id,
        "WorkflowStatusDesc": lifecycle.workflow_desc(code),
    }


@business
def get_order_base_info(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    t = ctx.tickets.of(user, req_int(call.params, "OrderId", 1), call.now)
    if lifecycle.is_change(t.plugin_type):
        t = ctx.workflow.driven(t, user)  # a data change due to run starts now
    return {"OrderBaseInfo": base_info(ctx, t)}


@business
def list_orders(call: Call, ctx: DmsContext) -> dict[str, Any]:
    user = caller(call)
    page = opt_int(call.params, "PageNumber", 1, 100_000) or 1
    size = opt_int(call.params, "PageSize", 1, 100) or 20
    total, tickets = ctx.tickets.search(
        user,
        plugin_type=opt_enum(call.params, "PluginType", PLUGIN_TYPES),
        status=opt_enum(call.params, "OrderStatus", ORDER_STATUS, "ALL") or "ALL",
        scope=opt_enum(call.params, "OrderResultType", RESULT_TYPES, "AS_ADMIN") or "AS_ADMIN",
        search=opt_str(call.params, "SearchContent", 256),
        date_field=opt_enum(
            call.params, "SearchDateType", ("CREATE_TIME", "MODIFY_TIME"), "CREATE_TIME"
        )
        or "CREATE_TIME",
        start=parse_time(call, "StartTime"),
        end=parse_time(call, "EndTime"),
        page=page,
        size=size,
        now=call.now,
    )
    orders = [{k: v for k, v in base_info(ctx, t).items() if k in LIST_FIELDS} for t in tickets]
    return {"TotalCount": total, "Orders": {"Order": orders}}


ACTIONS = {
    "CreateOrder": Action(create_order, CREATE_STAGES),
    "SubmitOrderApproval": Action(submit_order_approval),
    "ApproveOrder": Action(approve_order),
    "GetOrderBaseInfo": Action(get_order_base_info),
    "ListOrders": Action(list_orders),
}
