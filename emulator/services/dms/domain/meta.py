"""DMS metadata: instances and databases of the accounts file, tables and columns read live.

Instances: databases sharing host and port (in one tenant) are one instance; instances
registered at run time (domain/instances.py) follow those of the file. Tables and columns
are never cached: each call asks the database's own catalog through its backend's `describe()`
(the data plane), so a table created by a ticket or the SQL console shows up at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from emulator.core.errors import DomainError, NotFound
from emulator.databases import backend
from emulator.databases.catalog import DataPlane
from emulator.platform.accounts import Accounts, Database
from emulator.services.dms.domain.instances import Instances, Registered

GUID_PREFIX = "IDB_"


class Unreadable(DomainError):
    """The database's catalog cannot be read right now (its server refused or is down)."""


@dataclass(frozen=True)
class Instance:
    tid: int
    instance_id: int
    host: str
    port: int
    alias: str
    source: str
    env_type: str
    db_type: str
    dba_uid: int | None
    owners: tuple[int, ...]
    databases: tuple[Database, ...] = field(repr=False)
    state: str = "NORMAL"
    sid: str = ""
    registered: Registered | None = field(default=None, repr=False)  # None: the accounts file


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as declared (the engine's own spelling)
    nullable: bool
    primary_key: bool
    auto_increment: bool
    default: str | None
    comment: str
    position: int

    @property
    def length_precision_scale(self) -> tuple[int, int, int]:
        """`varchar(64)` -> (64, 0, 0); `decimal(10,2)` -> (0, 10, 2): information_schema's split."""
        m = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", self.type)
        if not m:
            return 0, 0, 0
        first, second = int(m.group(1)), int(m.group(2) or 0)
        base = self.type.split("(", 1)[0].strip().lower()
        if base in ("decimal", "numeric", "dec", "fixed", "float", "double", "real", "number"):
            return 0, first, second
        return first, 0, 0


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool
    primary: bool

    @property
    def kind(self) -> str:
        return "Primary" if self.primary else "Unique" if self.unique else "Normal"


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # TABLE | VIEW
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...]
    comment: str = ""


def db_type(db: Database) -> str:
    """DbType as DMS reports it: the accounts file's `db_type`; an undeclared one is MySQL
    (the built-in hosts are RDS MySQL endpoints and DMS has no SQLite type)."""
    declared = getattr(db, "db_type", None)
    return str(declared) if declared and declared != "sqlite" else "mysql"


def encoding(db: Database) -> str:
    return "UTF8" if db_type(db) == "postgresql" else "utf8mb4"


def engine(db: Database) -> str:
    return "" if db_type(db) == "postgresql" else "InnoDB"


