"""SQL console benchmark: an ExecuteScript round trip of a 200-row SELECT through the official SDK,
next to the same query through the database's driver directly, on the embedded engine (sqlite3 on
the built fixture, the translated SQL) and on a private MariaDB (PyMySQL), plus the emulator's
cheapest signed call (GetUserActiveTenant: the HTTP + signature floor), all in the same run.

"direct" opens a connection per query, as the console does per statement; "direct (open)" reuses
one connection (the driver's best case).

    python bench/console.py [--calls 200] [--no-mariadb]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alibabacloud_dms_enterprise20181101 import models as M  # noqa: E402

from emulator.databases.dialect import translate  # noqa: E402
from emulator.databases.fixtures import build_fixture  # noqa: E402
from emulator.testing.dbservers import MariaDBServer  # noqa: E402
from emulator.testing.process import EmulatorProcess  # noqa: E402
from emulator.testing.sdk import ALICE, dms  # noqa: E402

FIXTURE = ROOT / "fixtures" / "databases" / "shop.mysql.sql"
SQL = (
    "SELECT id, customer_id, product_id, quantity, status, amount, remark, ordered_at "
    "FROM orders ORDER BY id LIMIT 200"
)


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


def console(client: Any, db_id: int) -> Callable[[], object]:
    req = M.ExecuteScriptRequest(db_id=db_id, logic=False, script=SQL)

    def run() -> object:
        body = client.execute_script(req).body
        assert body.results[0].row_count == 200, body.to_map()
        return body

    return run


def accounts(work: Path, dsn: str | None) -> Path:
    dbs = [
        {
            "db_id": 17001,
            "schema": "shop",
            "host": "h1",
            "port": 3306,
            "db_type": "mysql",
            "fixture": str(FIXTURE),
        }
    ]
    if dsn:
        dbs.append(
            {"db_id": 17002, "schema": "shop", "host": "h2", "port": 3306, "db_type": "mariadb"}
            | {"dsn": dsn}
        )
    doc = {
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
                "databases": dbs,
            }
        ]
    }
    path = work / "accounts.json"
    path.write_text(json.dumps(doc))
    return path


def ratio(a: dict[str, float], b: dict[str, float]) -> float:
    return round(a["median_ms"] / b["median_ms"], 2)


def side_by_side(
    run: dict[str, float], direct: dict[str, float], opened: dict[str, float]
) -> dict[str, object]:
    """ExecuteScript next to the driver connecting per query and on an open connection."""
    return {
        "ExecuteScript": run,
        "direct": direct,
        "direct (open)": opened,
        "ratio": ratio(run, direct),
        "ratio (open)": ratio(run, opened),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--no-mariadb", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dms-bench-console-"))
    server: MariaDBServer | None = None
    try:
        dsn = None
        if not args.no_mariadb:
            server = MariaDBServer().__enter__()
            server.query("CREATE DATABASE bench CHARACTER SET utf8mb4", database="")
            server.execute_script(FIXTURE.read_text("utf-8"), database="bench")
            dsn = server.dsn.rsplit("/", 1)[0] + "/bench"
        built = build_fixture(FIXTURE, "mysql", work / "cache")
        translated = translate(SQL, "mysql", "shop")

        def sqlite_direct() -> object:
            conn = sqlite3.connect(f"file:{built}?mode=ro", uri=True)
            rows = conn.execute(translated).fetchall()
            conn.close()
            return rows

        keep = sqlite3.connect(f"file:{built}?mode=ro", uri=True)
        out: dict[str, Any] = {"query": SQL, "calls": args.calls}
        with EmulatorProcess(
            "--accounts", str(accounts(work, dsn)), env={"XDG_CACHE_HOME": str(work / "xdg")}
        ) as proc:
            client = dms(proc.endpoint)
            out["floor GetUserActiveTenant"] = timed(
                lambda: client.get_user_active_tenant(M.GetUserActiveTenantRequest()), args.calls
            )
            out["embedded MySQL dialect"] = side_by_side(
                timed(console(client, 17001), args.calls),
                timed(sqlite_direct, args.calls),
                timed(lambda: keep.execute(translated).fetchall(), args.calls),
            )
            if server is not None:
                srv = server

                def mariadb_direct() -> object:
                    conn = srv.connect(database="bench")
                    cur = conn.cursor()
                    cur.execute(SQL)
                    rows = cur.fetchall()
                    conn.close()
                    return rows

                open_conn = server.connect(database="bench")

                def mariadb_open() -> object:
                    cur = open_conn.cursor()
                    cur.execute(SQL)
                    return cur.fetchall()

                out["real MariaDB"] = side_by_side(
                    timed(console(client, 17002), args.calls),
                    timed(mariadb_direct, args.calls),
                    timed(mariadb_open, args.calls),
                )
                open_conn.close()
        keep.close()
        print(json.dumps(out, indent=1))
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
