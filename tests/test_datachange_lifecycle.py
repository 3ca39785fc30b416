"""The data-change lifecycle, written out by hand from the DMS docs (specs/README.md,
"Data-change tickets"), not read from the table under test; and the Quartz cron it fires on."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.datachange import Cron
from emulator.services.dms.domain.lifecycle import IllegalTransition, initial_state

PS, PP, PF, SUB, APP, REJ, EXE, RUN, FIN, BAD, CAN = (
    "precheck_start",
    "precheck_passed",
    "precheck_failed",
    "submit",
    "approve",
    "reject",
    "execute",
    "start",
    "finish",
    "execute_failed",
    "cancel",
)
OK = [PS, PP, SUB, APP]  # approved
# (events, Status, StatusCode, jobStatus)
EXAMPLES = [
    ([], "new", "new", "PENDING"),
    ([PS], "precheck", "new", "PENDING"),
    ([PS, PF], "precheckFailed", "closed", "PENDING"),
    ([PS, PF, PS], "precheck", "new", "PENDING"),
    ([PS, PP], "precheck_success", "new", "PENDING"),
    ([PS, PP, PS, PP], "precheck_success", "new", "PENDING"),
    ([PS, PP, SUB], "toaudit", "toaudit", "PENDING"),
    (OK, "approved", "Approved", "INIT"),
    ([PS, PP, SUB, REJ], "reject", "reject", "PENDING"),
    ([*OK, EXE], "waiting", "processing", "BE_SCHEDULED"),
    ([*OK, EXE, RUN], "processing", "processing", "RUNNING"),
    ([*OK, EXE, RUN, FIN], "success", "success", "SUCCESS"),
    ([*OK, EXE, RUN, BAD], "fail", "closed", "FAIL"),
    ([CAN], "closed", "closed", "PENDING"),
    ([PS, PF, CAN], "closed", "closed", "PENDING"),
    ([*OK, CAN], "closed", "closed", "PENDING"),
    ([*OK, EXE, CAN], "closed", "closed", "DELETE"),
]
ILLEGAL = [
    [SUB],  # submitted before the precheck passed
    [PS, SUB],
    [PS, PF, SUB],
    [PS, PP, APP],  # approved before submission
    [PS, PP, EXE],
    [PS, PP, SUB, EXE],  # executed before approval
    [*OK, RUN],  # started without ExecuteDataCorrect
    [*OK, EXE, RUN, CAN],  # running SQL cannot be closed
    [*OK, EXE, RUN, FIN, CAN],
    [*OK, EXE, RUN, FIN, BAD],
    [PS, PP, SUB, REJ, APP],  # a rejected ticket never moves again
    [CAN, PS],
    [PS, PS],
]


def _run(events: list[str]) -> lifecycle.TicketState:
    state = initial_state("DC_COMMON")
    for ev in events:
        state = lifecycle.apply(lifecycle.table_for("DC_COMMON"), state, ev)
    return state


@pytest.mark.parametrize("events, status, code, job", EXAMPLES)
def test_documented_moves(events: list[str], status: str, code: str, job: str) -> None:
    state = _run(events)
    shown = state.closed or state.status
    assert (shown, lifecycle.status_code("DC_CHUNK", state)) == (status, code)
    assert lifecycle.change_job_status(state) == job


@pytest.mark.parametrize("events", ILLEGAL)
def test_illegal_moves_raise_and_change_nothing(events: list[str]) -> None:
    before = _run(events[:-1])
    with pytest.raises(IllegalTransition):
        lifecycle.apply(lifecycle.table_for("DC_COMMON"), before, events[-1])
    assert _run(events[:-1]) == before


def test_only_processing_runs_sql() -> None:
    """The one state in which data may change (the driver claims the SQL only there)."""
    running = {tuple(e) for e, *_ in EXAMPLES if lifecycle.change_running(_run(e))}
    assert running == {(*OK, EXE, RUN)}


def _at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    "cron, after, want",
    [
        ("0 1 21 * * ?", "2026-12-01 12:00:00", "2026-12-01 21:01:00"),
        ("0 1 21 * * ?", "2026-12-01 21:01:00", "2026-12-02 21:01:00"),
        ("0 0 3 ? * MON", "2026-12-01 12:00:00", "2026-12-07 03:00:00"),  # a Tuesday
        ("0 */15 * * * ?", "2026-12-01 12:07:30", "2026-12-01 12:15:00"),
        ("30 0 0 1 JAN,JUL ?", "2026-12-01 00:00:00", "2027-01-01 00:00:30"),
        ("0 0 12 29 2 ?", "2026-03-01 00:00:00", "2028-02-29 12:00:00"),
    ],
)
def test_quartz_cron_next_firing(cron: str, after: str, want: str) -> None:
    assert Cron.parse(cron).next_after(_at(after)) == _at(want)


@pytest.mark.parametrize("bad", ["0 1 21 * *", "0 61 * * * ?", "x * * * * ?", "0 0 0 * * 8"])
def test_bad_cron_expressions_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Cron.parse(bad)


def test_a_data_change_of_an_older_state_file_still_folds(tmp_path) -> None:
    """State files before data changes ran for real (schema <= 5) hold DC_COMMON tickets that
    walked the flow lifecycle; migration 6 gives them the events their lifecycle needs."""
    import json
    import sqlite3
    from pathlib import Path

    from alibabacloud_dms_enterprise20181101 import models as dm

    from emulator.testing.process import EmulatorProcess
    from emulator.testing.sdk import dms

    data = Path(__file__).parent / "data"
    state = tmp_path / "old.sqlite"
    state.write_bytes((data / "state-v3.db").read_bytes())
    conn = sqlite3.connect(state)
    params = {
        "dbItemList": [{"dbId": 17001, "logic": False}],
        "execSQL": "update products set stock = 1 where id = 1",
        "estimateAffectRows": 1,
        "sqlType": "TEXT",
    }
    done, waiting = 4000101, 4000102
    for order_id, workflow, events in (
        (done, 9000101, ["submit", "approve", "start", "finish"]),
        (waiting, 9000102, []),
    ):
        conn.execute(
            "INSERT INTO orders (id, tid, plugin_type, committer_uid, comment, created_at, "
            "workflow_id, doc, tseq) VALUES (?, 3000, 'DC_COMMON', 100001, 'old', 1000.0, ?, ?, ?)",
            (order_id, workflow, json.dumps({"params": params, "related": []}), order_id),
        )
        for n, event in enumerate(events):
            conn.execute(
                "INSERT INTO order_events (order_id, at, event, actor, detail) "
                "VALUES (?, ?, ?, NULL, '{}')",
                (order_id, 1002.0 + 2 * n, event),
            )
    conn.commit()
    conn.close()
    with EmulatorProcess("--state", str(state), "--clock", "manual") as proc:
        client = dms(proc.endpoint)
        codes = {}
        for order_id in (done, waiting):
            body = client.get_order_base_info(dm.GetOrderBaseInfoRequest(order_id=order_id)).body
            assert body.success, body.to_map()
            codes[order_id] = body.order_base_info.status_code
            detail = client.get_data_correct_order_detail(
                dm.GetDataCorrectOrderDetailRequest(order_id=order_id)
            ).body
            assert detail.success, detail.to_map()
            assert detail.data_correct_order_detail.order_detail.exe_sql == params["execSQL"]
        assert codes == {done: "success", waiting: "new"}
        listed = client.list_orders(dm.ListOrdersRequest(plugin_type="DC_COMMON")).body
        assert listed.success and listed.total_count == 2
