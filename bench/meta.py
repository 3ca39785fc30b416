"""Metadata benchmark: ListTables and GetMetaTableDetailInfo latency through the official SDK on a
database of 20 and of 2,000 tables x 20 columns, next to the same catalog queries run directly on
the database file with sqlite3 and next to the emulator's cheapest signed call
(GetUserActiveTenant: the HTTP + signature floor), all in the same run.

    python bench/meta.py [--tables 2000] [--columns 20] [--calls 200]
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alibabacloud_dms_enterprise20181101 import models as M  # noqa: E402

from emulator.testing.process import EmulatorProcess  # noqa: E402
from emulator.testing.sdk import ALICE, dms  # noqa: E402

TYPES = ["INTEGER", "varchar(64)", "decimal(10,2)", "TEXT", "datetime"]


def schema_sql(tables: int, columns: int) -> str:
    out = []
    for t in range(tables):
        cols = ["id INTEGER PRIMARY KEY"] + [
            f"c{c:02d} {TYPES[c % len(TYPES)]}{' NOT NULL DEFAULT 0' if c % 3 == 0 else ''}"
            for c in range(1, columns)
        ]
        out.append(f"CREATE TABLE t{t:05d} ({', '.join(cols)});")
        out.append(f"CREATE INDEX t{t:05d}_c01 ON t{t:05d} (c01);")
        out.append(f"INSERT INTO t{t:05d} (id) VALUES (1), (2), (3);")
    return "\n".join(out)


def timed(fn: Callable[[], object], calls: int) -> dict[str, float]:
    for _ in range(5):
        fn()
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
    }


def direct_list(path: Path, size: int) -> Callable[[], object]:
    """What ListTables asks of the catalog: one page of names, then each table's row count."""

    def run() -> object:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table','view') "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ][:size]
        counts = [conn.execute(f'SELECT count(*) FROM "{n}"').fetchone() for n in names]
        conn.close()
        return counts

    return run


def direct_detail(path: Path, table: str) -> Callable[[], object]:
    """What GetMetaTableDetailInfo asks: the table's columns and its indexes with their columns."""

    def run() -> object:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("SELECT sql FROM sqlite_master WHERE name=?", (table,)).fetchone()
        cols = conn.execute("SELECT * FROM pragma_table_info(?)", (table,)).fetchall()
        idx = [
            conn.execute("SELECT * FROM pragma_index_info(?)", (r[1],)).fetchall()
            for r in conn.execute("SELECT * FROM pragma_index_list(?)", (table,)).fetchall()
        ]
        conn.close()
        return cols, idx

    return run


def measure(work: Path, tables: int, columns: int, calls: int) -> dict[str, object]:
    (work / f"db{tables}.sql").write_text(schema_sql(tables, columns))
    built = work / f"db{tables}.sqlite"  # the same script run by sqlite3 itself: the baseline
    conn = sqlite3.connect(built)
    conn.executescript(schema_sql(tables, columns))
    conn.close()
    accounts = {
        "tenants": [
            {
                "tid": 3000,
                "name": "bench",
                "users": [
                    {
                        "uid": 100001,
                        "name": "alice",
                        "role": "ADMIN",
                        "access_key_id": ALICE[0],
                        "access_key_secret": ALICE[1],
                    }
                ],
                "databases": [{"db_id": 17001, "schema": "big", "fixture": f"db{tables}.sql"}],
            }
        ]
    }
    (work / "accounts.json").write_text(json.dumps(accounts))
    env = {"XDG_CACHE_HOME": str(work / "xdg")}
    with EmulatorProcess("--accounts", str(work / "accounts.json"), env=env) as proc:
        client = dms(proc.endpoint)
        last = f"t{tables - 1:05d}"
        guid = f"IDB_17001.big.{last}"
        floor = timed(lambda: client.get_user_active_tenant(M.GetUserActiveTenantRequest()), calls)
        out: dict[str, object] = {"tables": tables, "columns": columns, "floor": floor}
        for size in (10, 200):
            req = M.ListTablesRequest(database_id="17001", page_size=size, return_guid=True)
            body = client.list_tables(req).body
            assert body.total_count == tables, body.to_map()
            out[f"ListTables(PageSize={size})"] = {
                "emulator": timed(functools.partial(client.list_tables, req), calls),
                "direct": timed(direct_list(built, size), calls),
            }
        detail = M.GetMetaTableDetailInfoRequest(table_guid=guid)
        assert (
            len(client.get_meta_table_detail_info(detail).body.detail_info.column_list) == columns
        )
        out["GetMetaTableDetailInfo"] = {
            "emulator": timed(lambda: client.get_meta_table_detail_info(detail), calls),
            "direct": timed(direct_detail(built, last), calls),
        }
        tid = client.list_tables(M.ListTablesRequest(database_id="17001", search_name=last))
        cols = M.ListColumnsRequest(table_id=tid.body.table_list.table[0].table_id)
        out["ListColumns"] = {"emulator": timed(lambda: client.list_columns(cols), calls)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dms-bench-meta-"))
    try:
        for tables in (20, args.tables):
            result = measure(work, tables, args.columns, args.calls)
            print(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
