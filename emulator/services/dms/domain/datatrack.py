"""Data tracking: a simulated binlog per ticket, filtered downloads, and their status on the clock.

The binlog is generated once, when the ticket is created, from the fixture database (the state at
JobStartTime) with a random generator seeded by `--seed` and the ticket id, so the same run gives
the same events. A download (DownloadDataTrackResult) is a job whose status is derived from its
start time and the emulated clock; its zip is written in the background.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from emulator.core.clock import Clock, dms_time, parse_dms_time
from emulator.core.errors import IllegalState, Invalid, NotFound
from emulator.core.jobs import Jobs
from emulator.core.randomness import RandomSource
from emulator.databases.backend import BackendError, DatabaseBackend, Unavailable
from emulator.databases.catalog import DataPlane
from emulator.databases.literals import identifier, literal
from emulator.platform.accounts import Database
from emulator.platform.artifacts import Artifacts
from emulator.services.dms.domain.model import TrackSpec
from emulator.services.dms.domain.tickets import Ticket, database_of
from emulator.state.store import Store, dumps

# datatrack_events: each tracking ticket's simulated binlog; datatrack_downloads: its filtered
# downloads. This module alone writes them; their declaration is `DATATRACK` in
# emulator/services/dms/service.py.

OPERATORS = ("EQUAL", "NOT_EQUAL", "IN", "NOT_IN", "BETWEEN", "LESS", "MORE")
DOWNLOAD_ID_START = 1
# seconds of emulated time in each download status before the next
INIT_SECONDS, LISTING_SECONDS, DOWNLOADING_SECONDS = 1.0, 1.0, 2.0


def _ts(text: str) -> float:
    return parse_dms_time(text)


def _fmt(ts: float) -> str:
    return dms_time(ts)


def load_settings() -> dict[str, Any]:
    import yaml  # read once, when the services are built

    text = (
        resources.files("emulator.fixtures").joinpath("datatrack.yaml").read_text(encoding="utf-8")
    )
    return dict(yaml.safe_load(text))


READ_SECONDS = 10.0  # deadline of reading a table's before-images


def _image(v: Any) -> Any:
    """A driver value as JSON holds it (row images are stored in the ticket)."""
    if v is None or isinstance(v, (int, float, str)):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    return str(v)


def generate_binlog(
    backend: DatabaseBackend,
    db_id: int,
    tables: list[str],
    start: float,
    end: float,
    seed: Any,
    settings: dict[str, Any],
) -> list[dict[str, Any]]:
    """Events for `tables` in [start, end]; raises NotFound("table") for an unknown table."""
    rng = random.Random(str(seed))
    events: list[dict[str, Any]] = []
    try:
        images = _read_tables(backend, db_id, tables)
    except Unavailable as exc:
        raise IllegalState(str(exc)) from None
    for table in tables:
        cols, rows = images[table]
        pk = cols[0]
        hours = (end - start) / 3600
        n = int(
            min(
                settings["max_events_per_table"],
                max(
                    settings["min_events_per_table"],
                    hours * settings["events_per_table_per_hour"],
                ),
            )
        )
        kinds = [k for k, w in settings["mix"].items() for _ in range(int(w))]
        untouched = list(range(len(rows)))
        rng.shuffle(untouched)
        next_pk = max((r[0] for r in rows if isinstance(r[0], int)), default=0) + 1
        for _ in range(n):
            kind = rng.choice(kinds) if untouched else "INSERT"
            when = rng.uniform(start, end)
            if kind == "INSERT":
                template = (
                    dict(zip(cols, rows[rng.randrange(len(rows))], strict=True)) if rows else {}
                )
                after = {**template, pk: next_pk}
                next_pk += 1
                events.append(
                    {
                        "table": table,
                        "type": "INSERT",
                        "time": when,
                        "pk": pk,
                        "before": None,
                        "after": after,
                    }
                )
                continue
            row = dict(zip(cols, rows[untouched.pop()], strict=True))
            if kind == "DELETE":
                events.append(
                    {
                        "table": table,
                        "type": "DELETE",
                        "time": when,
                        "pk": pk,
                        "before": row,
                        "after": None,
                    }
                )
            else:
                col = rng.choice(cols[1:] or cols)
                old = row[col]
                new = (old + 1) if isinstance(old, (int, float)) else f"{old or ''}*"
                events.append(
                    {
                        "table": table,
                        "type": "UPDATE",
                        "time": when,
                        "pk": pk,
                        "before": row,
                        "after": {**row, col: new},
                    }
                )
    events.sort(key=lambda e: e["time"])
    for i, e in enumerate(events, 1):
        e["id"] = i
        e["time"] = _fmt(e["time"])
    return events


@dataclass(frozen=True)
class ColumnFilter:
    """A condition on one column of an event's row image (the wire's ColumnFilter, translated)."""

    column: str
    operator: str = "EQUAL"
    value: str | None = None
    in_list: tuple[str, ...] = ()
    between: tuple[str | None, str | None] = (None, None)


def _column_value(event: dict[str, Any], column: str) -> Any:
    image = event["after"] if event["after"] is not None else event["before"]
    return (image or {}).get(column)


def _compare(value: Any, operand: str) -> int:
    try:
        a, b = float(value), float(operand)
    except (TypeError, ValueError):
        a, b = str(value), operand  # type: ignore[assignment]
    return (a > b) - (a < b)


def matches(event: dict[str, Any], f: dict[str, Any]) -> bool:
    if f.get("tables") and event["table"] not in f["tables"]:
        return False
    if f.get("types") and event["type"] not in f["types"]:
        return False
    if f.get("start") and event["time"] < f["start"]:
        return False
    if f.get("end") and event["time"] > f["end"]:
        return False
    if f.get("event_ids") and event["id"] not in f["event_ids"]:
        return False
    cf: ColumnFilter | None = f.get("column")
    if cf:
        v = _column_value(event, cf.column)
        op = cf.operator
        if op == "EQUAL":
            return str(v) == str(cf.value)
        if op == "NOT_EQUAL":
            return str(v) != str(cf.value)
        if op in ("IN", "NOT_IN"):
            inside = str(v) in cf.in_list
            return inside if op == "IN" else not inside
        if op == "BETWEEN":
            return _compare(v, str(cf.between[0])) >= 0 and _compare(v, str(cf.between[1])) <= 0
        if op == "LESS":
            return _compare(v, str(cf.value)) < 0
        if op == "MORE":
            return _compare(v, str(cf.value)) > 0
    return True


def _read_tables(
    backend: DatabaseBackend, db_id: int, tables: list[str]
) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Column names and rows of each table (the before-images), in one read-only session."""
    out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    with backend.read_only(READ_SECONDS) as session:
        for table in tables:
            try:
                stream = session.table_rows(table)
            except Unavailable:
                raise
            except BackendError:
                raise NotFound(
                    "table", f"Table {table} does not exist in database {db_id}."
                ) from None
            rows = [tuple(map(_image, r)) for batch in stream.batches for r in batch]
            out[table] = (stream.columns, rows)
    return out


