"""A real PostgreSQL server behind a `dsn` (psycopg 3: `dms-emulator[postgres]`).

Reads run in `BEGIN READ ONLY` with `SET LOCAL statement_timeout` and a watchdog that cancels
the query at the deadline or on cancel. Rows stream through a named (server-side) cursor.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
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
from emulator.databases.mysql import parse_dsn

CONNECT_TIMEOUT = 5


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise Unavailable(
            "the PostgreSQL driver is not installed: pip install 'dms-emulator[postgres]'"
        ) from None
    return psycopg


def _error(exc: Exception, watchdog: Watchdog | None = None) -> BackendError:
    psycopg = _psycopg()
    msg = str(getattr(exc, "diag", None) and exc.diag.message_primary or exc).strip()  # type: ignore[attr-defined]
    if isinstance(exc, psycopg.errors.QueryCanceled):
        if watchdog is not None and watchdog.fired:
            return StatementTimeout(watchdog.fired)
        return StatementTimeout(f"the statement was stopped: {msg}")
    if watchdog is not None and watchdog.fired:
        return StatementTimeout(watchdog.fired)
    if isinstance(
        exc, (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)
    ):
        return SqlRejected(f"only a read-only SELECT may be exported ({msg})")
    return BackendError(f"SQL error: {msg}")


class PostgresSession:
    def __init__(self, conn: Any, watchdog: Watchdog, read_only: bool = True):
        self.conn, self.watchdog = conn, watchdog
        self.dialect = "postgresql"
        self.read_only = read_only
        self._n = 0

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params or None, prepare=False)
        except Exception as exc:
            raise _error(exc, self.watchdog) from None
        return cur

    def explain(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self._run("EXPLAIN " + sql).fetchall())

    def count(self, sql: str) -> int:
        (n,) = self._run(f"SELECT count(*) FROM (\n{sql}\n) AS dms_q").fetchone()
        return int(n)

    def stream(self, sql: str) -> RowStream:
        self._n += 1
        cur = self.conn.cursor(name=f"dms_stream_{self._n}")
        try:
            cur.execute(sql)
            cols = [d.name for d in cur.description or ()]
        except Exception as exc:
            raise _error(exc, self.watchdog) from None

        def fetch(n: int) -> list[tuple[Any, ...]]:
            try:
                return list(cur.fetchmany(n))
            except Exception as exc:
                raise _error(exc, self.watchdog) from None

        return RowStream(cols, batch_rows(fetch))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return int(self._run(sql, params).rowcount)

    def table_rows(self, table: str) -> RowStream:
        cur = self._run(f"SELECT * FROM {identifier(table, 'postgresql')} ORDER BY 1")
        return RowStream([d.name for d in cur.description or ()], iter([list(cur.fetchall())]))

    def run(self, sql: str, max_rows: int = 200) -> Result:
        from emulator.databases.sqlguard import READ_HEADS, head

        if self.read_only and head(sql, "postgresql") in READ_HEADS:
            # a server-side cursor: only max_rows + 1 rows ever leave the server
            self._n += 1
            cur = self.conn.cursor(name=f"dms_run_{self._n}")
            try:
                cur.execute(sql)
            except Exception as exc:
                quiet(cur.close)
                raise _error(exc, self.watchdog) from None
        else:
            cur = self._run(sql)
        try:
            if cur.description is None:
                return Result([], [], int(cur.rowcount))
            cols = [d.name for d in cur.description]
            rows = list(cur.fetchmany(max_rows + 1))
            affected = -1 if self.read_only or cur.rowcount < 0 else int(cur.rowcount)
        except Exception as exc:
            raise _error(exc, self.watchdog) from None
        finally:
            quiet(cur.close)
        return Result(cols, rows[:max_rows], affected, len(rows) > max_rows)


_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum), a.attnum,
       a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%%'
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v'){only}
ORDER BY c.relname, a.attnum
"""
_INDEXES = """
SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary,
       array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)
FROM pg_index ix
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema(){only}
ORDER BY t.relname, i.relname
"""


class PostgresBackend:
    engine = "postgresql"
    dialect = "postgresql"

    def __init__(self, dsn: str):
        self.raw = dsn
        self.dsn = parse_dsn(dsn, 5432)

    def _connect(self) -> Any:
        psycopg = _psycopg()
        d = self.dsn
        try:
            return psycopg.connect(
                host=d.host,
                port=d.port,
                user=d.user,
                password=d.password,
                dbname=d.database,
                connect_timeout=CONNECT_TIMEOUT,
                autocommit=False,
                **{k: v for k, v in d.options.items() if k in ("sslmode", "options")},
            )
        except Exception as exc:
            msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise Unavailable(
                f"cannot connect to the PostgreSQL server at {d.where}: {msg}"
            ) from None

    def _session(
        self, read_only: bool, timeout: float | None, cancel: Cancel | None
    ) -> AbstractContextManager[PostgresSession]:
        conn = self._connect()
        cancel_fn = getattr(conn, "cancel_safe", None) or conn.cancel
        watchdog = Watchdog(timeout, cancel, cancel_fn)

        def begin() -> None:
            with conn.cursor() as cur:
                cur.execute("BEGIN READ ONLY" if read_only else "BEGIN")
                if timeout is not None:
                    cur.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")

        return server_session(
            conn,
            watchdog,
            begin,
            PostgresSession(conn, watchdog, read_only),
            read_only,
            _error,
            "psycopg",
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
                    "SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''), "
                    "c.relkind, pg_total_relation_size(c.oid) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v') "
                    "ORDER BY c.relname"
                )
                tables = [t for t in cur.fetchall() if want(t[0])]
                columns: dict[str, list[Any]] = {}
                indexes: dict[str, list[Any]] = {}
                if details and tables:
                    some = names is not None
                    wanted_tables = [t[0] for t in tables]
                    only, args = in_list(wanted_tables, "c.relname") if some else ("", None)
                    cur.execute(_COLUMNS.format(only=only), args)
                    columns = by_table(cur.fetchall())
                    only, args = in_list(wanted_tables, "t.relname") if some else ("", None)
                    cur.execute(_INDEXES.format(only=only), args)
                    indexes = by_table(cur.fetchall())
                pks = {(r[0], a) for rows in indexes.values() for r in rows if r[3] for a in r[4]}
                out = []
                for name, comment, kind, size in tables:
                    cols = tuple(
                        Column(
                            name=c[1],
                            data_type=str(c[2]),
                            nullable=bool(c[3]),
                            primary_key=(name, c[1]) in pks,
                            auto_increment=bool(c[7]),
                            default=None if c[4] is None else str(c[4]),
                            comment=str(c[5] or ""),
                            position=int(c[6]),
                        )
                        for c in columns.get(name, ())
                    )
                    idx = tuple(
                        Index(r[1], tuple(r[4]), bool(r[2]), bool(r[3]))
                        for r in indexes.get(name, ())
                    )
                    if counts:
                        cur.execute(f"SELECT count(*) FROM {identifier(name, 'postgresql')}")
                        (count,) = cur.fetchone()
                    else:
                        count = 0
                    out.append(
                        Table(
                            name,
                            cols,
                            idx,
                            int(count),
                            str(comment),
                            "VIEW" if kind == "v" else "TABLE",
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
            return Health(False, str(exc), "postgresql")
        try:
            version = str(conn.info.parameter_status("server_version") or "")
            return Health(True, "", "postgresql", version)
        finally:
            quiet(conn.close)

    def reset(self) -> None:
        """A user's server is never reset."""

    def close(self) -> None:
        pass
