"""Lifecycles: hand-written transition examples, the documented-statuses property, and random
call orders through the SDK that only ever show documented moves."""

from __future__ import annotations

import pytest
from alibabacloud_dms_enterprise20181101 import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.lifecycle import (
    Event,
    IllegalTransition,
    JobStatus,
    initial_state,
)
from emulator.testing.flows import reachable
from emulator.testing.sdk import DAVE, ERIN, FRANK, dms

DOCUMENTED = {s.value for s in JobStatus}


# Expected transitions written out by hand from the DMS docs (specs/README.md, "Lifecycle"),
# not read from the tables under test: (plugin, events, status, closed) or an illegal last event.
P, F, A, SUB, APP, REJ = (
    "precheck_passed",
    "precheck_failed",
    "await_submit",
    "submit",
    "approve",
    "reject",
)
READY = [P, A, SUB, APP]  # an export approved and ready to execute
EXAMPLES = [
    ("DATA_EXPORT", [], "PRE_CHECKING", None),
    ("DATA_EXPORT", [P], "PRE_CHECK_SUCCESS", None),
    ("DATA_EXPORT", [F], "PRE_CHECK_FAIL", None),
    ("DATA_EXPORT", [P, A], "WAITING_APPLY_AUDIT", None),
    ("DATA_EXPORT", [P, A, SUB], "APPLY_AUDIT_SUCCESS", None),
    ("DATA_EXPORT", READY, "ENABLE_EXPORT", None),
    ("DATA_EXPORT", [*READY, "execute"], "WAITING_EXPORT", None),
    ("DATA_EXPORT", [*READY, "execute", "start_export"], "DOING_EXPORT", None),
    ("DATA_EXPORT", [*READY, "execute", "start_export", "export_done"], "EXPORT_SUCCESS", None),
    ("DATA_EXPORT", [*READY, "execute", "start_export", "export_failed"], "EXPORT_FAIL", None),
    # reject and cancel keep the job status and close the ticket
    ("DATA_EXPORT", [P, A, SUB, REJ], "APPLY_AUDIT_SUCCESS", "reject"),
    ("DATA_EXPORT", [P, A, "cancel"], "WAITING_APPLY_AUDIT", "closed"),
    ("DATA_EXPORT", [P, A, SUB, "cancel"], "APPLY_AUDIT_SUCCESS", "closed"),
    ("DATA_EXPORT", [*READY, "cancel"], "ENABLE_EXPORT", "closed"),
    ("NDDL", [], "new", None),
    ("NDDL", [SUB], "toaudit", None),
    ("NDDL", [SUB, APP], "Approved", None),
    ("NDDL", [SUB, APP, "start"], "processing", None),
    ("NDDL", [SUB, APP, "start", "finish"], "success", None),
    # other tickets have no job status: reject and cancel move the status itself
    ("NDDL", [SUB, REJ], "reject", "reject"),
    ("NDDL", ["cancel"], "closed", "closed"),
    ("NDDL", [SUB, "cancel"], "closed", "closed"),
]
ILLEGAL = [
    ("DATA_EXPORT", ["execute"]),
    ("DATA_EXPORT", [P, SUB]),  # submitted before the precheck settled
    ("DATA_EXPORT", [F, SUB]),
    ("DATA_EXPORT", [P, A, "execute"]),  # executed before approval
    ("DATA_EXPORT", [P, A, SUB, APP, APP]),
    ("DATA_EXPORT", [P, A, SUB, REJ, APP]),  # a closed ticket never moves again
    ("DATA_EXPORT", [P, A, "cancel", SUB]),
    ("DATA_EXPORT", [*READY, "execute", "cancel"]),  # a running export cannot be cancelled
    ("DATA_EXPORT", [*READY, "execute", "start_export", "export_done", "export_failed"]),
    ("NDDL", [APP]),
    ("NDDL", ["finish"]),
    ("NDDL", [SUB, APP, "cancel"]),
    ("NDDL", [SUB, REJ, APP]),
    ("NDDL", [SUB, APP, "start", "finish", SUB]),
]
# StatusCode (GetOrderBaseInfo) of export states, by hand from the docs
STATUS_CODES = [
    ([], "new"),
    ([F], "closed"),
    ([P, A, SUB], "toaudit"),
    (READY, "Approved"),
    ([*READY, "execute"], "processing"),
    ([*READY, "execute", "start_export", "export_done"], "success"),
    ([*READY, "execute", "start_export", "export_failed"], "closed"),
    ([P, A, SUB, REJ], "reject"),
    ([P, A, "cancel"], "closed"),
]
DOCUMENTED_CODES = {"new", "toaudit", "Approved", "reject", "processing", "success", "closed"}


