"""The embedded engine: a fixture script built into a SQLite file, read through a sandbox.

Read-only sessions have three locks, each enough on its own: the file is opened `mode=ro`,
`PRAGMA query_only` is on, and an authorizer allows nothing but reading (no ATTACH, PRAGMA,
writes or DDL); the sqlite3 module refuses more than one statement per execute. A progress
handler stops a statement at its deadline or when its job is cancelled.

The built fixture is shared and never written. The first write to a database copies it to the
database's working file (under `--state`, next to the state file, so changes survive restarts
and kill -9: SQLite commits are durable before the call is acknowledged); reset deletes that copy.
"""

from __future__ import annotations

import fcntl
import functools
import importlib
import importlib.util
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulator.databases.backend import (
    BackendError,
    Cancel,
    Catalog,
    Column,
    Health,
    Index,
    Result,
    RowStream,
    SqlRejected,
    StatementTimeout,
    Table,
    batch_rows,
    wanted,
)
from emulator.databases.literals import identifier
from emulator.databases.sqlguard import DENIED_FUNCTIONS

_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
_ALLOWED.add(getattr(sqlite3, "SQLITE_RECURSIVE", 33))
_HIDDEN_PREFIX = "_dms_"


def _authorizer(
    action: int, arg1: str | None, arg2: str | None, dbname: str | None, source: str | None
) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS["sqlite"]:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and (arg1 or "").lower().startswith(_HIDDEN_PREFIX):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


_WRITE_DENIED = {
    sqlite3.SQLITE_ATTACH,
    sqlite3.SQLITE_DETACH,
    sqlite3.SQLITE_PRAGMA,
    sqlite3.SQLITE_TRANSACTION,
    getattr(sqlite3, "SQLITE_SAVEPOINT", 32),
}


def _write_authorizer(
    action: int, arg1: str | None, arg2: str | None, dbname: str | None, source: str | None
) -> int:
    """Read-write sessions: any statement on the database's own tables, nothing outside them
    (no ATTACH, PRAGMA or transaction control, no dangerous function, no hidden side table)."""
    if action in _WRITE_DENIED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS["sqlite"]:
        return sqlite3.SQLITE_DENY
    if (arg1 or "").lower().startswith(_HIDDEN_PREFIX):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _deadline_handler(
    conn: sqlite3.Connection, timeout: float | None, cancel: Cancel | None
) -> None:
    if timeout is None and cancel is None:
        return
    deadline = time.monotonic() + timeout if timeout is not None else float("inf")

    def check() -> int:
        return 1 if time.monotonic() > deadline or (cancel is not None and cancel.is_set) else 0

    conn.set_progress_handler(check, 10_000)


def _error(exc: sqlite3.Error, timeout: float | None, cancel: Cancel | None) -> BackendError:
    msg = str(exc)
    if "interrupted" in msg:
        if cancel is not None and cancel.is_set:
            return StatementTimeout(cancel.reason or "the statement was cancelled")
        return StatementTimeout(f"the statement took longer than {timeout:g} seconds")
    if "one statement" in msg:
        return SqlRejected("only one SQL statement may be exported at a time")
    if "not authorized" in msg or "prohibited" in msg:
        return SqlRejected(
            "only a read-only SELECT may be exported (writes, DDL, ATTACH and PRAGMA are refused)"
        )
    try:  # a DMS_* function's own message names the construct it could not take
        msg = str(importlib.import_module("emulator.databases.functions").describe_error(exc))
    except ImportError:
        pass
    return BackendError(f"SQL error: {msg}")


