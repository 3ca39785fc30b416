"""Ticket lifecycles as transition tables, applied by one function.

A ticket's status is never stored: it is the fold of its event history (each event has a time
on the emulated clock) through `apply`, up to now. An illegal move raises `IllegalTransition`
and changes nothing, because callers apply the event to the current state before they record it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import NamedTuple


class JobStatus(str, Enum):
    """The ten documented `KeyInfo.JobStatus` values of a DATA_EXPORT ticket.

    The docs spell APPLY_AUDIT_SUCESS; the SDK model and this emulator say APPLY_AUDIT_SUCCESS
    (specs/README.md records the choice).
    """

    PRE_CHECKING = "PRE_CHECKING"
    PRE_CHECK_SUCCESS = "PRE_CHECK_SUCCESS"
    PRE_CHECK_FAIL = "PRE_CHECK_FAIL"
    WAITING_APPLY_AUDIT = "WAITING_APPLY_AUDIT"
    APPLY_AUDIT_SUCCESS = "APPLY_AUDIT_SUCCESS"
    ENABLE_EXPORT = "ENABLE_EXPORT"
    WAITING_EXPORT = "WAITING_EXPORT"
    DOING_EXPORT = "DOING_EXPORT"
    EXPORT_FAIL = "EXPORT_FAIL"
    EXPORT_SUCCESS = "EXPORT_SUCCESS"


class Flow(str, Enum):
    """`StatusCode` of tickets that are not data exports (documented values)."""

    NEW = "new"
    TOAUDIT = "toaudit"
    APPROVED = "Approved"
    REJECT = "reject"
    PROCESSING = "processing"
    SUCCESS = "success"
    CLOSED = "closed"


class Event(str, Enum):
    PRECHECK_PASSED = "precheck_passed"
    PRECHECK_FAILED = "precheck_failed"
    AWAIT_SUBMIT = "await_submit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    EXECUTE = "execute"
    START_EXPORT = "start_export"
    EXPORT_DONE = "export_done"
    EXPORT_FAILED = "export_failed"
    START = "start"  # non-export tickets: execution begins
    FINISH = "finish"  # non-export tickets: execution ends
    PRECHECK_START = "precheck_start"  # data changes: a precheck (or its retry) begins
    EXECUTE_FAILED = "execute_failed"  # data changes: the SQL failed and was rolled back


J = JobStatus
E = Event

EXPORT_TRANSITIONS: dict[tuple[str, Event], str] = {
    (J.PRE_CHECKING, E.PRECHECK_PASSED): J.PRE_CHECK_SUCCESS,
    (J.PRE_CHECKING, E.PRECHECK_FAILED): J.PRE_CHECK_FAIL,
    (J.PRE_CHECK_SUCCESS, E.AWAIT_SUBMIT): J.WAITING_APPLY_AUDIT,
    (J.WAITING_APPLY_AUDIT, E.SUBMIT): J.APPLY_AUDIT_SUCCESS,
    (J.APPLY_AUDIT_SUCCESS, E.APPROVE): J.ENABLE_EXPORT,
    (J.ENABLE_EXPORT, E.EXECUTE): J.WAITING_EXPORT,
    (J.WAITING_EXPORT, E.START_EXPORT): J.DOING_EXPORT,
    (J.DOING_EXPORT, E.EXPORT_DONE): J.EXPORT_SUCCESS,
    (J.DOING_EXPORT, E.EXPORT_FAILED): J.EXPORT_FAIL,
    # closing moves keep the job status and close the ticket (see CLOSING)
    (J.APPLY_AUDIT_SUCCESS, E.REJECT): J.APPLY_AUDIT_SUCCESS,
    (J.APPLY_AUDIT_SUCCESS, E.CANCEL): J.APPLY_AUDIT_SUCCESS,
    (J.WAITING_APPLY_AUDIT, E.CANCEL): J.WAITING_APPLY_AUDIT,
    (J.ENABLE_EXPORT, E.CANCEL): J.ENABLE_EXPORT,
}


class ChangeStatus(str, Enum):
    """`DataCorrectOrderDetail.Status` of a data-change ticket (DC_COMMON, DC_CHUNK).

    The SDK's text capitalises Approved/Success, the docs' example JSON writes them lower case;
    this emulator writes every status lower case as the example does (specs/README.md).
    """

    NEW = "new"
    PRECHECK = "precheck"
    PRECHECK_FAILED = "precheckFailed"
    PRECHECK_SUCCESS = "precheck_success"
    TOAUDIT = "toaudit"
    APPROVED = "approved"
    REJECT = "reject"
    WAITING = "waiting"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAIL = "fail"
    CLOSED = "closed"


C = ChangeStatus
CHANGE_TRANSITIONS: dict[tuple[str, Event], str] = {
    (C.NEW, E.PRECHECK_START): C.PRECHECK,
    (C.PRECHECK, E.PRECHECK_PASSED): C.PRECHECK_SUCCESS,
    (C.PRECHECK, E.PRECHECK_FAILED): C.PRECHECK_FAILED,
    # RetryDataCorrectPreCheck: again after a failure, or before submission
    (C.PRECHECK_FAILED, E.PRECHECK_START): C.PRECHECK,
    (C.PRECHECK_SUCCESS, E.PRECHECK_START): C.PRECHECK,
    (C.PRECHECK_SUCCESS, E.SUBMIT): C.TOAUDIT,
    (C.TOAUDIT, E.APPROVE): C.APPROVED,
    (C.TOAUDIT, E.REJECT): C.REJECT,
    (C.APPROVED, E.EXECUTE): C.WAITING,  # ExecuteDataCorrect (or the auto schedule)
    (C.WAITING, E.START): C.PROCESSING,  # the SQL runs from here on
    (C.PROCESSING, E.FINISH): C.SUCCESS,
    (C.PROCESSING, E.EXECUTE_FAILED): C.FAIL,
    # CloseOrder (or ApproveOrder CANCEL) closes anything that has not started running
    **{
        (s, E.CANCEL): C.CLOSED
        for s in (
            C.NEW,
            C.PRECHECK,
            C.PRECHECK_FAILED,
            C.PRECHECK_SUCCESS,
            C.TOAUDIT,
            C.APPROVED,
            C.WAITING,
        )
    },
}
# ticket types that run their SQL for real through CHANGE_TRANSITIONS
CHANGE_TYPES = ("DC_COMMON", "DC_CHUNK")

F = Flow
FLOW_TRANSITIONS: dict[tuple[str, Event], str] = {
    (F.NEW, E.SUBMIT): F.TOAUDIT,
    (F.TOAUDIT, E.APPROVE): F.APPROVED,
    (F.TOAUDIT, E.REJECT): F.REJECT,
    (F.TOAUDIT, E.CANCEL): F.CLOSED,
    (F.NEW, E.CANCEL): F.CLOSED,
    (F.APPROVED, E.START): F.PROCESSING,
    (F.PROCESSING, E.FINISH): F.SUCCESS,
}


def _plain(table: dict) -> dict[tuple[str, Event], str]:
    """Key tables by plain strings, so a status read back from storage finds its row."""
    return {
        (str(getattr(s, "value", s)), e): str(getattr(t, "value", t)) for (s, e), t in table.items()
    }


EXPORT_TRANSITIONS = _plain(EXPORT_TRANSITIONS)
FLOW_TRANSITIONS = _plain(FLOW_TRANSITIONS)
CHANGE_TRANSITIONS = _plain(CHANGE_TRANSITIONS)

# events that close a ticket for good, and the StatusCode they leave
CLOSING: dict[Event, str] = {E.REJECT: F.REJECT.value, E.CANCEL: F.CLOSED.value}

# events after which a ticket is finished (whatever its type)
TERMINAL_EVENTS = (
    E.PRECHECK_FAILED,
    E.EXPORT_DONE,
    E.EXPORT_FAILED,
    E.REJECT,
    E.CANCEL,
    E.FINISH,
    E.EXECUTE_FAILED,
)

EXPORT_TERMINAL = {J.PRE_CHECK_FAIL.value, J.EXPORT_FAIL.value, J.EXPORT_SUCCESS.value}
FLOW_TERMINAL = {F.REJECT.value, F.SUCCESS.value, F.CLOSED.value}
CHANGE_TERMINAL = {C.REJECT.value, C.SUCCESS.value, C.FAIL.value, C.CLOSED.value}


class IllegalTransition(Exception):
    def __init__(self, status: str, event: str, closed: str | None = None):
        where = f"closed ({closed})" if closed else f"in status {status}"
        super().__init__(f"the ticket is {where}; '{event}' is not allowed there")
        self.status, self.event, self.closed = status, event, closed


class TicketState(NamedTuple):
    """Immutable (a tuple: cheap to build, which matters in the fold of every read)."""

    status: str
    closed: str | None = None  # StatusCode of a ticket closed by reject/cancel
    path: tuple[str, ...] = ()  # statuses taken, oldest first


def table_for(plugin_type: str) -> dict[tuple[str, Event], str]:
    if plugin_type in CHANGE_TYPES:
        return CHANGE_TRANSITIONS
    return EXPORT_TRANSITIONS if plugin_type == "DATA_EXPORT" else FLOW_TRANSITIONS


def initial_state(plugin_type: str) -> TicketState:
    first = J.PRE_CHECKING.value if plugin_type == "DATA_EXPORT" else F.NEW.value
    return TicketState(status=first, path=(first,))


def is_change(plugin_type: str) -> bool:
    """A data-change ticket whose SQL the emulator runs (DC_COMMON, DC_CHUNK)."""
    return plugin_type in CHANGE_TYPES


def apply(
    table: dict[tuple[str, Event], str], state: TicketState, event: Event | str
) -> TicketState:
    """The one function that moves a ticket; raises and changes nothing on an illegal move."""
    ev = event if isinstance(event, Event) else Event(event)
    if state.closed:
        raise IllegalTransition(state.status, ev.value, state.closed)
    target = table.get((state.status, ev))
    if target is None:
        raise IllegalTransition(state.status, ev.value)
    path = state.path if target == state.status else state.path + (target,)
    return TicketState(target, CLOSING.get(ev), path)


def fold(plugin_type: str, events: Iterable[tuple[float, str]], now: float) -> TicketState:
    """The state at `now`: every event up to now applied in time order."""
    table = table_for(plugin_type)
    state = initial_state(plugin_type)
    for at, event in events:
        if at > now:
            break
        state = apply(table, state, event)
    return state


def status_code(plugin_type: str, state: TicketState) -> str:
    """The ticket-level `StatusCode` (GetOrderBaseInfo, ListOrders)."""
    if state.closed:
        return state.closed
    if plugin_type in CHANGE_TYPES:
        return CHANGE_CODES[state.status]
    if plugin_type != "DATA_EXPORT":
        return state.status
    return {
        J.PRE_CHECKING.value: F.NEW.value,
        J.PRE_CHECK_SUCCESS.value: F.NEW.value,
        J.PRE_CHECK_FAIL.value: F.CLOSED.value,
        J.WAITING_APPLY_AUDIT.value: F.NEW.value,
        J.APPLY_AUDIT_SUCCESS.value: F.TOAUDIT.value,
        J.ENABLE_EXPORT.value: F.APPROVED.value,
        J.WAITING_EXPORT.value: F.PROCESSING.value,
        J.DOING_EXPORT.value: F.PROCESSING.value,
        J.EXPORT_FAIL.value: F.CLOSED.value,
        J.EXPORT_SUCCESS.value: F.SUCCESS.value,
    }[state.status]


# StatusCode of each data-change status: only documented codes (a failure reads as closed, as
# a failed export does; clients treat reject/closed as failure)
CHANGE_CODES = {
    C.NEW.value: F.NEW.value,
    C.PRECHECK.value: F.NEW.value,
    C.PRECHECK_SUCCESS.value: F.NEW.value,
    C.PRECHECK_FAILED.value: F.CLOSED.value,
    C.TOAUDIT.value: F.TOAUDIT.value,
    C.APPROVED.value: F.APPROVED.value,
    C.WAITING.value: F.PROCESSING.value,
    C.PROCESSING.value: F.PROCESSING.value,
    C.SUCCESS.value: F.SUCCESS.value,
    C.FAIL.value: F.CLOSED.value,
    C.REJECT.value: F.REJECT.value,
    C.CLOSED.value: F.CLOSED.value,
}


STATUS_DESC = {
    "new": "Created",
    "toaudit": "Waiting for approval",
    "Approved": "Approved",
    "reject": "Rejected",
    "processing": "Processing",
    "success": "Succeeded",
    "closed": "Closed",
}


def is_finished(plugin_type: str, state: TicketState) -> bool:
    if state.closed:
        return True
    if plugin_type in CHANGE_TYPES:
        return state.status in CHANGE_TERMINAL
    terminal = EXPORT_TERMINAL if plugin_type == "DATA_EXPORT" else FLOW_TERMINAL
    return state.status in terminal


# --- questions the rest of the emulator asks of a state (so no status literal leaves here) --


def precheck_done(state: TicketState) -> bool:
    """An export's precheck has an outcome (its result can be shown)."""
    return state.status != J.PRE_CHECKING.value


