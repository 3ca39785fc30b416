"""The dump loader: what it keeps (checked against the real servers running the same dump file)
and what it refuses (a fixture it cannot take names the file, the line and the construct)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from emulator.databases.loader import FixtureError, load_script
from emulator.testing.dbservers import MariaDBServer, PostgresServer, compare_rows

MYSQL_HEAD = """-- MySQL dump 10.13
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE `t` (
  `id` int NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;
"""


@pytest.mark.parametrize(
    ("tail", "construct"),
    [
        (
            "DELIMITER ;;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.id = 1;;\n",
            "DELIMITER",
        ),
        ("CREATE PROCEDURE p() SELECT 1;\n", "CREATE PROCEDURE"),
        ("CREATE TABLE g (id int,\n pt POINT);\n", "syntax near 'POINT'"),
        ("INSERT INTO nowhere VALUES (1);\n", "INSERT on unknown table nowhere"),
        ("INSERT INTO t SELECT 1;\n", "INSERT ... SELECT"),
    ],
)
def test_mysql_fixture_refusal_names_file_line_and_construct(tail: str, construct: str) -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(FixtureError) as info:
        load_script(conn, MYSQL_HEAD + tail, "mysql", "bad.mysql.sql")
    err = info.value
    assert err.filename == "bad.mysql.sql"
    assert err.line == MYSQL_HEAD.count("\n") + 1 + ("POINT" in tail)
    assert construct in err.construct
    assert str(err).startswith(f"bad.mysql.sql:{err.line}: cannot load ")


def test_pg_fixture_refusal_names_line() -> None:
    script = (
        "SET client_encoding = 'UTF8';\n\\restrict abc\n"
        "CREATE TABLE public.t (id integer NOT NULL);\n"
        "COPY public.t (id) FROM stdin;\n1\n2\n\\.\n"
        "CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql AS $$ SELECT 1; $$;\n"
    )
    with pytest.raises(FixtureError) as info:
        load_script(sqlite3.connect(":memory:"), script, "postgresql", "x.pg.sql")
    assert (info.value.line, info.value.construct) == (8, "CREATE FUNCTION PUBLIC")


# --------------------------------------------------------------------------- against the servers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "databases"
TABLES = ("customers", "products", "orders")


def embedded(fixture: str, dialect: str) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    load_script(conn, (FIXTURES / fixture).read_text(), dialect, fixture)
    return conn


def dms_columns(conn: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT column_name, ordinal, column_type, nullable, primary_key, auto_increment, comment"
        " FROM _dms_columns WHERE table_name = ? ORDER BY ordinal",
        (table,),
    ).fetchall()


def test_mysqldump_keeps_rows_types_keys_and_comments_like_mariadb(
    mariadb_server: MariaDBServer,
) -> None:
    """Oracle: the same dump file run by the `mariadb` client, read back from information_schema."""
    mariadb_server.query("DROP DATABASE IF EXISTS loader_check", database="")
    mariadb_server.query("CREATE DATABASE loader_check", database="")
    mariadb_server.execute_script((FIXTURES / "shop.mysql.sql").read_text(), "loader_check")
    conn = embedded("shop.mysql.sql", "mysql")
    for table in TABLES:
        real_rows = mariadb_server.query(
            f"SELECT * FROM {table} ORDER BY id", database="loader_check"
        )
        got_rows = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        assert compare_rows(real_rows, got_rows) is None, table
        real_cols = mariadb_server.query(
            "SELECT c.column_name, c.ordinal_position, c.column_type, c.is_nullable = 'YES',"
            " CASE WHEN c.column_key = 'PRI' THEN s.seq_in_index ELSE 0 END,"
            " c.extra LIKE '%%auto_increment%%', NULLIF(c.column_comment, '')"
            " FROM information_schema.columns c LEFT JOIN information_schema.statistics s"
            "  ON s.table_schema = c.table_schema AND s.table_name = c.table_name"
            "  AND s.column_name = c.column_name AND s.index_name = 'PRIMARY'"
            " WHERE c.table_schema = 'loader_check' AND c.table_name = %s ORDER BY c.ordinal_position",
            (table,),
            database="loader_check",
        )
        assert compare_rows(real_cols, dms_columns(conn, table)) is None, table
        defaults = mariadb_server.query(
            "SELECT column_name, column_default FROM information_schema.columns"
            " WHERE table_schema = 'loader_check' AND table_name = %s ORDER BY ordinal_position",
            (table,),
            database="loader_check",
        )
        got_defaults = conn.execute(
            "SELECT column_name, default_value FROM _dms_columns WHERE table_name = ? ORDER BY ordinal",
            (table,),
        ).fetchall()
        assert [(n, (d or "").lower()) for n, d in defaults] == [
            (n, (d or "").lower()) for n, d in got_defaults
        ], table
        comment, engine = mariadb_server.query(
            "SELECT NULLIF(table_comment, ''), engine FROM information_schema.tables"
            " WHERE table_schema = 'loader_check' AND table_name = %s",
            (table,),
            database="loader_check",
        )[0]
        assert conn.execute(
            "SELECT comment, engine FROM _dms_tables WHERE table_name = ?", (table,)
        ).fetchone() == (comment, engine)
    # NOT NULL and the primary key are enforced by the embedded table itself, as on the server.
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO customers (id, name) VALUES (1, 'dup')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO products (sku, title) VALUES (NULL, 'x')")


def test_pg_dump_keeps_rows_types_keys_and_comments_like_postgres(
    postgres_server: PostgresServer,
) -> None:
    admin = postgres_server.connect(autocommit=True)
    admin.execute("DROP DATABASE IF EXISTS loader_check")
    admin.execute("CREATE DATABASE loader_check")
    admin.close()
    postgres_server.execute_script((FIXTURES / "shop.pg.sql").read_text(), "loader_check")
    conn = embedded("shop.pg.sql", "postgresql")
    for table in TABLES:
        real_rows = postgres_server.query(
            f"SELECT * FROM {table} ORDER BY id", database="loader_check"
        )
        got_rows = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        assert compare_rows(real_rows, got_rows) is None, table
        real_cols = postgres_server.query(
            "SELECT a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
            " COALESCE(array_position(i.indkey::int2[], a.attnum) + 1, 0),"
            " COALESCE(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%', false),"
            " col_description(a.attrelid, a.attnum)"
            " FROM pg_attribute a"
            " LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY a.attnum",
            (f"public.{table}",),
            database="loader_check",
        )
        assert compare_rows(real_cols, dms_columns(conn, table)) is None, table
        comment = postgres_server.query(
            "SELECT obj_description(%s::regclass, 'pg_class')",
            (f"public.{table}",),
            database="loader_check",
        )[0][0]
        assert conn.execute(
            "SELECT comment FROM _dms_tables WHERE table_name = ?", (table,)
        ).fetchone() == (comment,)


VIEW = "CREATE VIEW paid_orders AS SELECT id, amount FROM orders WHERE status = 'PAID'"
MYSQL_MISC = """
CREATE TABLE misc (
  id int unsigned NOT NULL AUTO_INCREMENT, kind enum('a','b c') NOT NULL DEFAULT 'a',
  flags set('x','y') DEFAULT NULL, doc json DEFAULT NULL, ok tinyint(1) NOT NULL DEFAULT 0,
  ratio double DEFAULT NULL, t time DEFAULT NULL, y year(4) DEFAULT NULL, d date DEFAULT NULL,
  bin varbinary(8) DEFAULT NULL, note mediumtext COLLATE utf8mb4_bin, PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO misc (kind, flags, doc, ok, ratio, t, y, d, bin, note) VALUES
  ('b c', 'x,y', '{"k": [1, 2]}', 1, 0.125, '12:34:56', 2024, '2024-02-29', 'ab', 'back\\slash'),
  ('a', NULL, NULL, 0, -1e-3, NULL, NULL, NULL, NULL, 'quote \\' and \\"dq\\" and \\ttab'),
  ('a', '', '[]', 0, NULL, '00:00:01', 1999, '1999-12-31', '', NULL);
"""
PG_MISC = """
CREATE TABLE misc (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ok boolean NOT NULL DEFAULT false,
  ratio double precision, t time, d date, amount numeric, note text, ts timestamptz
);
INSERT INTO misc (ok, ratio, t, d, amount, note, ts) VALUES
  (true, 0.125, '12:34:56', '2024-02-29', 12.5, E'tab\\there \\\\ back', '2024-01-02 03:04:05+00'),
  (false, NULL, NULL, NULL, NULL, NULL, NULL),
  (true, -1e-3, '00:00:01', '1999-12-31', 1e10, 'quote '' "dq"', '1999-12-31 23:59:59+00');
"""


@pytest.fixture(scope="module")
def maria_variants(mariadb_server: MariaDBServer) -> MariaDBServer:
    mariadb_server.query("DROP DATABASE IF EXISTS dump_variants", database="")
    mariadb_server.query("CREATE DATABASE dump_variants", database="")
    mariadb_server.execute_script((FIXTURES / "shop.mysql.sql").read_text(), "dump_variants")
    mariadb_server.query(VIEW, database="dump_variants")
    mariadb_server.execute_script(MYSQL_MISC, "dump_variants")
    return mariadb_server


@pytest.fixture(scope="module")
def pg_variants(postgres_server: PostgresServer) -> PostgresServer:
    admin = postgres_server.connect(autocommit=True)
    admin.execute("DROP DATABASE IF EXISTS dump_variants")
    admin.execute("CREATE DATABASE dump_variants")
    admin.close()
    postgres_server.execute_script((FIXTURES / "shop.pg.sql").read_text(), "dump_variants")
    postgres_server.query(VIEW, database="dump_variants")
    postgres_server.execute_script(PG_MISC, "dump_variants")
    return postgres_server


def _same_tables(server: MariaDBServer | PostgresServer, conn: sqlite3.Connection) -> None:
    for table in (*TABLES, "paid_orders", "misc"):
        real = server.query(f"SELECT * FROM {table} ORDER BY id", database="dump_variants")
        got = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        assert compare_rows(real, got) is None, table


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--complete-insert",),
        ("--skip-extended-insert",),
        ("--compact",),
        ("--hex-blob", "--tz-utc"),
    ],
    ids=lambda o: " ".join(o) or "default",
)
def test_mariadb_dump_variants_load(
    maria_variants: MariaDBServer, options: tuple[str, ...]
) -> None:
    """What `mariadb-dump` writes with its common options (views included) loads row for row."""
    saved = maria_variants.database
    maria_variants.database = "dump_variants"
    try:
        text = maria_variants.dump(*options)
    finally:
        maria_variants.database = saved
    conn = sqlite3.connect(":memory:")
    load_script(conn, text, "mysql", "variant.mysql.sql")
    _same_tables(maria_variants, conn)


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--inserts",),
        ("--column-inserts",),
        ("--rows-per-insert=50",),
        ("--no-owner", "--no-acl"),
    ],
    ids=lambda o: " ".join(o) or "default",
)
def test_pg_dump_variants_load(pg_variants: PostgresServer, options: tuple[str, ...]) -> None:
    """What `pg_dump` writes in plain format with its common options loads row for row."""
    saved = pg_variants.database
    pg_variants.database = "dump_variants"
    try:
        text = pg_variants.dump(*options)
    finally:
        pg_variants.database = saved
    conn = sqlite3.connect(":memory:")
    load_script(conn, text, "postgresql", "variant.pg.sql")
    _same_tables(pg_variants, conn)
