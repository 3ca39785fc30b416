"""Instances registered at run time (RegisterInstance, AddInstance, SimplyAddInstance).

A registration makes a real MySQL/MariaDB or PostgreSQL server a DMS instance of the caller's
tenant: the connection is tested (unless skipped), and each of the server's databases (MySQL
schemas; PostgreSQL databases, their `public` schema) becomes a DMS database, which the data
plane reaches as a `dsn` database, so metadata, exports and tickets work on it as on one of the
accounts file. SyncInstanceMeta discovers the databases again; DeleteInstance forgets the
instance. Only ADMIN and DBA may do any of it.

State: `dms_instances` (one row per instance; the state document carries it) and
`dms_instance_secrets` (its password: never in the state document, with or without the control
token; only the `--state` file holds it). A reset forgets both, as for any other run-time state,
so `POST /_emulator/reset` returns to the freshly started emulator. Database ids of a schema
are kept for ever in the row (`retired`), so a schema that comes back gets its old id.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from emulator.core.errors import DomainError, Exists, Forbidden, NotFound
from emulator.databases.backend import Unavailable
from emulator.databases.catalog import DataPlane, Login, server_info, sniff_engine
from emulator.platform.accounts import Accounts, Database, User
from emulator.state.store import Store

TABLE = "dms_instances"
SECRETS = "dms_instance_secrets"
FIRST_INSTANCE_ID = 9_000_001
FIRST_DATABASE_ID = 90_000_001
# db_type -> the protocol the server speaks
ENGINES = {"mysql": "mysql", "mariadb": "mysql", "polardb": "mysql", "postgresql": "postgresql"}


def check_row(where: str, row: dict[str, Any]) -> None:
    """A state document's instance must be one this module could have written."""
    try:
        doc = json.loads(str(row.get("doc") or "{}"))
    except ValueError:
        raise ValueError(f"{where}.doc: not JSON") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{where}.doc: must be a JSON object")
    if doc.get("db_type") not in ENGINES:
        raise ValueError(f"{where}.doc.db_type: must be one of {', '.join(ENGINES)}")
    for key in ("databases", "retired"):
        value = doc.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in value.items()
        ):
            raise ValueError(f"{where}.doc.{key}: must map schema names to database ids")
    for key in ("instance_id", "port", "rev"):
        if not isinstance(row.get(key), int) or isinstance(row.get(key), bool):
            raise ValueError(f"{where}.{key}: must be an integer")
    if not 1 <= int(row["port"]) <= 65535:
        raise ValueError(f"{where}.port: must be between 1 and 65535")


# this module alone writes its tables; their declaration is `INSTANCES` in
# emulator/services/dms/service.py (a state document's rows pass `check_row`)


class ConnectionFailed(DomainError):
    """The connection test of a registration (or a sync) failed; the server's own words."""


@dataclass(frozen=True)
class Registration:
    """What the caller asked for (wire names stop at the api)."""

    db_type: str  # mysql | mariadb | polardb | postgresql
    host: str
    port: int
    user: str
    password: str
    alias: str = ""
    source: str = "PUBLIC_OWN"
    env_type: str = "product"
    dba_uid: int | None = None
    sid: str = ""
    query_timeout: int = 60
    export_timeout: int = 600
    extra: dict[str, Any] = field(default_factory=dict)  # echoed settings (network, safe rule...)


@dataclass(frozen=True)
class Registered:
    instance_id: int
    tid: int
    host: str
    port: int
    db_type: str
    user: str
    alias: str
    source: str
    env_type: str
    dba_uid: int | None
    sid: str
    query_timeout: int
    export_timeout: int
    databases: dict[str, int]  # schema -> database id
    retired: dict[str, int]  # schemas gone from the server (their ids come back with them)
    extra: dict[str, Any]
    version: str = ""


def _login(r: Registered | Registration, password: str) -> Login:
    return Login(ENGINES[r.db_type], r.host, r.port, r.user, password)


def _doc(r: Registered) -> str:
    return json.dumps(
        {
            "db_type": r.db_type,
            "user": r.user,
            "alias": r.alias,
            "source": r.source,
            "env_type": r.env_type,
            "dba_uid": r.dba_uid,
            "sid": r.sid,
            "query_timeout": r.query_timeout,
            "export_timeout": r.export_timeout,
            "databases": r.databases,
            "retired": r.retired,
            "extra": r.extra,
            "version": r.version,
        },
        sort_keys=True,
    )