def reached_execution(state: TicketState) -> bool:
    """An export was executed at some point (it has a job id)."""
    return J.WAITING_EXPORT.value in state.path


def succeeded(plugin_type: str, state: TicketState) -> bool:
    """The ticket's work is done and succeeded (a download or a result may be asked for)."""
    if state.closed:
        return False
    if plugin_type == "DATA_EXPORT":
        return state.status == J.EXPORT_SUCCESS.value
    return state.status == F.SUCCESS.value  # also ChangeStatus.SUCCESS


WORKFLOW_DESC = {F.TOAUDIT.value: "Waiting for approval", F.REJECT.value: "Rejected"}
APPROVED_CODES = (F.APPROVED.value, F.PROCESSING.value, F.SUCCESS.value)


def workflow_desc(status_code: str) -> str:
    """`WorkflowStatusDesc` of GetOrderBaseInfo, from the ticket's StatusCode."""
    if status_code in WORKFLOW_DESC:
        return WORKFLOW_DESC[status_code]
    if status_code in APPROVED_CODES:
        return "Approved"
    return "Not submitted" if status_code == F.NEW.value else "Closed"


def awaits_submission(state: TicketState) -> bool:
    """Created but not yet submitted for approval (a manual tenant's ticket waits here)."""
    return not state.closed and state.status in (
        J.WAITING_APPLY_AUDIT.value,
        F.NEW.value,
        C.PRECHECK_SUCCESS.value,
    )


