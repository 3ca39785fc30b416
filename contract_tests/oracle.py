"""An independent view of an emulator's embedded tenant databases, for the data-change and SQL
console contract tests: the files themselves, read with sqlite3, never the emulator's answers.

An emulator started with `--state DIR/state.db` and `XDG_CACHE_HOME=DIR/cache` keeps each
database's pristine build in the cache (never written) and, from its first write on, a working
copy at `DIR/state.db.databases/<db_id>.sqlite`. Reads see the copy when there is one.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Rows = dict[str, dict[Any, tuple[Any, ...]]]  # table -> primary key -> row


def user_tables(conn: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        if not name.startswith(("sqlite_", "_dms_"))
    ]


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def rows_of(conn: sqlite3.Connection, tables: Iterable[str] | None = None) -> Rows:
    """Every row of every user table, keyed by rowid (each fixture table has an integer key)."""
    out: Rows = {}
    for table in tables or user_tables(conn):
        out[table] = {r[0]: tuple(r[1:]) for r in conn.execute(f'SELECT rowid, * FROM "{table}"')}
    return out


def differing(a: Rows, b: Rows) -> set[tuple[str, Any]]:
    """(table, key) of the rows that are not the same in both: changed, added or removed."""
    out: set[tuple[str, Any]] = set()
    for table in set(a) | set(b):
        ra, rb = a.get(table, {}), b.get(table, {})
        out |= {(table, k) for k in set(ra) | set(rb) if ra.get(k) != rb.get(k)}
    return out


class Files:
    """Where an emulator keeps each embedded database (see the module docstring)."""

    def __init__(self, root: Path, tables_of: dict[int, set[str]]):
        self.work = Path(str(root / "state.db") + ".databases")
        self.pristine: dict[int, Path] = {}
        cache = root / "cache" / "dms-emulator" / "fixtures"
        for built in sorted(cache.glob("*.sqlite")):
            with read_only(built) as conn:
                names = set(user_tables(conn))
            for db_id, wanted in tables_of.items():
                if names == wanted:
                    self.pristine[db_id] = built
        missing = set(tables_of) - set(self.pristine)
        assert not missing, f"no built fixture found for {missing} in {cache}"
        self._cache: dict[int, tuple[Any, Rows]] = {}

    def current(self, db_id: int) -> Path:
        copy = self.work / f"{db_id}.sqlite"
        return copy if copy.exists() else self.pristine[db_id]

    def rows(self, db_id: int) -> Rows:
        """Every row, read again only when the file (or its write-ahead log) changed."""
        path = self.current(db_id)
        stamp: list[Any] = [path]
        for p in (path, Path(f"{path}-wal")):
            try:
                st = p.stat()
                stamp.append((st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                stamp.append(None)
        cached = self._cache.get(db_id)
        if cached and cached[0] == stamp:
            return cached[1]
        conn = read_only(path)
        try:
            rows = rows_of(conn)
        finally:
            conn.close()
        self._cache[db_id] = (stamp, rows)
        return rows

    def query(self, db_id: int, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        conn = read_only(self.current(db_id))
        try:
            cur = conn.execute(sql)
            return [d[0] for d in cur.description or ()], cur.fetchall()
        finally:
            conn.close()

    def scratch(self, db_id: int, pristine: bool = False) -> sqlite3.Connection:
        """An in-memory copy to run SQL on (the independent copy the emulator never sees)."""
        src = read_only(self.pristine[db_id] if pristine else self.current(db_id))
        conn = sqlite3.connect(":memory:", isolation_level=None)
        try:
            src.backup(conn)
        finally:
            src.close()
        return conn


def run_script(conn: sqlite3.Connection, statements: list[str], atomic: bool = True) -> int | None:
    """Run statements in one transaction: the rows they changed, or None (and nothing changed)
    when one fails. `atomic=False` runs each on its own and ignores failures (what a statement
    could reach)."""
    if not atomic:
        for sql in statements:
            try:
                conn.execute(sql)
            except sqlite3.Error:
                pass
        return None
    before = conn.total_changes
    conn.execute("BEGIN")
    try:
        for sql in statements:
            conn.execute(sql)
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        return None
    conn.execute("COMMIT")
    return conn.total_changes - before


def same(a: Any, b: Any) -> bool:
    """One value as JSON carries it and as sqlite3 reads it (numbers by value: 8 == 8.0 == "8.00")."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return str(a) == str(b)
