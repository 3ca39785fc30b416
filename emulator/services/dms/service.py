"""DMS Enterprise (2018-11-01) as a service: its actions, each over one `DmsContext`."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from emulator.gateway.registry import DMS
from emulator.state.schema import Migration, Tables, clear, clear_tenant

if TYPE_CHECKING:
    from emulator.gateway.registry import Registry
    from emulator.services.dms.api.console import ConsoleContext
    from emulator.services.dms.api.meta import MetaContext
    from emulator.services.dms.api.users import UsersContext
    from emulator.services.dms.context import DmsContext


# The state tables DMS owns. Each is written by the one module named as its `owner` (only it
# writes SQL on them); they are declared here, apart from that module's code, so that a start
# creates them without importing the domain (issue 18). The Python steps of migrations and
# row checks load their module when a state file or document needs them.


def _v5_wire_params(conn: sqlite3.Connection) -> None:
    """v5: the wire layer translates the wire documents v4 ticket rows stored."""
    from emulator.services.dms.api.specs import convert_tickets

    convert_tickets(conn)


def _v6_change_events(conn: sqlite3.Connection) -> None:
    from emulator.services.dms.domain.tickets import change_events

    change_events(conn)


def _instance_row(where: str, row: dict[str, Any]) -> None:
    from emulator.services.dms.domain.instances import check_row

    check_row(where, row)


# orders: what was asked; order_events: what happened and is scheduled
TICKETS = Tables(
    owner="emulator.services.dms.domain.tickets",
    schema=(
        """CREATE TABLE IF NOT EXISTS orders (
          id INTEGER PRIMARY KEY,
          tid INTEGER NOT NULL,
          plugin_type TEXT NOT NULL,
          committer_uid INTEGER NOT NULL,
          comment TEXT NOT NULL,
          created_at REAL NOT NULL,
          workflow_id INTEGER NOT NULL,
          doc TEXT NOT NULL,
          tseq INTEGER
        )""",
        "CREATE INDEX IF NOT EXISTS orders_tid ON orders (tid, id)",
        "CREATE UNIQUE INDEX IF NOT EXISTS orders_workflow ON orders (workflow_id)",
        "CREATE INDEX IF NOT EXISTS orders_tseq ON orders (tid, tseq)",
        # the data-change ticker asks for tickets of a few types only
        "CREATE INDEX IF NOT EXISTS orders_type ON orders (plugin_type, id)",
        """CREATE TABLE IF NOT EXISTS order_events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          order_id INTEGER NOT NULL,
          at REAL NOT NULL,
          event TEXT NOT NULL,
          actor INTEGER,
          detail TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX IF NOT EXISTS order_events_order ON order_events (order_id, at, seq)",
        "CREATE INDEX IF NOT EXISTS order_events_kind ON order_events (order_id, event)",
    ),
    snapshot=("orders", "order_events"),
    json_columns=(("orders", "doc"), ("order_events", "detail")),
    migrations=(
        Migration(
            2, ("CREATE INDEX IF NOT EXISTS order_events_kind ON order_events (order_id, event)",)
        ),
        # a dense per-tenant sequence, so an unfiltered page is an index range, not an OFFSET scan
        Migration(
            3,
            (
                "ALTER TABLE orders ADD COLUMN tseq INTEGER",
                "UPDATE orders SET tseq = (SELECT count(*) FROM orders o2 "
                "WHERE o2.tid = orders.tid AND o2.id <= orders.id)",
                "CREATE INDEX IF NOT EXISTS orders_tseq ON orders (tid, tseq)",
                "INSERT OR REPLACE INTO counters (name, value) "
                "SELECT 'tseq:' || tid, max(tseq) FROM orders GROUP BY tid",
            ),
        ),
        # v5: ticket documents of v4 files stored the wire document (translated by the wire layer)
        Migration(5, transform=_v5_wire_params),
        # v6: data-change tickets of older files get the events their own lifecycle needs
        Migration(6, transform=_v6_change_events),
    ),
    reset_all=clear("order_events", "orders"),
    reset_tenant=(
        "DELETE FROM order_events WHERE order_id IN (SELECT id FROM orders WHERE tid=?)",
        *clear_tenant("orders"),
    ),
    tenant_counters=("tseq:",),
)

