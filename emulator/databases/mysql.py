"""A real MySQL / MariaDB / PolarDB server behind a `dsn` (PyMySQL: `dms-emulator[mysql]`).

Reads run in `START TRANSACTION READ ONLY` with the server's statement timeout
(`max_execution_time` on MySQL, `max_statement_time` on MariaDB) and a watchdog that sends
`KILL QUERY` from a second connection at the deadline or on cancel. Rows stream through an
unbuffered (server-side) cursor, so a million rows never sit in memory.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

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
    Unavailable,
    Watchdog,
    batch_rows,
    by_table,
    in_list,
    quiet,
    server_session,
    wanted,
)
from emulator.databases.literals import identifier

CONNECT_TIMEOUT = 5
_TIMEOUT_CODES = {3024, 1969, 1317, 2013}
_READ_ONLY_CODES = {1792, 1290, 1227, 1142, 1044, 1045}


@dataclass(frozen=True)
class Dsn:
    host: str
    port: int
    user: str
    password: str
    database: str
    options: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"


def parse_dsn(dsn: str, default_port: int) -> Dsn:
    """`scheme://user:password@host:port/database?opt=v` (percent-encoding allowed)."""
    parts = urlsplit(dsn)
    if not parts.hostname:
        raise ValueError("the dsn names no host")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ValueError("the dsn names no database (…/DATABASE)")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("the dsn has a bad port") from None
    return Dsn(
        parts.hostname,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        database,
        {k: v[-1] for k, v in parse_qs(parts.query).items()},
    )


def _pymysql() -> Any:
    try:
        import pymysql
    except ImportError:
        raise Unavailable(
            "the MySQL driver is not installed: pip install 'dms-emulator[mysql]'"
        ) from None
    return pymysql


@functools.lru_cache(maxsize=1)
def _connection_class() -> Any:
    """PyMySQL's Connection, with the TLS context of its default ("preferred": TLS when the
    server offers it, unverified, as PyMySQL does) made once per process instead of on every
    connect, where loading the system CA store costs ~30 ms (the console connects per statement).
    A PyMySQL without that method simply builds its own."""
    pymysql = _pymysql()
    base = pymysql.connections.Connection
    lock = threading.Lock()
    shared: list[Any] = []

    class Connection(base):  # type: ignore[misc, valid-type]
        def _create_ssl_ctx(self, sslp: Any) -> Any:
            if sslp != {}:  # options the user gave: PyMySQL's own handling
                return super()._create_ssl_ctx(sslp)
            with lock:
                if not shared:
                    shared.append(super()._create_ssl_ctx(sslp))
                return shared[0]

    return Connection


def _error(exc: Exception, watchdog: Watchdog | None = None) -> BackendError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    msg = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if watchdog is not None and watchdog.fired:
        return StatementTimeout(watchdog.fired)
    if code in _TIMEOUT_CODES:
        return StatementTimeout(f"the statement was stopped: {msg}")
    if code in _READ_ONLY_CODES:
        return SqlRejected(f"only a read-only SELECT may be exported ({msg})")
    return BackendError(f"SQL error: {msg}")


class MySQLSession:
    def __init__(self, conn: Any, watchdog: Watchdog):
        self.conn, self.watchdog = conn, watchdog
        self.dialect = "mysql"

    def _cursor(self, unbuffered: bool = False) -> Any:
        pymysql = _pymysql()
        return self.conn.cursor(pymysql.cursors.SSCursor if unbuffered else None)

    def _run(self, sql: str, params: tuple[Any, ...] = (), unbuffered: bool = False) -> Any:
        cur = self._cursor(unbuffered)
        try:
            cur.execute(sql, params or None)
        except Exception as exc:
            raise _error(exc, self.watchdog) from None
        return cur

    def explain(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self._run("EXPLAIN " + sql).fetchall())

    def count(self, sql: str) -> int:
        (n,) = self._run(f"SELECT COUNT(*) FROM (\n{sql}\n) AS dms_q").fetchone()
        return int(n)

    def stream(self, sql: str) -> RowStream:
        cur = self._run(sql, unbuffered=True)
        cols = [d[0] for d in cur.description or ()]

        def fetch(n: int) -> list[tuple[Any, ...]]:
            try:
                return list(cur.fetchmany(n))
            except Exception as exc:
                raise _error(exc, self.watchdog) from None

        return RowStream(cols, batch_rows(fetch))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return int(self._run(sql, params).rowcount)

    def table_rows(self, table: str) -> RowStream:
        cur = self._run(f"SELECT * FROM {identifier(table, 'mysql')} ORDER BY 1")
        return RowStream([d[0] for d in cur.description or ()], iter([list(cur.fetchall())]))

    def run(self, sql: str, max_rows: int = 200) -> Result:
        # the server stops a query after max_rows + 1 rows (top-level SELECTs only: not the
        # SELECT of an INSERT ... SELECT), so a capped read never ships a whole table; later
        # statements of the session (a stream, an export) are not capped
        self._run(f"SET SESSION sql_select_limit = {max(0, int(max_rows)) + 1}").close()
        uncapped = "SET SESSION sql_select_limit = DEFAULT"
        try:
            result = self._capped(sql, max_rows)
        except BaseException:
            quiet(lambda: self._run(uncapped).close())
            raise
        self._run(uncapped).close()
        return result

    def _capped(self, sql: str, max_rows: int) -> Result:
        cur = self._run(sql)
        try:
            if cur.description is None:
                return Result([], [], int(cur.rowcount))
            cols = [d[0] for d in cur.description]
            rows = list(cur.fetchmany(max_rows + 1))
            while cur.nextset():  # a CALL or multi-result statement: drop what follows
                pass
        except Exception as exc:
            raise _error(exc, self.watchdog) from None
        finally:
            quiet(cur.close)
        return Result(cols, rows[:max_rows], -1, len(rows) > max_rows)


class MySQLBackend:
    engine = "mysql"
    dialect = "mysql"

    def __init__(self, dsn: str):
        self.dsn = parse_dsn(dsn, 3306)
        self._mariadb: bool | None = None

    def _connect(self) -> Any:
        d = self.dsn
        try:
            return _connection_class()(
                host=d.host,
                port=d.port,
                user=d.user,
                password=d.password,
                database=d.database,
                charset=d.options.get("charset", "utf8mb4"),
                connect_timeout=CONNECT_TIMEOUT,
                autocommit=False,
            )
        except Exception as exc:
            msg = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
            raise Unavailable(f"cannot connect to the MySQL server at {d.where}: {msg}") from None

    def _kill(self, thread_id: int) -> None:
        other = self._connect()
        try:
            with other.cursor() as cur:
                cur.execute(f"KILL QUERY {int(thread_id)}")
        finally:
            other.close()

    def _timeout_sql(self, conn: Any, timeout: float) -> str:
        if self._mariadb is None:
            self._mariadb = "mariadb" in str(conn.get_server_info()).lower()
        if self._mariadb:
            return f"SET SESSION max_statement_time = {max(timeout, 0.001):.3f}"
        return f"SET SESSION max_execution_time = {max(1, int(timeout * 1000))}"

    def _session(
        self, read_only: bool, timeout: float | None, cancel: Cancel | None
    ) -> AbstractContextManager[MySQLSession]:
        conn = self._connect()
        thread_id = conn.thread_id()
        watchdog = Watchdog(timeout, cancel, lambda: self._kill(thread_id))

        def begin() -> None:
            with conn.cursor() as cur:
                if timeout is not None:
                    cur.execute(self._timeout_sql(conn, timeout))
                if read_only:  # the session too: DDL's implicit commit must not escape it
                    cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")

        return server_session(
            conn,
            watchdog,
            begin,
            MySQLSession(conn, watchdog),
            read_only,
            _error,
            "pymysql",
        )

    def read_only(self, timeout: float | None = None, cancel: Cancel | None = None) -> Any:
        return self._session(True, timeout, cancel)

    def read_write(self, timeout: float | None = None, cancel: Cancel | None = None) -> Any:
        return self._session(False, timeout, cancel)

    def describe(
        self, names: Collection[str] | None = None, details: bool = True, counts: bool = True
    ) -> Catalog:
        want = wanted(names)
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT TABLE_NAME, TABLE_COMMENT, TABLE_TYPE, "
                    "COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) "
                    "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                    "ORDER BY TABLE_NAME"
                )
                tables = [t for t in cur.fetchall() if want(t[0])]
                columns: dict[str, list[Any]] = {}
                stats: dict[str, list[Any]] = {}
                if details and tables:
                    only, args = (
                        ("", None)
                        if names is None
                        else in_list([t[0] for t in tables], "TABLE_NAME")
                    )
                    cur.execute(
                        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, EXTRA, "
                        "COLUMN_DEFAULT, COLUMN_COMMENT, ORDINAL_POSITION FROM information_schema.COLUMNS "
                        f"WHERE TABLE_SCHEMA = DATABASE(){only} ORDER BY TABLE_NAME, ORDINAL_POSITION",
                        args,
                    )
                    columns = by_table(cur.fetchall())
                    cur.execute(
                        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME "
                        f"FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE(){only} "
                        "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                        args,
                    )
                    stats = by_table(cur.fetchall())
                out = []
                for name, comment, kind, size in tables:
                    cols = tuple(
                        Column(
                            name=c[1],
                            data_type=str(c[2]),
                            nullable=c[3] == "YES",
                            primary_key=c[4] == "PRI",
                            auto_increment="auto_increment" in str(c[5]).lower(),
                            default=None if c[6] is None else str(c[6]),
                            comment=str(c[7] or ""),
                            position=int(c[8]),
                        )
                        for c in columns.get(name, ())
                    )
                    idx: dict[str, tuple[list[str], bool]] = {}
                    for s in stats.get(name, ()):
                        idx.setdefault(s[1], ([], not int(s[2])))[0].append(s[3])
                    indexes = tuple(
                        Index(k, tuple(v[0]), v[1], k == "PRIMARY") for k, v in idx.items()
                    )
                    if counts:
                        cur.execute(f"SELECT COUNT(*) FROM {identifier(name, 'mysql')}")
                        (count,) = cur.fetchone()
                    else:
                        count = 0
                    view = "VIEW" in str(kind).upper()
                    out.append(
                        Table(
                            name,
                            cols,
                            indexes,
                            int(count),
                            "" if view else str(comment or ""),
                            "VIEW" if view else "TABLE",
                            int(size or 0),
                        )
                    )
                return Catalog(tuple(out))
        except Exception as exc:
            if isinstance(exc, BackendError):
                raise
            raise _error(exc) from None
        finally:
            quiet(conn.close)

    def health(self) -> Health:
        try:
            conn = self._connect()
        except Unavailable as exc:
            return Health(False, str(exc), "mysql")
        try:
            version = str(conn.get_server_info())
            return Health(True, "", "mariadb" if "mariadb" in version.lower() else "mysql", version)
        finally:
            quiet(conn.close)

    def reset(self) -> None:
        """A user's server is never reset."""

    def close(self) -> None:
        pass
