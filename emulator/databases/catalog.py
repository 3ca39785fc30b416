"""The databases of the accounts file, each behind its backend: the data plane's one entry.

Fixture databases are built (and cached by content) when the emulator starts; a bad fixture
stops start-up with one line naming the file. A `dsn` database is only connected on use, so an
unreachable server or bad credentials never stop start-up: `health()` reports it and every call
on that database fails with a clear DMS error.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from emulator.databases.backend import DatabaseBackend, Health
from emulator.databases.sqlite import FixtureError, SqliteBackend, build_fixture
from emulator.platform.accounts import Accounts, AccountsError, Database, default_cache_dir

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
        self._states: dict[int, Health] = {}
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
            self._backends[db.db_id] = SqliteBackend(
                built, self.work_dir / f"{db.db_id}.sqlite", db.dialect, now, db.schema
            )

    def backend(self, db_id: int) -> DatabaseBackend:
        return self._backends[db_id]

    def health(self, db_id: int) -> Health:
        return self._backends[db_id].health()

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
        """Embedded databases back to their fixtures (one tenant's or all); dsn ones untouched."""
        for db in self.accounts.databases.values():
            if tid is None or db.tid == tid:
                self._backends[db.db_id].reset()

    def close(self) -> None:
        for b in self._backends.values():
            b.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
