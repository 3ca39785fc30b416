"""Embedded MySQL dialect: what translation and the registered functions cost (issue 12).

Measured in one run on the shop fixture loaded from its mysqldump (fixtures/databases/shop.mysql.sql):

translation   per corpus query: first translation (parse + rewrite + generate) and the median
              of later calls (the lru cache a statement hits after its first use); aim < 1 ms
corpus        the whole MySQL corpus (tests/corpus/mysql.sql) through translate + execute, next to
              executing the already-translated SQL (so the difference is translation only)
hand          a dozen corpus queries next to plain sqlite3 running hand-translated equivalents
              (native strftime, ||, printf ...; no DMS_* functions): the price of MySQL semantics

  python bench/dialect.py [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.databases import dialect, functions  # noqa: E402
from emulator.databases.loader import load_script  # noqa: E402

NOW = 1733054400.0

# corpus name -> the same question in plain SQLite, written by hand.
HAND = {
    "select_star_limit": "SELECT * FROM customers ORDER BY id LIMIT 5",
    "limit_offset_comma": "SELECT id, name FROM customers ORDER BY id LIMIT 5 OFFSET 10",
    "group_by_having": "SELECT customer_id, COUNT(*) AS n, SUM(amount) AS total FROM orders"
    " GROUP BY customer_id HAVING COUNT(*) >= 4 ORDER BY customer_id LIMIT 10",
    "inner_join": "SELECT o.id, c.name, p.sku FROM orders o JOIN customers c ON c.id ="
    " o.customer_id JOIN products p ON p.id = o.product_id ORDER BY o.id LIMIT 5",
    "if_function": "SELECT id, CASE WHEN amount > 100 THEN 'big' ELSE 'small' END AS size"
    " FROM orders ORDER BY id LIMIT 6",
    "concat": "SELECT id, name || ' <' || email || '>' FROM customers ORDER BY id LIMIT 4",
    "date_format": "SELECT id, strftime('%Y-%m-%d', ordered_at), strftime('%d/%m/%Y %H:%M:%S',"
    " ordered_at) FROM orders ORDER BY id LIMIT 3",
    "monthly_revenue": "SELECT strftime('%Y-%m', ordered_at) AS month, COUNT(*), SUM(amount)"
    " FROM orders WHERE status <> 'CANCELLED' GROUP BY strftime('%Y-%m', ordered_at) ORDER BY month",
    "year_month_day": "SELECT CAST(strftime('%Y', ordered_at) AS INTEGER), CAST(strftime('%m',"
    " ordered_at) AS INTEGER), CAST(strftime('%d', ordered_at) AS INTEGER), COUNT(*) FROM orders"
    " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LIMIT 5",
    "date_add_interval": "SELECT id, datetime(ordered_at, '+7 days'), datetime(ordered_at,"
    " '+1 month'), datetime(ordered_at, '-2 hours') FROM orders ORDER BY id LIMIT 3",
    "window_running_sum": "SELECT id, amount, SUM(amount) OVER (ORDER BY id) AS running"
    " FROM orders WHERE id <= 8 ORDER BY id",
    "cte": "WITH big AS (SELECT customer_id, SUM(amount) AS s FROM orders GROUP BY customer_id)"
    " SELECT customer_id, s FROM big ORDER BY s DESC, customer_id LIMIT 5",
    "subquery_in": "SELECT id, name FROM customers WHERE id IN (SELECT customer_id FROM orders"
    " WHERE amount > 900) ORDER BY id LIMIT 5",
}


def corpus() -> dict[str, str]:
    out = {}
    text = (ROOT / "tests" / "corpus" / "mysql.sql").read_text()
    for block in re.split(r"^-- @", text, flags=re.MULTILINE)[1:]:
        head, _, body = block.partition("\n")
        if "-- unsupported:" in body or "-- database:" in body:
            continue  # refused ones, and the hr queries (the bench loads shop only)
        out[head.strip()] = body.strip().rstrip(";")
    return out


def timed(fn: object, repeat: int) -> float:
    """Median seconds of `repeat` calls."""
    assert callable(fn)
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    fixture = ROOT / "fixtures" / "databases" / "shop.mysql.sql"
    t = time.perf_counter()
    conn = sqlite3.connect(":memory:")
    load_script(conn, fixture.read_text(), "mysql", fixture.name)
    load_seconds = time.perf_counter() - t
    functions.install(conn, lambda: NOW)
    queries = corpus()

    first: dict[str, float] = {}
    cached: dict[str, float] = {}
    translated: dict[str, str] = {}
    dialect.translate.cache_clear()
    for name, sql in queries.items():
        t = time.perf_counter()
        translated[name] = dialect.translate(sql, "mysql", "shop")
        first[name] = time.perf_counter() - t
        cached[name] = timed(lambda sql=sql: dialect.translate(sql, "mysql", "shop"), args.repeat)

    def run_all_embedded() -> None:
        for sql in queries.values():
            conn.execute(dialect.translate(sql, "mysql", "shop")).fetchall()

    def run_all_pretranslated() -> None:
        for sql in translated.values():
            conn.execute(sql).fetchall()

    reps = max(3, args.repeat // 10)
    embedded_total = timed(run_all_embedded, reps)
    pretranslated_total = timed(run_all_pretranslated, reps)

    print(
        f"fixture load (mysqldump, {fixture.stat().st_size // 1024} KiB): {load_seconds * 1e3:.0f} ms"
    )
    print(f"\ntranslation over {len(queries)} corpus queries (ms):")
    firsts = sorted(first.values())
    print(
        f"  first use: median {statistics.median(firsts) * 1e3:.2f}, "
        f"p90 {firsts[int(len(firsts) * 0.9)] * 1e3:.2f}, max {firsts[-1] * 1e3:.2f}"
    )
    print(f"  after first use (cached): median {statistics.median(cached.values()) * 1e3:.4f}")
    print(f"\nwhole corpus, median of {reps} runs (ms):")
    print(f"  translate + execute: {embedded_total * 1e3:.1f}")
    print(f"  execute pre-translated: {pretranslated_total * 1e3:.1f}")
    print(
        "  (the difference is within this machine's noise: a cached translation costs "
        f"{sum(cached.values()) * 1e3:.3f} ms for the whole corpus)"
    )

    print("\nhand-translated plain sqlite3 vs embedded MySQL dialect (ms, median):")
    print(f"  {'query':<22} {'plain':>8} {'embedded':>9} {'ratio':>6}")
    for name, hand in HAND.items():
        sql = queries[name]
        plain = timed(lambda hand=hand: conn.execute(hand).fetchall(), args.repeat)
        emb = timed(
            lambda sql=sql: conn.execute(dialect.translate(sql, "mysql", "shop")).fetchall(),
            args.repeat,
        )
        print(f"  {name:<22} {plain * 1e3:>8.3f} {emb * 1e3:>9.3f} {emb / plain:>6.2f}")


if __name__ == "__main__":
    main()
