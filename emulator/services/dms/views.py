"""Read-only views of tickets for the control plane and the console (not the DMS wire format):
status, StatusCode, the path taken and what is still scheduled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.core.clock import iso
from emulator.core.errors import Conflict, NotFound
from emulator.platform.accounts import User
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.tickets import Ticket

if TYPE_CHECKING:
    from emulator.wiring import Emulator


def ticket_view(emu: Emulator, t: Ticket) -> dict[str, Any]:
    now = emu.clock.now()
    assert t.state is not None
    tenant = emu.accounts.tenants[t.tid]
    user = emu.accounts.user_by_uid(t.tid, t.committer_uid)
    committer = user.name if user else str(t.committer_uid)
    key = None
    if (
        t.plugin_type == "DATA_EXPORT"
        and t.state.status == lifecycle.JobStatus.EXPORT_SUCCESS.value
    ):
        key = next((e["detail"].get("key") for e in t.events if e["event"] == "export_done"), None)
    return {
        "order_id": t.id,
        "tid": t.tid,
        "tenant": tenant.name,
        "approval": tenant.approval,
        "plugin_type": t.plugin_type,
        "comment": t.comment,
        "committer": committer,
        "committer_uid": t.committer_uid,
        "created": iso(t.created_at),
        "workflow_instance_id": t.workflow_id,
        "status": t.state.status,
        "status_code": lifecycle.status_code(t.plugin_type, t.state),
        "closed": t.state.closed,
        "finished": lifecycle.is_finished(t.plugin_type, t.state),
        "path": list(t.state.path),
        "params": t.params,
        "precheck": t.doc.get("precheck"),
        "result_key": key,
        "history": [
            {
                "at": iso(e["at"]),
                "event": e["event"],
                "actor": e["actor"],
                "detail": e["detail"],
                "pending": e["at"] > now,
            }
            for e in t.events
        ],
    }


def find_ticket(emu: Emulator, order_id: int) -> Ticket:
    row = emu.store.query_one("SELECT tid FROM orders WHERE id=?", (order_id,))
    if row is None:
        raise NotFound(f"no ticket {order_id}", "OrderNotExist")
    return emu.tickets.get(int(row["tid"]), order_id)


def all_tickets(emu: Emulator, tid: int | None = None, limit: int = 200) -> list[Ticket]:
    sql = (
        "SELECT tid, id FROM orders"
        + (" WHERE tid=?" if tid is not None else "")
        + " ORDER BY id DESC LIMIT ?"
    )
    rows = emu.store.query(sql, ((tid,) if tid is not None else ()) + (limit,))
    return [emu.tickets.get(int(r["tid"]), int(r["id"])) for r in rows]


def approver(emu: Emulator, t: Ticket, uid: int | None) -> User:
    tenant = emu.accounts.tenants[t.tid]
    if uid is not None:
        user = emu.accounts.user_by_uid(t.tid, uid)
        if user is None:
            raise NotFound(f"user {uid} is not in tenant {t.tid}", "UserNotExist")
        return user
    user = next((u for u in tenant.users if u.can_approve), None)
    if user is None:
        raise Conflict(f"tenant {t.tid} has no ADMIN or DBA to approve")
    return user


def decide(
    emu: Emulator, order_id: int, verdict: str, comment: str = "", uid: int | None = None
) -> Ticket:
    """Approve or reject as a DBA does in the console: submit first when the ticket waits for it."""
    t = find_ticket(emu, order_id)
    who = approver(emu, t, uid)
    waiting = t.state is not None and t.state.status in (
        lifecycle.JobStatus.WAITING_APPLY_AUDIT.value,
        lifecycle.Flow.NEW.value,
    )
    if waiting:
        committer = emu.accounts.user_by_uid(t.tid, t.committer_uid)
        if committer is None:
            raise Conflict(f"the committer of ticket {order_id} is no longer in the accounts file")
        emu.workflow.submit(committer, order_id)
    emu.workflow.approve(who, t.workflow_id, verdict, comment)
    return find_ticket(emu, order_id)
