"""The state store: one SQLite database behind every domain, in memory or in a file.

`--state FILE` and the default in-memory mode run the same code. Writes are committed before
the API answers, so an acknowledged write survives a crash of the process (WAL, synchronous
FULL when on a file). One lock serialises writers; read-modify-write sequences of the domain
run inside `transaction()` so concurrent calls can never interleave halfway.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from emulator.core.shared import Queued, pid
from emulator.state.schema import Migration, Tables

log = logging.getLogger("emulator.state.store")

# The state file's schema version: the newest migration any owner declares. Version 3 is the
# last one written when the store still named every table itself.
FIRST_DECLARED_VERSION = 3

STORE_TABLES = Tables(
    owner="emulator.state.store",
    schema=(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    ),
    snapshot=("meta", "counters"),
)


class StateFileError(Exception):
    """A `--state` file the emulator cannot use (unreadable, not SQLite, corrupt, foreign):
    start-up stops with one line naming the file and the problem."""


class StoreVersionError(StateFileError):
    """The state file was written by another schema version of the emulator."""


class DocumentError(ValueError):
    """A state document the store refuses; the message names the field."""


# a lock that is new in every forked child (a lock held at fork time would stay held there)
_REOPEN = [threading.Lock()]
os.register_at_fork(after_in_child=lambda: _REOPEN.__setitem__(0, threading.Lock()))

CACHE_ENTRIES = 1024  # distinct reads kept between two writes (then the cache starts over)
CACHE_ROWS = 256  # a read with more rows than this is not kept


class Generation:
    """How many writes the database has committed, as every process sees it: `cell` is shared
    memory made before `--workers` forks (core/shared.py), else a counter of this process.

    A cached read is tagged with the value read before it ran and bumped only after a commit,
    so a cached result is never older than its tag: a write answered to one client is seen by
    the next request of any worker (a disabled user's key is refused at once)."""

    def __init__(self, cell: Any = None, lock: Any = None):
        self.cell = cell if cell is not None else ctypes.c_longlong(0)
        self.lock = lock if lock is not None else threading.Lock()

    @property
    def value(self) -> int:
        return int(self.cell.value)

    def bump(self) -> None:
        with self.lock:  # += is read-then-write: two processes must not both write the same value
            self.cell.value += 1


def _cacheable(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


_MISS = object()
_NO_LOCK = nullcontext()


class SqliteDB:
    """One SQLite database, safe across threads and forked worker processes.

    Each process opens its own connection (a connection must never cross a fork); within a
    process one connection and one re-entrant lock serialise access, and read-modify-write
    sequences run inside `transaction()` (BEGIN IMMEDIATE, so other processes wait their turn).
    """

    def __init__(
        self, path: str | None, durable: bool = True, generation: Generation | None = None
    ):
        self.path = path
        self.durable = durable
        self._pid = -1
        self._lock = threading.RLock()
        # with a generation, SELECTs outside a transaction are answered from memory until the
        # next committed write (of any process): the signed-request path then asks SQLite
        # nothing, and never gives up the GIL to a query (a convoy under many threads)
        self.generation = generation
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._cache_gen = -1
        self._cacheable: dict[str, bool] = {}
        # a lock all worker processes share (core/shared.py): writers queue on it, never in
        # SQLite's busy handler, whose sleeps of 1 ms and more halved `--workers 2` throughput
        self.writer_lock: Any = None
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
        self._cache = {}
        self._cache_gen = -1
        self._conn = conn
        self._pid = pid()

    def _check_process(self) -> None:
        if pid() != self._pid:
            with _REOPEN[0]:  # the first threads of a new process race here: one opens, all use it
                if pid() != self._pid:
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
            with self._writers():
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
                    self._wrote()

    def _writers(self) -> Any:
        """The shared writer queue for a write outside a transaction (a no-op without one)."""
        if self.writer_lock is None or self._depth:
            return _NO_LOCK
        return Queued(self.writer_lock)

    def _wrote(self) -> None:
        """After a write (or a transaction) committed: every process's cached reads are stale."""
        if self.generation is not None and not self._depth:
            self._cache.clear()
            self.generation.bump()

    def _read(self, sql: str, args: tuple[Any, ...], one: bool) -> Any:
        """A SELECT, from the cache while no write was committed since it last ran."""
        self._check_process()
        gen = self.generation.value if self.generation is not None else None
        with self._lock:
            if gen is None or self._depth:
                cursor = self._conn.execute(sql, args)
                return cursor.fetchone() if one else cursor.fetchall()
            ok = self._cacheable.get(sql)
            if ok is None:
                ok = self._cacheable.setdefault(sql, _cacheable(sql))
            if not ok:  # a PRAGMA, or a statement that writes: never kept, and it may have written
                cursor = self._conn.execute(sql, args)
                rows = cursor.fetchone() if one else cursor.fetchall()
                self._wrote()
                return rows
            if self._cache_gen != gen or len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
                self._cache_gen = gen
            key: tuple[Any, ...] | None = (one, sql, args)
            try:
                hit = self._cache.get((one, sql, args), _MISS)
            except TypeError:  # an unhashable argument: not kept
                key, hit = None, _MISS
            if hit is not _MISS:
                return hit if one else list(hit)
            cursor = self._conn.execute(sql, args)
            rows = cursor.fetchone() if one else cursor.fetchall()
            if key is not None and (one or len(rows) <= CACHE_ROWS):
                self._cache[key] = rows
                return rows if one else list(rows)
            return rows

    def derived(self, key: tuple[Any, ...], build: Callable[[], bytes]) -> bytes:
        """Bytes built from reads (a decoded document, marshalled), kept like the reads until
        the next committed write of any process; built afresh inside a transaction. Bytes, so
        no caller can change what the next one gets."""
        self._check_process()
        gen = self.generation.value if self.generation is not None else None
        with self._lock:
            if gen is None or self._depth:
                return build()
            if self._cache_gen != gen or len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
                self._cache_gen = gen
            tag = ("derived", key)
            hit = self._cache.get(tag, _MISS)
            if hit is _MISS:
                hit = self._cache[tag] = build()
            return hit  # type: ignore[no-any-return]

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = self._read(sql, args, False)  # a list of its own
        return rows

    def query_one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._read(sql, args, True)
        return row

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """Run one write, atomic by itself (or inside the caller's transaction); returns lastrowid."""
        self._check_process()
        with self._lock, self._writers():
            try:
                return int(self._conn.execute(sql, args).lastrowid or 0)
            finally:
                self._wrote()

    def execute_count(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        """One statement on its own (atomic by itself); returns how many rows it changed."""
        self._check_process()
        with self._lock, self._writers():
            try:
                return int(self._conn.execute(sql, args).rowcount)
            finally:
                self._wrote()

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
    """The emulator's state: the tables its owners declare, versioned and migrated.

    The store names no table but its own (`meta`, `counters`): it creates, migrates, resets and
    snapshots what the owners' `Tables` declarations say.
    """

    def __init__(
        self,
        path: str | None = None,
        tables: Sequence[Tables] = (),
        generation: Generation | None = None,
    ):
        self.tables: tuple[Tables, ...] = (STORE_TABLES, *tables)
        self.version = max(
            [FIRST_DECLARED_VERSION] + [m.version for t in self.tables for m in t.migrations]
        )
        self.snapshot_tables = tuple(name for t in self.tables for name in t.snapshot)
        self.json_columns = {pair for t in self.tables for pair in t.json_columns}
        self.row_checks = {name: fn for t in self.tables for name, fn in t.row_checks.items()}
        try:
            super().__init__(path, durable=True, generation=generation)
            self._migrate()
        except StateFileError:
            raise
        except (sqlite3.Error, ValueError, OSError) as exc:
            raise StateFileError(f"state file {path}: {_problem(exc)}") from None

    def _steps(self, found: int) -> list[Migration]:
        """Every owner's migrations after version `found`, by version, owners in order."""
        return sorted(
            (m for t in self.tables for m in t.migrations if m.version > found),
            key=lambda m: m.version,
        )

    @staticmethod
    def _run(conn: sqlite3.Connection, steps: Sequence[Migration]) -> None:
        for step in steps:
            for stmt in step.statements:
                conn.execute(stmt)
            if step.transform is not None:
                step.transform(conn)

    def _migrate(self) -> None:
        with self.transaction() as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            fresh = not names
            if not fresh and "meta" not in names:
                raise StateFileError(
                    f"state file {self.path}: an SQLite database, but not one dms-emulator wrote "
                    "(it has no meta table): use another --state"
                )
            row = (
                None
                if fresh
                else conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            )
            try:
                found = self.version if fresh else 1 if row is None else int(row["value"])
            except (TypeError, ValueError):
                raise StateFileError(
                    f"state file {self.path}: meta.schema_version is "
                    f"{str(row['value'] if row else '')[:40]!r}, "
                    "not a number (a damaged file, or not dms-emulator's)"
                ) from None
            if found > self.version:
                raise StoreVersionError(
                    f"state file {self.path} has schema version {found}, written by a newer dms-emulator; "
                    f"this one reads versions up to {self.version}: upgrade dms-emulator or use another --state"
                )
            # an older file: its steps first (each creates what it needs), then the current shape
            self._run(conn, self._steps(found))
            for t in self.tables:
                for stmt in t.schema:
                    conn.execute(stmt)
            self._set_version(conn)

    def _set_version(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (str(self.version),),
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

    def counter(self, name: str) -> int:
        """The last value a sequence handed out (0 if none yet)."""
        row = self.query_one("SELECT value FROM counters WHERE name=?", (name,))
        return int(row[0]) if row else 0

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
            return {
                t: [dict(r) for r in self._conn.execute(f"SELECT * FROM {t}")]
                for t in self.snapshot_tables
            }

    def columns(self, table: str) -> list[str]:
        """The columns a snapshot table has in this version."""
        return [r["name"] for r in self.query(f"PRAGMA table_info({table})")]

    def load(
        self,
        snapshot: Any,
        tenants: Collection[int] | None = None,
        keep_meta: Collection[str] = (),
    ) -> None:
        """Replace every snapshot table with the document's rows, all or nothing.

        The document is checked against the shape this store writes before anything changes:
        known tables and columns only (never interpolated unchecked), scalar values, JSON
        columns holding objects, `tid`s of known `tenants`; `keep_meta` rows (secrets) are
        never taken from a document: the store's current values stay. A document of an older
        version is brought to this one by the same migrations as a state file. A refusal is a
        `DocumentError` naming the field.
        """
        rows_by_table = self._checked(snapshot, tenants, keep_meta)
        version = _document_version(rows_by_table)
        if version > self.version:
            raise StoreVersionError(
                f"the state document has schema version {version}; this dms-emulator reads "
                f"versions up to {self.version}"
            )
        if version < FIRST_DECLARED_VERSION:
            raise StoreVersionError(
                f"the state document has schema version {version}; this dms-emulator reads "
                f"documents from version {FIRST_DECLARED_VERSION} on"
            )
        with self.transaction() as conn:
            kept = [
                (r["key"], r["value"])
                for r in conn.execute("SELECT key, value FROM meta")
                if r["key"] in keep_meta
            ]
            for table in self.snapshot_tables:
                conn.execute(f'DELETE FROM "{table}"')
                for row in rows_by_table.get(table, []):
                    cols = list(row)
                    conn.execute(
                        f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)}) '
                        f"VALUES ({', '.join('?' for _ in cols)})",
                        tuple(row[c] for c in cols),
                    )
            conn.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", kept)
            self._run(conn, self._steps(version))
            self._set_version(conn)

    def _checked(
        self, snapshot: Any, tenants: Collection[int] | None, keep_meta: Collection[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The document's rows, each checked against this store's tables (DocumentError)."""
        if not isinstance(snapshot, dict):
            raise DocumentError("tables: must be an object of table name -> list of rows")
        unknown = set(snapshot) - set(self.snapshot_tables)
        if unknown:
            names = ", ".join(repr(str(n)[:64]) for n in sorted(unknown, key=str)[:5])
            raise DocumentError(f"tables: unknown table(s) {names}")
        out: dict[str, list[dict[str, Any]]] = {}
        for table, rows in snapshot.items():
            if not isinstance(rows, list):
                raise DocumentError(f"tables.{table}: must be a list of rows")
            columns = set(self.columns(table))
            checked = []
            for i, row in enumerate(rows):
                where = f"tables.{table}[{i}]"
                if not isinstance(row, dict):
                    raise DocumentError(f"{where}: must be an object of column -> value")
                extra = set(row) - columns
                if extra:
                    name = sorted(map(str, extra))[0]
                    raise DocumentError(f"{where}: unknown column {name[:64]!r}")
                for column, value in row.items():
                    _check_value(f"{where}.{column}", value)
                    if (table, column) in self.json_columns and value is not None:
                        _check_json_object(f"{where}.{column}", value)
                if tenants is not None and "tid" in row and row["tid"] not in tenants:
                    raise DocumentError(
                        f"{where}.tid: tenant {str(row['tid'])[:24]} is not in the accounts file"
                    )
                check = self.row_checks.get(table)
                if check is not None:
                    row = dict(row)
                    try:
                        check(where, row)
                    except ValueError as exc:
                        raise DocumentError(str(exc)) from None
                if table == "meta" and row.get("key") in keep_meta:
                    # secrets are never taken from a document: the store's own value, in place
                    current = self.get_meta(str(row["key"]))
                    if current is None:
                        continue
                    row = {**row, "value": current}
                checked.append(row)
            out[table] = checked
        return out

    def reset(self, tid: int | None = None) -> None:
        """Forget everything (accounts are not state; id sequences keep counting), or one
        tenant's objects: what each owner declares."""
        with self.transaction() as conn:
            for t in self.tables:
                for stmt in t.reset_all if tid is None else t.reset_tenant:
                    conn.execute(stmt, () if tid is None else (tid,))
                for prefix in t.tenant_counters:
                    if tid is None:
                        conn.execute(
                            "DELETE FROM counters WHERE substr(name, 1, ?)=?", (len(prefix), prefix)
                        )
                    else:
                        conn.execute("DELETE FROM counters WHERE name=?", (f"{prefix}{tid}",))


def _check_value(where: str, value: Any) -> None:
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise DocumentError(f"{where}: integer out of range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DocumentError(f"{where}: must be a finite number")
        return
    raise DocumentError(f"{where}: must be a string, a number, true/false or null")


def _check_json_object(where: str, value: Any) -> None:
    try:
        doc = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise DocumentError(f"{where}: must be a JSON object (as a string)")


def _problem(exc: BaseException) -> str:
    """One line for a file SQLite cannot use."""
    text = str(exc) or type(exc).__name__
    if "not a database" in text:
        return "not an SQLite database (a foreign or damaged file)"
    if "malformed" in text:
        return (
            "the database is damaged (truncated or corrupt): restore a copy or use another --state"
        )
    if "unable to open" in text:
        return "cannot open it (does the directory exist, and may this user write there?)"
    return text.splitlines()[0]


def _document_version(snapshot: dict[str, list[dict[str, Any]]]) -> int:
    """The schema version a document's meta rows record (documents before v4 carry it too)."""
    for row in snapshot.get("meta", []):
        if isinstance(row, dict) and row.get("key") == "schema_version":
            try:
                return int(row.get("value"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise DocumentError("tables.meta.schema_version: not a number") from None
    return FIRST_DECLARED_VERSION


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
