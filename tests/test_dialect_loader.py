"""The dump loader's refusals: a fixture it cannot take names the file, the line and the construct."""

from __future__ import annotations

import sqlite3

import pytest

from emulator.databases.loader import FixtureError, load_script

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
