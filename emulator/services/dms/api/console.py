"""ExecuteScript on the wire: the SQL console (SDK model ExecuteScriptRequest / ResponseBody).

`DbId` is an integer here (the metadata actions answer DatabaseId as a string); `Results` is a
flat list, one entry per statement run, each with `Rows` as a list of column -> text maps.
Who may run what is the domain's (domain/console.py); which databases a caller sees is the
metadata actions' rule (domain/permissions.py), so the console never shows more than they do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import req_int, req_str
from emulator.gateway.registry import DMS, Registry
from emulator.services.dms.api.common import business, caller
from emulator.services.dms.domain import console as c
from emulator.services.dms.domain.meta import Meta
from emulator.services.dms.domain.permissions import GrantSource, access

NOT_SECURE_CODE = "UnsupportedControlMode"


@dataclass(frozen=True)
class ConsoleContext:
    meta: Meta
    grants: GrantSource | None
    limits: c.Limits


def _logic(call: Call) -> bool:
    raw = (call.params.get("Logic") or "").strip().lower()
    if raw in ("", "false"):
        return False
    if raw == "true":
        return True
    raise errors.invalid("Logic", "Use true or false.")


def execute_script(call: Call, ctx: ConsoleContext) -> dict[str, Any]:
    user = caller(call)
    db_id = req_int(call.params, "DbId", 1)
    script = req_str(call.params, "Script", 64 * 1024 * 1024)
    size = len(script.encode("utf-8", "surrogatepass"))
    if size > ctx.limits.max_script_bytes:
        raise errors.invalid(
            "Script",
            f"It is {size} bytes; a script may hold at most {ctx.limits.max_script_bytes} bytes "
            "(1 MB). Split it, or use a data change ticket with an attachment.",
        )
    _logic(call)
    db = ctx.meta.database(user.tid, str(db_id))
    acc = access(user, ctx.meta.accounts, ctx.grants)
    acc.require_database(db.db_id)
    try:
        c.require_secure_mode(db)
    except c.NotSecureMode as exc:
        raise _NotSecure(exc.message) from None
    outcomes = c.run_script(
        ctx.meta.data.backend(db.db_id), db, user, db.db_id in acc.owned, script, ctx.limits
    )
    return {
        "Results": [
            {
                "ColumnNames": o.columns,
                "Rows": o.rows,
                "RowCount": o.row_count,
                "Success": o.success,
                "Message": o.message,
            }
            for o in outcomes
        ]
    }


class _NotSecure(Exception):
    """The control-mode refusal, carried past `business` to get its own ErrorCode."""


def _answer(fn: Callable[[Call, ConsoleContext], dict[str, Any]]) -> Any:
    wrapped = business(fn)

    def handler(call: Call, ctx: ConsoleContext) -> dict[str, Any]:
        try:
            return wrapped(call, ctx)
        except _NotSecure as exc:
            call.outcome_code = NOT_SECURE_CODE
            return {"Success": False, "ErrorCode": NOT_SECURE_CODE, "ErrorMessage": str(exc)}

    handler.__name__ = fn.__name__
    return handler


ACTIONS: dict[str, Callable[[Call, ConsoleContext], dict[str, Any]]] = {
    "ExecuteScript": execute_script,
}


def register(registry: Registry, ctx: ConsoleContext) -> None:
    for action, fn in ACTIONS.items():
        registry.add(DMS, action, _answer(fn), ctx)
