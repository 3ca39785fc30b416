"""Private MariaDB and PostgreSQL servers for tests: temp data dir, free loopback port, own socket.

Never the machine's system services: each server is initialised into a fresh temporary directory
(`mariadb-install-db` / `initdb`), listens on 127.0.0.1 on a free port and a Unix socket inside
that directory, and is stopped and deleted on exit. PostgreSQL refuses to run as root, so under
root it runs as the `postgres` account via `runuser` on a directory chowned to it.

pytest: import the session fixtures into a conftest
(`from emulator.testing.dbservers import mariadb_server, postgres_server  # noqa: F401`);
each server starts once per session, on first use.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest

from emulator.databases import functions

_S = TypeVar("_S", bound="_Server")

USER = "dms"
PASSWORD = "dms-secret"
DATABASE = "shop"
_START_TIMEOUT = 60.0


class ServerError(RuntimeError):
    """A private server did not start or a script failed; the message carries its log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first(*candidates: str) -> str:
    for c in candidates:
        found = shutil.which(c) or (c if os.path.isabs(c) and os.path.exists(c) else None)
        if found:
            return found
    raise ServerError(f"none of {candidates} is installed (.ci/run installs the servers)")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class _Server:
    kind = ""
    dsn = ""

    def __init__(self, database: str = DATABASE) -> None:
        self.database = database
        self.user = USER
        self.password = PASSWORD
        self.host = "127.0.0.1"
        self.port = 0
        self.tmp: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self: _S) -> _S:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError(f"{self.kind} exited with {self.proc.returncode}:\n{_tail(log)}")
            try:
                conn = self.connect()
                conn.close()
                return
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last = exc
                time.sleep(0.1)
        raise ServerError(f"{self.kind} did not become ready: {last}\n{_tail(log)}")

    def connect(self, database: str | None = None, **kw: Any) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def execute_script(self, sql: str, database: str | None = None) -> None:
        raise NotImplementedError

    def _recreate(self, name: str) -> None:
        raise NotImplementedError

    def fresh_database(self, name: str, script: str | None = None) -> str:
        """The database `name`, dropped and created empty (then `script` run in it, e.g. a
        fixture dump); its DSN, for an accounts file's `dsn:`."""
        self._recreate(name)
        if script is not None:
            self.execute_script(script, database=name)
        return self.dsn.rsplit("/", 1)[0] + f"/{name}"

    def query(
        self, sql: str, params: tuple[Any, ...] = (), database: str | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows of one statement on a fresh connection (committed); database "" means none."""
        conn = self.connect(database=database)
        try:
            cur = conn.cursor()
            cur.execute(sql, params or None)
            rows = list(cur.fetchall()) if cur.description else []
            conn.commit()
            return rows
        finally:
            conn.close()


class MariaDBServer(_Server):
    """A private mariadbd; `.dsn` is `mysql://dms:...@127.0.0.1:PORT/shop`."""

    kind = "mariadb"

    def start(self) -> None:
        install = _first("mariadb-install-db", "mysql_install_db")
        server = _first("mariadbd", "mysqld", "/usr/sbin/mariadbd", "/usr/sbin/mysqld")
        self.tmp = Path(tempfile.mkdtemp(prefix="dms-mariadb-"))
        data = self.tmp / "data"
        self.socket = str(self.tmp / "mysqld.sock")
        log = self.tmp / "server.log"
        init = self.tmp / "init.sql"
        init.write_text(
            f"CREATE DATABASE IF NOT EXISTS `{self.database}`"
            " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n"
            f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\n"
            f"CREATE USER IF NOT EXISTS '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}';\n"
            f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION;\n"
            f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'localhost' WITH GRANT OPTION;\n"
        )
        # its own temporary directory: installs running at once clash in a shared /tmp
        common = ["--no-defaults", f"--datadir={data}", f"--tmpdir={self.tmp}"]
        user = ["--user=root"] if os.geteuid() == 0 else []
        res = subprocess.run(
            [install, *common, *user, "--skip-test-db", "--auth-root-authentication-method=normal"],
            capture_output=True,
            timeout=120,
        )
        if res.returncode != 0:
            raise ServerError(f"mariadb-install-db failed:\n{res.stderr.decode(errors='replace')}")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                server,
                *common,
                *user,
                f"--socket={self.socket}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={self.tmp / 'mysqld.pid'}",
                f"--log-error={log}",
                f"--init-file={init}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=0",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                "--default-time-zone=+00:00",
                "--max-connections=200",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.dsn = f"mysql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{self.database}"
        self._wait_ready(log)

    def connect(self, database: str | None = None, **kw: Any) -> Any:
        import pymysql

        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            database=(self.database if database is None else database) or None,
            charset="utf8mb4",
            connect_timeout=5,
            **kw,
        )

    def _recreate(self, name: str) -> None:
        self.query(f"DROP DATABASE IF EXISTS `{name}`", database="")
        self.query(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4", database="")

    def execute_script(self, sql: str, database: str | None = None) -> None:
        """Run a script the way `mariadb db < dump.sql` does (mysqldump output loads as is)."""
        client = _first("mariadb", "mysql")
        res = subprocess.run(
            [
                client,
                "--no-defaults",
                f"--socket={self.socket}",
                f"--user={USER}",
                f"--password={PASSWORD}",
                "--default-character-set=utf8mb4",
                database or self.database,
            ],  # fmt: skip
            input=sql.encode(),
            capture_output=True,
            timeout=300,
        )
        if res.returncode != 0:
            raise ServerError(f"mariadb script failed: {res.stderr.decode(errors='replace')}")

    def dump(self, *args: str) -> str:
        """`mariadb-dump` of this server's database (used to build mysqldump-style fixtures)."""
        tool = _first("mariadb-dump", "mysqldump")
        res = subprocess.run(
            [
                tool,
                "--no-defaults",
                f"--socket={self.socket}",
                f"--user={USER}",
                f"--password={PASSWORD}",
                "--default-character-set=utf8mb4",
                *args,
                self.database,
            ],  # fmt: skip
            capture_output=True,
            timeout=300,
        )
        if res.returncode != 0:
            raise ServerError(f"mariadb-dump failed: {res.stderr.decode(errors='replace')}")
        return res.stdout.decode()


def _pg_bin(name: str) -> str:
    for version in ("17", "16", "15", "14", "13"):
        path = f"/usr/lib/postgresql/{version}/bin/{name}"
        if os.path.exists(path):
            return path
    return _first(name)


class PostgresServer(_Server):
    """A private PostgreSQL; `.dsn` is `postgresql://dms:...@127.0.0.1:PORT/shop`."""

    kind = "postgresql"

    def _as_owner(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return [_first("runuser"), "-u", "postgres", "--"]

    def start(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="dms-postgres-"))
        data = self.tmp / "data"
        log = self.tmp / "server.log"
        pwfile = self.tmp / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.tmp, pg.pw_uid, pg.pw_gid)
            os.chown(pwfile, pg.pw_uid, pg.pw_gid)
        res = subprocess.run(
            [
                *self._as_owner(),
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],  # fmt: skip
            capture_output=True,
            timeout=120,
        )
        if res.returncode != 0:
            raise ServerError(f"initdb failed:\n{res.stderr.decode(errors='replace')}")
        self.port = free_port()
        with open(log, "wb") as out:
            if os.geteuid() == 0:
                os.chown(log, pwd.getpwnam("postgres").pw_uid, -1)
            self.proc = subprocess.Popen(
                [
                    *self._as_owner(),
                    _pg_bin("postgres"),
                    "-D",
                    str(data),
                    "-k",
                    str(self.tmp),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "timezone=UTC",
                    "-c",
                    "max_connections=100",
                    "-c",
                    "shared_buffers=32MB",
                ],  # fmt: skip
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.dsn = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{self.database}"
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            res = subprocess.run(
                [
                    _pg_bin("createdb"),
                    "-h",
                    str(self.tmp),
                    "-p",
                    str(self.port),
                    "-U",
                    USER,
                    self.database,
                ],  # fmt: skip
                capture_output=True,
                timeout=30,
            )
            if res.returncode == 0:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"postgres did not start: {res.stderr!r}\n{_tail(log)}")
            time.sleep(0.1)
        self._wait_ready(log)

    def connect(self, database: str | None = None, **kw: Any) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            dbname=database or self.database,
            connect_timeout=5,
            **kw,
        )

    def _client(self, tool: str, *args: str, sql: str | None = None) -> str:
        assert self.tmp is not None
        res = subprocess.run(
            [_pg_bin(tool), "-h", str(self.tmp), "-p", str(self.port), "-U", USER, *args],
            input=sql.encode() if sql is not None else None,
            capture_output=True,
            timeout=300,
            env={**os.environ, "PGPASSWORD": PASSWORD},
        )
        if res.returncode != 0:
            raise ServerError(f"{tool} failed: {res.stderr.decode(errors='replace')}")
        return res.stdout.decode()

    def _recreate(self, name: str) -> None:
        conn = self.connect(database="postgres", autocommit=True)
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def execute_script(self, sql: str, database: str | None = None) -> None:
        """Run a script the way `psql -f dump.sql` does (pg_dump plain output loads as is)."""
        self._client(
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database or self.database, sql=sql
        )

    def dump(self, *args: str) -> str:
        """`pg_dump` plain script of this server's database."""
        return self._client("pg_dump", *args, self.database)


