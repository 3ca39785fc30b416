"""The databases of the accounts file, each behind its backend: the data plane's one entry.

Fixture databases are built (and cached by content) when the emulator starts; a bad fixture
stops start-up with one line naming the file. A `dsn` database is only connected on use, so an
unreachable server or bad credentials never stop start-up: `health()` reports it and every call
on that database fails with a clear DMS error.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from emulator.databases.backend import DatabaseBackend, Health
from emulator.databases.sqlite import FixtureError, SqliteBackend, build_fixture
from emulator.platform.accounts import Accounts, AccountsError, Database, default_cache_dir


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
