"""The databases of the accounts file, each behind its backend: the data plane's one entry.

Fixture databases are built (and cached by content) when the emulator starts; a bad fixture
stops start-up with one line naming the file; their backends are made at first use. A `dsn` database is only connected on use, so an
unreachable server or bad credentials never stop start-up: `health()` reports it and every call
on that database fails with a clear DMS error.

Databases registered at run time (RegisterInstance: one per schema of a real server) are `dsn`
databases too: `attach()` gives the data plane (and `accounts.databases`) their source, and
their backends are made on first use, so every path that works on a `dsn` database works on
them. `server_info()` is the connection test and schema discovery of a registration.
"""

from __future__ import annotations

import logging
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from emulator.databases.fixtures import FixtureError, build_fixture
from emulator.platform.accounts import Accounts, AccountsError, Database, default_cache_dir

if TYPE_CHECKING:  # the backends load with the first request on a database (issue 18)
    from emulator.databases.backend import DatabaseBackend, Health

log = logging.getLogger("emulator.databases")


def _server_backend(db: Database) -> DatabaseBackend:
    if db.dialect == "postgresql":
        from emulator.databases.postgres import PostgresBackend

        return PostgresBackend(db.dsn or "")
    from emulator.databases.mysql import MySQLBackend

    return MySQLBackend(db.dsn or "")


class DataPlane:
    def __init__(
        self,
        accounts: Accounts,
        state_path: str | None = None,
        now: Callable[[], float] = time.time,
        cache_dir: Path | None = None,
    ):
        self.accounts = accounts
        self._tmp = None if state_path else tempfile.mkdtemp(prefix="dms-emulator-databases-")
        # writable copies of fixture databases: next to the state file, so --state keeps them
        self.work_dir = Path(state_path + ".databases") if state_path else Path(self._tmp or "")
        cache = cache_dir or default_cache_dir()
        self._backends: dict[int, DatabaseBackend] = {}
        # embedded databases: the fixture is built (checked) now, the backend made on first use
        self._embedded: dict[int, Path] = {}
        self._now = now
        self._states: dict[int, Health] = {}
        self._runtime: Callable[[], Mapping[int, Database]] = dict
        self._registered: dict[int, tuple[str | None, DatabaseBackend]] = {}
        self._lock = threading.Lock()
        for db in accounts.databases.values():
            if db.dsn:
                self._backends[db.db_id] = _server_backend(db)
                continue
            assert db.fixture is not None
            try:
                built = build_fixture(db.fixture, db.dialect, cache)
            except FixtureError as exc:
                raise AccountsError(
                    f"accounts file {accounts.source}: database {db.db_id} ({db.schema}): {exc}"
                ) from None
            self._embedded[db.db_id] = built

    def attach(self, source: Callable[[], Mapping[int, Database]]) -> None:
        """Databases registered at run time (by id), read from `source` on each lookup."""
        self._runtime = source
        self.accounts.databases.attach(source)

    def backend(self, db_id: int) -> DatabaseBackend:
        found = self._backends.get(db_id)
        if found is not None:
            return found
        if db_id in self._embedded:
            return self._embedded_backend(db_id)
        db = self._runtime()[db_id]  # KeyError, as for an unknown id
        with self._lock:
            cached = self._registered.get(db_id)
            if cached is None or cached[0] != db.dsn:  # registered again with other credentials
                cached = (db.dsn, _server_backend(db))
                self._registered[db_id] = cached
            return cached[1]

    def _embedded_backend(self, db_id: int) -> DatabaseBackend:
        from emulator.databases.sqlite import SqliteBackend

        with self._lock:
            found = self._backends.get(db_id)
            if found is None:
                db = self.accounts.databases[db_id]
                found = SqliteBackend(
                    self._embedded[db_id],
                    self.work_dir / f"{db_id}.sqlite",
                    db.dialect,
                    self._now,
                    db.schema,
                )
                self._backends[db_id] = found
            return found

    def health(self, db_id: int) -> Health:
        return self.backend(db_id).health()

    def probe(self) -> threading.Thread:
        """Check every dsn database once, in the background (start-up never waits for a
        server); an unreachable one is logged and reported by `states()`."""

        def run() -> None:
            for db in self.accounts.databases.values():
                if not db.dsn:
                    continue
                health = self.health(db.db_id)
                self._states[db.db_id] = health
                if not health.ok:
                    log.warning("database %s (%s): %s", db.db_id, db.where, health.message)

        thread = threading.Thread(target=run, name="db-probe", daemon=True)
        thread.start()
        return thread

    def states(self) -> list[dict[str, object]]:
        """Each database's engine and last known state (ok | unreachable | unknown)."""
        out: list[dict[str, object]] = []
        for db in self.accounts.databases.values():
            row: dict[str, object] = {
                "db_id": db.db_id,
                "tid": db.tid,
                "db_type": db.db_type or "sqlite",
                "engine": "server" if db.dsn else "embedded",
                "state": "ok",
            }
            if db.dsn:
                h = self._states.get(db.db_id)
                row["where"] = db.where
                row["state"] = "unknown" if h is None else "ok" if h.ok else "unreachable"
                if h is not None and not h.ok:
                    row["message"] = h.message
                elif h is not None:
                    row["version"] = h.version
            out.append(row)
        return out

    def reset(self, tid: int | None = None) -> None:
        """Embedded databases back to their fixtures (one tenant's or all); dsn ones untouched
        (registered instances are the DMS domain's state: the store's reset forgets them)."""
        for db_id in [*self._backends, *(i for i in self._embedded if i not in self._backends)]:
            if tid is None or self.accounts.databases[db_id].tid == tid:
                self.backend(db_id).reset()  # an embedded one not used yet: its working copy

    def close(self) -> None:
        for b in [*self._backends.values(), *(b for _, b in self._registered.values())]:
            b.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


