"""The data plane's one seam: every read or write of a customer database goes through here.

A `DatabaseBackend` is one database DMS manages: the embedded SQLite engine (a fixture, possibly
speaking MySQL or PostgreSQL through translation) or a real MySQL/MariaDB or PostgreSQL server.
Callers open a read-only or read-write `Session` with a statement timeout, run what they need and
close it; they never see a driver. Export and precheck SQL is proved a single read-only statement
(`sqlguard.check_read_only`) before it is sent, and then runs inside a read-only transaction with
a statement timeout, so a write cannot land even if the classification were wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from emulator.core.jobs import Cancel

# bytes of row data one batch of a stream may hold (F5: memory bounded whatever the row width)
BATCH_BYTES = 4 * 1024 * 1024
MAX_BATCH_ROWS = 5_000


class BackendError(Exception):
    """A database refused or failed a statement; the message is fit for a DMS error."""


class SqlRejected(BackendError):
    """The SQL is not allowed here (not a single read-only statement, a denied function...)."""


class StatementTimeout(BackendError):
    """The statement ran past its deadline (or its job was cancelled) and was stopped."""


class Unavailable(BackendError):
    """The database cannot be reached (server down, bad credentials, missing driver)."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # as declared (e.g. "varchar(64)", "decimal(10,2)", "INTEGER")
    nullable: bool
    primary_key: bool = False
    auto_increment: bool = False
    default: str | None = None
    comment: str = ""
    position: int = 0


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool
    primary: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...] = ()
    row_count: int = 0
    comment: str = ""
    kind: str = "TABLE"  # TABLE | VIEW
    size_bytes: int = 0  # data and indexes on disk, as the engine reports it

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[Table, ...] = ()

    def table(self, name: str) -> Table | None:
        low = name.lower()
        return next((t for t in self.tables if t.name.lower() == low), None)


def wanted(names: Collection[str] | None) -> Any:
    """A predicate on table names for `describe(names=...)` (None: every table)."""
    if names is None:
        return lambda _name: True
    low = {n.lower() for n in names}
    return lambda name: str(name).lower() in low