# datatrack_events: each tracking ticket's simulated binlog; datatrack_downloads: its filtered
# downloads
DATATRACK = Tables(
    owner="emulator.services.dms.domain.datatrack",
    schema=(
        """CREATE TABLE IF NOT EXISTS datatrack_events (
          tid INTEGER NOT NULL,
          order_id INTEGER NOT NULL,
          event_id INTEGER NOT NULL,
          doc TEXT NOT NULL,
          PRIMARY KEY (order_id, event_id)
        )""",
        "CREATE INDEX IF NOT EXISTS datatrack_events_tid ON datatrack_events (tid)",
        """CREATE TABLE IF NOT EXISTS datatrack_downloads (
          id INTEGER PRIMARY KEY,
          tid INTEGER NOT NULL,
          key TEXT NOT NULL UNIQUE,
          created_at REAL NOT NULL,
          doc TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS datatrack_downloads_tid ON datatrack_downloads (tid, key)",
    ),
    snapshot=("datatrack_events", "datatrack_downloads"),
    json_columns=(("datatrack_events", "doc"), ("datatrack_downloads", "doc")),
    migrations=(
        # v4: the binlog leaves the ticket document and downloads leave the Sas jobs table
        # (the one time this module touches those tables: to take its rows out of them)
        Migration(
            4,
            (
                """CREATE TABLE IF NOT EXISTS datatrack_events (
                  tid INTEGER NOT NULL, order_id INTEGER NOT NULL, event_id INTEGER NOT NULL,
                  doc TEXT NOT NULL, PRIMARY KEY (order_id, event_id))""",
                "INSERT OR REPLACE INTO datatrack_events (tid, order_id, event_id, doc) "
                "SELECT o.tid, o.id, json_extract(e.value, '$.id'), e.value "
                "FROM orders o, json_each(o.doc, '$.track.events') e",
                "UPDATE orders SET doc = json_remove(doc, '$.track.events') "
                "WHERE json_type(doc, '$.track.events') IS NOT NULL",
                """CREATE TABLE IF NOT EXISTS datatrack_downloads (
                  id INTEGER PRIMARY KEY, tid INTEGER NOT NULL, key TEXT NOT NULL UNIQUE,
                  created_at REAL NOT NULL, doc TEXT NOT NULL)""",
                "INSERT OR REPLACE INTO datatrack_downloads (id, tid, key, created_at, doc) "
                "SELECT id, tid, owner, created_at, doc FROM jobs WHERE kind='datatrack_download'",
                "DELETE FROM jobs WHERE kind='datatrack_download'",
            ),
        ),
    ),
    reset_all=clear("datatrack_events", "datatrack_downloads"),
    reset_tenant=clear_tenant("datatrack_events", "datatrack_downloads"),
)

# RegisterUser/UpdateUser/...: one overlay row per user changed at run time
USERS = Tables(
    owner="emulator.services.dms.domain.users",
    schema=(
        "CREATE TABLE IF NOT EXISTS dms_users ("
        " tid INTEGER NOT NULL, user_id INTEGER NOT NULL, uid TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (tid, user_id))",
        "CREATE INDEX IF NOT EXISTS dms_users_uid ON dms_users (tid, uid)",
    ),
    snapshot=("dms_users",),
    json_columns=(("dms_users", "doc"),),
    reset_all=clear("dms_users"),
    reset_tenant=clear_tenant("dms_users"),
)

# registered instances (issue 13); the secrets table never goes into a state document
INSTANCES = Tables(
    owner="emulator.services.dms.domain.instances",
    schema=(
        "CREATE TABLE IF NOT EXISTS dms_instances ("
        " instance_id INTEGER PRIMARY KEY, tid INTEGER NOT NULL, host TEXT NOT NULL,"
        " port INTEGER NOT NULL, rev INTEGER NOT NULL, doc TEXT NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS dms_instances_endpoint"
        " ON dms_instances (tid, host, port)",
        "CREATE TABLE IF NOT EXISTS dms_instance_secrets ("
        " instance_id INTEGER PRIMARY KEY, tid INTEGER NOT NULL, password TEXT NOT NULL)",
    ),
    snapshot=("dms_instances",),
    json_columns=(("dms_instances", "doc"),),
    reset_all=clear("dms_instances", "dms_instance_secrets"),
    reset_tenant=clear_tenant("dms_instances", "dms_instance_secrets"),
    row_checks={"dms_instances": _instance_row},
)

TABLES: tuple[Tables, ...] = (TICKETS, DATATRACK, USERS, INSTANCES)


class DmsService:
    product = DMS

    def __init__(
        self,
        ctx: DmsContext,
        users_ctx: UsersContext,
        meta_ctx: MetaContext,
        console_ctx: ConsoleContext | None = None,
    ):
        self.ctx = ctx
        self.users_ctx = users_ctx
        self.meta_ctx = meta_ctx
        self.console_ctx = console_ctx  # the SQL console (ExecuteScript)

    def register(self, registry: Registry) -> None:
        """Every action of DMS (the wire modules load here, at the first API request)."""
        from emulator.services.dms.api import console as console_api
        from emulator.services.dms.api import (
            datachange,
            datatrack,
            export,
            meta,
            tenants,
            tickets,
            users,
        )

        # every wire module lists its actions; adding an action = a handler + a line in its ACTIONS
        for module in (tickets, export, tenants, datatrack, datachange):
            for name, action in module.ACTIONS.items():
                registry.add(DMS, name, action.handler, self.ctx, action.stages)
        users.register(registry, self.users_ctx)
        meta.register(registry, self.meta_ctx)
        if self.console_ctx is not None:
            console_api.register(registry, self.console_ctx)

    @staticmethod
    def tables() -> tuple[Tables, ...]:
        return TABLES

    def reset(self, tid: int | None) -> None:
        """DMS keeps nothing outside its tables (the store resets those)."""
