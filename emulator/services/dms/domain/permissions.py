"""Who sees what in the metadata actions (specs/README.md, "Who sees what").

ADMIN and DBA see every instance, database and table of their tenant. A USER sees the databases
they own (`owners` in the accounts file, or an OWNER_APPLY ticket that succeeded) and those
granted by a PERM_APPLY ticket that succeeded and has not expired (a grant that names tables
shows those tables only); an instance is visible when one of its databases is. Another tenant's
objects are never visible to anyone: they answer the same not-found as ids that do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from emulator.core.clock import Clock
from emulator.core.errors import Forbidden
from emulator.platform.accounts import Accounts, User
from emulator.services.dms.domain import lifecycle
from emulator.services.dms.domain.model import RequestSpec
from emulator.services.dms.domain.tickets import Tickets

GRANT_TYPES = ("PERM_APPLY", "OWNER_APPLY")


@dataclass(frozen=True)
class Grant:
    db_id: int
    tables: frozenset[str] | None  # None: every table
    owner: bool


class GrantSource(Protocol):
    def grants(self, user: User) -> list[Grant]: ...


@dataclass(frozen=True)
class Access:
    """What one caller may see: everything in the tenant, or a set of databases (and tables)."""

    everything: bool
    dbs: dict[int, frozenset[str] | None] = field(default_factory=dict)
    owned: frozenset[int] = frozenset()

    def database(self, db_id: int) -> bool:
        return self.everything or db_id in self.dbs

    def table(self, db_id: int, name: str) -> bool:
        if self.everything:
            return True
        if db_id not in self.dbs:
            return False
        tables = self.dbs[db_id]
        return tables is None or name in tables

    def require_database(self, db_id: int) -> None:
        if not self.database(db_id):
            raise Forbidden(
                f"You have no permission on database {db_id}; apply for it with a PERM_APPLY "
                "ticket (or ask an ADMIN to make you an owner).",
            )

    def require_table(self, db_id: int, name: str) -> None:
        self.require_database(db_id)
        if not self.table(db_id, name):
            raise Forbidden(
                f"You have no permission on table {name} of database {db_id}; apply for it with "
                "a PERM_APPLY ticket.",
            )


def access(user: User, accounts: Accounts, source: GrantSource | None) -> Access:
    owned = frozenset(d.db_id for d in accounts.tenants[user.tid].databases if user.uid in d.owners)
    if user.role in ("ADMIN", "DBA"):
        return Access(True, owned=owned)
    dbs: dict[int, frozenset[str] | None] = {db_id: None for db_id in owned}
    owned_set = set(owned)
    for g in source.grants(user) if source else []:
        if g.owner and g.tables is None:
            owned_set.add(g.db_id)
        if g.tables is None or dbs.get(g.db_id, frozenset()) is None:
            dbs[g.db_id] = None
        else:
            dbs[g.db_id] = frozenset(dbs.get(g.db_id) or frozenset()) | g.tables
    return Access(False, dbs, frozenset(owned_set))


class TicketGrants:
    """Grants given by the caller's own PERM_APPLY / OWNER_APPLY tickets that succeeded.

    PERM_APPLY lasts `seconds` (default one day) from the ticket's success; OWNER_APPLY on a
    database (or instance: each database the ticket names) lasts for ever; on a table it
    shows that table.
    """

    def __init__(self, tickets: Tickets, clock: Clock):
        self.tickets = tickets
        self.clock = clock

    def grants(self, user: User) -> list[Grant]:
        now = self.clock.now()
        out: list[Grant] = []
        for plugin_type in GRANT_TYPES:
            _total, found = self.tickets.search(
                user, plugin_type=plugin_type, status="FINISHED", scope="AS_COMMITTER", size=1000
            )
            for t in found:
                if t.state is None or not lifecycle.succeeded(t.plugin_type, t.state):
                    continue
                spec = t.spec
                assert isinstance(spec, RequestSpec)
                p = spec.fields
                if plugin_type == "PERM_APPLY":
                    if t.last_modified + float(p.get("seconds") or 86400) < now:
                        continue
                    tables = p.get("tables") or []
                    out.append(Grant(spec.db_id, frozenset(tables) if tables else None, False))
                else:
                    table = p.get("table_name") if p.get("resource_type") == "TABLE" else None
                    out.append(Grant(spec.db_id, frozenset([table]) if table else None, True))
        return out
