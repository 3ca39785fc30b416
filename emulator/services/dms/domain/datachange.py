"""Data-change tickets on the database itself: precheck, execution, backups, cron clears.

Nothing here touches the emulator's state: the workflow calls these outside the store's lock,
with a deadline, and records what they return. SQL is the database's own dialect; sqlglot reads
it (to classify statements and to derive the read-only SELECTs that count affected rows and
capture before-images), and the backend runs it (translating on the embedded engine).

Backups are rollback SQL in the database's dialect (literals.py renders every value): a DELETE's
before-images come back as INSERTs, an UPDATE's as UPDATEs of the changed columns by primary
key, an INSERT's rows as DELETEs by primary key; statements in reverse order, so applying the
file restores the rows the ticket changed exactly.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain, repeat
from typing import IO, Any

from emulator.core.jobs import Cancel
from emulator.databases.backend import (
    BackendError,
    DatabaseBackend,
    Session,
    StatementTimeout,
    Unavailable,
)
from emulator.databases.literals import identifier, literal, literals_of
from emulator.services.dms.domain.model import CronClearItem

CHECK_STEPS = ("SQL_PARSE", "SQL_TYPE_CHECK", "PERMISSION_CHECK", "ROW_CHECK")
DML_KINDS = ("INSERT", "UPDATE", "DELETE")
PRECHECK_SECONDS = 10.0  # statement deadline of a precheck (it runs in the request)
_READ = {"mysql": "mysql", "postgresql": "postgres", "sqlite": "sqlite"}


class ChangeError(Exception):
    """A statement cannot be taken as a data change (the message says why, for the ticket)."""


# --- what a precheck finds -------------------------------------------------------------------


@dataclass(frozen=True)
class CheckStep:
    """One precheck step (TaskCheckDO): SUCCESS, FAIL, or WAITING when an earlier one failed."""

    step: str
    status: str
    tip: str = ""


@dataclass(frozen=True)
class CheckedStatement:
    """One statement as the precheck saw it (a ListDataCorrectPreCheckSQL row)."""

    db_id: int
    sql: str
    kind: str  # INSERT | UPDATE | DELETE, or what else it is
    tables: tuple[str, ...]
    affect_rows: int
    review: str  # SqlReviewStatus: PASS | BLOCK


@dataclass(frozen=True)
class ChangePrecheck:
    ok: bool
    steps: tuple[CheckStep, ...]
    statements: tuple[CheckedStatement, ...]
    affect_rows: int
    reason: str = ""

    def doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ChangePrecheck:
        return cls(
            bool(doc["ok"]),
            tuple(CheckStep(**s) for s in doc["steps"]),
            tuple(
                CheckedStatement(**{**s, "tables": tuple(s["tables"])}) for s in doc["statements"]
            ),
            int(doc["affect_rows"]),
            str(doc.get("reason", "")),
        )

    def failed(self, reason: str) -> ChangePrecheck:
        """The same precheck failed at its first step for an outside reason (a fault)."""
        steps = (CheckStep(CHECK_STEPS[0], "FAIL", reason),) + tuple(
            CheckStep(s, "WAITING", "not run: an earlier step failed") for s in CHECK_STEPS[1:]
        )
        blocked = tuple(
            CheckedStatement(s.db_id, s.sql, s.kind, s.tables, s.affect_rows, "BLOCK")
            for s in self.statements
        )
        return ChangePrecheck(False, steps, blocked, self.affect_rows, reason)


@dataclass
class _Parsed:
    db_id: int
    sql: str
    tree: Any
    kind: str
    table: str


def _kind(tree: Any) -> str:
    from sqlglot import exp

    if isinstance(tree, exp.Insert):
        return "INSERT"
    if isinstance(tree, exp.Update):
        return "UPDATE"
    if isinstance(tree, exp.Delete):
        return "DELETE"
    if isinstance(tree, (exp.Create, exp.Drop, exp.Alter, exp.TruncateTable)):
        return "DDL"
    if isinstance(tree, exp.Query):
        return "SELECT"
    if isinstance(tree, exp.Command):
        return str(tree.this).split()[0].upper() if tree.this else "OTHER"
    return type(tree).__name__.upper()


def _complete(tree: Any) -> bool:
    """sqlglot accepts some unfinished DML (`UPDATE t SET`): a change needs all its parts."""
    from sqlglot import exp

    if isinstance(tree, exp.Update):
        return tree.this is not None and bool(tree.expressions)
    if isinstance(tree, exp.Delete):
        return tree.this is not None
    if isinstance(tree, exp.Insert):
        return tree.this is not None and tree.expression is not None
    return True


def _target(tree: Any) -> str:
    """The table a DML statement writes."""
    from sqlglot import exp

    node = tree.this
    if isinstance(node, exp.Schema):  # INSERT INTO t (a, b)
        node = node.this
    if isinstance(node, exp.Table):
        return str(node.name)
    table = tree.find(exp.Table)
    return str(table.name) if table is not None else ""


def parse_statements(sql: str, dialect: str, db_id: int) -> list[_Parsed]:
    """The statements of `sql`, each parsed in `dialect`; ChangeError names the first that is
    not SQL (SQL_PARSE)."""
    import sqlglot
    from sqlglot.errors import ErrorLevel, ParseError, SqlglotError

    from emulator.databases.dialect import split

    pieces = split(sql, dialect)
    if not pieces:
        raise ChangeError("the ticket has no SQL statement")
    out: list[_Parsed] = []
    for n, text in enumerate(pieces, 1):
        try:
            trees = [
                t
                for t in sqlglot.parse(text, read=_READ[dialect], error_level=ErrorLevel.RAISE)
                if t
            ]
        except ParseError as exc:
            err = exc.errors[0] if exc.errors else {}
            near = (err.get("highlight") or "").strip()
            raise ChangeError(
                f"statement {n}: SQL syntax error" + (f" near {near!r}" if near else "")
            ) from None
        except (
            SqlglotError,
            ValueError,
            TypeError,
            AttributeError,
            IndexError,
            KeyError,
            RecursionError,
        ):
            raise ChangeError(f"statement {n}: SQL syntax error") from None
        if len(trees) != 1:
            raise ChangeError(f"statement {n}: SQL syntax error")
        tree = trees[0]
        kind = _kind(tree)
        if not _complete(tree):
            raise ChangeError(f"statement {n}: SQL syntax error (the statement is incomplete)")
        out.append(_Parsed(db_id, text, tree, kind, _target(tree) if kind in DML_KINDS else ""))
    return out


def _count_sql(p: _Parsed, dialect: str) -> str | None:
    """A read-only SELECT over the rows an UPDATE/DELETE touches (or an INSERT's SELECT);
    None when the count is known without the database (INSERT ... VALUES)."""
    from sqlglot import exp

    tree = p.tree
    read = _READ[dialect]
    if isinstance(tree, exp.Insert):
        source = tree.expression
        if isinstance(source, exp.Values):
            return None
        return source.sql(dialect=read) if source is not None else None
    return _rows_select(p, dialect, "1").sql(dialect=read)


def _rows_select(p: _Parsed, dialect: str, *columns: str) -> Any:
    """SELECT `columns` FROM the statement's table (joins and FROM kept) WHERE its condition,
    with its ORDER BY and LIMIT (MySQL's UPDATE/DELETE ... LIMIT)."""
    from sqlglot import exp

    tree = p.tree
    select = exp.select(*columns).from_(tree.this.copy())
    source = tree.args.get("from_") or tree.args.get("from")  # PostgreSQL: UPDATE ... FROM u
    extra = [source.this] if source is not None else list(tree.args.get("using") or [])
    for t in extra:
        select = select.join(t.copy(), join_type="cross")
    for join in tree.args.get("joins") or []:
        select = select.join(join.copy())
    where = tree.args.get("where")
    if where is not None:
        select = select.where(where.this.copy())
    order = tree.args.get("order")
    if order is not None:
        select.set("order", order.copy())
    limit = tree.args.get("limit")
    if limit is not None:
        select.set("limit", limit.copy())
    with_ = tree.args.get("with_") or tree.args.get("with")  # WITH c AS (...) UPDATE ...
    if with_ is not None:
        select.set("with_" if "with_" in tree.args else "with", with_.copy())
    return select


def _with(p: _Parsed) -> bool:
    return bool(p.tree.args.get("with_") or p.tree.args.get("with"))


def _affect_rows(session: Session, p: _Parsed, dialect: str) -> int:
    from sqlglot import exp

    sql = _count_sql(p, dialect)
    if sql is None:
        values = p.tree.expression
        assert isinstance(values, exp.Values)
        return len(values.expressions)
    return session.count(sql)


def precheck_change(
    backends: dict[int, DatabaseBackend],
    sql: str,
    estimate: int | None,
    denied: Callable[[int], str | None],
    timeout: float = PRECHECK_SECONDS,
) -> ChangePrecheck:
    """SQL_PARSE, SQL_TYPE_CHECK, PERMISSION_CHECK, ROW_CHECK on every database of the ticket;
    the row count is the real one, counted read-only on the database under `timeout`."""
    steps: list[CheckStep] = []
    parsed: list[_Parsed] = []

    def finish(reason: str, blocked: set[int] | None = None, rows: int = 0) -> ChangePrecheck:
        steps.append(CheckStep(CHECK_STEPS[len(steps)], "FAIL" if reason else "SUCCESS", reason))
        while len(steps) < len(CHECK_STEPS):
            steps.append(
                CheckStep(CHECK_STEPS[len(steps)], "WAITING", "not run: an earlier step failed")
            )
        stmts = tuple(
            CheckedStatement(
                p.db_id,
                p.sql,
                p.kind,
                (p.table,) if p.table else (),
                counts.get(i, 0),
                "BLOCK" if reason and (blocked is None or i in blocked) else "PASS",
            )
            for i, p in enumerate(parsed)
        )
        return ChangePrecheck(not reason, tuple(steps), stmts, rows, reason)

    counts: dict[int, int] = {}
    try:
        for db_id, backend in backends.items():
            parsed.extend(parse_statements(sql, backend.dialect, db_id))
    except ChangeError as exc:
        return finish(str(exc))
    steps.append(CheckStep("SQL_PARSE", "SUCCESS"))
    wrong = [i for i, p in enumerate(parsed) if p.kind not in DML_KINDS]
    if wrong:
        p = parsed[wrong[0]]
        return finish(
            f"only DML (INSERT, UPDATE, DELETE) may change data in this ticket, not {p.kind}: "
            f"{p.sql[:200]}"
            + (" (schema changes go through a schema-design ticket)" if p.kind == "DDL" else ""),
            set(wrong),
        )
    steps.append(CheckStep("SQL_TYPE_CHECK", "SUCCESS"))
    for db_id in backends:
        why = denied(db_id)
        if why:
            return finish(why)
    steps.append(CheckStep("PERMISSION_CHECK", "SUCCESS"))
    try:
        for db_id, backend in backends.items():
            with backend.read_only(timeout) as session:
                for i, p in enumerate(parsed):
                    if p.db_id == db_id:
                        counts[i] = _affect_rows(session, p, backend.dialect)
    except StatementTimeout:
        return finish(f"counting the affected rows took longer than {timeout:g} seconds")
    except Unavailable as exc:
        return finish(f"the database cannot be reached: {exc}")
    except BackendError as exc:
        return finish(str(exc), set(range(len(parsed))) - set(counts))
    except Exception as exc:  # a statement shape the count cannot be derived from
        return finish(
            f"the affected rows cannot be counted ({type(exc).__name__}: {exc})",
            set(range(len(parsed))) - set(counts),
        )
    total = sum(counts.values())
    if estimate is not None and total > estimate:
        return finish(
            f"the SQL affects {total} rows, more than EstimateAffectRows {estimate}; "
            "correct the estimate and retry the precheck",
            None,
            total,
        )
    return finish("", None, total)


# --- execution -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    """How a data change runs (ExecuteDataCorrect's ActionDetail; the auto schedule uses the
    defaults): when it starts, whether before-images are kept, one transaction or not."""

    start: float | None = None  # emulated-clock time; None: right away
    backup: bool = True
    transaction: bool = True

    def detail(self) -> dict[str, Any]:
        return {"startTime": self.start, "backupData": self.backup, "transaction": self.transaction}


@dataclass
class ChangeOutcome:
    ok: bool
    affected: int
    message: str = ""
    backup_rows: int = 0  # rollback statements written
    per_statement: list[int] = field(default_factory=list)


def _shape(backend: DatabaseBackend, table: str) -> tuple[list[str], list[str], set[str]]:
    """(columns, primary key, json columns) of a table as the database names them. The json
    columns are only named on PostgreSQL, whose driver decodes json/jsonb: a bare string or
    number would come back as a Python str/int, a JSON null as None."""
    found = backend.describe([table], details=True, counts=False).table(table)
    if found is None:
        return [], [], set()
    json_columns = (
        {c.name for c in found.columns if c.data_type.lower() in ("json", "jsonb")}
        if backend.dialect == "postgresql" and backend.engine != "sqlite"
        else set()
    )
    return [c.name for c in found.columns], list(found.primary_key), json_columns


def _selected(name: str, ref: str, json_columns: set[str]) -> Any:
    """A before-image column as it is read: a json/jsonb one as the server's own text
    (`col::text AS col`), which the rollback writes back as a quoted literal the column casts
    to exactly the value it held (`'"abc"'`, `'1.50'`, `'null'`)."""
    from sqlglot import exp

    column = exp.column(name, table=ref, quoted=True)
    if name not in json_columns:
        return column
    return exp.alias_(exp.cast(column, "text"), name, quoted=True)


def _set_columns(tree: Any) -> list[str]:
    from sqlglot import exp

    out: list[str] = []
    for eq in tree.expressions:
        target = eq.this if isinstance(eq, exp.EQ) else None
        if isinstance(target, exp.Column):
            out.append(str(target.name))
    return out


class _Backup:
    """Rollback SQL of one database, statement by statement, joined in reverse at the end
    (each part in its own temporary file, so 100,000 before-images never sit in memory)."""

    def __init__(self, dialect: str, direct: IO[str] | None = None):
        self.dialect = dialect
        self.direct = direct  # one statement: its rollback goes straight to the file
        self.parts: list[IO[str]] = []
        self.rows = 0

    def part(self) -> IO[str]:
        if self.direct is not None:
            return self.direct
        f = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.parts.append(f)
        return f

    def write_to(self, out: IO[str]) -> None:
        if self.direct is not None:
            return
        for f in reversed(self.parts):
            f.seek(0)
            while chunk := f.read(1 << 20):
                out.write(chunk)

    def close(self) -> None:
        for f in self.parts:
            f.close()


def _write_rows(out: IO[str], parts: list[str], rows: list[tuple[Any, ...]], dialect: str) -> None:
    """One line per row: the row's values as literals between the `parts` of a line (rendered
    a column at a time and joined in C: 100,000 rows in a few hundredths of a second)."""
    if not rows:
        return
    columns = [literals_of(col, dialect) for col in zip(*rows, strict=True)]
    pieces: list[Any] = [repeat(parts[0])]
    for col, part in zip(columns, parts[1:], strict=True):
        pieces += [col, repeat(part)]
    out.write("".join(chain.from_iterable(zip(*pieces, strict=False))))  # repeat() is endless


def _capture(
    session: Session, backend: DatabaseBackend, p: _Parsed, backup: _Backup
) -> Callable[[], None]:
    """Write the rollback of statement `p` (before it runs); returns what to do after it ran
    (an INSERT learns its new keys only then)."""
    from sqlglot import exp

    d = backend.dialect
    t = identifier(p.table, d)

    def q(name: str) -> str:
        return identifier(name, d)

    out = backup.part()
    out.write(f"-- rollback of: {' '.join(p.sql.split())[:300]}\n")
    columns, pk, json_columns = _shape(backend, p.table)
    key = [f"{q(c)} = " for c in pk]  # a line's text is parts with values between them
    if p.kind == "INSERT":
        if not pk:
            out.write(f"-- {p.table} has no primary key: the inserted rows cannot be named\n")
            return lambda: None
        keys = ", ".join(q(c) + ("::text" if c in json_columns else "") for c in pk)
        keys_sql = f"SELECT {keys} FROM {t}"
        before = {r for rows in session.stream(keys_sql).batches for r in rows}

        def after() -> None:
            parts = _line(f"DELETE FROM {t} WHERE ", key, " AND ", ";\n")
            for rows in session.stream(keys_sql).batches:
                new = [r for r in rows if r not in before]
                _write_rows(out, parts, new, d)
                backup.rows += len(new)

        return after
    low = {c.lower() for c in _set_columns(p.tree)} if p.kind == "UPDATE" else set()
    changed = [c for c in columns if c.lower() in low]
    by_key = (
        bool(pk)
        and bool(changed)
        and len(changed) == len(low)
        and not low & {c.lower() for c in pk}
    )
    target = p.tree.this
    alias = target.alias if isinstance(target, exp.Table) and target.alias else None
    ref = alias or (target.name if isinstance(target, exp.Table) else p.table)
    if by_key:  # only the key and the changed columns are needed (of the target: joins too)
        wanted: list[Any] = [_selected(c, ref, json_columns) for c in (*pk, *changed)]
        sets = _line(f"UPDATE {t} SET ", [f"{q(c)} = " for c in changed], ", ", " WHERE ")
        parts = sets[:-1] + _line(sets[-1], key, " AND ", ";\n")
    else:
        wanted = (
            [_selected(c, ref, json_columns) for c in columns]
            if json_columns
            else [exp.Column(this=exp.Star(), table=exp.to_identifier(ref))]
        )
        if p.kind == "UPDATE":
            out.write(
                f"-- {p.table}: no primary key, or the UPDATE changes it; the before-images "
                "follow as INSERTs (delete the changed rows first)\n"
            )
    select = _rows_select(p, d, *wanted).sql(dialect=_READ[d])
    if backend.engine != "sqlite":
        select += " FOR UPDATE"  # the rows stay as imaged until this transaction ends
    stream = session.stream(select)
    if not by_key:
        names = ", ".join(map(q, stream.columns))
        head = f"INSERT INTO {t} ({names}) VALUES ("
        parts = _line(head, ["" for _ in stream.columns], ", ", ");\n")
    for rows in stream.batches:
        if by_key:  # the row's changed columns first, its key after (the template's order)
            n = len(pk)
            rows = [r[n:] + r[:n] for r in rows]
        _write_rows(out, parts, rows, d)
        backup.rows += len(rows)
    return lambda: None


def _line(head: str, labels: list[str], sep: str, tail: str) -> list[str]:
    """The text around the values of a line: head, label, value, sep, label, value ... tail."""
    parts = [head + labels[0]]
    for label in labels[1:]:
        parts.append(sep + label)
    return parts + [tail]


def execute_change(
    backend: DatabaseBackend,
    sql: str,
    db_id: int,
    backup_to: IO[str] | None = None,
    transaction: bool = True,
    timeout: float | None = None,
    cancel: Cancel | None = None,
) -> ChangeOutcome:
    """Run the ticket's SQL on one database: in one transaction (any failure rolls all of it
    back), or statement by statement (`transaction=False`: earlier statements stay). With
    `backup_to`, the rollback SQL of the rows changed is written there."""
    try:
        parsed = parse_statements(sql, backend.dialect, db_id)
    except ChangeError as exc:
        return ChangeOutcome(False, 0, str(exc))
    backup = None
    if backup_to is not None:
        backup = _Backup(backend.dialect, backup_to if len(parsed) == 1 else None)
    done: list[int] = []  # rows changed by each committed statement
    counts: list[int] = []
    try:
        groups = [parsed] if transaction else [[p] for p in parsed]
        for group in groups:
            counts = []
            with backend.read_write(timeout, cancel) as session:
                for p in group:
                    after = _capture(session, backend, p, backup) if backup else None
                    # drivers report no count for some shapes (sqlite3: WITH ... UPDATE)
                    known = _affect_rows(session, p, backend.dialect) if _with(p) else None
                    n = session.execute(p.sql)
                    counts.append(known if n < 0 and known is not None else n)
                    if after is not None:
                        after()
            done.extend(counts)
    except BackendError as exc:
        n = len(done) + len(counts)  # the failing statement is the one after these
        kept = f" ({len(done)} earlier statement(s) stay committed)" if done else ""
        return ChangeOutcome(False, sum(done), f"statement {n + 1} failed: {exc}{kept}", 0, done)
    finally:
        if backup is not None:
            if backup_to is not None and done:
                backup.write_to(backup_to)
            backup.close()
    return ChangeOutcome(True, sum(done), "", backup.rows if backup else 0, done)


# --- DC_CRON_CLEAR ---------------------------------------------------------------------------

_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (1, 7))
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


def _field(text: str, lo: int, hi: int, names: dict[str, int]) -> set[int] | None:
    """One Quartz field as the set of values it allows (None: any, for `*` and `?`)."""
    if text in ("*", "?"):
        return None
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step < 1:
                raise ValueError("a step must be at least 1")
        if part in ("*", ""):
            a, b = lo, hi
        elif "-" in part:
            x, y = part.split("-", 1)
            a, b = int(names.get(x.upper(), x)), int(names.get(y.upper(), y))
        else:
            a = int(names.get(part.upper(), part))
            b = hi if "/" in text else a
        if not (lo <= a <= hi and lo <= b <= hi and a <= b):
            raise ValueError(f"{part!r} is outside {lo}-{hi}")
        out.update(range(a, b + 1, step))
    return out


@dataclass(frozen=True)
class Cron:
    """A Quartz cron expression (seconds minutes hours day-of-month month day-of-week
    [year]), as DMS takes them: numbers, names, `*`, `?`, lists, ranges and steps."""

    fields: tuple[set[int] | None, ...]

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) not in (6, 7):
            raise ValueError(
                "a cron expression has 6 or 7 fields: s m h day-of-month month day-of-week"
            )
        names: tuple[dict[str, int], ...] = ({}, {}, {}, {}, _MONTHS, _DAYS)
        return cls(
            tuple(
                _field(p, lo, hi, n)
                for p, (lo, hi), n in zip(parts[:6], _RANGES, names, strict=True)
            )
        )

    def _day_ok(self, day: dt.date) -> bool:
        dom, month, dow = self.fields[3], self.fields[4], self.fields[5]
        if month is not None and day.month not in month:
            return False
        quartz_dow = (day.isoweekday() % 7) + 1  # SUN=1 .. SAT=7
        if dom is not None and day.day not in dom:
            return False
        return dow is None or quartz_dow in dow

    def next_after(self, at: float) -> float | None:
        """The first firing strictly after `at` (UTC epoch seconds), within ~5 years."""
        start = dt.datetime.fromtimestamp(int(at), dt.UTC)
        secs, mins, hours = (
            sorted(f) if f is not None else list(range(lo, hi + 1))
            for f, (lo, hi) in zip(self.fields[:3], _RANGES[:3], strict=True)
        )
        day = start.date()
        for _ in range(366 * 5):
            if self._day_ok(day):
                base = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
                for h in hours:
                    for m in mins:
                        for s in secs:
                            t = base + dt.timedelta(hours=h, minutes=m, seconds=s)
                            if t.timestamp() > at:
                                return t.timestamp()
            day += dt.timedelta(days=1)
        return None

    def firings(self, after: float, until: float) -> Iterator[float]:
        t = self.next_after(after)
        while t is not None and t <= until:
            yield t
            t = self.next_after(t)


def cron_clear(
    backend: DatabaseBackend,
    items: tuple[CronClearItem, ...],
    fired_at: float,
    timeout: float | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Delete, in one transaction, each table's rows older than its `remain_days` before
    `fired_at` (and matching its filter); the rows deleted."""
    d = backend.dialect
    total = 0
    with backend.read_write(timeout, cancel) as session:
        for item in items:
            cutoff = dt.datetime.fromtimestamp(fired_at - item.remain_days * 86400, dt.UTC)
            cond = (
                f"{identifier(item.column, d)} < {literal(cutoff.strftime('%Y-%m-%d %H:%M:%S'), d)}"
            )
            if item.filter_sql.strip():
                cond += f" AND ({item.filter_sql})"
            total += session.execute(f"DELETE FROM {identifier(item.table, d)} WHERE {cond}")
    return total


def backup_name(schema: str, order_id: int) -> str:
    return f"{schema}_{order_id}_backup.sql".replace(os.sep, "_")


def write_backup_header(out: IO[str], order_id: int, schema: str, dialect: str) -> None:
    out.write(
        f"-- DMS data-change ticket {order_id}: rollback SQL for database {schema} "
        f"({dialect} dialect). Run it on that database to put back the rows the ticket changed.\n"
    )
