"""DMS tickets: creation, history, derived status, listing.

A ticket row holds what was asked; `order_events` holds what happened and what is scheduled to
happen (with times on the emulated clock). Status is the fold of the events up to now.
"""

from __future__ import annotations

import json
import marshal
from dataclasses import dataclass, field
from typing import Any

from emulator.core.clock import Clock
from emulator.core.errors import Forbidden, Invalid, NotFound, WrongKind
from emulator.platform.accounts import Accounts, Database, User
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.lifecycle import Event, TicketState
from emulator.services.dms.domain.model import Spec, load_spec, spec_doc
from emulator.state.store import Store, dumps

ORDER_ID_START = 4_000_001
WORKFLOW_ID_START = 9_000_001
PRECHECK_ID_START = 15_001
JOB_ID_START = 31_001
# how messages name a ticket type an action needs
KIND_NAMES = {"DATA_EXPORT": "a data export", "DATA_TRACK": "a data tracking ticket"}


# orders: what was asked; order_events: what happened and is scheduled. This module alone
# writes them; their declaration is `TICKETS` in emulator/services/dms/service.py.


def change_events(conn: Any) -> None:
    """v6: data-change tickets (DC_COMMON, DC_CHUNK) of older state files walked the flow
    lifecycle (they never ran SQL): give them the precheck and execution events the change
    lifecycle needs, just before the moves they already had, so their history still folds."""
    rows = conn.execute(
        "SELECT id, created_at FROM orders WHERE plugin_type IN ('DC_COMMON', 'DC_CHUNK') "
        "AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = orders.id "
        "AND e.event = 'precheck_start')"
    ).fetchall()
    add = "INSERT INTO order_events (order_id, at, event, detail) VALUES (?, ?, ?, '{}')"
    for order_id, created in rows:
        conn.execute(add, (order_id, created - 0.002, Event.PRECHECK_START.value))
        conn.execute(add, (order_id, created - 0.001, Event.PRECHECK_PASSED.value))
        for (at,) in conn.execute(
            "SELECT at FROM order_events WHERE order_id=? AND event=?",
            (order_id, Event.START.value),
        ).fetchall():
            conn.execute(add, (order_id, at - 0.0005, Event.EXECUTE.value))


@dataclass(frozen=True)
class Durations:
    """Seconds each phase takes on the emulated clock (configurable; see README)."""

    precheck: float = 2
    settle: float = 1  # how long PRE_CHECK_SUCCESS shows before WAITING_APPLY_AUDIT
    submit: float = 1  # auto tenants: waiting for submission
    approval: float = 3  # auto tenants: waiting for approval
    execute: float = 1  # auto tenants: approved until execution is scheduled
    waiting_export: float = 1
    export: float = 3
    flow_step: float = 2  # non-export tickets, each step


@dataclass
class Ticket:
    id: int
    tid: int
    plugin_type: str
    committer_uid: int
    comment: str
    created_at: float
    workflow_id: int
    doc: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    state: TicketState | None = None
    last_modified: float = 0.0

    @property
    def spec(self) -> Spec:
        """What the ticket asks for (typed; stored as `doc["spec"]`)."""
        return load_spec(self.plugin_type, self.doc["spec"])