def _from_row(row: Any) -> Registered:
    d = json.loads(row["doc"])
    return Registered(
        instance_id=int(row["instance_id"]),
        tid=int(row["tid"]),
        host=str(row["host"]),
        port=int(row["port"]),
        db_type=str(d["db_type"]),
        user=str(d.get("user") or ""),
        alias=str(d.get("alias") or ""),
        source=str(d.get("source") or "PUBLIC_OWN"),
        env_type=str(d.get("env_type") or "product"),
        dba_uid=d.get("dba_uid") if isinstance(d.get("dba_uid"), int) else None,
        sid=str(d.get("sid") or ""),
        query_timeout=int(d.get("query_timeout") or 60),
        export_timeout=int(d.get("export_timeout") or 600),
        databases=dict(d.get("databases") or {}),
        retired=dict(d.get("retired") or {}),
        extra=dict(d.get("extra") or {}),
        version=str(d.get("version") or ""),
    )


def require_registrar(user: User, what: str) -> None:
    if user.role not in ("ADMIN", "DBA"):
        raise Forbidden(
            f"User {user.uid} ({user.role}) may not {what}: only an ADMIN or a DBA may."
        )


class Instances:
    """The tenants' registered instances, in the store; their databases, for the data plane."""

    def __init__(
        self,
        store: Store,
        accounts: Accounts,
        data: DataPlane,
        probe: Callable[[Login], tuple[str, list[str]]] = server_info,
    ):
        self.store = store
        self.accounts = accounts
        self.probe = probe
        self._lock = threading.Lock()
        self._seen: tuple[Any, ...] | None = None
        self._cache: tuple[list[Registered], dict[int, Database]] = ([], {})
        data.attach(self.databases)

    # --- reading ----------------------------------------------------------------------------

    def _load(self) -> tuple[list[Registered], dict[int, Database]]:
        """Every registered instance and its databases, re-read only when the table changed
        (one small aggregate query per lookup; another worker's registration shows at once)."""
        sig = tuple(
            self.store.query_one(
                "SELECT count(*), total(rev), max(rev), total(instance_id), total(port),"
                " (SELECT count(*) FROM dms_instance_secrets),"
                " (SELECT total(length(password)) FROM dms_instance_secrets)"
                " FROM dms_instances"
            )
            or ()
        )
        with self._lock:
            if sig == self._seen:
                return self._cache
            rows = self.store.query(
                "SELECT i.*, s.password FROM dms_instances i "
                "LEFT JOIN dms_instance_secrets s USING (instance_id) ORDER BY i.instance_id"
            )
            found = [(_from_row(r), str(r["password"] or "")) for r in rows]
            dbs = {
                db_id: self._database(r, schema, db_id, password)
                for r, password in found
                for schema, db_id in r.databases.items()
            }
            self._cache = ([r for r, _ in found], dbs)
            self._seen = sig
            return self._cache

    @staticmethod
    def _database(r: Registered, schema: str, db_id: int, password: str) -> Database:
        return Database(
            db_id=db_id,
            schema=schema,
            host=r.host,
            port=r.port,
            env_type=r.env_type,
            logic=False,
            instance_id=r.instance_id,
            fixture=None,
            tid=r.tid,
            db_type=r.db_type,
            dsn=_login(r, password).dsn(schema),
            instance_alias=r.alias,
            instance_source=r.source,
            dba_uid=r.dba_uid,
        )

    def databases(self) -> dict[int, Database]:
        """Every registered database by id (the data plane's source)."""
        return self._load()[1]

    def all(self, tid: int) -> list[Registered]:
        return [r for r in self._load()[0] if r.tid == tid]

    def databases_of(self, r: Registered) -> tuple[Database, ...]:
        dbs = self.databases()
        return tuple(dbs[i] for _, i in sorted(r.databases.items()) if i in dbs)

    def find(self, tid: int, instance_id: str) -> Registered | None:
        return next((r for r in self.all(tid) if str(r.instance_id) == instance_id.strip()), None)

    def at(self, tid: int, host: str, port: int) -> Registered | None:
        return next((r for r in self.all(tid) if r.host == host and r.port == port), None)

    # --- writing (ADMIN and DBA) ------------------------------------------------------------

    def _discover(self, login: Login, test: bool) -> tuple[str, list[str]]:
        """The server's version and databases; a refusal fails the call only when tested."""
        try:
            return self.probe(login)
        except Unavailable as exc:
            if not test:
                return "", []
            raise ConnectionFailed(
                f"The connection test failed: {exc} (host {login.host}, port {login.port}, "
                f"user {login.user}). Check Host, Port, DatabaseUser and DatabasePassword "
                "(or register with SkipTest=true)."
            ) from None

    def _taken(self, tid: int, host: str, port: int) -> bool:
        file_dbs = self.accounts.tenants[tid].databases
        return any(d.host == host and d.port == port for d in file_dbs) or (
            self.at(tid, host, port) is not None
        )

    def _next(self, name: str, start: int, taken: set[int]) -> int:
        while True:
            candidate = self.store.next_id(name, start)
            if candidate not in taken:
                return candidate

    def _assign(
        self, tid: int, schemas: list[str], have: dict[str, int], retired: dict[str, int]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Database ids for `schemas`: kept, given back from `retired`, or new."""
        taken = set(self.accounts.databases.file)
        keep = {**retired, **have}
        out = {
            s: keep.get(s) or self._next("dms_database_id", FIRST_DATABASE_ID, taken)
            for s in schemas
        }
        gone = {s: i for s, i in keep.items() if s not in out}
        return dict(sorted(out.items())), dict(sorted(gone.items()))

    def engine_at(self, host: str, port: int) -> str:
        """mysql or postgresql: what the server at host:port speaks (SimplyAddInstance)."""
        try:
            return sniff_engine(host, port)
        except Unavailable as exc:
            raise ConnectionFailed(f"The connection test failed: {exc}.") from None

    def register(
        self, user: User, reg: Registration, test: bool, detect: bool = False
    ) -> Registered:
        """`detect`: a MySQL-protocol server that says it is MariaDB is registered as one."""
        require_registrar(user, "register instances")
        where = f"{reg.host}:{reg.port}"
        if self._taken(user.tid, reg.host, reg.port):
            raise Exists(
                "instance", f"The instance {where} is already registered in tenant {user.tid}."
            )
        version, schemas = self._discover(_login(reg, reg.password), test)
        if detect and reg.db_type == "mysql" and "mariadb" in version.lower():
            reg = replace(reg, db_type="mariadb")
        with self.store.transaction():
            if self._taken(user.tid, reg.host, reg.port):
                raise Exists(
                    "instance", f"The instance {where} is already registered in tenant {user.tid}."
                )
            taken = {d.instance_id for d in self.accounts.databases.file.values()}
            instance_id = self._next("dms_instance_id", FIRST_INSTANCE_ID, taken)
            dbs, _ = self._assign(user.tid, schemas, {}, {})
            r = Registered(
                instance_id=instance_id,
                tid=user.tid,
                host=reg.host,
                port=reg.port,
                db_type=reg.db_type,
                user=reg.user,
                alias=reg.alias or where,
                source=reg.source,
                env_type=reg.env_type,
                dba_uid=reg.dba_uid,
                sid=reg.sid,
                query_timeout=reg.query_timeout,
                export_timeout=reg.export_timeout,
                databases=dbs,
                retired={},
                extra=dict(reg.extra),
                version=version,
            )
            self._save(r)
            self.store.execute(
                "INSERT INTO dms_instance_secrets (instance_id, tid, password) VALUES (?, ?, ?) "
                "ON CONFLICT(instance_id) DO UPDATE SET password=excluded.password",
                (instance_id, user.tid, reg.password),
            )
        return r

    def _save(self, r: Registered) -> None:
        rev = self.store.next_id("dms_instance_rev", 1)
        self.store.execute(
            "INSERT INTO dms_instances (instance_id, tid, host, port, rev, doc) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(instance_id) DO UPDATE SET "
            "host=excluded.host, port=excluded.port, rev=excluded.rev, doc=excluded.doc",
            (r.instance_id, r.tid, r.host, r.port, rev, _doc(r)),
        )

    def _password(self, r: Registered) -> str:
        row = self.store.query_one(
            "SELECT password FROM dms_instance_secrets WHERE instance_id=?", (r.instance_id,)
        )
        return str(row["password"]) if row else ""

    def sync(self, user: User, r: Registered) -> Registered:
        """SyncInstanceMeta: the server's databases now (new ones get ids, gone ones retire)."""
        require_registrar(user, "synchronise instance metadata")
        version, schemas = self._discover(_login(r, self._password(r)), True)
        with self.store.transaction():
            now = self.find(user.tid, str(r.instance_id))
            if now is None:
                raise NotFound(
                    "instance", f"The instance {r.instance_id} does not exist in tenant {user.tid}."
                )
            dbs, retired = self._assign(user.tid, schemas, now.databases, now.retired)
            updated = replace(now, databases=dbs, retired=retired, version=version)
            self._save(updated)
        return updated

    def delete(self, user: User, r: Registered) -> None:
        require_registrar(user, "delete instances")
        with self.store.transaction():
            self.store.execute("DELETE FROM dms_instances WHERE instance_id=?", (r.instance_id,))
            self.store.execute(
                "DELETE FROM dms_instance_secrets WHERE instance_id=?", (r.instance_id,)
            )
