"""Read-only views of tickets for the control plane and the console (not the DMS wire format):
status, StatusCode, the path taken and what is still scheduled; and the console's decide."""

from __future__ import annotations

from typing import Any

from emulator.core.clock import iso
from emulator.core.errors import IllegalState, NotFound
from emulator.platform.accounts import User
from emulator.services.dms.api import specs
from emulator.services.dms.context import DmsContext
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.datachange import ChangePrecheck
from emulator.services.dms.domain.model import ChangeSpec
from emulator.services.dms.domain.tickets import Ticket


def ticket_view(ctx: DmsContext, t: Ticket) -> dict[str, Any]:
    now = ctx.tickets.clock.now()
    assert t.state is not None
    tenant = ctx.accounts.tenants[t.tid]
    user = ctx.accounts.user_by_uid(t.tid, t.committer_uid)
    committer = user.name if user else str(t.committer_uid)
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
        "params": specs.to_wire(t.spec),
        "precheck": t.doc.get("precheck"),
        "result_key": ctx.workflow.result_key(t),
        "can_decide": lifecycle.awaits_decision(t.plugin_type, t.state),
        "change": change_view(t),
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


def change_view(t: Ticket) -> dict[str, Any] | None:
    """What the console shows of a data-change ticket: its SQL, each precheck step (shown as
    running until the precheck's outcome is due on the clock), the statements as checked, the
    execution (job status, rows changed once the outcome is due, the database's message) and
    the artifact key of its backup (the rollback SQL), as GetDataCorrect* tell them."""
    spec = t.spec
    if not isinstance(spec, ChangeSpec) or t.state is None:
        return None
    state = t.state
    doc = t.doc.get("precheck")
    pc = ChangePrecheck.from_doc(doc) if doc and "steps" in doc else None
    done = lifecycle.change_precheck_done(state)
    run = t.doc.get("run") or {}
    finished = state.status in lifecycle.CHANGE_TERMINAL
    return {
        "db_ids": list(spec.db_ids),
        "sql": spec.sql,
        "rollback_sql": spec.rollback_sql,
        "estimate": spec.estimate_affect_rows,
        "exec_mode": spec.exec_mode or "COMMITOR",
        "precheck_done": done,
        "steps": [
            {
                "step": s.step,
                "status": s.status if done else "RUNNING",
                "tip": s.tip if done else "",
            }
            for s in (pc.steps if pc else ())
        ],
        "statements": [
            {
                "db_id": c.db_id,
                "sql": c.sql,
                "kind": c.kind,
                "tables": ", ".join(c.tables),
                "affect_rows": c.affect_rows,
                "review": c.review if done else "RUNNING",
            }
            for c in (pc.statements if pc else ())
        ],
        "executed": lifecycle.change_reached_execution(state),
        "job_status": lifecycle.change_job_status(state),
        "backup": bool(run.get("backup")),
        "transaction": bool(run.get("transaction", True)) if run else None,
        "affected": int(run.get("affected", 0)) if finished and run else None,
        "message": run.get("message") if finished else None,
        "backup_key": run.get("backup_key") if finished else None,
        "backup_rows": run.get("backup_rows") if finished else None,
    }


def find_ticket(ctx: DmsContext, order_id: int) -> Ticket:
    return ctx.tickets.find(order_id)


def all_tickets(ctx: DmsContext, tid: int | None = None, limit: int = 200) -> list[Ticket]:
    return ctx.tickets.recent(tid, limit)


def approver(ctx: DmsContext, t: Ticket, uid: int | None) -> User:
    tenant = ctx.accounts.tenants[t.tid]
    if uid is not None:
        user = ctx.accounts.user_by_uid(t.tid, uid)
        if user is None:
            raise NotFound("user", f"user {uid} is not in tenant {t.tid}")
        return user
    user = next((u for u in tenant.users if u.can_approve), None)
    if user is None:
        raise IllegalState(f"tenant {t.tid} has no ADMIN or DBA to approve")
    return user


def decide(
    ctx: DmsContext, order_id: int, verdict: str, comment: str = "", uid: int | None = None
) -> Ticket:
    """Approve or reject as a DBA does in the console: submit first when the ticket waits for it."""
    t = ctx.tickets.find(order_id)
    who = approver(ctx, t, uid)
    if t.state is not None and lifecycle.awaits_submission(t.state):
        committer = ctx.accounts.user_by_uid(t.tid, t.committer_uid)
        if committer is None:
            raise IllegalState(
                f"the committer of ticket {order_id} is no longer in the accounts file"
            )
        ctx.workflow.submit(committer, order_id)
    ctx.workflow.approve(who, t.workflow_id, verdict, comment)
    return ctx.tickets.find(order_id)
