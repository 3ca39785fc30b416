"""What moves a ticket: the automatic schedule, approvals, execution and the export job.

Every move goes through `lifecycle.apply` on the current state before it is recorded, so an
illegal call raises `IllegalState` and leaves the history as it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.core.clock import Clock
from emulator.core.errors import Forbidden, IllegalState, Invalid, NotFound, Unsupported
from emulator.core.jobs import Jobs
from emulator.databases.catalog import DataPlane
from emulator.platform.accounts import Accounts, User
from emulator.platform.artifacts import Artifacts
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.datatrack import DataTracking
from emulator.services.dms.domain.exporter import (
    FILE_TYPES,
    PRECHECK_SECONDS,
    PrecheckOutcome,
    precheck,
    run_export,
)
from emulator.services.dms.domain.lifecycle import Event, IllegalTransition
from emulator.services.dms.domain.model import ExportSpec, Spec, TrackSpec
from emulator.services.dms.domain.tickets import (
    JOB_ID_START,
    PRECHECK_ID_START,
    Ticket,
    Tickets,
    require_role,
)
from emulator.state.store import Store

log = logging.getLogger("emulator.dms")
E = Event


@dataclass
class LifecycleFault:
    """A lifecycle fault to apply to one ticket (set by the fault engine)."""

    stage: str  # precheck | approval | export
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
            if ticket.plugin_type == "DATA_TRACK":
                track = ticket.spec
                assert isinstance(track, TrackSpec)
                db = self.accounts.databases[track.db_id]
                self.datatrack.record_binlog(db, ticket.tid, ticket.id, track)
                self.tickets.update_doc(ticket, track={"schema": db.schema})
            self._schedule_flow(ticket, now, fault)

        return self.tickets.create(
            user, plugin_type, spec, comment, related, attachment_key, schedule, now
        )

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
            if event == E.APPROVE and fresh.plugin_type != "DATA_EXPORT":
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
        db = self.accounts.databases[p.db_id]
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
            if t.plugin_type != "DATA_EXPORT" and fault.stage != "approval":
                raise IllegalState(
                    f"ticket {order_id} is a {t.plugin_type} ticket; only approval faults apply"
                )
            ok_event, fail_event = lifecycle.STAGE_MARKS[fault.stage]
            pending = [e for e in t.events if e["at"] > now]
            done = {e["event"] for e in t.events if e["at"] <= now}
            if ok_event.value in done or fail_event.value in done:
                raise IllegalState(f"ticket {order_id} is already past the {fault.stage} stage")
            target = next((e for e in pending if e["event"] == ok_event.value), None)
            if fault.outcome == "stall":
                if target is not None:
                    self.tickets.delay_from(t, target["at"], fault.hold(fault.stage))
            elif target is not None:
                reason = fault.reason or f"{fault.stage} failed (injected fault)"
                self.tickets.drop_from(t, target["at"])
                self.tickets.record(t, target["at"], fail_event, detail={"reason": reason})
                if fault.stage == "precheck":
                    self.tickets.update_doc(
                        t, precheck={**t.doc.get("precheck", {}), "ok": False, "reason": reason}
                    )
            faults = dict(t.doc.get("faults") or {})
            faults[fault.stage] = {
                "stage": fault.stage,
                "outcome": fault.outcome,
                "reason": fault.reason,
                "seconds": fault.seconds,
            }
            self.tickets.update_doc(t, faults=faults)
            return (
                "applied to the schedule" if target is not None else "kept for when the stage runs"
            )

    def resume(self) -> int:
        """After a restart, rerun export jobs whose result was never recorded (within their
        real-time deadline; a job past it ends as EXPORT_FAIL instead)."""
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
