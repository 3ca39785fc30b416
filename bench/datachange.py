"""Data-change benchmark: a DC_COMMON ticket updating 100,000 rows with backup (before-images
kept as rollback SQL) through the emulator, next to the same UPDATE run directly on the same
engine, in the same run; plus the emulator process's memory while the ticket runs.

    python bench/datachange.py [--rows 100000] [--mariadb] [--repeat 3] [-v]

Embedded: the emulator's SQLite engine on a fixture built from a script, against sqlite3 running
the same UPDATE on a copy of the same file (synchronous=FULL, as the emulator commits).
--mariadb: also a real private MariaDB server (the users' own database, `dsn`), against PyMySQL
running the same UPDATE directly.

The ticket's time is its execution phase: from the moment it is due until GetDataCorrectTaskDetail
reports SUCCESS (the precheck's COUNT runs at creation and is printed separately).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alibabacloud_dms_enterprise20181101 import models as dm  # noqa: E402

from emulator.databases.fixtures import build_fixture  # noqa: E402
from emulator.testing.process import Control, EmulatorProcess  # noqa: E402
from emulator.testing.sdk import dms  # noqa: E402

ALICE = ("LTAI5tBenchAlice00000001", "BenchAliceSecret0000000000000001")
EMBEDDED, MARIA = 71001, 71002
FIXTURE = """
CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, price REAL, note TEXT);
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {rows})
INSERT INTO items SELECT n, n % 97, n * 1.25,
  CASE WHEN n % 5 = 0 THEN NULL ELSE 'note ' || n END FROM seq;
"""
UPDATE = "UPDATE items SET qty = qty + 1, note = 'changed'"


class RssSampler:
    """Peak resident memory of a process, sampled every 20 ms while a block runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self.start_kb = self.now()

    def now(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.now())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def accounts(tmp: Path, fixture: Path, maria_dsn: str | None) -> Path:
    text = (
        "tenants:\n  - tid: 7000\n    name: bench\n    approval: auto\n    users:\n"
        "      - uid: 700001\n        name: alice\n        role: ADMIN\n"
        f"        access_key_id: {ALICE[0]}\n        access_key_secret: {ALICE[1]}\n"
        "    databases:\n"
        f"      - db_id: {EMBEDDED}\n        schema: bench\n        host: h.example\n"
        f"        port: 3306\n        fixture: {fixture}\n"
    )
    if maria_dsn:
        text += (
            f"      - db_id: {MARIA}\n        schema: bench\n        host: m.example\n"
            f"        port: 3306\n        db_type: mariadb\n        dsn: {maria_dsn}\n"
        )
    path = tmp / "accounts.yaml"
    path.write_text(text)
    return path


def run_ticket(emu: EmulatorProcess, db_id: int, rows: int, sql: str = UPDATE) -> dict[str, float]:
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    t0 = time.perf_counter()
    body = client.create_data_correct_order(
        dm.CreateDataCorrectOrderRequest(
            comment="bench",
            param=dm.CreateDataCorrectOrderRequestParam(
                db_item_list=[dm.CreateDataCorrectOrderRequestParamDbItemList(db_id=db_id)],
                sql_type="TEXT",
                exec_sql=sql,
                estimate_affect_rows=rows,
            ),
        )
    ).body
    precheck = time.perf_counter() - t0
    assert body.success, body.to_map()
    order = body.create_order_result[0]
    control.advance(7.5)  # approved, executed, half a second before it starts
    with RssSampler(emu.proc.pid if emu.proc else 0) as rss:
        t0 = time.perf_counter()
        control.advance(2.5)  # due, and its shortest run (2 s) over: a poll starts it
        while True:
            task = client.get_data_correct_task_detail(
                dm.GetDataCorrectTaskDetailRequest(order_id=order)
            ).body
            if task.data_correct_task_detail.job_status in ("SUCCESS", "FAIL"):
                break
            control.advance(1)
            time.sleep(0.005)
        took = time.perf_counter() - t0
    detail = task.data_correct_task_detail
    assert detail.job_status == "SUCCESS", task.to_map()
    assert detail.actual_affect_rows == rows, detail.actual_affect_rows
    (url,) = client.get_data_correct_backup_files(
        dm.GetDataCorrectBackupFilesRequest(order_id=order)
    ).body.data_correct_backup_files.file_url
    import requests

    backup = requests.get(url, timeout=60).content
    assert backup.count(b"\nUPDATE ") == rows or rows == 1, "one rollback statement per row"
    return {
        "precheck_s": precheck,
        "ticket_s": took,
        "rss_start_mb": rss.start_kb / 1024,
        "rss_peak_mb": rss.peak / 1024,
        "backup_mb": len(backup) / 1e6,
    }


