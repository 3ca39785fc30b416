"""Stateful properties (hypothesis RuleBasedStateMachine) over the ticket, data-tracking and Sas
lifecycles: whatever the interleaving of create / poll / approve / execute / advance-clock /
download, only documented statuses appear, progress is monotonic, a download link exists iff
the export succeeded, counts never exceed totals, and tenants never see each other.
Moving the clock needs an emulator's control plane."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_sas20181203 import models as sm
from alibabacloud_tea_openapi.exceptions import ClientException
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from emulator.services.dms.domain.lifecycle import EXPORT_TRANSITIONS, JobStatus
from emulator.testing.sdk import ALICE, DAVE, ERIN, FRANK, dms, sas

DOCUMENTED = {s.value for s in JobStatus}
DL_RANK = {"INIT": 0, "LISTING": 1, "DOWNLOADING": 2, "DOWNLOAD_SUCCESS": 3, "DOWNLOAD_FAIL": 3}
SAS_RANK = {"init": 0, "exporting": 1, "success": 2}
# The documented lifecycle (specs/README.md, "Lifecycle"), written out here rather than read from
# the emulator: the JobStatus each manual move is legal from, on a ticket that is still open.
LEGAL_FROM = {
    "submit": {"WAITING_APPLY_AUDIT"},
    "AGREE": {"APPLY_AUDIT_SUCCESS"},
    "REJECT": {"APPLY_AUDIT_SUCCESS"},
    "CANCEL": {"WAITING_APPLY_AUDIT", "APPLY_AUDIT_SUCCESS", "ENABLE_EXPORT"},
    "execute": {"ENABLE_EXPORT"},
}
CLOSED = {"reject", "closed"}
NEXT_MOVE = {
    "WAITING_APPLY_AUDIT": "submit",
    "APPLY_AUDIT_SUCCESS": "AGREE",
    "ENABLE_EXPORT": "execute",
}
AFTER_EXECUTE = {"WAITING_EXPORT", "DOING_EXPORT", "EXPORT_SUCCESS", "EXPORT_FAIL"}


# kind -> (start, [(describe, status of the answer, documented statuses ranked)]) (helper sas)
STANDARD_RANK = {"init": 0, "exporting": 1, "success": 2}
SAS_FAMILY = {
    "vul": (
        lambda c: c.export_vul(sm.ExportVulRequest(type="cve", necessity="asap,later")),
        [
            (
                lambda c, i: c.describe_vul_export_info(
                    sm.DescribeVulExportInfoRequest(export_id=i)
                ),
                lambda b: b.export_status,
                STANDARD_RANK,
            )
        ],
    ),
    "warning": (
        lambda c: c.export_warning(sm.ExportWarningRequest(export_type="hc_check_warning")),
        [
            (
                lambda c, i: c.describe_warning_export_info(
                    sm.DescribeWarningExportInfoRequest(export_id=i)
                ),
                lambda b: b.export_status,
                STANDARD_RANK,
            ),
            (
                lambda c, i: c.describe_hc_export_info(sm.DescribeHcExportInfoRequest(export_id=i)),
                lambda b: b.result_status,
                {"exporting": 0, "success": 1},
            ),
        ],
    ),
    "susp": (
        lambda c: c.export_susp_events(sm.ExportSuspEventsRequest(levels="serious")),
        [
            (
                lambda c, i: c.describe_susp_event_export_info(
                    sm.DescribeSuspEventExportInfoRequest(export_id=i)
                ),
                lambda b: b.export_status,
                {"pending": 0, "exporting": 1, "success": 2},
            )
        ],
    ),
}


def reachable(a: str, b: str) -> bool:
    frontier, seen = [a], set()
    while frontier:
        s = frontier.pop()
        for (src, _), dst in EXPORT_TRANSITIONS.items():
            if src == s and dst not in seen:
                if dst == b:
                    return True
                seen.add(dst)
                frontier.append(dst)
    return False


class Lifecycles(RuleBasedStateMachine):
    target: Any = None  # set by the test

    orders = Bundle("orders")
    tracks = Bundle("tracks")
    exports = Bundle("exports")
    family_exports = Bundle("family_exports")

    def __init__(self) -> None:
        super().__init__()
        t = type(self).target  # no reset: the target may be shared; every check is per ticket
        self.ep = t.endpoint
        self.clients = {k: dms(self.ep, k) for k in (ALICE, DAVE, ERIN, FRANK)}
        self.sas = sas(self.ep)
        self.last: dict[int, str] = {}
        self.tenant_of: dict[int, int] = {}
        self.downloads: dict[str, int] = {}
        self.sas_last: dict[int, tuple[int, int]] = {}
        self.dave_sas = sas(self.ep, DAVE)
        self.family_last: dict[tuple[str, int, int], tuple[int, int]] = {}

    def client_for(self, order_id: int) -> Any:
        return self.clients[ALICE if self.tenant_of[order_id] == 3000 else FRANK]

    def observe(self, order: int) -> tuple[str, str, int]:
        """(JobStatus, StatusCode, WorkflowInstanceId) of a ticket as its committer sees it."""
        client = self.client_for(order)
        detail = client.get_data_export_order_detail(
            dm.GetDataExportOrderDetailRequest(order_id=order)
        ).body
        assert detail.success, detail.to_map()
        info = client.get_order_base_info(dm.GetOrderBaseInfoRequest(order_id=order)).body
        assert info.success, info.to_map()
        base = info.order_base_info
        job = detail.data_export_order_detail.key_info.job_status
        return job, base.status_code, base.workflow_instance_id

    def check_move(self, order: int, move: str, before: tuple[str, str, int], body: Any) -> None:
        """A manual move succeeds exactly when the documented lifecycle allows it, and then
        shows in the ticket; otherwise it is IllegalOrderStatus and changes nothing."""
        job, code, _ = before
        legal = code not in CLOSED and job in LEGAL_FROM[move]
        assert body.success is legal, (move, before, body.to_map())
        after = self.observe(order)
        if not legal:
            assert body.error_code == "IllegalOrderStatus", body.to_map()
            assert after[1] == code, (move, before, after)
            return
        if move == "submit":
            assert after[0] == "APPLY_AUDIT_SUCCESS" and after[1] == "toaudit", after
        elif move == "AGREE":
            assert after[0] in {"ENABLE_EXPORT"} | AFTER_EXECUTE, after
        elif move == "REJECT":
            assert after[1] == "reject", after
        elif move == "CANCEL":
            assert after[1] == "closed", after
        else:
            assert after[0] in AFTER_EXECUTE, after

    @rule(
        target=orders,
        manual=st.booleans(),
        sql=st.sampled_from(["select * from products", "select 1", "select * from missing_table"]),
    )
    def create_export(self, manual: bool, sql: str) -> int:
        key, db = (FRANK, 27001) if manual else (ALICE, 17001)
        if manual and "products" in sql:
            sql = "select * from departments"
        body = (
            self.clients[key]
            .create_order(
                dm.CreateOrderRequest(
                    plugin_type="DATA_EXPORT",
                    comment="sm",
                    plugin_param={"dbId": db, "exeSQL": sql},
                )
            )
            .body
        )
        assert body.success, body.to_map()
        order_id = body.create_order_result.order_ids[0]
        self.tenant_of[order_id] = 4000 if manual else 3000
        return order_id

    @rule(seconds=st.sampled_from([0.5, 1, 3, 10, 60]))
    def advance(self, seconds: float) -> None:
        r = requests.post(
            f"{type(self).target.url}/_emulator/clock/advance",
            json={"seconds": seconds},
            timeout=60,
        )
        assert r.status_code == 200, r.text

    @rule(order=orders)
    def submit(self, order: int) -> None:
        before = self.observe(order)
        body = (
            self.client_for(order)
            .submit_order_approval(dm.SubmitOrderApprovalRequest(order_id=order))
            .body
        )
        self.check_move(order, "submit", before, body)

    @rule(order=orders, verdict=st.sampled_from(["AGREE", "REJECT", "CANCEL"]))
    def approve(self, order: int, verdict: str) -> None:
        before = self.observe(order)
        # a DBA (tenant 4000) or the ADMIN (tenant 3000): both may approve, reject and cancel
        approver = self.clients[ERIN] if self.tenant_of[order] == 4000 else self.clients[ALICE]
        body = approver.approve_order(
            dm.ApproveOrderRequest(workflow_instance_id=before[2], approval_type=verdict)
        ).body
        self.check_move(order, verdict, before, body)

    @rule(
        order=orders,
        close=st.sampled_from([None, "REJECT", "CANCEL"]),
        at=st.sampled_from(sorted(NEXT_MOVE)),
    )
    def drive(self, order: int, close: str | None, at: str) -> None:
        """Walk a ticket along the documented path, trying `close` when it reaches `at`, so
        every move is checked from deep states within a small budget."""
        for _ in range(8):
            job, code, _ = self.observe(order)
            if code in CLOSED or job in ("EXPORT_SUCCESS", "EXPORT_FAIL", "PRE_CHECK_FAIL"):
                return
            if close and job == at:
                self.approve(order, close)
                close = None
            elif NEXT_MOVE.get(job) == "submit":
                self.submit(order)
            elif NEXT_MOVE.get(job) == "execute":
                self.execute(order)
            elif job in NEXT_MOVE:
                self.approve(order, NEXT_MOVE[job])
            else:
                self.advance(3)

    @rule(order=orders)
    def execute(self, order: int) -> None:
        before = self.observe(order)
        body = (
            self.client_for(order)
            .execute_data_export(dm.ExecuteDataExportRequest(order_id=order))
            .body
        )
        self.check_move(order, "execute", before, body)

    @rule(order=orders)
    def poll(self, order: int) -> None:
        client = self.client_for(order)
        d = client.get_data_export_order_detail(
            dm.GetDataExportOrderDetailRequest(order_id=order)
        ).body
        now = d.data_export_order_detail.key_info.job_status
        assert now in DOCUMENTED
        before = self.last.get(order, "PRE_CHECKING")
        assert now == before or reachable(before, now), f"{before} -> {now}"
        self.last[order] = now
        link = client.get_data_export_download_url(
            dm.GetDataExportDownloadURLRequest(order_id=order)
        ).body
        assert link.download_urlresult.has_result == (now == "EXPORT_SUCCESS")
        if link.download_urlresult.has_result:
            assert requests.get(link.download_urlresult.url, timeout=30).status_code == 200

    @rule(order=orders)
    def other_tenant_sees_nothing(self, order: int) -> None:
        stranger = self.clients[DAVE if self.tenant_of[order] == 3000 else ALICE]
        body = stranger.get_order_base_info(dm.GetOrderBaseInfoRequest(order_id=order)).body
        assert body.success is False and body.error_code == "OrderNotExist"

    @rule(target=tracks)
    def create_track(self) -> int:
        body = (
            self.clients[ALICE]
            .create_data_track_order(
                dm.CreateDataTrackOrderRequest(
                    comment="sm",
                    param=dm.CreateDataTrackOrderRequestParam(
                        db_id="17001",
                        job_start_time="2026-11-01 00:00:00",
                        job_end_time="2026-11-01 03:00:00",
                        table_names=["orders"],
                        track_types=["INSERT", "UPDATE", "DELETE"],
                    ),
                )
            )
            .body
        )
        assert body.success
        return body.create_order_result[0]

    @rule(
        track=tracks, types=st.lists(st.sampled_from(["INSERT", "UPDATE", "DELETE"]), unique=True)
    )
    def download(self, track: int, types: list[str]) -> None:
        body = (
            self.clients[ALICE]
            .download_data_track_result(
                dm.DownloadDataTrackResultRequest(order_id=track, filter_type_list=types or None)
            )
            .body
        )
        if body.success:
            self.downloads[body.download_key_id] = track
        else:
            assert body.error_code == "IllegalOrderStatus"

    @rule()
    def poll_downloads(self) -> None:
        for key, track in list(self.downloads.items())[-3:]:
            st_ = (
                self.clients[ALICE]
                .query_data_track_result_download_status(
                    dm.QueryDataTrackResultDownloadStatusRequest(
                        order_id=track, download_key_id=key
                    )
                )
                .body.status_result
            )
            assert st_.download_status in DL_RANK
            assert (st_.download_url is not None) == (st_.download_status == "DOWNLOAD_SUCCESS")
            assert st_.total_count >= 0

    @rule(target=exports, kind=st.sampled_from(["exportHcWarning", "virusScanExport"]))
    def sas_export(self, kind: str) -> int:
        body = self.sas.export_record(sm.ExportRecordRequest(export_type=kind)).body
        assert isinstance(body.id, int) and body.id > 0, body.to_map()
        assert body.file_name and body.request_id, body.to_map()
        return int(body.id)

    @rule(export=exports)
    def sas_poll(self, export: int) -> None:
        info = self.sas.describe_export_info(sm.DescribeExportInfoRequest(export_id=export)).body
        assert info.export_status in SAS_RANK
        assert 0 <= info.current_count <= info.total_count
        assert (info.link is not None) == (info.export_status == "success")
        rank, count = SAS_RANK[info.export_status], info.current_count
        prev = self.sas_last.get(export, (0, 0))
        assert rank >= prev[0] and count >= prev[1], "Sas progress never goes back"
        self.sas_last[export] = (rank, count)

    # --- the Sas export family (helper sas): every kind, polled by each of its info actions ---

    @rule(target=family_exports, kind=st.sampled_from(sorted(SAS_FAMILY)))
    def sas_family_export(self, kind: str) -> tuple[str, int]:
        start = SAS_FAMILY[kind][0]
        started = start(self.sas).body
        assert started.id and started.file_name
        return kind, started.id

    @rule(export=family_exports, view=st.integers(0, 1), other_tenant=st.booleans())
    def sas_family_poll(self, export: tuple[str, int], view: int, other_tenant: bool) -> None:
        kind, export_id = export
        polls = SAS_FAMILY[kind][1]
        describe, status_of, ranks = polls[view % len(polls)]
        if other_tenant:
            with pytest.raises(ClientException) as exc:
                describe(self.dave_sas, export_id)
            assert exc.value.code == "InvalidExportId", "tenants never see each other's exports"
            return
        info = describe(self.sas, export_id).body
        status = status_of(info)
        assert status in ranks, f"{kind}: undocumented status {status!r}"
        assert info.id == export_id and 0 <= info.progress <= 100
        assert (info.link is not None) == (status == "success")
        current = getattr(info, "current_count", None)
        if current is not None:
            assert 0 <= current <= info.total_count
        rank = ranks[status]
        prev = self.family_last.get((kind, export_id, view), (0, 0))
        assert rank >= prev[0] and info.progress >= prev[1], f"{kind}: progress went back"
        self.family_last[(kind, export_id, view)] = (rank, info.progress)

    @invariant()
    def statuses_documented(self) -> None:
        assert set(self.last.values()) <= DOCUMENTED


def test_lifecycles_state_machine(target: Any) -> None:
    if not target.control:
        pytest.skip("the stateful suite moves the clock: it needs an emulator's control plane")
    if not target.mutations:
        pytest.skip("the stateful suite creates tickets: pass --allow-mutations")
    Lifecycles.target = target
    target.covered.update(
        {"stateful:tickets", "stateful:datatrack", "stateful:sas", "stateful:sas-family"}
    )
    base = settings()
    run_state_machine_as_test(
        Lifecycles,
        settings=settings(
            max_examples=max(8, base.max_examples // 3), stateful_step_count=30, deadline=None
        ),
    )
    target.report["stateful runs"] += 1
