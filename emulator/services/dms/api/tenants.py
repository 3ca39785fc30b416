"""Tenants on the wire: GetUserActiveTenant, ListUserTenants (a user belongs to one tenant)."""

from __future__ import annotations

from typing import Any

from emulator.gateway.call import Call
from emulator.platform.accounts import User
from emulator.services.dms.api.common import Action, business, caller
from emulator.services.dms.context import DmsContext


def _tenant_doc(ctx: DmsContext, user: User) -> dict[str, Any]:
    t = ctx.accounts.tenants[user.tid]
    return {"Tid": t.tid, "TenantName": t.name, "Status": "ACTIVE"}


@business
def get_user_active_tenant(call: Call, ctx: DmsContext) -> dict[str, Any]:
    return {"Tenant": _tenant_doc(ctx, caller(call))}


@business
def list_user_tenants(call: Call, ctx: DmsContext) -> dict[str, Any]:
    return {"TenantList": [_tenant_doc(ctx, caller(call))]}


ACTIONS = {
    "GetUserActiveTenant": Action(get_user_active_tenant),
    "ListUserTenants": Action(list_user_tenants),
}