class Tickets:
    def __init__(self, store: Store, clock: Clock, accounts: Accounts, durations: Durations):
        self.store = store
        self.clock = clock
        self.accounts = accounts
        self.durations = durations

    # --- reading ---------------------------------------------------------------------------

    def _load(self, row: Any, now: float) -> Ticket:
        doc, events = marshal.loads(
            self.store.derived(("ticket", row["id"]), lambda: self._decoded(row["id"], row["doc"]))
        )
        t = Ticket(
            id=row["id"],
            tid=row["tid"],
            plugin_type=row["plugin_type"],
            committer_uid=row["committer_uid"],
            comment=row["comment"],
            created_at=row["created_at"],
            workflow_id=row["workflow_id"],
            doc=doc,
            events=events,
        )
        t.state = lifecycle.fold(t.plugin_type, [(e["at"], e["event"]) for e in t.events], now)
        past = [e["at"] for e in t.events if e["at"] <= now]
        t.last_modified = max(past) if past else t.created_at
        return t

    def _decoded(self, order_id: int, doc: str) -> bytes:
        """The ticket's document and events, decoded once per committed write (the signed read
        path decoded both on every call, issue 18), marshalled so each reader gets its own."""
        evs = self.store.query(
            "SELECT at, event, actor, detail FROM order_events WHERE order_id=? ORDER BY at, seq",
            (order_id,),
        )
        events = [
            {
                "at": e["at"],
                "event": e["event"],
                "actor": e["actor"],
                "detail": json.loads(e["detail"]) if e["detail"] != "{}" else {},
            }
            for e in evs
        ]
        return marshal.dumps((json.loads(doc), events))

    def get(
        self, tid: int, order_id: int, now: float | None = None, kind: str | None = None
    ) -> Ticket:
        """A ticket of this tenant (of type `kind` if given); another tenant's ticket is as
        unknown as a missing one."""
        row = self.store.query_one("SELECT * FROM orders WHERE id=? AND tid=?", (order_id, tid))
        if row is None:
            raise NotFound("ticket", f"The ticket {order_id} does not exist.")
        if kind is not None and row["plugin_type"] != kind:
            raise WrongKind(
                kind,
                f"The ticket {order_id} is a {row['plugin_type']} ticket, "
                f"not {KIND_NAMES.get(kind, kind)}.",
            )
        return self._load(row, self.clock.now() if now is None else now)

    def of(
        self,
        user: User,
        order_id: int,
        now: float,
        kind: str | None = None,
        act: bool = False,
    ) -> Ticket:
        """A ticket of the caller's tenant that this user may see (`act`: may move, run or
        download); the roles inside a tenant are in specs/README.md ("Roles")."""
        t = self.get(user.tid, order_id, now, kind)
        check_access(user, t, act)
        return t

    def find(self, order_id: int, now: float | None = None) -> Ticket:
        """A ticket of any tenant (the control plane and console see every tenant)."""
        row = self.store.query_one("SELECT * FROM orders WHERE id=?", (order_id,))
        if row is None:
            raise NotFound("ticket", f"no ticket {order_id}")
        return self._load(row, self.clock.now() if now is None else now)

    def recent(self, tid: int | None = None, limit: int = 200) -> list[Ticket]:
        """The newest tickets of one tenant or of all (the control plane's listing)."""
        sql = (
            "SELECT * FROM orders"
            + (" WHERE tid=?" if tid is not None else "")
            + " ORDER BY id DESC LIMIT ?"
        )
        now = self.clock.now()
        rows = self.store.query(sql, ((tid,) if tid is not None else ()) + (limit,))
        return [self._load(row, now) for row in rows]

    def with_event_but_not(
        self, plugin_type: str | tuple[str, ...], happened: Event, missing: tuple[Event, ...]
    ) -> list[tuple[int, int]]:
        """(tid, id) of tickets of these types with a `happened` event and none of `missing`
        (e.g. export jobs a crash interrupted, data changes due to run)."""
        types = (plugin_type,) if isinstance(plugin_type, str) else plugin_type
        marks = ",".join("?" for _ in missing)
        kinds = ",".join("?" for _ in types)
        rows = self.store.query(
            f"SELECT o.tid, o.id FROM orders o WHERE o.plugin_type IN ({kinds}) "
            "AND EXISTS (SELECT 1 FROM order_events e WHERE e.order_id=o.id AND e.event=?) "
            "AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id=o.id "
            f"AND e.event IN ({marks}))",
            (*types, happened.value, *(m.value for m in missing)),
        )
        return [(int(r["tid"]), int(r["id"])) for r in rows]

    def by_workflow(self, tid: int, workflow_id: int, now: float | None = None) -> Ticket:
        row = self.store.query_one(
            "SELECT * FROM orders WHERE workflow_id=? AND tid=?", (workflow_id, tid)
        )
        if row is None:
            raise NotFound("workflow", f"The approval process {workflow_id} does not exist.")
        return self._load(row, self.clock.now() if now is None else now)

    def search(
        self,
        user: User,
        *,
        plugin_type: str | None = None,
        status: str = "ALL",
        scope: str = "AS_ADMIN",
        search: str | None = None,
        date_field: str = "CREATE_TIME",
        start: float | None = None,
        end: float | None = None,
        page: int = 1,
        size: int = 20,
        now: float | None = None,
    ) -> tuple[int, list[Ticket]]:
        """Filter and page in SQL, so the first and the last page cost the same with 100,000 tickets.

        Status and modification time are derived, so they are asked of the event history:
        a ticket is finished once a terminal event has happened (at <= now).
        """
        now = self.clock.now() if now is None else now
        where = ["o.tid=?"]
        args: list[Any] = [user.tid]
        if plugin_type:
            where.append("o.plugin_type=?")
            args.append(plugin_type)
        if search:
            where.append("(o.comment LIKE ? ESCAPE '\\' OR CAST(o.id AS TEXT)=?)")
            args += [
                "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
                search,
            ]
        if scope == "AS_COMMITTER" or (scope == "AS_ADMIN" and user.role == "USER"):
            where.append("o.committer_uid=?")
            args.append(user.uid)
        elif scope == "AS_Related":
            where.append("EXISTS (SELECT 1 FROM json_each(o.doc, '$.related') WHERE value=?)")
            args.append(user.uid)
        elif scope in ("AS_HANDLER", "AS_OWNER") and not user.can_approve:
            where.append("0")
        if status != "ALL":
            terminal = ",".join(f"'{e.value}'" for e in lifecycle.TERMINAL_EVENTS)
            exists = (
                f"EXISTS (SELECT 1 FROM order_events e WHERE e.order_id=o.id AND e.event IN ({terminal}) "
                "AND e.at<=?)"
            )
            where.append(exists if status == "FINISHED" else "NOT " + exists)
            args.append(now)
        if start is not None or end is not None:
            when = (
                "o.created_at"
                if date_field == "CREATE_TIME"
                else "COALESCE((SELECT max(e.at) FROM order_events e WHERE e.order_id=o.id AND e.at<=?), o.created_at)"
            )
            if start is not None:
                where.append(f"{when}>=?")
                args += ([now] if date_field != "CREATE_TIME" else []) + [start]
            if end is not None:
                where.append(f"{when}<=?")
                args += ([now] if date_field != "CREATE_TIME" else []) + [end]
        if len(where) == 1:
            # the whole tenant: the dense per-tenant sequence makes any page an index range
            total = self.store.counter(f"tseq:{user.tid}")
            high = total - (page - 1) * size
            rows = self.store.query(
                "SELECT * FROM orders WHERE tid=? AND tseq BETWEEN ? AND ? ORDER BY tseq DESC",
                (user.tid, high - size + 1, high),
            )
            return total, [self._load(row, now) for row in rows]
        clause = " AND ".join(where)
        total_row = self.store.query_one(
            f"SELECT count(*) FROM orders o WHERE {clause}", tuple(args)
        )
        total = int(total_row[0]) if total_row else 0
        rows = self.store.query(
            f"SELECT o.* FROM orders o WHERE {clause} ORDER BY o.id DESC LIMIT ? OFFSET ?",
            (*args, size, (page - 1) * size),
        )
        return total, [self._load(row, now) for row in rows]

    # --- creating --------------------------------------------------------------------------

    def database(self, user: User, db_id: int) -> Database:
        db = self.accounts.databases.get(db_id)
        if db is None or db.tid != user.tid:
            raise NotFound("database", f"The database {db_id} does not exist in tenant {user.tid}.")
        return db

    def database_of(self, ticket: Ticket, db_id: int) -> Database:
        return database_of(self.accounts, ticket, db_id)

    def related_users(self, user: User, names: list[str]) -> list[int]:
        tenant = self.accounts.tenants[user.tid]
        known = {str(u.uid): u.uid for u in tenant.users} | {u.name: u.uid for u in tenant.users}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise Invalid(
                "RelatedUserList",
                f"RelatedUserList names users who are not in tenant {user.tid}: {', '.join(unknown)}",
            )
        return sorted({known[n] for n in names})

    def create(
        self,
        user: User,
        plugin_type: str,
        spec: Spec,
        comment: str,
        related: list[str],
        attachment_key: str | None,
        schedule: Any,
        now: float,
    ) -> Ticket:
        """Check references, store, and let `schedule(ticket, now)` lay out the automatic events
        (`spec` was validated at the wire edge)."""
        dbs = [self.database(user, db_id) for db_id in spec.db_ids]
        related_ids = self.related_users(user, related)
        with self.store.transaction() as conn:
            order_id = self.store.next_id("order", ORDER_ID_START)
            workflow_id = self.store.next_id("workflow", WORKFLOW_ID_START)
            doc = {
                "spec": spec_doc(spec),
                "related": related_ids,
                "attachment_key": attachment_key or "",
                # what reads still show if the database's instance is deleted (no credentials)
                "databases": {str(d.db_id): _snapshot(d) for d in dbs},
            }
            tseq = self.store.next_id(f"tseq:{user.tid}", 1)
            conn.execute(
                "INSERT INTO orders (id, tid, plugin_type, committer_uid, comment, created_at, workflow_id, doc,"
                " tseq) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    order_id,
                    user.tid,
                    plugin_type,
                    user.uid,
                    comment,
                    now,
                    workflow_id,
                    dumps(doc),
                    tseq,
                ),
            )
            ticket = self.get(user.tid, order_id, now)
            schedule(ticket, now)
            return self.get(user.tid, order_id, now)

    def update_doc(self, ticket: Ticket, **changes: Any) -> None:
        ticket.doc.update(changes)
        self.store.execute("UPDATE orders SET doc=? WHERE id=?", (dumps(ticket.doc), ticket.id))

    # --- history ---------------------------------------------------------------------------

    def record(
        self,
        ticket: Ticket,
        at: float,
        event: Event,
        actor: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.store.execute(
            "INSERT INTO order_events (order_id, at, event, actor, detail) VALUES (?,?,?,?,?)",
            (ticket.id, at, event.value, actor, dumps(detail or {})),
        )

    def pending(self, ticket: Ticket, now: float) -> list[dict[str, Any]]:
        return [e for e in ticket.events if e["at"] > now]

    def pull_forward(self, ticket: Ticket, event: Event, now: float) -> bool:
        """Move a scheduled event (and everything after it) to happen now; False if none."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT at FROM order_events WHERE order_id=? AND event=? AND at>? ORDER BY at LIMIT 1",
                (ticket.id, event.value, now),
            ).fetchone()
            if row is None:
                return False
            delta = row["at"] - now
            conn.execute(
                "UPDATE order_events SET at=at-? WHERE order_id=? AND at>=?",
                (delta, ticket.id, row["at"]),
            )
            return True

    def delay_pending(self, ticket: Ticket, now: float, seconds: float) -> None:
        """Hold a ticket where it is: push every event still to come `seconds` later."""
        self.store.execute(
            "UPDATE order_events SET at=at+? WHERE order_id=? AND at>?", (seconds, ticket.id, now)
        )

    def delay_from(self, ticket: Ticket, at: float, seconds: float) -> None:
        """Push the events scheduled at or after `at` `seconds` later (a stall)."""
        self.store.execute(
            "UPDATE order_events SET at=at+? WHERE order_id=? AND at>=?", (seconds, ticket.id, at)
        )

    def drop_from(self, ticket: Ticket, at: float) -> None:
        """Forget the events scheduled at or after `at` (a failure replaces them)."""
        self.store.execute("DELETE FROM order_events WHERE order_id=? AND at>=?", (ticket.id, at))

    def drop_pending(self, ticket: Ticket, now: float) -> None:
        self.store.execute("DELETE FROM order_events WHERE order_id=? AND at>?", (ticket.id, now))


def database_of(accounts: Accounts, ticket: Ticket, db_id: int) -> Database:
    """The ticket's database for display: the live one, else what the ticket stored when
    it was created (its instance was deleted since), else a bare placeholder."""
    live = accounts.databases.get(db_id)
    if live is not None:
        return live
    kept = (ticket.doc.get("databases") or {}).get(str(db_id)) or {}
    return Database(
        db_id=db_id,
        schema=str(kept.get("schema", f"db{db_id}")),
        host=str(kept.get("host", "")),
        port=int(kept.get("port", 0)),
        env_type=str(kept.get("env_type", "")),
        logic=bool(kept.get("logic", False)),
        instance_id=int(kept.get("instance_id", 0)),
        fixture=None,
        tid=ticket.tid,
        db_type=kept.get("db_type"),
    )


def gone(db_id: int) -> str:
    """Why a ticket cannot touch a database that is no longer known."""
    return f"the database {db_id} was deleted with its instance (DeleteInstance)"


def _snapshot(db: Database) -> dict[str, Any]:
    return {
        "schema": db.schema,
        "host": db.host,
        "port": db.port,
        "env_type": db.env_type,
        "logic": db.logic,
        "instance_id": db.instance_id,
        "db_type": db.db_type,
    }


def check_access(user: User, ticket: Ticket, act: bool) -> None:
    """Inside a tenant: ADMIN and DBA see and act on every ticket, the committer on their own,
    a related user (RelatedUserList) may only see it; any other USER gets Forbidden."""
    if user.can_approve or user.uid == ticket.committer_uid:
        return
    if not act and user.uid in ticket.doc.get("related", []):
        return
    what = "act on" if act else "see"
    raise Forbidden(
        f"User {user.uid} ({user.role}) may not {what} ticket {ticket.id}: it is user "
        f"{ticket.committer_uid}'s; a USER {what}s only own tickets"
        + ("" if act else " and those that list them in RelatedUserList")
        + " (an ADMIN or DBA sees every ticket of the tenant)."
    )


def require_role(user: User, what: str) -> None:
    if not user.can_approve:
        raise Forbidden(
            f"User {user.uid} ({user.role}) may not {what}: an ADMIN or DBA is required."
        )