# --- servers registered at run time ------------------------------------------------------------

CONNECT_TIMEOUT = 5.0
# schemas a server keeps for itself: never DMS databases
SYSTEM_SCHEMAS = {
    "mysql": frozenset({"information_schema", "mysql", "performance_schema", "sys"}),
    "postgresql": frozenset(),
}


@dataclass(frozen=True)
class Login:
    """What RegisterInstance hands over: where a server is and the account DMS logs in with."""

    engine: str  # mysql | postgresql (the wire protocol)
    host: str
    port: int
    user: str
    password: str

    def dsn(self, schema: str) -> str:
        """The `dsn` of one of its databases (credentials percent-encoded)."""
        scheme = "postgresql" if self.engine == "postgresql" else "mysql"
        cred = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{cred}@{host}:{self.port}/{quote(schema, safe='')}"


def sniff_engine(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> str:
    """mysql or postgresql, from the server's first bytes (SimplyAddInstance names no type).

    A MySQL server greets first (protocol 10); a PostgreSQL server answers an SSLRequest with
    one byte, `S` or `N`."""
    from emulator.databases.backend import Unavailable

    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack("!ii", 8, 80877103))
            first = sock.recv(5)
    except OSError as exc:
        raise Unavailable(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
    if first[:1] in (b"S", b"N") and len(first) == 1:
        return "postgresql"
    if len(first) >= 5 and first[4] in (9, 10, 0xFF):
        return "mysql"
    raise Unavailable(f"{host}:{port} speaks neither the MySQL nor the PostgreSQL protocol")


def server_info(login: Login, timeout: float = CONNECT_TIMEOUT) -> tuple[str, list[str]]:
    """(server version, its databases) as `login` sees them: the connection test and schema
    discovery of a registration. Unavailable carries the server's own refusal."""
    if login.engine == "postgresql":
        return _postgres_info(login, timeout)
    return _mysql_info(login, timeout)


def _mysql_info(login: Login, timeout: float) -> tuple[str, list[str]]:
    from emulator.databases.backend import Unavailable
    from emulator.databases.mysql import _pymysql

    pymysql = _pymysql()
    try:
        conn = pymysql.connect(
            host=login.host,
            port=login.port,
            user=login.user,
            password=login.password,
            charset="utf8mb4",
            connect_timeout=timeout,
            read_timeout=timeout * 4,
        )
    except Exception as exc:
        raise Unavailable(_driver_message(exc)) from None
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            names = [str(r[0]) for r in cur.fetchall()]
        version = str(conn.get_server_info())
    except Exception as exc:
        raise Unavailable(_driver_message(exc)) from None
    finally:
        _quiet_close(conn)
    system = SYSTEM_SCHEMAS["mysql"]
    return version, sorted(n for n in names if n.lower() not in system)


_PG_DATABASES = (
    "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn "
    "AND has_database_privilege(datname, 'CONNECT') ORDER BY datname"
)


def _postgres_info(login: Login, timeout: float) -> tuple[str, list[str]]:
    from emulator.databases.backend import Unavailable
    from emulator.databases.postgres import _psycopg

    psycopg = _psycopg()
    last: Exception | None = None
    for dbname in ("postgres", "template1", login.user):
        try:
            conn = psycopg.connect(
                host=login.host,
                port=login.port,
                user=login.user,
                password=login.password,
                dbname=dbname,
                connect_timeout=max(1, int(timeout)),
            )
        except Exception as exc:
            last = exc
            # the login itself was refused: another maintenance database will not help
            if "does not exist" not in str(exc) and "permission denied" not in str(exc):
                break
            continue
        try:
            with conn.cursor() as cur:
                cur.execute(_PG_DATABASES)
                names = [str(r[0]) for r in cur.fetchall()]
            return str(conn.info.parameter_status("server_version") or ""), names
        except Exception as exc:
            raise Unavailable(_driver_message(exc)) from None
        finally:
            _quiet_close(conn)
    raise Unavailable(_driver_message(last or Exception("no database accepts the login")))


def _driver_message(exc: Exception) -> str:
    """The server's (or driver's) own words, without the driver's wrapping."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) > 1 and isinstance(args[0], int):  # PyMySQL: (code, message)
        return f"({args[0]}) {args[1]}"
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def _quiet_close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass
