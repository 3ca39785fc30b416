"""The runtime database: fault rules and counters (nonces live in memory or shared memory:
`gateway/nonces`).

Not state a user keeps (it is not in snapshots and dies with the process), but every worker
process must share it: in memory for one process, a temporary file (synchronous=OFF, no fsync)
when `--workers` runs several.
"""

from __future__ import annotations

from emulator.state.store import SqliteDB

RUNTIME_SCHEMA = """
CREATE TABLE IF NOT EXISTS fault_rules (pos INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
                                        tid INTEGER, doc TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 0,
                                        fired INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class RuntimeDB(SqliteDB):
    def __init__(self, path: str | None = None):
        super().__init__(path, durable=False)
        with self.transaction() as conn:
            for stmt in RUNTIME_SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)

    def next_value(self, name: str) -> int:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET value=value+1",
                (name,),
            )
            return int(
                conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()[0]
            )
