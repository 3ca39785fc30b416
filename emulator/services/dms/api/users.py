"""DMS users on the wire: ListUsers, GetUser and the ADMIN's RegisterUser ... DeleteUser.

Handlers are module-level functions of (call, ctx); `register` binds them to the registry and
adds the gateway check that refuses a disabled or deleted user's key on DMS actions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.errors import ApiError
from emulator.gateway.params import opt_enum, opt_int, opt_str, req_str
from emulator.gateway.registry import DMS, Registry
from emulator.platform.accounts import Accounts
from emulator.services.dms.api.common import business, caller
from emulator.services.dms.domain.users import ROLE_IDS, ROLES, STATES, DmsUser, Users, parse_roles

PAGE_SIZES = (10, 20, 50, 100)


@dataclass(frozen=True)
class UsersContext:
    users: Users
    accounts: Accounts


def user_doc(ctx: UsersContext, u: DmsUser, parent_as_int: bool) -> dict[str, Any]:
    parent = ctx.accounts.tenants[u.tid].account_id
    return {
        "CurExecuteCount": 0,
        "CurResultCount": 0,
        "DingRobot": "",
        "Email": u.email,
        "LastLoginTime": "",
        "MaxExecuteCount": u.max_execute_count,
        "MaxResultCount": u.max_result_count,
        "Mobile": u.mobile,
        "NickName": u.nick_name,
        "NotificationMode": "",
        "ParentUid": parent if parent_as_int else str(parent),
        "RoleIdList": {"RoleIds": [ROLE_IDS[r] for r in u.roles]},
        "RoleNameList": {"RoleNames": list(u.roles)},
        "SignatureMethod": "",
        "State": u.state,
        "Uid": u.uid,
        "UserId": str(u.user_id),
        "Webhook": "",
    }


def _uid(call: Call, name: str = "Uid") -> str:
    """An Alibaba Cloud UID: digits (the SDK types it as a string)."""
    value = req_str(call.params, name, 32).strip()
    if not (value.isdigit() and value.isascii()):
        raise errors.invalid(name, "A UID is a number.")
    return value


def list_users(call: Call, ctx: UsersContext) -> dict[str, Any]:
    user = caller(call)
    raw = opt_int(call.params, "PageSize")
    size = 10 if raw is None else raw
    if size not in PAGE_SIZES:
        raise errors.invalid("PageSize", f"Valid values: {', '.join(map(str, PAGE_SIZES))}.")
    page = opt_int(call.params, "PageNumber", 1, 1_000_000) or 1
    total, users = ctx.users.search(
        user.tid,
        opt_enum(call.params, "Role", ROLES),
        opt_enum(call.params, "UserState", STATES),
        opt_str(call.params, "SearchKey", 256),
        page,
        size,
    )
    return {"TotalCount": total, "UserList": {"User": [user_doc(ctx, u, False) for u in users]}}


def get_user(call: Call, ctx: UsersContext) -> dict[str, Any]:
    """By UserId (DMS id) or Uid (Alibaba Cloud UID); with neither, the caller."""
    user = caller(call)
    user_id = opt_str(call.params, "UserId", 32) or None
    uid = opt_str(call.params, "Uid", 32) or None
    if user_id is None and uid is None:
        user_id = str(user.uid)
    return {"User": user_doc(ctx, ctx.users.get(user.tid, uid=uid, user_id=user_id), True)}


def register_user(call: Call, ctx: UsersContext) -> dict[str, Any]:
    admin = caller(call)
    uid = _uid(call)
    roles = parse_roles(opt_str(call.params, "RoleNames", 256) or "USER")
    ctx.users.register(
        admin,
        uid,
        roles,
        opt_str(call.params, "UserNick", 128) or "",
        opt_str(call.params, "Mobile", 64) or "",
    )
    return {}


def update_user(call: Call, ctx: UsersContext) -> dict[str, Any]:
    admin = caller(call)
    # UidString replaces the Long-typed Uid when both are sent (the SDK model says so)
    uid = _uid(call, "UidString") if call.params.get("UidString") else _uid(call)
    raw_roles = opt_str(call.params, "RoleNames", 256)
    ctx.users.update(
        admin,
        uid,
        roles=parse_roles(raw_roles) if raw_roles else None,
        nick_name=opt_str(call.params, "UserNick", 128) or None,
        mobile=opt_str(call.params, "Mobile", 64) or None,
        max_execute_count=opt_int(call.params, "MaxExecuteCount", 0, 2**31 - 1),
        max_result_count=opt_int(call.params, "MaxResultCount", 0, 2**31 - 1),
    )
    return {}


def _state_change(state: str) -> Callable[[Call, UsersContext], dict[str, Any]]:
    def handler(call: Call, ctx: UsersContext) -> dict[str, Any]:
        ctx.users.set_state(caller(call), _uid(call), state)
        return {}

    return handler


def check_standing(call: Call, ctx: UsersContext) -> None:
    """A disabled or deleted DMS user's key is refused on DMS actions; role changes take effect."""
    if call.user is None or call.operation is None or call.operation.product is not DMS:
        return
    state, role = ctx.users.standing(call.user)
    if state == "DISABLE":
        raise ApiError(
            "InvalidAccessKeyId.Inactive",
            f"Specified access key is disabled. (The DMS user {call.user.uid} is disabled; "
            "an ADMIN of the tenant can EnableUser.)",
            400,
        )
    if state == "DELETE":
        raise errors.access_key_not_found()
    if role != call.user.role:
        call.user = dataclasses.replace(call.user, role=role)


ACTIONS: dict[str, Callable[[Call, UsersContext], dict[str, Any]]] = {
    "ListUsers": list_users,
    "GetUser": get_user,
    "RegisterUser": register_user,
    "UpdateUser": update_user,
    "DisableUser": _state_change("DISABLE"),
    "EnableUser": _state_change("NORMAL"),
    "DeleteUser": _state_change("DELETE"),
}


def register(registry: Registry, ctx: UsersContext) -> None:
    for action, fn in ACTIONS.items():
        registry.add(DMS, action, business(fn), ctx)
    registry.user_checks.append(lambda call: check_standing(call, ctx))