def _run(plugin: str, events: list[str]) -> lifecycle.TicketState:
    state = initial_state(plugin)
    for ev in events:
        state = lifecycle.apply(lifecycle.table_for(plugin), state, ev)
    return state


@pytest.mark.parametrize("plugin, events, status, closed", EXAMPLES)
def test_documented_transitions(plugin: str, events: list[str], status: str, closed) -> None:
    state = _run(plugin, events)
    assert (state.status, state.closed) == (status, closed)


@pytest.mark.parametrize("plugin, events", ILLEGAL)
def test_illegal_moves_raise_and_change_nothing(plugin: str, events: list[str]) -> None:
    before = _run(plugin, events[:-1])
    with pytest.raises(IllegalTransition):
        lifecycle.apply(lifecycle.table_for(plugin), before, events[-1])
    assert _run(plugin, events[:-1]) == before


@pytest.mark.parametrize("events, code", STATUS_CODES)
def test_export_status_codes(events: list[str], code: str) -> None:
    assert lifecycle.status_code("DATA_EXPORT", _run("DATA_EXPORT", events)) == code


@given(
    plugin=st.sampled_from(["DATA_EXPORT", "NDDL", "DC_COMMON"]),
    events=st.lists(st.sampled_from(list(Event)), max_size=30),
)
def test_only_documented_statuses_are_ever_reached(plugin: str, events: list[Event]) -> None:
    """Whatever the events, an illegal move changes nothing and every state reached has a
    documented JobStatus (exports) and StatusCode (all tickets)."""
    state = initial_state(plugin)
    for ev in events:
        before = state
        try:
            state = lifecycle.apply(lifecycle.table_for(plugin), state, ev)
        except IllegalTransition:
            assert state == before, "an illegal move changes nothing"
            continue
        assert not before.closed
        if plugin == "DATA_EXPORT":
            assert state.status in DOCUMENTED
        assert lifecycle.status_code(plugin, state) in DOCUMENTED_CODES


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(min_value=0, max_value=5)),
        st.tuples(
            st.sampled_from(["submit", "agree", "reject", "cancel", "execute", "user_agree"]),
            st.none(),
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS, sql=st.sampled_from(["select * from departments", "select * from nowhere"]))
def test_random_calls_on_a_manual_ticket_only_show_table_moves(
    endpoint: str, actions, sql: str
) -> None:
    import requests

    user, dba = dms(endpoint, FRANK), dms(endpoint, ERIN)
    order_id = user.create_order(
        models.CreateOrderRequest(
            plugin_type="DATA_EXPORT", comment="p", plugin_param={"dbId": 27001, "exeSQL": sql}
        )
    ).body.create_order_result.order_ids[0]
    workflow = user.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info.workflow_instance_id
    url = f"http://{endpoint}/_emulator/clock/advance"

    def observe() -> str:
        d = user.get_data_export_order_detail(
            models.GetDataExportOrderDetailRequest(order_id=order_id)
        ).body
        s = d.data_export_order_detail.key_info.job_status
        link = user.get_data_export_download_url(
            models.GetDataExportDownloadURLRequest(order_id=order_id)
        ).body
        assert link.download_urlresult.has_result == (s == "EXPORT_SUCCESS")
        return s

    seen = [observe()]
    for name, arg in actions:
        if name == "advance":
            requests.post(url, json={"seconds": arg}, timeout=30).raise_for_status()
        elif name == "submit":
            user.submit_order_approval(models.SubmitOrderApprovalRequest(order_id=order_id))
        elif name in ("agree", "reject", "cancel"):
            dba.approve_order(
                models.ApproveOrderRequest(
                    workflow_instance_id=workflow, approval_type=name.upper()
                )
            )
        elif name == "user_agree":
            body = user.approve_order(
                models.ApproveOrderRequest(workflow_instance_id=workflow, approval_type="AGREE")
            ).body
            assert body.success is False
        elif name == "execute":
            dms(endpoint, DAVE).execute_data_export(
                models.ExecuteDataExportRequest(order_id=order_id)
            )
        now = observe()
        assert now in DOCUMENTED
        assert now == seen[-1] or reachable(seen[-1], now), f"{seen[-1]} -> {now} after {name}"
        seen.append(now)
