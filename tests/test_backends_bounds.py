"""Every piece of work on a customer database is bounded (probes F2, F3, F5, F13 of issue 17).

Each test drives a real emulator process through the official SDK and the control plane, with a
short `--export-deadline`, and measures wall time and the server's peak RSS (VmHWM).
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from alibabacloud_dms_enterprise20181101 import models

from emulator.testing.flows import create_export, status
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import DAVE, dms

# passes precheck in milliseconds (SQLite flattens the count), then never finishes exporting
HEAVY = (
    "SELECT c.id, (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r "
    "WHERE i < 100000000) SELECT count(*) FROM r WHERE r.i > c.id) AS n FROM customers c"
)
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c"


def tip(client, order_id: int) -> str:
    body = client.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body
    return str(body.download_urlresult.tip_message)


def wait_status(client, control: Control, order_id: int, want: set[str], limit: float) -> str:
    end = time.monotonic() + limit
    while True:
        control.advance(5)
        s = status(client, order_id)
        if s in want or time.monotonic() > end:
            return s
        time.sleep(0.2)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_runaway_export_fails_at_its_deadline_and_control_plane_never_waits() -> None:
    with EmulatorProcess("--clock", "manual", "--export-deadline", "3") as emu:
        client, control = dms(emu.endpoint), Control(emu.url)
        started = time.monotonic()
        heavy = [create_export(client, HEAVY) for _ in range(2)]
        control.advance(60)
        # another tenant's small export is not frozen behind the two runaway ones (F2)
        manual = dms(emu.endpoint, DAVE)
        small = create_export(manual, "select * from departments", db=27001)
        assert status(manual, small) != "PRE_CHECK_FAIL"
        for order in heavy:
            assert wait_status(client, control, order, {"EXPORT_FAIL"}, 15) == "EXPORT_FAIL"
            assert "deadline of 3 seconds" in tip(client, order), tip(client, order)
        assert time.monotonic() - started < 20
        assert control.get("/health")["jobs_running"] == 0


def test_reset_cancels_running_jobs_and_sigterm_does_not_wait_for_them() -> None:
    emu = EmulatorProcess("--clock", "manual", "--export-deadline", "120").start()
    try:
        client, control = dms(emu.endpoint), Control(emu.url)
        for _ in range(3):
            create_export(client, HEAVY)
        time.sleep(0.5)
        assert control.get("/health")["jobs_running"] >= 1
        t = time.monotonic()
        settled = control.advance(60)  # waited 30 s for the busy jobs before (F13)
        assert time.monotonic() - t < 7 and settled["settled"] is False
        t = time.monotonic()
        control.reset()
        assert time.monotonic() - t < 8
        deadline = time.monotonic() + 5
        while control.get("/health")["jobs_running"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert control.get("/health")["jobs_running"] == 0
        create_export(client, HEAVY)  # a fresh runaway job: SIGTERM must not wait for it
        time.sleep(0.5)
        assert emu.proc is not None
        t = time.monotonic()
        emu.proc.send_signal(signal.SIGTERM)
        assert emu.proc.wait(timeout=10) == 0
        assert time.monotonic() - t < 6
    finally:
        emu.stop()


def test_restarted_state_does_not_resume_a_job_past_its_deadline(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    emu = EmulatorProcess("--clock", "manual", "--state", state, "--export-deadline", "3").start()
    client = dms(emu.endpoint)
    order = create_export(client, HEAVY)  # an auto tenant: the job starts at once
    emu.stop(signal.SIGKILL)
    time.sleep(3.2)  # the job's deadline passes while the emulator is down
    with EmulatorProcess("--clock", "manual", "--state", state, "--export-deadline", "3") as again:
        client, control = dms(again.endpoint), Control(again.url)
        assert control.get("/health")["jobs_running"] == 0
        assert wait_status(client, control, order, {"EXPORT_FAIL"}, 5) == "EXPORT_FAIL"
        assert "before the emulator restarted" in tip(client, order)


def test_precheck_runs_outside_the_store_lock() -> None:
    with EmulatorProcess("--clock", "manual", "--export-deadline", "4") as emu:
        client = dms(emu.endpoint)
        th = threading.Thread(target=create_export, args=(client, ENDLESS))
        th.start()
        time.sleep(0.5)
        t = time.monotonic()
        listed = dms(emu.endpoint, DAVE).list_orders(models.ListOrdersRequest()).body
        waited = time.monotonic() - t
        th.join(timeout=30)
        assert listed.success and waited < 1.5, waited  # was 29 s behind the precheck (F3)


def test_wide_rows_export_in_bounded_memory() -> None:
    with EmulatorProcess("--clock", "manual") as emu:
        client, control = dms(emu.endpoint), Control(emu.url)
        assert emu.proc is not None
        before = peak_rss_mb(emu.proc.pid)
        order = create_export(
            client,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 600) "
            "SELECT x, hex(zeroblob(100000)) AS wide FROM c",
        )
        assert wait_status(client, control, order, {"EXPORT_SUCCESS", "EXPORT_FAIL"}, 60) == (
            "EXPORT_SUCCESS"
        )
        peak = peak_rss_mb(emu.proc.pid)
        # 600 rows x 200 KB = 120 MB of text: batches of rows sized by count held it all (F5)
        assert peak < max(100.0, before + 60), (before, peak)
