"""What moves a ticket: the automatic schedule, approvals, execution and the export job.

Every move goes through `lifecycle.apply` on the current state before it is recorded, so an
illegal call raises `IllegalState` and leaves the history as it was.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.core.clock import Clock
from emulator.core.errors import Forbidden, IllegalState, Invalid, NotFound, Unsupported, WrongKind
from emulator.core.jobs import Jobs
from emulator.databases.catalog import DataPlane
from emulator.platform.accounts import Accounts, User
from emulator.platform.artifacts import Artifacts
from emulator.services.dms.domain import datachange, lifecycle, permissions
from emulator.services.dms.domain.datachange import ChangePrecheck, Cron, RunOptions
from emulator.services.dms.domain.datatrack import DataTracking
from emulator.services.dms.domain.exporter import (
    FILE_TYPES,
    PRECHECK_SECONDS,
    PrecheckOutcome,
    precheck,
    run_export,
)
from emulator.services.dms.domain.lifecycle import Event, IllegalTransition
from emulator.services.dms.domain.model import (
    ChangeSpec,
    CronClearSpec,
    ExportSpec,
    Spec,
    TrackSpec,
)
from emulator.services.dms.domain.tickets import (
    JOB_ID_START,
    PRECHECK_ID_START,
    Ticket,
    Tickets,
    gone,
    require_role,
)
from emulator.state.store import Store

log = logging.getLogger("emulator.dms")
E = Event


@dataclass
class LifecycleFault:
    """A lifecycle fault to apply to one ticket (set by the fault engine)."""

    stage: str  # precheck | approval | export | execution (data changes)
    outcome: str  # fail | stall
    reason: str = ""
    seconds: float | None = None

    def hold(self, stage: str) -> float:
        """Extra seconds a stall adds before `stage` completes (for ever: ~31 years)."""
        if self.stage != stage or self.outcome != "stall":
            return 0.0
        return float(self.seconds) if self.seconds is not None else FOREVER

    def fails(self, stage: str) -> bool:
        return self.stage == stage and self.outcome == "fail"

    @classmethod
    def from_effect(cls, effect: dict[str, Any]) -> LifecycleFault:
        """From a fault rule's lifecycle effect (the fault engine's document)."""
        return cls(
            effect["stage"], effect["outcome"], effect.get("reason", ""), effect.get("seconds")
        )


FOREVER = 10.0**9


def _hold(fault: LifecycleFault | None, stage: str) -> float:
    return fault.hold(stage) if fault else 0.0


class Workflow:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        accounts: Accounts,
        tickets: Tickets,
        artifacts: Artifacts,
        jobs: Jobs,
        datatrack: DataTracking,
        databases: DataPlane,
    ):
        self.store, self.clock, self.accounts = store, clock, accounts
        self.databases = databases
        self.tickets, self.artifacts, self.jobs = tickets, artifacts, jobs
        self.datatrack = datatrack
        self.d = tickets.durations
        self._ticker_pid = -1
        self._ticker_lock = threading.Lock()

    def _auto(self, tid: int) -> bool:
        return self.accounts.tenants[tid].approval == "auto"

    def _check(self, ticket: Ticket, event: Event) -> None:
        try:
            lifecycle.apply(lifecycle.table_for(ticket.plugin_type), ticket.state, event)  # type: ignore[arg-type]
        except IllegalTransition as exc:
            raise IllegalState(str(exc)) from None

    # --- creation ----------------------------------------------------------------------------

    def create(
        self,
        user: User,
        plugin_type: str,
        spec: Spec,
        comment: str,
        related: list[str],
        attachment_key: str | None,
        fault: LifecycleFault | None,
        now: float,
    ) -> Ticket:
        checked: list[PrecheckOutcome] = []
        changed: list[ChangePrecheck] = []
        if isinstance(spec, ChangeSpec):
            changed.append(self._change_precheck(user, spec))  # before the store's lock, too
        if isinstance(spec, ExportSpec):
            # before the store's lock (F3): a slow precheck never makes another tenant wait
            db = self.tickets.database(user, spec.db_id)
            checked.append(
                precheck(
                    self.databases.backend(db.db_id),
                    spec.sql,
                    spec.affect_rows,
                    spec.ignore_affect_rows,
                    min(PRECHECK_SECONDS, self.jobs.deadline),
                )
            )

        def schedule(ticket: Ticket, now: float) -> None:
            if ticket.plugin_type == "DATA_EXPORT":
                self._schedule_export(ticket, now, fault, checked[0])
                return
            if changed:
                self._schedule_change(ticket, now, fault, changed[0])
                return
            if ticket.plugin_type == "DATA_TRACK":
                track = ticket.spec
                assert isinstance(track, TrackSpec)
                db = self.accounts.databases[track.db_id]
                self.datatrack.record_binlog(db, ticket.tid, ticket.id, track)
                self.tickets.update_doc(ticket, track={"schema": db.schema})
            self._schedule_flow(ticket, now, fault)

        ticket = self.tickets.create(
            user, plugin_type, spec, comment, related, attachment_key, schedule, now
        )
        if changed or isinstance(spec, CronClearSpec):
            self._ensure_ticker()
        return ticket

    def _schedule_flow(self, t: Ticket, now: float, fault: LifecycleFault | None) -> None:
        step = self.d.flow_step
        if not self._auto(t.tid):
            return  # waits for SubmitOrderApproval
        at = now + step
        self.tickets.record(t, at, E.SUBMIT)
        at += _hold(fault, "approval")
        if fault and fault.fails("approval"):
            self.tickets.record(t, at + step, E.REJECT, detail={"reason": fault.reason})
            return
        self.tickets.record(t, at + step, E.APPROVE)
        self.tickets.record(t, at + step + 1, E.START)
        self.tickets.record(t, at + 2 * step + 1, E.FINISH)

    def _schedule_export(
        self, t: Ticket, now: float, fault: LifecycleFault | None, outcome: PrecheckOutcome
    ) -> None:
        if fault and fault.fails("precheck"):
            outcome.ok, outcome.reason = False, fault.reason or "precheck failed (injected fault)"
        precheck_id = self.store.next_id("precheck", PRECHECK_ID_START)
        self.tickets.update_doc(
            t,
            precheck={
                "id": precheck_id,
                "ok": outcome.ok,
                "reason": outcome.reason,
                "affect_rows": outcome.affect_rows,
                "details": outcome.details,
            },
        )
        d = self.d
        at = now + d.precheck + _hold(fault, "precheck")
        if not outcome.ok:
            self.tickets.record(t, at, E.PRECHECK_FAILED, detail={"reason": outcome.reason})
            return
        self.tickets.record(t, at, E.PRECHECK_PASSED)
        at += d.settle
        self.tickets.record(t, at, E.AWAIT_SUBMIT)
        if not self._auto(t.tid):
            return
        at += d.submit
        self.tickets.record(t, at, E.SUBMIT)
        at += d.approval + _hold(fault, "approval")
        if fault and fault.fails("approval"):
            self.tickets.record(
                t, at, E.REJECT, detail={"reason": fault.reason or "rejected (injected fault)"}
            )
            return
        self.tickets.record(t, at, E.APPROVE)
        at += d.execute
        self._schedule_execution(t, at, {"fileType": "CSV"}, fault)

    def _schedule_execution(
        self, t: Ticket, at: float, detail: dict[str, Any], fault: LifecycleFault | None
    ) -> None:
        job_id = self.store.next_id("export_job", JOB_ID_START)
        # the real-time deadline survives a restart: a resumed job never runs past it (F2)
        deadline = time.time() + self.jobs.deadline
        self.tickets.update_doc(t, job={"id": job_id, "detail": detail, "deadline": deadline})
        self.tickets.record(t, at, E.EXECUTE, detail=detail)
        self.tickets.record(t, at + self.d.waiting_export, E.START_EXPORT)
        self.start_export_job(t.tid, t.id, fault)

    # --- manual moves --------------------------------------------------------------------------

    def _manual(self, ticket: Ticket, event: Event, user: User, now: float) -> None:
        """Record a move now; on auto tenants a scheduled one is pulled forward instead."""
        with self.store.transaction():
            fresh = self.tickets.get(ticket.tid, ticket.id, now)
            self._check(fresh, event)
            if self.tickets.pull_forward(fresh, event, now):
                return
            self.tickets.record(fresh, now, event, actor=user.uid)

    def submit(self, user: User, order_id: int, now: float | None = None) -> None:
        now = self.clock.now() if now is None else now
        t = self.tickets.of(user, order_id, now, act=True)
        self._manual(t, E.SUBMIT, user, now)

    def approve(
        self,
        user: User,
        workflow_id: int,
        approval_type: str,
        comment: str,
        now: float | None = None,
    ) -> None:
        now = self.clock.now() if now is None else now
        t = self.tickets.by_workflow(user.tid, workflow_id, now)
        if approval_type in ("TRANSFER", "ADD_APPROVAL_NODE"):
            raise Unsupported(
                "ApprovalType", f"ApprovalType {approval_type} is not supported by the emulator"
            )
        if approval_type == "CANCEL":
            if user.uid != t.committer_uid and not user.can_approve:
                raise Forbidden(
                    f"User {user.uid} ({user.role}) may not cancel ticket {t.id}: "
                    "only the committer, an ADMIN or a DBA may cancel a ticket."
                )
            with self.store.transaction():
                fresh = self.tickets.get(t.tid, t.id, now)
                self._check(fresh, E.CANCEL)
                self.tickets.drop_pending(fresh, now)
                self.tickets.record(
                    fresh, now, E.CANCEL, actor=user.uid, detail={"comment": comment}
                )
            return
        require_role(user, "approve tickets")
        event = E.APPROVE if approval_type == "AGREE" else E.REJECT
        with self.store.transaction():
            fresh = self.tickets.get(t.tid, t.id, now)
            self._check(fresh, event)
            if event == E.REJECT:
                self.tickets.drop_pending(fresh, now)
            elif self.tickets.pull_forward(fresh, event, now):
                return
            self.tickets.record(fresh, now, event, actor=user.uid, detail={"comment": comment})
            if (
                event == E.APPROVE
                and fresh.plugin_type != "DATA_EXPORT"
                and not lifecycle.is_change(fresh.plugin_type)
            ):
                self.tickets.record(fresh, now + 1, E.START)
                self.tickets.record(fresh, now + 1 + self.d.flow_step, E.FINISH)

    def execute(
        self,
        user: User,
        order_id: int,
        detail: dict[str, Any],
        fault: LifecycleFault | None,
        now: float,
    ) -> None:
        t = self.tickets.of(user, order_id, now, kind="DATA_EXPORT", act=True)
        file_type = str(detail.get("fileType", "CSV")).upper()
        if file_type not in FILE_TYPES:
            raise Invalid(
                "ActionDetail", f"ActionDetail.fileType must be one of {', '.join(FILE_TYPES)}"
            )
        with self.store.transaction():
            fresh = self.tickets.get(t.tid, t.id, now)
            self._check(fresh, E.EXECUTE)
            if self.tickets.pull_forward(fresh, E.EXECUTE, now):
                return
            self._schedule_execution(fresh, now, {**detail, "fileType": file_type}, fault)

    # --- the export job -----------------------------------------------------------------------

    def start_export_job(
        self,
        tid: int,
        order_id: int,
        fault: LifecycleFault | None,
        timeout: float | None = None,
    ) -> None:
        def run() -> None:
            self._run_export(tid, order_id, fault)

        self.jobs.submit(f"export-{order_id}", run, tid=tid, timeout=timeout)

    def _run_export(self, tid: int, order_id: int, fault: LifecycleFault | None) -> None:
        t = self.tickets.get(tid, order_id)
        p = t.spec
        assert isinstance(p, ExportSpec)
        db = self.tickets.database_of(t, p.db_id)
        live = p.db_id in self.accounts.databases
        file_type = str(t.doc.get("job", {}).get("detail", {}).get("fileType", "CSV"))
        cancel = self.jobs.current()
        name = f"{db.schema}_{order_id}"
        art = self.artifacts.reserve(
            "dms-export", str(order_id), tid, f"{name}.zip", self.clock.now()
        )
        error = None
        rows = size = 0
        fault = fault or self._order_fault(t, "export")
        if fault and fault.fails("export"):
            error = fault.reason or "export failed (injected fault)"
        elif not live:
            error = f"export failed: {gone(p.db_id)}"
        else:
            try:
                result = run_export(
                    self.databases.backend(db.db_id),
                    p.sql,
                    Path(art.path or ""),
                    name,
                    file_type,
                    cancel=cancel,
                )
                rows, size = result.rows, result.size
            except Exception as exc:  # the SQL passed precheck; anything here is a failed export
                error = f"export failed: {exc or type(exc).__name__}"
        now = self.clock.now()
        with self.store.transaction():
            try:
                t = self.tickets.get(tid, order_id, now)
            except Exception:
                return  # the tenant was reset while the job ran
            # a fault aimed at this ticket while the file was being written still counts
            fault = fault or self._order_fault(t, "export")
            if fault and fault.fails("export") and not error:
                error = fault.reason or "export failed (injected fault)"
            start = next((e["at"] for e in t.events if e["event"] == E.START_EXPORT.value), now)
            done_at = max(start + self.d.export, now)
            done_at += _hold(fault, "export")
            if error:
                self.artifacts.fail(art.key, error, now)
                self.tickets.record(t, done_at, E.EXPORT_FAILED, detail={"reason": error})
            else:
                self.artifacts.finish(art.key, rows, size, now)
                self.tickets.record(
                    t, done_at, E.EXPORT_DONE, detail={"rows": rows, "key": art.key}
                )

    @staticmethod
    def _order_fault(t: Ticket, stage: str) -> LifecycleFault | None:
        doc = (t.doc.get("faults") or {}).get(stage)
        return LifecycleFault(**doc) if doc else None

    def apply_fault(self, tid: int | None, order_id: int, effect: dict[str, Any]) -> str:
        """A lifecycle fault aimed at one existing ticket: change what is still to come."""
        fault = LifecycleFault.from_effect(effect)
        now = self.clock.now()
        with self.store.transaction():
            t = self.tickets.find(order_id, now)
            if tid is not None and t.tid != tid:
                raise NotFound("ticket", f"no ticket {order_id}")
            change = lifecycle.is_change(t.plugin_type)
            if change and fault.stage not in lifecycle.CHANGE_STAGE_MARKS:
                raise IllegalState(
                    f"ticket {order_id} is a {t.plugin_type} ticket; only precheck, approval and "
                    "execution faults apply"
                )
            if not change and t.plugin_type != "DATA_EXPORT" and fault.stage != "approval":
                raise IllegalState(
                    f"ticket {order_id} is a {t.plugin_type} ticket; only approval faults apply"
                )
            if not change and fault.stage not in lifecycle.STAGE_MARKS:
                raise IllegalState(
                    f"ticket {order_id} is a {t.plugin_type} ticket; {fault.stage} faults do not apply"
                )
            marks = lifecycle.CHANGE_STAGE_MARKS if change else lifecycle.STAGE_MARKS
            ok_event, fail_event = marks[fault.stage]
            pending = [e for e in t.events if e["at"] > now]
            done = {e["event"] for e in t.events if e["at"] <= now}
            if ok_event.value in done or fail_event.value in done:
                raise IllegalState(f"ticket {order_id} is already past the {fault.stage} stage")
            target = next((e for e in pending if e["event"] == ok_event.value), None)
            if change and fault.stage == "execution":
                target = None  # the outcome is recorded when the SQL has run (it reads the fault)
            if fault.outcome == "stall":
                if target is not None:
                    self.tickets.delay_from(t, target["at"], fault.hold(fault.stage))
            elif target is not None:
                reason = fault.reason or f"{fault.stage} failed (injected fault)"
                self.tickets.drop_from(t, target["at"])
                self.tickets.record(t, target["at"], fail_event, detail={"reason": reason})
                if fault.stage == "precheck" and change:
                    failed = ChangePrecheck.from_doc(t.doc["precheck"]).failed(reason)
                    self.tickets.update_doc(
                        t, precheck={"id": t.doc["precheck"].get("id"), **failed.doc()}
                    )
                elif fault.stage == "precheck":
                    self.tickets.update_doc(
                        t, precheck={**t.doc.get("precheck", {}), "ok": False, "reason": reason}
                    )
            self._keep_fault(t, fault)
            return (
                "applied to the schedule" if target is not None else "kept for when the stage runs"
            )

    def resume(self) -> int:
        """After a restart, rerun export jobs whose result was never recorded (within their
        real-time deadline; a job past it ends as EXPORT_FAIL instead); data changes whose SQL
        was running when the process died end as failed (their transaction was rolled back
        with the connection), and due ones start."""
        self._resume_changes()
        rows = self.tickets.with_event_but_not(
            "DATA_EXPORT", lifecycle.EXPORT_STARTED, lifecycle.EXPORT_OUTCOMES
        )
        for tid, order_id in rows:
            t = self.tickets.get(tid, order_id)
            deadline = t.doc.get("job", {}).get("deadline")
            left = None if deadline is None else float(deadline) - time.time()
            if left is not None and left <= 0:
                now = self.clock.now()
                reason = (
                    "export failed: the job passed its deadline of real time "
                    "(--export-deadline) before the emulator restarted"
                )
                start = next((e["at"] for e in t.events if e["event"] == E.START_EXPORT.value), now)
                with self.store.transaction():
                    self.tickets.record(
                        t,
                        max(start + self.d.export, now),
                        E.EXPORT_FAILED,
                        detail={"reason": reason},
                    )
                continue
            self.start_export_job(tid, order_id, None, timeout=left)
        return len(rows)

    # --- what a download needs ---------------------------------------------------------------

    def result_key(self, t: Ticket) -> str | None:
        """The artifact key of a successful export (None before, or for other ticket types)."""
        if t.plugin_type != "DATA_EXPORT" or t.state is None:
            return None
        if not lifecycle.succeeded(t.plugin_type, t.state):
            return None
        return next(
            (e["detail"].get("key") for e in t.events if e["event"] == E.EXPORT_DONE.value), None
        )

    def download(self, user: User, order_id: int, now: float) -> tuple[str | None, str]:
        """(artifact key, tip): a key only once the export succeeded."""
        t = self.tickets.of(user, order_id, now, act=True)
        if t.plugin_type != "DATA_EXPORT":
            return None, f"ticket {order_id} is a {t.plugin_type} ticket and has no export result"
        status = t.state.status if t.state else ""
        if t.state and t.state.closed:
            return None, f"the ticket was closed ({t.state.closed}); there is no export result"
        key = self.result_key(t)
        if key is not None:
            if self.artifacts.get(key) is None:
                return (
                    None,
                    "the export result was deleted after the retention period (--retention)",
                )
            return key, ""
        if t.state and lifecycle.export_failed(t.state):
            reason = next(
                (
                    e["detail"].get("reason")
                    for e in t.events
                    if e["event"] == E.EXPORT_FAILED.value
                ),
                "",
            )
            return None, f"the export failed: {reason}"
        if t.state and lifecycle.precheck_failed(t.state):
            return None, f"the precheck failed: {t.doc.get('precheck', {}).get('reason', '')}"
        return None, f"the export has not finished yet (status {status})"

    # --- data changes (DC_COMMON, DC_CHUNK): precheck, approval, execution for real --------

    def _change_precheck(self, user: User, spec: ChangeSpec) -> ChangePrecheck:
        """The four precheck steps on the ticket's databases (outside the store's lock)."""
        for db_id in spec.db_ids:
            self.tickets.database(user, db_id)  # DatabaseNotExist once its instance is deleted
        grants = permissions.TicketGrants(self.tickets, self.clock)
        access = permissions.access(user, self.accounts, grants)

        def denied(db_id: int) -> str | None:
            if access.database(db_id):
                return None
            return (
                f"user {user.name} ({user.role}) has no permission to change database {db_id}; "
                "apply for it with a PERM_APPLY ticket (or ask an ADMIN to make you an owner)"
            )

        backends = {d: self.databases.backend(d) for d in spec.db_ids}
        timeout = min(datachange.PRECHECK_SECONDS, self.jobs.deadline)
        return datachange.precheck_change(
            backends, spec.sql, spec.estimate_affect_rows, denied, timeout
        )

    def _schedule_change(
        self, t: Ticket, now: float, fault: LifecycleFault | None, pc: ChangePrecheck
    ) -> None:
        """Record a precheck (new -> precheck -> its outcome); on auto tenants lay out the rest:
        submission, approval, execution with backup in one transaction."""
        if fault and fault.fails("precheck"):
            pc = pc.failed(fault.reason or "precheck failed (injected fault)")
        self.tickets.update_doc(
            t, precheck={"id": self.store.next_id("precheck", PRECHECK_ID_START), **pc.doc()}
        )
        if fault is not None:
            self._keep_fault(t, fault)
        self.tickets.record(t, now, E.PRECHECK_START)
        at = now + self.d.precheck + _hold(fault, "precheck")
        if not pc.ok:
            self.tickets.record(t, at, E.PRECHECK_FAILED, detail={"reason": pc.reason})
            return
        self.tickets.record(t, at, E.PRECHECK_PASSED)
        if not self._auto(t.tid):
            return  # waits for SubmitOrderApproval
        at += self.d.submit
        self.tickets.record(t, at, E.SUBMIT)
        at += self.d.approval + _hold(fault, "approval")
        if fault and fault.fails("approval"):
            reason = fault.reason or "rejected (injected fault)"
            self.tickets.record(t, at, E.REJECT, detail={"reason": reason})
            return
        self.tickets.record(t, at, E.APPROVE)
        self._schedule_run(t, at + self.d.execute, RunOptions())

    def _keep_fault(self, t: Ticket, fault: LifecycleFault) -> None:
        faults = dict(t.doc.get("faults") or {})
        faults[fault.stage] = {
            "stage": fault.stage,
            "outcome": fault.outcome,
            "reason": fault.reason,
            "seconds": fault.seconds,
        }
        self.tickets.update_doc(t, faults=faults)

    def _schedule_run(self, t: Ticket, at: float, opts: RunOptions) -> None:
        """approved -> waiting now, -> processing at the start time: from then on the SQL may
        run (the driver claims it once)."""
        start = max(at + self.d.waiting_export, opts.start if opts.start is not None else 0.0)
        self.tickets.update_doc(
            t,
            run={
                "id": self.store.next_id("change_task", JOB_ID_START),
                "backup": opts.backup,
                "transaction": opts.transaction,
                "claimed": False,
            },
        )
        self.tickets.record(t, at, E.EXECUTE, detail=opts.detail())
        self.tickets.record(t, start, E.START)

    def _change_ticket(self, user: User, order_id: int, now: float, act: bool) -> Ticket:
        t = self.tickets.of(user, order_id, now, act=act)
        if not lifecycle.is_change(t.plugin_type):
            raise WrongKind(
                "DC_COMMON",
                f"The ticket {order_id} is a {t.plugin_type} ticket, not a data-change ticket "
                "(DC_COMMON or DC_CHUNK).",
            )
        return t

    def change_ticket(self, user: User, order_id: int, now: float) -> Ticket:
        """A data-change ticket as the caller may see it, after starting its SQL if due."""
        t = self._change_ticket(user, order_id, now, act=False)
        return self.driven(t, user)

    def driven(self, t: Ticket, user: User) -> Ticket:
        """`t` again after starting its SQL if its start time has come (waiting briefly for
        the outcome, so a poll sees a small change finished)."""
        if t.state is not None and not lifecycle.is_finished(t.plugin_type, t.state):
            self._ensure_ticker()  # it stops when idle or after errors; work is pending here
        if t.state is not None and lifecycle.change_running(t.state):
            if self.drive_changes(t.id, wait=POLL_WAIT_SECONDS):
                t = self._change_ticket(user, t.id, self.clock.now(), act=False)
        return t

    def retry_precheck(self, user: User, order_id: int, fault: LifecycleFault | None) -> None:
        """RetryDataCorrectPreCheck: the four steps again, on the data as it is now."""
        now = self.clock.now()
        t = self._change_ticket(user, order_id, now, act=True)
        self._check(t, E.PRECHECK_START)
        spec = t.spec
        assert isinstance(spec, ChangeSpec)
        pc = self._change_precheck(user, spec)
        now = self.clock.now()
        with self.store.transaction():
            fresh = self.tickets.get(t.tid, t.id, now)
            self._check(fresh, E.PRECHECK_START)
            self.tickets.drop_pending(fresh, now)
            # only a fault aimed at the retry itself applies (the ticket's first one was spent)
            self._schedule_change(fresh, now, fault, pc)

    def execute_change(
        self,
        user: User,
        order_id: int,
        opts: RunOptions,
        fault: LifecycleFault | None,
        now: float,
    ) -> None:
        """ExecuteDataCorrect: an approved ticket waits for its start time, then runs."""
        t = self._change_ticket(user, order_id, now, act=True)
        with self.store.transaction():
            fresh = self.tickets.get(t.tid, t.id, now)
            self._check(fresh, E.EXECUTE)
            if fault is not None:
                self._keep_fault(fresh, fault)
            if self.tickets.pull_forward(fresh, E.EXECUTE, now):
                run = {**fresh.doc.get("run", {}), "backup": opts.backup}
                self.tickets.update_doc(fresh, run={**run, "transaction": opts.transaction})
            else:
                self._schedule_run(fresh, now, opts)
        self._ensure_ticker()
        self.drive_changes(t.id, wait=POLL_WAIT_SECONDS)

    def close(self, user: User, order_id: int, reason: str, now: float) -> None:
        """CloseOrder: any ticket that has not started running closes, and nothing of it runs."""
        t = self.tickets.of(user, order_id, now, act=True)
        with self.store.transaction():
            fresh = self.tickets.get(t.tid, t.id, now)
            self._check(fresh, E.CANCEL)
            self.tickets.drop_pending(fresh, now)
            self.tickets.record(fresh, now, E.CANCEL, actor=user.uid, detail={"reason": reason})

    def drive_changes(self, order_id: int | None = None, wait: float = 0.0) -> int:
        """Start the SQL of every data change whose start time has come: claimed once (across
        worker processes: the claim is a store transaction), then run as a background job.
        Called by reads of the ticket, by ExecuteDataCorrect and by the ticker; `wait`: real
        seconds to wait for what it started (a poll then answers with the outcome of a small
        change rather than `processing`)."""
        return self._drive_changes(order_id, wait)[0]

    def _drive_changes(self, order_id: int | None = None, wait: float = 0.0) -> tuple[int, int]:
        """(changes started, changes still to run or running)."""
        now = self.clock.now()
        if order_id is None:
            rows = self.tickets.with_event_but_not(
                lifecycle.CHANGE_TYPES, lifecycle.CHANGE_STARTED, lifecycle.CHANGE_OUTCOMES
            )
        else:
            row = self.tickets.find(order_id, now)
            rows = [(row.tid, row.id)]
        started = 0
        done: list[threading.Event] = []
        for tid, oid in rows:
            with self.store.transaction():
                try:
                    t = self.tickets.get(tid, oid, now)
                except NotFound:
                    continue
                run = t.doc.get("run") or {}
                if not run or run.get("claimed") or t.state is None:
                    continue
                if not lifecycle.change_running(t.state):
                    continue
                self.tickets.update_doc(t, run={**run, "claimed": True})
            event = threading.Event()
            done.append(event)
            self.jobs.submit(
                f"change-{oid}", functools.partial(self._run_change, tid, oid, event), tid=tid
            )
            started += 1
        until = time.monotonic() + wait
        for event in done:
            event.wait(max(0.0, until - time.monotonic()))
        return started, len(rows)

    def _run_change(self, tid: int, order_id: int, done: threading.Event | None = None) -> None:
        """The ticket's SQL on its databases (outside the store's lock, under the job's
        deadline), the backup file, then the outcome on the emulated clock."""
        try:
            self._run_change_now(tid, order_id)
        finally:
            if done is not None:
                done.set()

    def _run_change_now(self, tid: int, order_id: int) -> None:
        began = time.perf_counter()
        t = self.tickets.get(tid, order_id)
        spec = t.spec
        assert isinstance(spec, ChangeSpec)
        run = dict(t.doc.get("run") or {})
        cancel = self.jobs.current()
        fault = self._order_fault(t, "execution")
        art = None
        affected, error, backup_rows = 0, "", 0
        lost = [d for d in spec.db_ids if d not in self.accounts.databases]
        if fault and fault.fails("execution"):
            error = fault.reason or "execution failed (injected fault)"
        elif lost:
            error = f"the execution failed: {gone(lost[0])}; nothing ran"
        else:
            schema = self.tickets.database_of(t, spec.db_id).schema
            if run.get("backup"):
                art = self.artifacts.reserve(
                    "dms-backup",
                    str(order_id),
                    tid,
                    datachange.backup_name(schema, order_id),
                    self.clock.now(),
                )
            try:
                affected, error, backup_rows = self._run_sql(
                    t, spec, art, bool(run.get("transaction", True)), cancel
                )
                log.info(
                    "data change %s: %s rows changed, %s rollback statements, in %.3f s",
                    order_id,
                    affected,
                    backup_rows,
                    time.perf_counter() - began,
                )
            except Exception as exc:  # anything unexpected fails the ticket, never the emulator
                log.exception("data change %s failed", order_id)
                error = f"the execution failed: {exc or type(exc).__name__}"
        now = self.clock.now()
        with self.store.transaction():
            try:
                t = self.tickets.get(tid, order_id, now)
            except NotFound:
                return  # the tenant was reset while the SQL ran
            fault = fault or self._order_fault(t, "execution")
            start = next(
                (e["at"] for e in t.events if e["event"] == lifecycle.CHANGE_STARTED.value), now
            )
            done_at = max(start + self.d.flow_step, now) + _hold(fault, "execution")
            result = {"affected": affected, "message": error, "backup_rows": backup_rows}
            if art is not None and not error:
                size = os.path.getsize(art.path) if art.path and os.path.exists(art.path) else 0
                self.artifacts.finish(art.key, backup_rows, size, now)
                result["backup_key"] = art.key
            elif art is not None:
                self.artifacts.fail(art.key, error, now)
            self.tickets.update_doc(t, run={**run, "claimed": True, **result})
            if error:
                self.tickets.record(t, done_at, E.EXECUTE_FAILED, detail={"reason": error})
            else:
                self.tickets.record(t, done_at, E.FINISH, detail={"affected": affected})

    def _run_sql(
        self, t: Ticket, spec: ChangeSpec, art: Any, transaction: bool, cancel: Any
    ) -> tuple[int, str, int]:
        """(rows changed, error, rollback statements written) over every database."""
        affected = rows = 0
        out = open(art.path, "w", encoding="utf-8") if art is not None and art.path else None
        try:
            for db_id in spec.db_ids:
                backend = self.databases.backend(db_id)
                if out is not None:
                    schema = self.tickets.database_of(t, db_id).schema
                    datachange.write_backup_header(out, t.id, schema, backend.dialect)
                result = datachange.execute_change(
                    backend, spec.sql, db_id, out, transaction, self.jobs.deadline, cancel
                )
                affected += result.affected
                rows += result.backup_rows
                if not result.ok:
                    where = f" on database {db_id}" if len(spec.db_ids) > 1 else ""
                    return affected, result.message + where, rows
        finally:
            if out is not None:
                out.close()
        return affected, "", rows

    def _resume_changes(self) -> None:
        rows = self.tickets.with_event_but_not(
            lifecycle.CHANGE_TYPES, lifecycle.CHANGE_STARTED, lifecycle.CHANGE_OUTCOMES
        )
        for tid, oid in rows:
            t = self.tickets.get(tid, oid)
            if not (t.doc.get("run") or {}).get("claimed"):
                continue
            now = self.clock.now()
            reason = (
                "the emulator stopped while the SQL ran; its transaction was rolled back with "
                "the connection"
            )
            with self.store.transaction():
                self.tickets.record(t, now, E.EXECUTE_FAILED, detail={"reason": reason})
        if rows:
            self._ensure_ticker()

    # --- DC_CRON_CLEAR: the cron fires on the emulated clock --------------------------------

    def drive_crons(self) -> int:
        """Fire every active DC_CRON_CLEAR ticket whose next firing has come: once for all
        firings missed (the latest cutoff wins), counted in CronCallTimes; returns how many
        cron tickets are active."""
        now = self.clock.now()
        rows = self.tickets.with_event_but_not(("DC_CRON_CLEAR",), E.FINISH, (E.CANCEL,))
        fired = 0
        for tid, oid in rows:
            with self.store.transaction():
                try:
                    t = self.tickets.get(tid, oid, now)
                except NotFound:
                    continue
                spec = t.spec
                if not isinstance(spec, CronClearSpec) or t.state is None:
                    continue
                if not lifecycle.succeeded(t.plugin_type, t.state):
                    continue
                cron = dict(t.doc.get("cron") or {})
                since = cron.get("last") or next(
                    (e["at"] for e in t.events if e["event"] == E.FINISH.value), now
                )
                try:
                    times = list(Cron.parse(spec.cron).firings(float(since), now))
                except ValueError:
                    continue
                if not times:
                    continue
                cron.update(last=times[-1], calls=int(cron.get("calls", 0)) + len(times))
                self.tickets.update_doc(t, cron=cron)
            deleted, error = 0, ""
            for db_id in spec.db_ids:
                if db_id not in self.accounts.databases:
                    error = gone(db_id)
                    continue
                try:
                    deleted += datachange.cron_clear(
                        self.databases.backend(db_id), spec.items, times[-1], self.jobs.deadline
                    )
                except Exception as exc:
                    error = str(exc)
            with self.store.transaction():
                try:
                    t = self.tickets.get(tid, oid, now)
                except NotFound:
                    continue
                cron = dict(t.doc.get("cron") or {})
                cron.update(deleted=int(cron.get("deleted", 0)) + deleted, error=error)
                self.tickets.update_doc(t, cron=cron)
            fired += 1
        return len(rows)

    def cron_next(self, t: Ticket, now: float) -> float | None:
        spec = t.spec
        if not isinstance(spec, CronClearSpec):
            return None
        since = (t.doc.get("cron") or {}).get("last") or now
        try:
            return Cron.parse(spec.cron).next_after(max(float(since), now))
        except ValueError:
            return None

    # --- the ticker: due data changes and crons run without anyone polling -----------------

    def _ensure_ticker(self) -> None:
        with self._ticker_lock:
            if self._ticker_pid == os.getpid():
                return
            self._ticker_pid = os.getpid()
            threading.Thread(target=self._tick, name="dms-changes", daemon=True).start()

    def _tick(self) -> None:
        """Every TICK_SECONDS while some data change is to run or some cron is active; it
        stops when there is none (a new ticket starts it again)."""
        pid = os.getpid()
        idle = 0
        while self._ticker_pid == pid:
            time.sleep(TICK_SECONDS)
            try:
                busy = self._drive_changes()[1] + self.drive_crons()
            except Exception:  # a closed store at shutdown: it stops (a poll restarts it)
                log.debug("data-change ticker", exc_info=True)
                busy = 0
            idle = 0 if busy else idle + 1
            if idle >= 4:
                with self._ticker_lock:
                    self._ticker_pid = -1
                return


TICK_SECONDS = 0.5
POLL_WAIT_SECONDS = 2.0  # the longest a poll waits for the SQL it started (real time)