def awaits_decision(plugin_type: str, state: TicketState) -> bool:
    """A DBA may still approve or reject it (submitting first when needed): the console's
    approve/reject buttons."""
    if state.closed:
        return False
    if plugin_type == "DATA_EXPORT":
        return state.status in (J.WAITING_APPLY_AUDIT.value, J.APPLY_AUDIT_SUCCESS.value)
    if plugin_type in CHANGE_TYPES:
        return state.status in (C.PRECHECK_SUCCESS.value, C.TOAUDIT.value)
    return state.status in (F.NEW.value, F.TOAUDIT.value)


# stage marks: for each lifecycle stage a fault can aim at, the event that passes it and the one
# that fails it (a stage is over once either has happened)
STAGE_MARKS: dict[str, tuple[Event, Event]] = {
    "precheck": (E.PRECHECK_PASSED, E.PRECHECK_FAILED),
    "approval": (E.APPROVE, E.REJECT),
    "export": (E.EXPORT_DONE, E.EXPORT_FAILED),
}
# an export job runs from this event until one of its outcomes is recorded
EXPORT_STARTED = E.EXECUTE
EXPORT_OUTCOMES = (E.EXPORT_DONE, E.EXPORT_FAILED)


def export_failed(state: TicketState) -> bool:
    return not state.closed and state.status == J.EXPORT_FAIL.value