# --------------------------------------------------------------------------- result comparison


def normalise(value: Any) -> Any:
    """A driver value as the text a DMS export shows (see tests/test_dialect_conformance.py)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return functions.fmt_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        total = int(value.total_seconds())
        return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if isinstance(value, bytes):
        return value.decode()
    return value


def same_value(real: Any, embedded: Any) -> bool:
    real, embedded = normalise(real), normalise(embedded)
    if real is None or embedded is None:
        return real is None and embedded is None
    numbers = (int, float, Decimal)
    if isinstance(real, Decimal) and isinstance(embedded, str):
        return f"{real:f}" == embedded
    if isinstance(real, numbers) and isinstance(embedded, numbers):
        a, b = (
            Decimal(str(real)),
            Decimal(repr(embedded) if isinstance(embedded, float) else embedded),
        )
        return abs(a - b) <= Decimal("1e-9") * max(Decimal(1), abs(a), abs(b))
    return functions.text_of(real) == functions.text_of(embedded)


def compare_rows(real: list[tuple[Any, ...]], embedded: list[tuple[Any, ...]]) -> str | None:
    """None when equal, else the first difference."""
    if len(real) != len(embedded):
        return f"{len(real)} rows on the server, {len(embedded)} embedded: {real[:3]} vs {embedded[:3]}"
    for i, (r, e) in enumerate(zip(real, embedded, strict=True)):
        if len(r) != len(e):
            return f"row {i}: {len(r)} columns on the server, {len(e)} embedded"
        for j, (a, b) in enumerate(zip(r, e, strict=True)):
            if not same_value(a, b):
                return f"row {i} column {j}: server {a!r}, embedded {b!r} (rows {r!r} vs {e!r})"
    return None


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    """One private MariaDB for the whole session (started on first use)."""
    with MariaDBServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL for the whole session (started on first use)."""
    with PostgresServer() as server:
        yield server