def statement(event: dict[str, Any], forward: bool, dialect: str = "mysql") -> str:
    """Replay SQL (FORWARD) or the SQL that undoes the event (REVERSE), in `dialect`."""
    t, pk = identifier(event["table"], dialect), event["pk"]

    def q(name: str) -> str:
        return identifier(name, dialect)

    def v(value: Any) -> str:
        return literal(value, dialect)

    def insert(row: dict[str, Any]) -> str:
        return (
            f"INSERT INTO {t} ({', '.join(q(c) for c in row)}) "
            f"VALUES ({', '.join(v(x) for x in row.values())});"
        )

    def delete(row: dict[str, Any]) -> str:
        return f"DELETE FROM {t} WHERE {q(pk)}={v(row[pk])};"

    def update(target: dict[str, Any], other: dict[str, Any]) -> str:
        changed = {c: x for c, x in target.items() if other.get(c) != x}
        sets = ", ".join(f"{q(c)}={v(x)}" for c, x in changed.items())
        return f"UPDATE {t} SET {sets} WHERE {q(pk)}={v(target[pk])};"

    kind = event["type"]
    if kind == "INSERT":
        return insert(event["after"]) if forward else delete(event["after"])
    if kind == "DELETE":
        return delete(event["before"]) if forward else insert(event["before"])
    return (
        update(event["after"], event["before"])
        if forward
        else update(event["before"], event["after"])
    )


@dataclass
class DownloadView:
    status: str
    total: int
    desc: str
    artifact_key: str | None


