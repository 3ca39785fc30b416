"""Export benchmark: a 1,000,000-row table through the emulator (SQL -> CSV -> zip) next to the
sqlite3 command-line tool writing the same query to CSV, in the same run; plus the emulator
process's peak memory during a real ticket's export.

Each side runs `--repeat` times, interleaved (CLI, emulator, CLI, ...), and its best time counts
(as timeit does: the least disturbed run); CPU seconds are printed next to the wall times (the
emulator's include its deflate thread).

    python bench/export.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.databases.fixtures import build_fixture  # noqa: E402
from emulator.databases.sqlite import SqliteBackend  # noqa: E402
from emulator.services.dms.domain.exporter import run_export  # noqa: E402
from emulator.testing.process import Control, EmulatorProcess  # noqa: E402
from emulator.testing.sdk import ALICE, dms  # noqa: E402

BIG_SQL = """
CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, amount REAL, note TEXT, created TEXT);
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {rows})
INSERT INTO big SELECT n, 'name ' || n, n * 1.25,
  CASE WHEN n % 5 = 0 THEN NULL WHEN n % 7 = 0 THEN 'quote "q", comma' ELSE 'plain' END,
  printf('2024-%02d-%02d', 1 + n % 12, 1 + n % 28) FROM seq;
"""
QUERY = "select * from big"


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def wait_done(client: Any, control: Control, oid: int) -> str:
    """Advance the clock until the ticket's export ended (advance waits at most 5 s for jobs)."""
    from alibabacloud_dms_enterprise20181101 import models

    while True:
        control.advance(60)
        status = str(
            client.get_data_export_order_detail(
                models.GetDataExportOrderDetailRequest(order_id=oid)
            ).body.data_export_order_detail.key_info.job_status
        )
        if status.startswith("EXPORT_") or status == "PRE_CHECK_FAIL":
            return status
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dms-bench-"))
    try:
        (work / "big.sql").write_text(BIG_SQL.format(rows=args.rows))
        db = build_fixture(work / "big.sql", "sqlite", work / "cache")

        cli = shutil.which("sqlite3")
        cli_s = cli_cpu = emu_s = emu_cpu = float("inf")
        backend = SqliteBackend(db, work / "work.sqlite", "sqlite")
        for _ in range(args.repeat):
            if cli:
                c0, t0 = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
                with open(work / "cli.csv", "wb") as out:
                    subprocess.run([cli, "-csv", "-header", str(db), QUERY], stdout=out, check=True)
                cli_s = min(cli_s, time.perf_counter() - t0)
                cli_cpu = min(cli_cpu, cpu(resource.RUSAGE_CHILDREN) - c0)
            c0, t0 = cpu(resource.RUSAGE_SELF), time.perf_counter()
            result = run_export(backend, QUERY, work / "emu.zip", "big", "CSV")
            emu_s = min(emu_s, time.perf_counter() - t0)
            emu_cpu = min(emu_cpu, cpu(resource.RUSAGE_SELF) - c0)
        print(
            f"export of {result.rows:,} rows (SQL, CSV, zip): emulator {emu_s:.2f} s "
            f"({result.size / 1e6:.1f} MB zip; best of {args.repeat})"
        )
        if cli:
            print(
                f"sqlite3 CLI to CSV (no zip): {cli_s:.2f} s "
                f"({(work / 'cli.csv').stat().st_size / 1e6:.1f} MB; best of {args.repeat})"
            )
            print(f"CPU seconds (user+sys): emulator {emu_cpu:.2f}, sqlite3 CLI {cli_cpu:.2f}")
            print(f"ratio cli/emulator (aim >= 0.4): {cli_s / emu_s:.2f}")
        else:
            print("sqlite3 CLI not installed: no baseline (apt-get install sqlite3)")

        accounts = work / "accounts.yaml"
        accounts.write_text(
            json.dumps(
                {
                    "tenants": [
                        {
                            "tid": 3000,
                            "name": "bench",
                            "approval": "auto",
                            "users": [
                                {
                                    "uid": 1,
                                    "name": "alice",
                                    "role": "ADMIN",
                                    "access_key_id": ALICE[0],
                                    "access_key_secret": ALICE[1],
                                }
                            ],
                            "databases": [{"db_id": 1, "schema": "big", "fixture": "big.sql"}],
                        }
                    ]
                }
            )
        )
        accounts = accounts.rename(work / "accounts.json")
        with EmulatorProcess(
            "--clock",
            "manual",
            "--accounts",
            str(accounts),
            "--log-level",
            "WARNING",
            env={"XDG_CACHE_HOME": str(work / "xdg")},
        ) as proc:
            assert proc.proc is not None
            base = peak_rss_kb(proc.proc.pid)
            from alibabacloud_dms_enterprise20181101 import models

            client = dms(proc.endpoint)
            t0 = time.perf_counter()
            oid = client.create_order(
                models.CreateOrderRequest(
                    plugin_type="DATA_EXPORT",
                    comment="bench",
                    plugin_param={"dbId": 1, "exeSQL": QUERY},
                )
            ).body.create_order_result.order_ids[0]
            status = wait_done(client, Control(proc.url), oid)
            took = time.perf_counter() - t0
            peak = peak_rss_kb(proc.proc.pid)
        print(f"ticket through the server (precheck count + export): {took:.2f} s, status {status}")
        print(
            f"emulator peak RSS: {peak / 1024:.0f} MB (at start {base / 1024:.0f} MB; aim < 100 MB)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
