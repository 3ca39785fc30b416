"""Property tests: whatever the order of calls, only table transitions are ever observed."""

from __future__ import annotations

from alibabacloud_dms_enterprise20181101 import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.lifecycle import (
    EXPORT_TRANSITIONS,
    FLOW_TRANSITIONS,
    Event,
    IllegalTransition,
    JobStatus,
    initial_state,
)
from emulator.testing.flows import reachable
from emulator.testing.sdk import DAVE, ERIN, FRANK, dms

DOCUMENTED = {s.value for s in JobStatus}


@given(
    plugin=st.sampled_from(["DATA_EXPORT", "DC_COMMON"]),
    events=st.lists(st.sampled_from(list(Event)), max_size=30),
)
def test_apply_moves_only_along_the_table(plugin: str, events: list[Event]) -> None:
    table = EXPORT_TRANSITIONS if plugin == "DATA_EXPORT" else FLOW_TRANSITIONS
    state = initial_state(plugin)
    for ev in events:
        before = state
        try:
            state = lifecycle.apply(table, state, ev)
        except IllegalTransition:
            assert state == before, "an illegal move changes nothing"
            continue
        assert not before.closed
        assert table[(before.status, ev)] == state.status
        if plugin == "DATA_EXPORT":
            assert state.status in DOCUMENTED


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
