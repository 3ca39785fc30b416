"""The state store: one SQLite database behind every domain, in memory or in a file.

`--state FILE` and the default in-memory mode run the same code. Writes are committed before
the API answers, so an acknowledged write survives a crash of the process (WAL, synchronous
FULL when on a file). One lock serialises writers; read-modify-write sequences of the domain
run inside `transaction()` so concurrent calls can never interleave halfway.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY,
  tid INTEGER NOT NULL,
  plugin_type TEXT NOT NULL,
  committer_uid INTEGER NOT NULL,
  comment TEXT NOT NULL,
  created_at REAL NOT NULL,
  workflow_id INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_tid ON orders (tid, id);
CREATE UNIQUE INDEX IF NOT EXISTS orders_workflow ON orders (workflow_id);
CREATE TABLE IF NOT EXISTS order_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id INTEGER NOT NULL,
  at REAL NOT NULL,
  event TEXT NOT NULL,
  actor INTEGER,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS order_events_order ON order_events (order_id, at, seq);
CREATE TABLE IF NOT EXISTS artifacts (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  tid INTEGER NOT NULL,
  path TEXT,
  rows INTEGER,
  size INTEGER,
  status TEXT NOT NULL,
  error TEXT,
  created_at REAL NOT NULL,
  finished_at REAL
);
CREATE INDEX IF NOT EXISTS artifacts_owner ON artifacts (owner);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  tid INTEGER NOT NULL,
  owner TEXT NOT NULL,
  created_at REAL NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_kind ON jobs (kind, tid, id);
"""

TABLES = ("meta", "counters", "orders", "order_events", "artifacts", "jobs")


class StoreVersionError(Exception):
    """The state file was written by another schema version of the emulator."""


# version -> statements that bring a file from the previous version to this one
MIGRATIONS: dict[int, list[str]] = {
    2: ["CREATE INDEX IF NOT EXISTS order_events_kind ON order_events (order_id, event)"],
    # a dense per-tenant sequence, so an unfiltered page is an index range, not an OFFSET scan
    3: [
        "ALTER TABLE orders ADD COLUMN tseq INTEGER",
        "UPDATE orders SET tseq = (SELECT count(*) FROM orders o2 WHERE o2.tid = orders.tid AND o2.id <= orders.id)",
        "CREATE INDEX IF NOT EXISTS orders_tseq ON orders (tid, tseq)",
        "INSERT OR REPLACE INTO counters (name, value) SELECT 'tseq:' || tid, max(tseq) FROM orders GROUP BY tid",
    ],
}


# a lock that is new in every forked child (a lock held at fork time would stay held there)
_REOPEN = [threading.Lock()]
os.register_at_fork(after_in_child=lambda: _REOPEN.__setitem__(0, threading.Lock()))


class SqliteDB:
    """One SQLite database, safe across threads and forked worker processes.

    Each process opens its own connection (a connection must never cross a fork); within a
    process one connection and one re-entrant lock serialise access, and read-modify-write
    sequences run inside `transaction()` (BEGIN IMMEDIATE, so other processes wait their turn).
    """

    def __init__(self, path: str | None, durable: bool = True):
        self.path = path
        self.durable = durable
        self._pid = -1
        self._lock = threading.RLock()
        self._open()

    def _open(self) -> None:
        """A connection of this process; published (pid last) only once it is ready to use."""
        conn = sqlite3.connect(
            self.path or ":memory:", check_same_thread=False, isolation_level=None, timeout=30
        )
        conn.row_factory = sqlite3.Row
        if self.path:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL" if self.durable else "PRAGMA synchronous=OFF")
            conn.execute("PRAGMA busy_timeout=30000")
            # big state files stay fast: a 32 MB page cache (bounded, unlike mmap)
            conn.execute("PRAGMA cache_size=-32000")
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = conn
        self._pid = os.getpid()

    def _check_process(self) -> None:
        if os.getpid() != self._pid:
            with _REOPEN[0]:  # the first threads of a new process race here: one opens, all use it
                if os.getpid() != self._pid:
                    if not self.path:
                        raise RuntimeError(
                            "an in-memory database cannot be shared with another process"
                        )
                    self._open()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested use joins the outer one."""
        self._check_process()
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        self._check_process()
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def query_one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        self._check_process()
        with self._lock:
            return self._conn.execute(sql, args).fetchone()

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """Run one write, atomic by itself (or inside the caller's transaction); returns lastrowid."""
        self._check_process()
        with self._lock:
            return int(self._conn.execute(sql, args).lastrowid or 0)

    def execute_count(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """One statement on its own (atomic by itself); returns how many rows it changed."""
        self._check_process()
        with self._lock:
            return int(self._conn.execute(sql, args).rowcount)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def release(self) -> None:
        """Close before forking: no connection (nor its file locks) may cross a fork; the next use
        in any process opens a fresh one."""
        if self.path:
            with self._lock:
                self._conn.close()
                self._pid = -1


class Store(SqliteDB):
    """The domain state: tickets, their events, result files, jobs, ids. Versioned and migrated."""

    def __init__(self, path: str | None = None):
        super().__init__(path, durable=True)
        self._migrate()

    def _migrate(self) -> None:
        with self.transaction() as conn:
            fresh = (
                conn.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone() is None
            )
            row = (
                None
                if fresh
                else conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            )
            found = SCHEMA_VERSION if fresh else 1 if row is None else int(row["value"])
            if found > SCHEMA_VERSION:
                raise StoreVersionError(
                    f"state file {self.path} has schema version {found}, written by a newer dms-emulator; "
                    f"this one reads versions up to {SCHEMA_VERSION}: upgrade dms-emulator or use another --state"
                )
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS.get(version, []):
                    conn.execute(stmt)
            if fresh:  # the base schema is version 1; a new file takes every step too
                for version in range(2, SCHEMA_VERSION + 1):
                    for stmt in MIGRATIONS.get(version, []):
                        conn.execute(stmt)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def next_id(self, name: str, start: int) -> int:
        """A durable, never-repeating id sequence."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
            value = (row["value"] + 1) if row else start
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                (name, value),
            )
            return int(value)

    def get_meta(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM meta WHERE key=?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # --- snapshots and resets --------------------------------------------------------------

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        self._check_process()
        with self._lock:
            return {t: [dict(r) for r in self._conn.execute(f"SELECT * FROM {t}")] for t in TABLES}

    def load(self, snapshot: dict[str, list[dict[str, Any]]]) -> None:
        unknown = set(snapshot) - set(TABLES)
        if unknown:
            raise ValueError(f"unknown table(s) in state document: {', '.join(sorted(unknown))}")
        with self.transaction() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")
                for row in snapshot.get(table, []):
                    cols = list(row)
                    conn.execute(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                        tuple(row[c] for c in cols),
                    )
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def reset(self, tid: int | None = None) -> None:
        """Forget everything (accounts are not state), or one tenant's tickets and jobs."""
        with self.transaction() as conn:
            if tid is None:
                for table in ("orders", "order_events", "artifacts", "jobs"):
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM counters WHERE name LIKE 'tseq:%'")
                return
            conn.execute("DELETE FROM counters WHERE name=?", (f"tseq:{tid}",))
            conn.execute(
                "DELETE FROM order_events WHERE order_id IN (SELECT id FROM orders WHERE tid=?)",
                (tid,),
            )
            for table in ("orders", "artifacts", "jobs"):
                conn.execute(f"DELETE FROM {table} WHERE tid=?", (tid,))


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
