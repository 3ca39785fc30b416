"""Export benchmark on real servers: a 1,000,000-row export from MariaDB and from PostgreSQL
through the emulator (a ticket through the official SDK: precheck, streaming server-side cursor,
CSV, zip) next to each server's own CLI writing the same query to a file (`mariadb --batch`,
`psql \\copy ... CSV`), in the same run, with the emulator's peak RSS (VmHWM).

    python bench/export_servers.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export import peak_rss_kb, wait_done  # noqa: E402
from emulator.testing.dbservers import PASSWORD, USER, MariaDBServer, PostgresServer  # noqa: E402
from emulator.testing.process import Control, EmulatorProcess  # noqa: E402
from emulator.testing.sdk import ALICE, dms  # noqa: E402

QUERY = "SELECT id, name, amount, note, created FROM big ORDER BY id"
MARIADB_FILL = """
CREATE TABLE big (id INT PRIMARY KEY, name VARCHAR(64), amount DECIMAL(12,2), note VARCHAR(64),
  created DATETIME) ENGINE=InnoDB;
INSERT INTO big SELECT seq, CONCAT('name ', seq), seq * 1.25,
  CASE WHEN seq % 5 = 0 THEN NULL WHEN seq % 7 = 0 THEN 'quote "q", comma' ELSE 'plain' END,
  TIMESTAMP('2024-01-01') + INTERVAL (seq % 100000) MINUTE FROM seq_1_to_{rows};
"""
PG_FILL = """
CREATE TABLE big (id INT PRIMARY KEY, name VARCHAR(64), amount NUMERIC(12,2), note VARCHAR(64),
  created TIMESTAMP);
INSERT INTO big SELECT n, 'name ' || n, n * 1.25,
  CASE WHEN n % 5 = 0 THEN NULL WHEN n % 7 = 0 THEN 'quote "q", comma' ELSE 'plain' END,
  TIMESTAMP '2024-01-01' + (n % 100000) * INTERVAL '1 minute' FROM generate_series(1, {rows}) n;
"""


def _accounts(work: Path, dsn: str, db_type: str) -> Path:
    doc = {
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
                "databases": [{"db_id": 1, "schema": "shop", "db_type": db_type, "dsn": dsn}],
            }
        ]
    }
    path = work / f"accounts-{db_type}.json"
    path.write_text(json.dumps(doc))
    return path


def through_emulator(work: Path, dsn: str, db_type: str) -> tuple[float, str, int, int]:
    with EmulatorProcess(
        "--clock", "manual", "--accounts", str(_accounts(work, dsn, db_type)),
        "--log-level", "WARNING", "--export-deadline", "3600",
    ) as proc:  # fmt: skip
        assert proc.proc is not None
        base = peak_rss_kb(proc.proc.pid)
        from alibabacloud_dms_enterprise20181101 import models

        client = dms(proc.endpoint)
        t0 = time.perf_counter()
        oid = client.create_order(
            models.CreateOrderRequest(
                plugin_type="DATA_EXPORT",
                comment="bench",
                plugin_param={"dbId": 1, "exeSQL": QUERY, "ignoreAffectRows": True},
            )
        ).body.create_order_result.order_ids[0]
        status = wait_done(client, Control(proc.url), oid)
        took = time.perf_counter() - t0
        return took, status, base, peak_rss_kb(proc.proc.pid)


def mariadb_cli(server: MariaDBServer, out: Path) -> float:
    client = shutil.which("mariadb") or shutil.which("mysql") or "mariadb"
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        subprocess.run(
            [client, "--no-defaults", f"--socket={server.socket}", f"--user={USER}",
             f"--password={PASSWORD}", "--batch", "--quick", "-e", QUERY, server.database],
            stdout=f, check=True,
        )  # fmt: skip
    return time.perf_counter() - t0


def psql_cli(server: PostgresServer, out: Path) -> float:
    assert server.tmp is not None
    from emulator.testing.dbservers import _pg_bin

    t0 = time.perf_counter()
    subprocess.run(
        [_pg_bin("psql"), "-X", "-q", "-h", str(server.tmp), "-p", str(server.port), "-U", USER,
         "-d", server.database, "-c", f"\\copy ({QUERY}) TO '{out}' CSV HEADER"],
        check=True, env={**os.environ, "PGPASSWORD": PASSWORD},
    )  # fmt: skip
    return time.perf_counter() - t0


def report(name: str, cli_name: str, cli_s: float, cli_file: Path, emu: Any) -> None:
    took, status, base, peak = emu
    print(
        f"{name}: emulator ticket {took:.2f} s ({status}), {cli_name} {cli_s:.2f} s "
        f"({cli_file.stat().st_size / 1e6:.0f} MB); ratio cli/emulator {cli_s / took:.2f} "
        f"(aim >= 0.3); emulator peak RSS {peak / 1024:.0f} MB (start {base / 1024:.0f} MB, "
        "aim < 100 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dms-bench-servers-"))
    try:
        with MariaDBServer() as mariadb:
            mariadb.execute_script(MARIADB_FILL.format(rows=args.rows))
            cli_s = mariadb_cli(mariadb, work / "mariadb.tsv")
            emu = through_emulator(work, mariadb.dsn, "mariadb")
            report("MariaDB", "mariadb --batch", cli_s, work / "mariadb.tsv", emu)
        with PostgresServer() as pg:
            pg.execute_script(PG_FILL.format(rows=args.rows))
            out = work / "pg.csv"
            os.chmod(work, 0o777)
            cli_s = psql_cli(pg, out)
            emu = through_emulator(work, pg.dsn, "postgresql")
            report("PostgreSQL", "psql \\copy", cli_s, out, emu)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