def direct_sqlite(built: Path, tmp: Path) -> float:
    copy = tmp / "direct.sqlite"
    shutil.copyfile(built, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA synchronous = FULL")
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(UPDATE)
    conn.execute("COMMIT")
    took = time.perf_counter() - t0
    conn.close()
    return took


def direct_mariadb(server: Any, database: str, sql: str = UPDATE) -> float:
    conn = server.connect(database=database)
    try:
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.commit()
        return time.perf_counter() - t0
    finally:
        conn.close()


def load_mariadb(server: Any, database: str, rows: int) -> None:
    server.query(f"DROP DATABASE IF EXISTS {database}", database="")
    server.query(f"CREATE DATABASE {database}", database="")
    server.query(
        "CREATE TABLE items (id INT PRIMARY KEY, qty INT NOT NULL, price DOUBLE, note TEXT)",
        database=database,
    )
    server.query(
        f"INSERT INTO items SELECT seq, seq % 97, seq * 1.25, "
        f"IF(seq % 5 = 0, NULL, CONCAT('note ', seq)) FROM seq_1_to_{rows}",
        database=database,
    )


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median ticket time (this machine is shared: single runs are noisy)."""
    return sorted(runs, key=lambda r: r["ticket_s"])[len(runs) // 2]


def report(name: str, ticket: dict[str, float], direct: float) -> None:
    ratio = ticket["ticket_s"] / direct if direct else float("inf")
    print(
        f"{name}: ticket with backup {ticket['ticket_s']:.2f} s (precheck at creation "
        f"{ticket['precheck_s']:.2f} s, backup {ticket['backup_mb']:.1f} MB), same UPDATE "
        f"directly {direct:.2f} s, ratio {ratio:.2f}x; emulator RSS {ticket['rss_start_mb']:.0f}"
        f" MB -> peak {ticket['rss_peak_mb']:.0f} MB "
        f"(+{ticket['rss_peak_mb'] - ticket['rss_start_mb']:.0f} MB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--mariadb", action="store_true", help="also on a private MariaDB server")
    ap.add_argument("-v", action="store_true", help="print the emulator's own timing lines")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dms-bench-dc-"))
    server = None
    try:
        script = tmp / "items.sql"
        script.write_text(FIXTURE.format(rows=args.rows))
        built = build_fixture(script, "sqlite", tmp / "cache")
        maria_dsn = None
        if args.mariadb:
            from emulator.testing.dbservers import MariaDBServer

            server = MariaDBServer().__enter__()
            for db in ("bench_dc", "bench_direct"):
                load_mariadb(server, db, args.rows)
            maria_dsn = server.dsn.rsplit("/", 1)[0] + "/bench_dc"
        acc = accounts(tmp, script, maria_dsn)
        with EmulatorProcess("--clock", "manual", "--accounts", str(acc)) as emu:
            # a first one-row change: the embedded engine copies the fixture on its first write
            # (a one-time cost per database), and the emulator loads its SQL parser
            run_ticket(emu, EMBEDDED, 1, "UPDATE items SET qty = qty WHERE id = 1")
            reps = range(args.repeat)
            report(
                f"embedded sqlite, {args.rows:,} rows (median of {args.repeat})",
                median_of([run_ticket(emu, EMBEDDED, args.rows) for _ in reps]),
                statistics.median(direct_sqlite(built, tmp) for _ in reps),
            )
            if server is not None:
                run_ticket(emu, MARIA, 1, "UPDATE items SET qty = qty + 1 WHERE id = 1")
                direct_mariadb(
                    server, "bench_direct", "UPDATE items SET qty = qty + 1 WHERE id = 1"
                )
                report(
                    f"MariaDB (dsn), {args.rows:,} rows (median of {args.repeat})",
                    median_of([run_ticket(emu, MARIA, args.rows) for _ in reps]),
                    statistics.median(direct_mariadb(server, "bench_direct") for _ in reps),
                )
            if "-v" in sys.argv:
                print("".join(x for x in emu.logs().splitlines(True) if "data change" in x))
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