class DataTracking:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        rng: RandomSource,
        artifacts: Artifacts,
        jobs: Jobs,
        databases: DataPlane,
    ):
        self.databases = databases
        self.store, self.clock, self.rng, self.artifacts, self.jobs = (
            store,
            clock,
            rng,
            artifacts,
            jobs,
        )
        self.settings = load_settings()

    def record_binlog(self, db: Database, tid: int, order_id: int, spec: TrackSpec) -> int:
        """Generate and keep a new tracking ticket's binlog; returns how many events it has."""
        events = generate_binlog(
            self.databases.backend(db.db_id),
            db.db_id,
            list(spec.tables),
            _ts(spec.start),
            _ts(spec.end),
            f"{self.rng.seed}:{order_id}",
            self.settings,
        )
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO datatrack_events (tid, order_id, event_id, doc) VALUES (?,?,?,?)",
                [(tid, order_id, e["id"], dumps(e)) for e in events],
            )
        return len(events)

    def events(self, order_id: int) -> list[dict[str, Any]]:
        """A ticket's binlog in event order."""
        rows = self.store.query(
            "SELECT doc FROM datatrack_events WHERE order_id=? ORDER BY event_id", (order_id,)
        )
        return [json.loads(r["doc"]) for r in rows]

    def start_download(
        self,
        ticket: Ticket,
        ready: bool,
        filters: dict[str, Any],
        forward: bool,
        fault: dict[str, Any] | None,
        now: float,
    ) -> str:
        if not ready:
            raise IllegalState(
                f"The tracking of ticket {ticket.id} has not finished yet; wait until it succeeds."
            )
        events = [e for e in self.events(ticket.id) if matches(e, filters)]
        key = self.rng.request_id().lower()
        self.store.execute(
            "INSERT INTO datatrack_downloads (id, tid, key, created_at, doc) VALUES (?,?,?,?,?)",
            (
                self.store.next_id("datatrack_download", DOWNLOAD_ID_START),
                ticket.tid,
                key,
                now,
                dumps(
                    {
                        "order_id": ticket.id,
                        "filters": {
                            **filters,
                            "column": asdict(filters["column"]) if filters["column"] else None,
                        },
                        "forward": forward,
                        "total": len(events),
                        "fault": fault or {},
                    }
                ),
            ),
        )
        schema = ticket.doc.get("track", {}).get("schema", "db")
        name = f"{schema}_{'REDO' if forward else 'UNDO'}_{ticket.id}_{len(events)}"
        # the binlog is stored: it still downloads after the database's instance is deleted
        db_id = ticket.spec.db_id  # type: ignore[union-attr]
        dialect = database_of(self.databases.accounts, ticket, db_id).dialect
        if not (fault and fault.get("outcome") == "fail"):
            self.jobs.submit(
                f"datatrack-{key}",
                lambda: self._write(ticket.tid, key, name, events, forward, dialect),
                tid=ticket.tid,
            )
        return key

    def _write(
        self,
        tid: int,
        key: str,
        name: str,
        events: list[dict[str, Any]],
        forward: bool,
        dialect: str,
    ) -> None:
        art = self.artifacts.reserve("datatrack", key, tid, f"{name}.zip", self.clock.now())
        path = Path(art.path or "")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\r\n")
            w.writerow(["EventId", "Time", "Table", "Type", "PrimaryKey", "Before", "After", "SQL"])
            for e in events:
                image = e["after"] or e["before"]
                w.writerow(
                    [
                        e["id"],
                        e["time"],
                        e["table"],
                        e["type"],
                        image[e["pk"]],
                        json.dumps(e["before"], ensure_ascii=False)
                        if e["before"] is not None
                        else "",
                        json.dumps(e["after"], ensure_ascii=False)
                        if e["after"] is not None
                        else "",
                        statement(e, forward, dialect),
                    ]
                )
            zf.writestr("events.csv", buf.getvalue())
            ordered = events if forward else list(reversed(events))
            zf.writestr(
                "replay.sql" if forward else "rollback.sql",
                "".join(statement(e, forward, dialect) + "\n" for e in ordered),
            )
        self.artifacts.finish(art.key, len(events), path.stat().st_size, self.clock.now())

    def status(self, tid: int, order_id: int, key: str, now: float) -> DownloadView:
        row = self.store.query_one(
            "SELECT * FROM datatrack_downloads WHERE tid=? AND key=?", (tid, key)
        )
        doc = json.loads(row["doc"]) if row else None
        if row is None or doc is None or doc["order_id"] != order_id:
            raise NotFound(
                "download", f"The download key {key} does not exist for ticket {order_id}."
            )
        elapsed = now - row["created_at"]
        fault = doc.get("fault") or {}
        if fault.get("outcome") == "stall":
            hold = fault.get("seconds")
            if hold is None or elapsed < INIT_SECONDS + LISTING_SECONDS + float(hold):
                elapsed = min(elapsed, INIT_SECONDS + LISTING_SECONDS)
        total = int(doc["total"])
        if elapsed < INIT_SECONDS:
            return DownloadView("INIT", 0, "INIT", None)
        if elapsed < INIT_SECONDS + LISTING_SECONDS:
            return DownloadView("LISTING", total, "LISTING", None)
        if fault.get("outcome") == "fail":
            return DownloadView(
                "DOWNLOAD_FAIL", total, fault.get("reason") or "download failed", None
            )
        art = self.artifacts.for_owner(key)
        if (
            elapsed < INIT_SECONDS + LISTING_SECONDS + DOWNLOADING_SECONDS
            or art is None
            or art.status != "success"
        ):
            return DownloadView("DOWNLOADING", total, "DOWNLOADING", None)
        return DownloadView("DOWNLOAD_SUCCESS", total, "SUCCESS", art.key)


def parse_filters(
    tables: list[str] | None,
    types: list[str] | None,
    start: str | None,
    end: str | None,
    column: ColumnFilter | None,
    event_ids: list[int] | None,
) -> dict[str, Any]:
    if column is not None:
        if not column.column:
            raise Invalid("ColumnFilter", "ColumnFilter.ColumnName is required.")
        if column.operator not in OPERATORS:
            raise Invalid(
                "ColumnFilter", f"ColumnFilter.Operator must be one of {', '.join(OPERATORS)}."
            )
    return {
        "tables": tables or [],
        "types": types or [],
        "start": start,
        "end": end,
        "column": column,
        "event_ids": event_ids or [],
    }