def precheck_failed(state: TicketState) -> bool:
    return not state.closed and state.status == J.PRE_CHECK_FAIL.value


# --- data changes: the questions their workflow and wire layer ask ---------------------------

# a data change's SQL runs from this event until one of its outcomes is recorded
CHANGE_STARTED = E.START
CHANGE_OUTCOMES = (E.FINISH, E.EXECUTE_FAILED)
# stage marks of a data change's lifecycle faults (precheck and approval as above)
CHANGE_STAGE_MARKS: dict[str, tuple[Event, Event]] = {
    "precheck": STAGE_MARKS["precheck"],
    "approval": STAGE_MARKS["approval"],
    "execution": CHANGE_OUTCOMES,
}


def change_running(state: TicketState) -> bool:
    """The SQL may be running now: started, no outcome yet (the only time data changes)."""
    return not state.closed and state.status == C.PROCESSING.value


def change_precheck_done(state: TicketState) -> bool:
    """The latest precheck has an outcome (its steps can be shown as finished)."""
    return state.status not in (C.NEW.value, C.PRECHECK.value)


def change_reached_execution(state: TicketState) -> bool:
    """ExecuteDataCorrect happened (or the auto schedule's execution): a task exists."""
    return C.WAITING.value in state.path


def change_job_status(state: TicketState) -> str:
    """`DataCorrectTaskDetail.jobStatus` (documented: INIT, PENDING, BE_SCHEDULED, RUNNING,
    SUCCESS, FAIL, PAUSE, DELETE)."""
    if state.status == C.WAITING.value:
        return "BE_SCHEDULED"
    if state.status == C.PROCESSING.value:
        return "RUNNING"
    if state.status == C.SUCCESS.value:
        return "SUCCESS"
    if state.status == C.FAIL.value:
        return "FAIL"
    if state.closed and change_reached_execution(state):
        return "DELETE"
    return "INIT" if state.status in (C.APPROVED.value,) else "PENDING"