def by_table(rows: Iterable[Sequence[Any]]) -> dict[str, list[Sequence[Any]]]:
    """Catalog rows (table name first) grouped by table, so building each table is a lookup
    rather than a scan of every column of the schema."""
    out: dict[str, list[Sequence[Any]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return out


def in_list(names: Sequence[str], column: str) -> tuple[str, tuple[str, ...]]:
    """` AND column IN (%s, ...)` and its parameters: the catalog queries of a describe() for
    some tables read only those tables' columns and indexes."""
    return f" AND {column} IN ({', '.join(['%s'] * len(names))})", tuple(names)


@dataclass
class RowStream:
    """Column names and batches of rows, each batch bounded by `BATCH_BYTES` of data."""

    columns: list[str]
    batches: Iterator[list[tuple[Any, ...]]]


@dataclass
class Health:
    ok: bool
    message: str = ""
    engine: str = ""
    version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """One statement's outcome (`Session.run`): its result columns and at most `max_rows` rows,
    whether more rows were left unread, and how many rows it changed (DML; -1 when it changes
    none, e.g. a query or DDL)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    affected: int = -1
    truncated: bool = False


class Session(Protocol):
    """One connection in one transaction; read-only sessions refuse every write."""

    def explain(self, sql: str) -> list[tuple[Any, ...]]:
        """The engine's plan for a statement (also proves it parses and names real objects)."""
        ...

    def count(self, sql: str) -> int:
        """How many rows the query returns."""
        ...

    def stream(self, sql: str) -> RowStream:
        """Rows through a server-side/streaming cursor, in byte-bounded batches."""
        ...

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one statement (read-write sessions only); the number of rows it changed."""
        ...

    def table_rows(self, table: str) -> RowStream:
        """Every row of one table, in one batch (data-tracking before-images)."""
        ...

    def run(self, sql: str, max_rows: int = 200) -> Result:
        """Run one statement of any class in the database's dialect (translated on the embedded
        engine; DDL there keeps the declared catalog truthful): its columns and first `max_rows`
        rows, or the rows it changed. A read-only session still refuses every write."""
        ...


@runtime_checkable
class DatabaseBackend(Protocol):
    engine: str  # sqlite | mysql | postgresql (what actually runs the SQL)
    dialect: str  # mysql | postgresql | sqlite (what clients write)

    def read_only(
        self, timeout: float | None = None, cancel: Cancel | None = None
    ) -> AbstractContextManager[Session]:
        """A read-only transaction with a statement timeout; rolled back on exit."""
        ...

    def read_write(
        self, timeout: float | None = None, cancel: Cancel | None = None
    ) -> AbstractContextManager[Session]:
        """A read-write transaction: committed when the block ends, rolled back on error."""
        ...

    def describe(
        self, names: Collection[str] | None = None, details: bool = True, counts: bool = True
    ) -> Catalog:
        """Tables, columns (declared type, nullable, pk, auto-increment, default, comment),
        indexes and row counts. `names`: only those tables (case-insensitive); `details=False`:
        no columns or indexes; `counts=False`: no row counts or sizes (metadata pages cost what
        they show, not the whole catalog)."""
        ...

    def health(self) -> Health:
        """Whether the database answers, and why not."""
        ...

    def reset(self) -> None:
        """Back to the fixture (embedded databases); a no-op for a user's server."""
        ...

    def close(self) -> None: ...


def batch_rows(fetch: Any, first: int = 16) -> Iterator[list[tuple[Any, ...]]]:
    """Batches from `fetch(n)` sized so each holds about `BATCH_BYTES`, whatever the row width.

    The size of a batch is learnt from the previous one (a cheap estimate of each value's size),
    so a million narrow rows go in thousands and 200 KB rows go a few at a time.
    """
    n = first
    while True:
        rows = fetch(n)
        if not rows:
            return
        yield rows
        size = sum(_approx_size(v) for r in rows[:32] for v in r) / min(len(rows), 32) or 1
        n = max(1, min(MAX_BATCH_ROWS, int(BATCH_BYTES / size)))


def _approx_size(v: Any) -> int:
    if isinstance(v, (str, bytes, bytearray, memoryview)):
        return len(v) + 40
    return 32


class Watchdog:
    """Stops a server-side statement at its deadline or on cancel, from another thread.

    The server's own statement timeout is the first guard; this one also covers cancellation
    (reset, shutdown, job deadlines) and servers that ignore the setting.
    """

    def __init__(self, timeout: float | None, cancel: Cancel | None, kill: Any):
        self.timeout, self.cancel, self.kill = timeout, cancel, kill
        self.fired = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if timeout is not None or cancel is not None:
            self._thread = threading.Thread(target=self._watch, daemon=True, name="db-watchdog")
            self._thread.start()

    def _watch(self) -> None:
        import time

        deadline = time.monotonic() + self.timeout if self.timeout is not None else float("inf")
        while not self._stop.wait(0.05):
            if self.cancel is not None and self.cancel.is_set:
                self.fired = self.cancel.reason or "the statement was cancelled"
            elif time.monotonic() > deadline:
                self.fired = f"the statement took longer than {self.timeout:g} seconds"
            else:
                continue
            try:
                self.kill()
            except Exception:  # the statement may have ended meanwhile
                pass
            return

    def stop(self) -> None:
        self._stop.set()


S = TypeVar("S")


def quiet(fn: Any) -> None:
    """Best-effort cleanup (rollback, close) that must not hide the error being raised."""
    try:
        fn()
    except Exception:
        pass


@contextmanager
def server_session(
    conn: Any,
    watchdog: Watchdog,
    begin: Callable[[], None],
    session: S,
    read_only: bool,
    to_error: Callable[[Exception, Watchdog], BackendError],
    driver: str,
) -> Iterator[S]:
    """One transaction on a real server, the same for every driver: begin, yield the session,
    roll back on error and always when read-only (nothing a read-only session did may land),
    commit otherwise; driver errors become BackendError; the watchdog stops and the connection
    closes whatever happens. (Connections are not pooled: a user may drop and recreate their
    database while the emulator runs, which PostgreSQL refuses while a session is open.)"""
    try:
        begin()
        try:
            yield session
        except BaseException:
            quiet(conn.rollback)
            raise
        if read_only:
            quiet(conn.rollback)
        else:
            try:
                conn.commit()
            except Exception as exc:
                raise to_error(exc, watchdog) from None
    except Exception as exc:
        if isinstance(exc, BackendError):
            raise
        if type(exc).__module__.startswith(driver):
            raise to_error(exc, watchdog) from None
        raise
    finally:
        watchdog.stop()
        quiet(conn.close)