class SqliteSession:
    def __init__(
        self,
        conn: sqlite3.Connection,
        dialect: str,
        timeout: float | None,
        cancel: Cancel | None,
        schema: str | None = None,
        read_only: bool = True,
    ):
        self.conn, self.dialect, self.timeout, self.cancel = conn, dialect, timeout, cancel
        self.schema, self.read_only = schema, read_only

    def _sql(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql
        translation = importlib.import_module("emulator.databases.dialect")
        try:
            return str(translation.translate(sql, self.dialect, self.schema))
        except Exception as exc:  # the translator names the construct it cannot take
            raise SqlRejected(f"SQL error: {exc}") from None

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise _error(exc, self.timeout, self.cancel) from None

    def explain(self, sql: str) -> list[tuple[Any, ...]]:
        cur = self._run("EXPLAIN " + self._sql(sql))
        try:
            return list(cur.fetchall())
        except sqlite3.Error as exc:
            raise _error(exc, self.timeout, self.cancel) from None

    def count(self, sql: str) -> int:
        try:
            (n,) = self._run(f"SELECT count(*) FROM (\n{self._sql(sql)}\n)").fetchone()
        except sqlite3.Error as exc:
            raise _error(exc, self.timeout, self.cancel) from None
        return int(n)

    def stream(self, sql: str) -> RowStream:
        cur = self._run(self._sql(sql))
        cols = [d[0] for d in cur.description or ()]

        def fetch(n: int) -> list[tuple[Any, ...]]:
            try:
                return cur.fetchmany(n)
            except sqlite3.Error as exc:
                raise _error(exc, self.timeout, self.cancel) from None

        return RowStream(cols, batch_rows(fetch))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return int(self._run(self._sql(sql), params).rowcount)

    def table_rows(self, table: str) -> RowStream:
        cur = self._run(f"SELECT * FROM {identifier(table, 'sqlite')}")
        return RowStream([d[0] for d in cur.description or ()], iter([cur.fetchall()]))

    def run(self, sql: str, max_rows: int = 200) -> Result:
        try:
            return self._run_one(sql, max_rows)
        except BackendError as exc:
            raise type(exc)(dialect_message(str(exc), self.dialect, self.schema)) from None

    def _run_one(self, sql: str, max_rows: int) -> Result:
        if self.dialect != "sqlite" and not self.read_only and _is_ddl(sql, self.dialect):
            self._ddl(sql)
            return Result([], [])
        if self.dialect == "mysql" and _SHOW.match(sql):
            self.conn.set_authorizer(None)  # the catalog, as describe() reads it
            try:
                return _cap(_show(self.conn, sql, self.schema or "def"), max_rows)
            finally:
                self.conn.set_authorizer(_authorizer if self.read_only else _write_authorizer)
        cur = self._run(self._sql(sql))
        if not cur.description:
            return Result([], [], int(cur.rowcount) if cur.rowcount >= 0 else -1)
        cols = [d[0] for d in cur.description]
        try:
            rows = cur.fetchmany(max_rows + 1)
        except sqlite3.Error as exc:
            raise _error(exc, self.timeout, self.cancel) from None
        truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        if self.dialect != "sqlite" and rows:
            self.conn.set_authorizer(None)  # the declared types live in the hidden side table
            try:
                rows = _declared_decimals(self.conn, sql, self.dialect, cols, rows)
            finally:
                self.conn.set_authorizer(_authorizer if self.read_only else _write_authorizer)
        return Result(cols, rows, -1, truncated)

    def _ddl(self, sql: str) -> None:
        """DDL through the loader, which keeps the declared catalog; it writes the side tables
        the write authorizer hides, so the authorizer is off for that one statement."""
        loader = importlib.import_module("emulator.databases.loader")
        self.conn.set_authorizer(None)
        try:
            loader.apply_ddl(self.conn, sql, self.dialect, self.schema)
        except sqlite3.Error as exc:
            raise _error(exc, self.timeout, self.cancel) from None
        except ValueError as exc:  # UnsupportedSql: the message names the construct
            raise SqlRejected(f"SQL error: {exc}") from None
        finally:
            self.conn.set_authorizer(_write_authorizer)


# per thread: each embedded database's kept read-only connection for describe() (see _reader)
_READERS = threading.local()


class SqliteBackend:
    """One embedded database: its built fixture, and its working copy once written."""

    engine = "sqlite"

    def __init__(
        self,
        built: Path,
        work: Path,
        dialect: str,
        now: Callable[[], float] = time.time,
        schema: str | None = None,
    ):
        self.built, self.work, self.dialect, self.now = built, work, dialect, now
        self.schema = schema

    @property
    def path(self) -> Path:
        """The file reads see: the working copy once one exists, else the shared fixture."""
        return self.work if self.work.exists() else self.built

    def _install(self, conn: sqlite3.Connection) -> None:
        if self.dialect != "sqlite":
            importlib.import_module("emulator.databases.functions").install(conn, self.now)

    @contextmanager
    def read_only(
        self, timeout: float | None = None, cancel: Cancel | None = None
    ) -> Iterator[SqliteSession]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute("PRAGMA query_only = ON")
            self._install(conn)
            conn.set_authorizer(_authorizer)
            _deadline_handler(conn, timeout, cancel)
            yield SqliteSession(conn, self.dialect, timeout, cancel, self.schema, True)
        finally:
            conn.close()

    @contextmanager
    def _work_lock(self) -> Iterator[None]:
        self.work.parent.mkdir(parents=True, exist_ok=True)
        with open(self.work.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _ensure_copy(self) -> None:
        """Copy the fixture on first write (atomically, once, across worker processes)."""
        if self.work.exists():
            return
        with self._work_lock():
            if self.work.exists():
                return
            tmp = self.work.with_suffix(".copying")
            shutil.copyfile(self.built, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self.work)
            _fsync_dir(self.work.parent)

    @contextmanager
    def read_write(
        self, timeout: float | None = None, cancel: Cancel | None = None
    ) -> Iterator[SqliteSession]:
        self._ensure_copy()
        conn = sqlite3.connect(self.work, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 10000")
            self._install(conn)
            _deadline_handler(conn, timeout, cancel)
            conn.execute("BEGIN IMMEDIATE")
            conn.set_authorizer(_write_authorizer)
            try:
                yield SqliteSession(conn, self.dialect, timeout, cancel, self.schema, False)
            except BaseException:
                conn.set_authorizer(None)
                conn.execute("ROLLBACK")
                raise
            conn.set_authorizer(None)
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise _error(exc, timeout, cancel) from None
        finally:
            conn.close()

    def describe(
        self, names: Collection[str] | None = None, details: bool = True, counts: bool = True
    ) -> Catalog:
        return _describe(self._reader(), names, details, counts)

    def _reader(self) -> sqlite3.Connection:
        """This thread's read-only connection to the file reads see, kept while it is that
        file (same path and inode, same process): SQLite parses the schema once per change,
        not on every metadata call (a fresh connection re-parses 4,000 CREATE statements of a
        2,000-table database: ~30 ms; instances helper, bench/meta.py). Writers' commits and
        DDL are seen at once (each statement reads the current file; a schema change makes
        SQLite re-read the schema); a reset or a first copy changes the file, hence the key."""
        path = self.path
        try:
            st = os.stat(path)
            key = (os.getpid(), str(path), st.st_dev, st.st_ino)
        except OSError:
            key = (os.getpid(), str(path), 0, 0)
        kept: dict[int, tuple[Any, sqlite3.Connection]] = _READERS.__dict__.setdefault("kept", {})
        found = kept.get(id(self))
        if found is not None and found[0] == key:
            return found[1]
        if found is not None and found[0][0] == key[0]:
            found[1].close()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        kept[id(self)] = (key, conn)
        return conn

    def health(self) -> Health:
        return Health(True, "", "sqlite", sqlite3.sqlite_version)

    def reset(self) -> None:
        with self._work_lock():
            for suffix in ("", "-journal", "-wal", "-shm"):
                p = Path(str(self.work) + suffix)
                if p.exists():
                    p.unlink()

    def close(self) -> None:
        pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _declared(
    conn: sqlite3.Connection, only: Collection[str] | None = None
) -> tuple[dict[str, list[Column]], dict[str, str]]:
    """What the dialect loader recorded about each table (`_dms_columns`, `_dms_tables`)."""
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    columns: dict[str, list[Column]] = {}
    comments: dict[str, str] = {}
    names = sorted({n.lower() for n in only}) if only is not None else None
    where = f" WHERE lower(table_name) IN ({', '.join('?' * len(names))})" if names else ""
    if names == []:
        return columns, comments
    if "_dms_columns" in present:
        for r in conn.execute(
            "SELECT table_name, column_name, ordinal, column_type, nullable, default_value, "
            f"primary_key, auto_increment, comment FROM _dms_columns{where} "
            "ORDER BY table_name, ordinal",
            tuple(names or ()),
        ):
            columns.setdefault(str(r[0]).lower(), []).append(
                Column(
                    name=str(r[1]),
                    data_type=str(r[3] or ""),
                    nullable=bool(r[4]),
                    primary_key=bool(r[6]),
                    auto_increment=bool(r[7]),
                    default=None if r[5] is None or str(r[5]).upper() == "NULL" else str(r[5]),
                    comment=str(r[8] or ""),
                    position=int(r[2]),
                )
            )
    if "_dms_tables" in present:
        for r in conn.execute(
            f"SELECT table_name, comment FROM _dms_tables{where}", tuple(names or ())
        ):
            comments[str(r[0]).lower()] = str(r[1] or "")
    return columns, comments


def _describe(
    conn: sqlite3.Connection,
    only: Collection[str] | None = None,
    details: bool = True,
    counts: bool = True,
) -> Catalog:
    want = wanted(only)
    # a few names asked for: sqlite_master's own filter, not 4,000 rows through Python
    few = sorted({n.lower() for n in only}) if only is not None and len(only) <= 200 else None
    names = [
        (str(r[0]), str(r[1]))
        for r in conn.execute(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%'"
            + (f" AND lower(name) IN ({', '.join('?' * len(few))})" if few else "")
            + " ORDER BY name",
            tuple(few or ()),
        )
        if not r[0].lower().startswith(_HIDDEN_PREFIX) and want(r[0])
    ]
    kinds = dict(names)
    if not details and not counts:  # names only: the cheap listing
        return Catalog(
            tuple(Table(n, (), kind="VIEW" if k == "view" else "TABLE") for n, k in names)
        )
    declared, comments = _declared(conn, only) if details else ({}, {})
    known = _sizes(conn, [n for n, _ in names]) if counts else None
    tables = []
    for name, _kind in names:
        if not details:
            rows = int(
                conn.execute(f"SELECT count(*) FROM {identifier(name, 'sqlite')}").fetchone()[0]
            )
            kind = "VIEW" if kinds[name] == "view" else "TABLE"
            tables.append(
                Table(
                    name,
                    (),
                    (),
                    rows,
                    comments.get(name.lower(), ""),
                    kind,
                    _size(conn, name, rows, known),
                )
            )
            continue
        q = identifier(name, "sqlite")
        sql = (
            conn.execute("SELECT sql FROM sqlite_master WHERE name=?", (name,)).fetchone()[0] or ""
        )
        info = conn.execute(f"PRAGMA table_info({q})").fetchall()
        pk_cols = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
        rowid_alias = len(pk_cols) == 1 and any(
            r[1] == pk_cols[0] and str(r[2]).upper() == "INTEGER" for r in info
        )
        autoinc = "AUTOINCREMENT" in sql.upper()
        cols = declared.get(name.lower()) or [
            Column(
                name=cname,
                data_type=str(ctype or ""),
                nullable=not notnull and not pk,
                primary_key=bool(pk),
                auto_increment=bool(pk) and len(pk_cols) == 1 and (rowid_alias or autoinc),
                default=None if default is None else str(default),
                comment="",
                position=cid + 1,
            )
            for cid, cname, ctype, notnull, default, pk in info
        ]
        indexes = []
        if pk_cols:
            indexes.append(Index("PRIMARY", tuple(pk_cols), True, True))
        for _seq, iname, unique, origin, _partial in conn.execute(f"PRAGMA index_list({q})"):
            if origin == "pk":
                continue
            icols = tuple(
                r[2] for r in conn.execute(f"PRAGMA index_info({identifier(iname, 'sqlite')})")
            )
            indexes.append(Index(iname, icols, bool(unique)))
        (count,) = conn.execute(f"SELECT count(*) FROM {q}").fetchone() if counts else (0,)
        tables.append(
            Table(
                name,
                tuple(cols),
                tuple(indexes),
                int(count),
                comments.get(name.lower(), ""),
                "VIEW" if kinds[name] == "view" else "TABLE",
                _size(conn, name, int(count), known) if counts else 0,
            )
        )
    return Catalog(tuple(tables))


def _size(
    conn: sqlite3.Connection, name: str, rows: int, known: dict[str, int] | None = None
) -> int:
    """Bytes of a table and its indexes. One `name=` query per b-tree: dbstat then walks only
    that tree (an OR/IN filter or an aggregate walks the whole file, seconds at 2,000 tables).
    `known`: sizes `_sizes()` already measured for this call."""
    if known is not None and name in known:
        return known[name]
    trees = [name] + [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=?", (name,)
        )
    ]
    try:
        return sum(
            int(conn.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name=?", (t,))
                .fetchone()[0])
            for t in trees
        )  # fmt: skip
    except sqlite3.Error:  # a build without the dbstat table
        return rows * 64


# one dbstat pass over the whole file (~2 us a page) beats a query per b-tree (~0.3 ms each)
# when the file has fewer than this many pages per table asked for
_SIZES_PAGES_PER_TABLE = 256
_SIZES_ONE_PASS_TABLES = 16


def _sizes(conn: sqlite3.Connection, names: list[str]) -> dict[str, int] | None:
    """Sizes of many tables at once (a page of ListTables: 200 tables cost 400 dbstat queries
    and 200 scans of sqlite_master one by one; instances helper, bench/meta.py), when the file
    is small enough for one aggregate pass over every page; None otherwise."""
    if len(names) <= _SIZES_ONE_PASS_TABLES:
        return None
    try:
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        if int(pages) > _SIZES_PAGES_PER_TABLE * len(names):
            return None
        per_tree = dict(
            conn.execute("SELECT name, pgsize FROM dbstat WHERE aggregate=TRUE").fetchall()
        )
    except sqlite3.Error:  # no dbstat, or one without aggregate=
        return None
    wanted_names = set(names)
    out = {n: int(per_tree.get(n, 0)) for n in names}
    for tbl, index in conn.execute("SELECT tbl_name, name FROM sqlite_master WHERE type='index'"):
        if tbl in wanted_names:
            out[tbl] += int(per_tree.get(index, 0))
    return out


# --------------------------------------------------------------------------- SQL console helpers

_DDL_HEADS = ("CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "COMMENT")


def _is_ddl(sql: str, dialect: str) -> bool:
    from emulator.databases.sqlguard import head

    return head(sql, dialect) in _DDL_HEADS


_MESSAGES: tuple[tuple[str, str, str], ...] = (
    # (SQLite's message, MySQL's, PostgreSQL's) with {0}, {1} the names SQLite gave
    (r"no such table: (?:main\.)?(\S+)", "Table '{schema}{0}' doesn't exist", 'relation "{0}" does not exist'),
    (r"no such column: (\S+)", "Unknown column '{0}' in 'field list'", 'column "{0}" does not exist'),
    (r"table (\S+) already exists", "Table '{0}' already exists", 'relation "{0}" already exists'),
    (r"index (\S+) already exists", "Duplicate key name '{0}'", 'relation "{0}" already exists'),
    (r"NOT NULL constraint failed: (\S+)\.(\S+)", "Column '{1}' cannot be null",
     'null value in column "{1}" of relation "{0}" violates not-null constraint'),
    (r"UNIQUE constraint failed: (\S+?)\.(\S+)", "Duplicate entry for key '{1}'",
     'duplicate key value violates unique constraint on "{0}" ({1})'),
)  # fmt: skip


def dialect_message(message: str, dialect: str, schema: str | None) -> str:
    """An embedded-engine error in the words the dialect's server would use for it (clients
    and people match on those: `Table 'shop.nope' doesn't exist`)."""
    if dialect == "sqlite":
        return message
    for pattern, mysql, postgresql in _MESSAGES:
        m = re.search(pattern, message)
        if m:
            text = mysql if dialect == "mysql" else postgresql
            said = text.format(*m.groups(), schema=f"{schema}." if schema else "")
            return ("SQL error: " if message.startswith("SQL error: ") else "") + said
    return message


def _declared_decimals(
    conn: sqlite3.Connection, sql: str, dialect: str, cols: list[str], rows: list[Any]
) -> list[Any]:
    """Result values typed as the server's driver returns them: a declared `decimal(p,s)` /
    `numeric(p,s)` column, and SUM/MIN/MAX of one, with s places (`8.00`, not the REAL `8.0`;
    MySQL's AVG with s+4, PostgreSQL's avg() exact as numeric_div); PostgreSQL booleans (a
    declared `boolean` column, a comparison, `IS NULL`, `CAST(... AS boolean)`) as bool, which
    the console prints `true`/`false`."""
    kinds = _value_kinds(conn, sql, dialect, tuple(cols))
    if not kinds:
        return rows
    from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

    columns = [list(c) for c in zip(*rows, strict=True)]
    for i, (kind, places) in kinds.items():
        col = columns[i]
        if kind == _BOOLEAN:
            for k, v in enumerate(col):
                if type(v) is int:
                    col[k] = v != 0
            continue
        if kind == _PG_AVG:
            _pg_averages(conn, col, places)
            continue
        if kind == _ROUNDED:  # a quotient: its shortest repr, rounded half up as DECIMAL does
            unit = Decimal(1).scaleb(-places)
            for k, v in enumerate(col):
                if type(v) is float or type(v) is int:
                    col[k] = Decimal(repr(v)).quantize(unit, ROUND_HALF_UP)
            continue
        fmt = f"{{:.{places}f}}".format  # a stored value (or a sum of them): at most this many
        for k, v in enumerate(col):
            if type(v) is float or type(v) is int:
                try:
                    col[k] = Decimal(fmt(v))
                except (InvalidOperation, ValueError):
                    pass
    return [tuple(r) for r in zip(*columns, strict=True)]


# what `_value_kinds` says a result column is, with its decimal places where it has some
_Kind = tuple[str, int]
_BOOLEAN = "bool"  # a PostgreSQL boolean the engine gives as 1/0
_PLACES = "places"  # a stored decimal (or SUM/MIN/MAX of one): printed with its places
_ROUNDED = "rounded"  # a computed quotient (MySQL's AVG): rounded half up to its places
_PG_AVG = "pg_avg"  # PostgreSQL's avg(): exact from DMS_PG_AVG's sum and count


def _pg_averages(conn: sqlite3.Connection, col: list[Any], places: int) -> None:
    """PostgreSQL avg() values of an integer/numeric(p,places) column as the server's numeric:
    the sum (its REAL rounded to the column's scale) and count DMS_PG_AVG kept, divided as
    PostgreSQL divides. A value whose parts are unknown stays the engine's double."""
    from decimal import ROUND_HALF_UP, Decimal

    functions = importlib.import_module("emulator.databases.functions")
    unit = Decimal(1).scaleb(-places)
    for k, v in enumerate(col):
        if type(v) is not float:
            continue
        (parts,) = conn.execute("SELECT DMS_PG_AVG_PARTS(?)", (v,)).fetchone()
        if not isinstance(parts, str):
            continue
        total, count = parts.split("/")
        try:
            exact = Decimal(total).quantize(unit, ROUND_HALF_UP)
            col[k] = functions.pg_numeric_avg(exact, int(count))
        except ArithmeticError:  # inf/nan, or more digits than a numeric has
            pass


_DECIMAL_TYPE = re.compile(r"^(?:decimal|numeric|dec|fixed)\(\s*\d+\s*,\s*(\d+)\s*\)")
_INTEGER_TYPE = re.compile(r"^(?:tiny|small|medium|big)?int(?:eger)?\b")


def _declared_kind(ctype: str, item: tuple[str, str], dialect: str) -> _Kind | None:
    """What a result column made from a declared column of type `ctype` is, or None (left as
    the engine gives it)."""
    func = item[0]
    ctype = ctype.lower()
    if ctype in ("boolean", "bool"):
        return (_BOOLEAN, 0) if func == "" and dialect == "postgresql" else None
    m = _DECIMAL_TYPE.match(ctype)
    scale = int(m.group(1)) if m else 0
    if func in ("", "sum", "min", "max"):
        return (_PLACES, scale) if m else None
    if func != "avg" or not (m or _INTEGER_TYPE.match(ctype)):
        return None  # a double for float columns
    if dialect == "postgresql":  # numeric
        return (_PG_AVG, scale)
    if dialect == "mysql":  # the argument's scale + div_precision_increment
        return (_ROUNDED, scale + 4)
    return None


def _value_kinds(
    conn: sqlite3.Connection, sql: str, dialect: str, cols: tuple[str, ...]
) -> dict[int, _Kind]:
    tables, items = _projection(sql, dialect, len(cols), cols)
    out: dict[int, _Kind] = {}
    if dialect == "postgresql":  # MySQL's booleans are the integers 1/0 on the server too
        out = {i: (_BOOLEAN, 0) for i, it in enumerate(items) if it == ("bool", "")}
    wanted_items = {i: it for i, it in enumerate(items) if it is not None and it[0] != "bool"}
    if not tables or not wanted_items:
        return out
    marks = ", ".join("?" * len(tables))
    try:
        declared = conn.execute(
            "SELECT lower(column_name), column_type FROM _dms_columns "
            f"WHERE lower(table_name) IN ({marks})",
            tables,
        ).fetchall()
    except sqlite3.Error:
        return out
    by_name: dict[str, set[str]] = {}
    for name, ctype in declared:
        by_name.setdefault(str(name), set()).add(str(ctype))
    for i, item in wanted_items.items():
        found = by_name.get(item[1])
        if found is not None and len(found) == 1:
            kind = _declared_kind(next(iter(found)), item, dialect)
            if kind is not None:
                out[i] = kind
    return out


_Item = tuple[str, str]  # ("", column) a plain column, ("sum", column) an aggregate of one,
# ("bool", "") a boolean expression, ("*", "") a star


def _projection(
    sql: str, dialect: str, width: int, cols: tuple[str, ...]
) -> tuple[tuple[str, ...], list[_Item | None]]:
    """The tables a query reads and, per result column, what it is made of (None: unknown).
    A single star spans the columns between the items before and after it; with several,
    each result column is taken for the declared column of its name."""
    tables, items = _projection_cached(sql, dialect)
    stars = [i for i, it in enumerate(items) if it == ("*", "")]
    if not stars:
        return tables, list(items) if len(items) == width else [None] * width
    if len(stars) == 1 and width >= len(items) - 1:
        k = stars[0]
        after = len(items) - k - 1
        middle: list[_Item | None] = [("", c.lower()) for c in cols[k : width - after]]
        return tables, list(items[:k]) + middle + list(items[k + 1 :])
    return tables, [("", c.lower()) for c in cols]


@functools.lru_cache(maxsize=1024)
def _projection_cached(sql: str, dialect: str) -> tuple[tuple[str, ...], tuple[_Item | None, ...]]:
    try:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read={"mysql": "mysql", "postgresql": "postgres"}[dialect])
    except Exception:
        return (), ()
    if not isinstance(tree, exp.Select):
        return (), ()
    tables = tuple(sorted({t.name.lower() for t in tree.find_all(exp.Table) if t.name}))
    return tables, tuple(_item(sel, exp) for sel in tree.selects)


_AGGREGATES = {"Sum": "sum", "Min": "min", "Max": "max", "Avg": "avg"}


def _item(sel: Any, exp: Any) -> _Item | None:
    if isinstance(sel, exp.Star) or (isinstance(sel, exp.Column) and sel.is_star):
        return ("*", "")
    node = sel.this if isinstance(sel, exp.Alias) else sel
    if isinstance(node, exp.Column):
        return ("", node.name.lower())
    func = _AGGREGATES.get(type(node).__name__)
    arg = node.this if func is not None else None
    if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1:
        arg = arg.expressions[0]
    if func is not None and isinstance(arg, exp.Column):
        return (func, arg.name.lower())
    return ("bool", "") if _is_bool(node, exp) else None


def _is_bool(node: Any, exp: Any) -> bool:
    """A PostgreSQL expression whose type is boolean whatever its operands are."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)):
        return True
    if isinstance(node, (exp.LogicalAnd, exp.LogicalOr)):
        return True
    if isinstance(node, exp.Cast):
        return bool(node.to.is_type("boolean"))
    if isinstance(node, exp.Case):
        branches = [i.args.get("true") for i in node.args.get("ifs") or []]
        branches.append(node.args.get("default"))
        values = [b for b in branches if b is not None and not isinstance(b, exp.Null)]
        return bool(values) and all(_is_bool(b, exp) for b in values)
    return False


# --------------------------------------------------------------------------- MySQL SHOW / DESC

_SHOW = re.compile(r"^\s*(SHOW|DESC|DESCRIBE)\b", re.IGNORECASE)
_NAME = r"[`\"]?([\w$]+)[`\"]?"
_SHOW_TABLES = re.compile(
    rf"^\s*SHOW\s+(FULL\s+)?TABLES(?:\s+(?:FROM|IN)\s+{_NAME})?(?:\s+LIKE\s+'([^']*)')?\s*;?\s*$",
    re.IGNORECASE,
)
_SHOW_COLUMNS = re.compile(
    rf"^\s*(?:SHOW\s+(FULL\s+)?(?:COLUMNS|FIELDS)\s+(?:FROM|IN)\s+(?:{_NAME}\.)?{_NAME}"
    rf"(?:\s+(?:FROM|IN)\s+{_NAME})?|DESC(?:RIBE)?\s+(?:{_NAME}\.)?{_NAME})\s*;?\s*$",
    re.IGNORECASE,
)
_SHOW_DATABASES = re.compile(r"^\s*SHOW\s+(DATABASES|SCHEMAS)\s*;?\s*$", re.IGNORECASE)


def _cap(result: Result, max_rows: int) -> Result:
    return Result(result.columns, result.rows[:max_rows], -1, len(result.rows) > max_rows)


def _like_re(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern),
        re.IGNORECASE | re.DOTALL,
    )


def _show(conn: sqlite3.Connection, sql: str, schema: str) -> Result:
    """SHOW TABLES / SHOW COLUMNS / DESC / SHOW DATABASES on an embedded MySQL-dialect database,
    answered from the catalog describe() reads, in MySQL's columns and words."""
    m = _SHOW_TABLES.match(sql)
    if m:
        like = _like_re(m.group(3)) if m.group(3) is not None else None
        tables = [t for t in _describe(conn, None, False, False).tables]
        tables = [t for t in tables if like is None or like.fullmatch(t.name)]
        cols = [f"Tables_in_{schema}"] + (["Table_type"] if m.group(1) else [])
        return Result(
            cols,
            [(t.name, "VIEW" if t.kind == "VIEW" else "BASE TABLE")[: len(cols)] for t in tables],
        )
    m = _SHOW_COLUMNS.match(sql)
    if m:
        name = m.group(3) or m.group(6)
        found = _describe(conn, [name], True, False).table(name)
        if found is None:
            raise BackendError(f"SQL error: Table '{schema}.{name}' doesn't exist")
        keys: dict[str, str] = {}
        for ix in found.indexes:
            if not ix.columns:
                continue
            first = ix.columns[0]
            kind = "PRI" if ix.primary else "UNI" if ix.unique and len(ix.columns) == 1 else "MUL"
            rank = {"PRI": 0, "UNI": 1, "MUL": 2}
            if first not in keys or rank[kind] < rank[keys[first]]:
                keys[first] = kind
        for c in found.columns:
            if c.primary_key:
                keys[c.name] = "PRI"
        rows: list[tuple[Any, ...]] = [
            (
                c.name,
                c.data_type,
                "YES" if c.nullable else "NO",
                keys.get(c.name, ""),
                _unquoted(c.default),
                "auto_increment" if c.auto_increment else "",
            )
            for c in sorted(found.columns, key=lambda c: c.position)
        ]
        return Result(["Field", "Type", "Null", "Key", "Default", "Extra"], rows)
    if _SHOW_DATABASES.match(sql):
        return Result(["Database"], [(schema,)])
    raise SqlRejected(
        "SQL error: this SHOW statement is not supported on the embedded engine (SHOW TABLES, "
        "SHOW COLUMNS, DESC and SHOW DATABASES are)"
    )


def _unquoted(default: str | None) -> str | None:
    if default is None:
        return None
    text = default.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text