def stable_id(*parts: object) -> int:
    """A 9-digit id that depends only on the names (survives restarts, no table to keep)."""
    digest = hashlib.blake2b("\x00".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 900_000_000 + 100_000_000


def table_id(db: Database, name: str) -> str:
    """TableId: the database id followed by 9 digits of the table's name hash."""
    return f"{db.db_id}{stable_id(db.db_id, name)}"


def table_guid(db: Database, name: str) -> str:
    return f"{GUID_PREFIX}{db.db_id}.{db.schema}.{name}"


# --- the catalog of one database, through the data plane ----------------------------------------


def _unquote(default: str | None) -> str | None:
    if default is None:
        return None
    text = default.strip()
    if text.upper() == "NULL":  # MariaDB's information_schema (and PRAGMA) for DEFAULT NULL
        return None
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def _index_name(i: backend.Index) -> str:
    """SQLite names a UNIQUE constraint's index `sqlite_autoindex_<table>_<n>`; MySQL names it
    after its first column, which is what DMS shows."""
    if i.name.startswith("sqlite_autoindex_") and i.columns:
        return i.columns[0]
    return i.name


def _table(t: backend.Table) -> Table:
    columns = tuple(
        Column(
            name=c.name,
            type=c.data_type,
            nullable=c.nullable,
            primary_key=c.primary_key,
            auto_increment=c.auto_increment,
            default=_unquote(c.default),
            comment=c.comment,
            position=c.position,
        )
        for c in t.columns
    )
    indexes = sorted(
        (Index(_index_name(i), i.columns, i.unique, i.primary) for i in t.indexes),
        key=lambda i: (not i.primary, i.name),
    )
    return Table(t.name, t.kind, columns, tuple(indexes), t.comment)


# --- instances and databases of the accounts file ----------------------------------------------


class Meta:
    """What a tenant's DMS knows: its instances, their databases, their live catalogs."""

    def __init__(self, accounts: Accounts, databases: DataPlane, registry: Instances | None = None):
        self.accounts = accounts
        self.data = databases
        self.registry = registry
        self._instances: dict[int, list[Instance]] = {
            tid: _group(accounts, tid) for tid in accounts.tenants
        }

    def _catalog(
        self,
        db: Database,
        names: list[str] | None = None,
        details: bool = True,
        counts: bool = True,
    ) -> backend.Catalog:
        """Only what the page shows: a listing asks for names, a detail for one table.

        A database that cannot be read (server down, schema dropped behind DMS's back) is a
        clear business error, never a 500."""
        try:
            return self.data.backend(db.db_id).describe(names, details, counts)
        except backend.BackendError as exc:
            raise Unreadable(f"The database {db.db_id} cannot be read: {exc}") from None

    def list_tables(self, db: Database, pattern: str | None = None) -> list[tuple[str, str]]:
        """(name, TABLE|VIEW) of the database's tables, by name; `pattern` is a LIKE pattern."""
        # case-insensitive, as MySQL compares names; imported late: not a start-up cost
        from emulator.databases.functions import like_regex

        like = like_regex(pattern, re.IGNORECASE) if pattern else None
        return sorted(
            (t.name, t.kind)
            for t in self._catalog(db, details=False, counts=False).tables
            if like is None or like.fullmatch(t.name)
        )

    def describe_table(self, db: Database, name: str) -> Table | None:
        """One table's columns and indexes, or None when the database has no such table."""
        found = next(
            (t for t in self._catalog(db, [name], counts=False).tables if t.name == name), None
        )
        return _table(found) if found is not None else None

    def table_stats(self, db: Database, names: list[str]) -> dict[str, tuple[int, int]]:
        """(true row count, bytes on disk) per table: what NumRows and StoreCapacity report."""
        tables = {t.name: t for t in self._catalog(db, names, details=False).tables}
        return {
            n: (tables[n].row_count, tables[n].size_bytes) if n in tables else (0, 0) for n in names
        }

    def instances(self, tid: int) -> list[Instance]:
        found = list(self._instances.get(tid, []))
        if self.registry is not None:
            found += [self._registered(r) for r in self.registry.all(tid)]
        return found

    def _registered(self, r: Registered) -> Instance:
        assert self.registry is not None
        return Instance(
            tid=r.tid,
            instance_id=r.instance_id,
            host=r.host,
            port=r.port,
            alias=r.alias,
            source=r.source,
            env_type=r.env_type,
            db_type=r.db_type,
            dba_uid=r.dba_uid,
            owners=(),
            databases=self.registry.databases_of(r),
            sid=r.sid,
            registered=r,
        )

    def instance(self, tid: int, instance_id: str) -> Instance:
        found = next(
            (i for i in self.instances(tid) if str(i.instance_id) == instance_id.strip()), None
        )
        if found is None:
            raise NotFound(
                "instance", f"The instance {instance_id} does not exist in tenant {tid}."
            )
        return found

    def instance_at(self, tid: int, host: str, port: int, sid: str | None = None) -> Instance:
        found = next(
            (
                i
                for i in self.instances(tid)
                if i.host == host and i.port == port and (not sid or sid == i.sid)
            ),
            None,
        )
        if found is None:
            raise NotFound("instance", f"No instance at {host}:{port} in tenant {tid}.")
        return found

    def instance_of(self, db: Database) -> Instance:
        return next(i for i in self.instances(db.tid) if db in i.databases)

    def databases(self, tid: int) -> list[Database]:
        return [d for i in self.instances(tid) for d in i.databases]

    def database(self, tid: int, database_id: str) -> Database:
        text = database_id.strip()
        db = (
            self.accounts.databases.get(int(text))
            if text.isdigit() and text.isascii() and len(text) < 19
            else None
        )
        if db is None or db.tid != tid:
            raise NotFound(
                "database", f"The database {database_id} does not exist in tenant {tid}."
            )
        return db

    def table(self, tid: int, table_id_text: str) -> tuple[Database, Table]:
        """ListColumns' TableId: the database's id, then the name hash of one of its tables."""
        text = table_id_text.strip()
        missing = NotFound("table", f"The table {table_id_text} does not exist in tenant {tid}.")
        if not (text.isdigit() and text.isascii()) or len(text) < 10:
            raise missing
        db = self.accounts.databases.get(int(text[:-9]))
        if db is None or db.tid != tid:
            raise missing
        name = next((n for n, _ in self.list_tables(db) if table_id(db, n) == text), None)
        found = self.describe_table(db, name) if name is not None else None
        if found is None:
            raise missing
        return db, found

    def table_by_guid(self, tid: int, guid: str) -> tuple[Database, Table]:
        """`IDB_<db id>.<schema>.<table>` (the table name may itself hold dots)."""
        missing = NotFound("table", f"The table {guid} does not exist in tenant {tid}.")
        if not guid.startswith(GUID_PREFIX):
            raise missing
        parts = guid[len(GUID_PREFIX) :].split(".", 2)
        if len(parts) != 3 or not (parts[0].isdigit() and parts[0].isascii()) or len(parts[0]) > 18:
            raise missing
        db = self.accounts.databases.get(int(parts[0]))
        if db is None or db.tid != tid or db.schema != parts[1]:
            raise missing
        found = self.describe_table(db, parts[2])
        if found is None:
            raise missing
        return db, found


def _group(accounts: Accounts, tid: int) -> list[Instance]:
    groups: dict[tuple[str, int], list[Database]] = {}
    for db in accounts.tenants[tid].databases:
        groups.setdefault((db.host, db.port), []).append(db)
    out = []
    for (host, port), dbs in groups.items():
        first = dbs[0]
        owners = tuple(dict.fromkeys(o for d in dbs for o in d.owners))
        out.append(
            Instance(
                tid=tid,
                instance_id=first.instance_id,
                host=host,
                port=port,
                alias=next((d.instance_alias for d in dbs if d.instance_alias), "")
                or f"{host}:{port}",
                source=next((d.instance_source for d in dbs if d.instance_source), "RDS"),
                env_type=first.env_type,
                db_type=db_type(first),
                dba_uid=next((d.dba_uid for d in dbs if d.dba_uid is not None), None),
                owners=owners,
                databases=tuple(dbs),
            )
        )
    return out
