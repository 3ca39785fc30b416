"""Translation never fails with anything but UnsupportedSql, and classifies statements safely."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.databases.dialect import UnsupportedSql, split, statement_kind, translate

TOKENS = [
    "SELECT", "FROM", "WHERE", "(", ")", "'", "`", '"', "1", "a", ",", "+", "-", "*", "/",
    "INTERVAL", "DAY", "CAST", "AS", "SIGNED", "DECIMAL(10,2)", "GROUP_CONCAT", "ORDER BY",
    "SEPARATOR", "::", "int", "ARRAY[", "]", "ANY", "NOW()", "DATE_ADD", "#", "--", "/*", "*/",
    ";", "\n", "LIMIT", "OFFSET", "FILTER", "OVER", "NULLS", "LAST", "generate_series", "UNION",
    "WITH", "x", "t", "INTO", "OUTFILE", "FOR UPDATE", "$$", "E'", "\\", "ILIKE", "REGEXP", "~",
    "SELECT x FROM t", "(SELECT 1)", "CASE WHEN", "THEN", "END", "IF(", "DISTINCT", "GROUP BY",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14),
    st.sampled_from(["mysql", "postgresql"]),
)
def test_garbage_is_refused_cleanly(tokens: list[str], dialect: str) -> None:
    sql = " ".join(tokens)
    try:
        translate(sql, dialect)
    except UnsupportedSql as exc:
        assert str(exc)
    statement_kind(sql, dialect)
    split(sql, dialect)


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", "SELECT"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "SELECT"),
        ("(SELECT 1) UNION (SELECT 2)", "SELECT"),
        ("SELECT * FROM t FOR UPDATE", "OTHER"),
        ("SELECT * FROM t LOCK IN SHARE MODE", "OTHER"),
        ("SELECT 1 INTO @a", "OTHER"),
        ("SELECT * FROM t INTO OUTFILE '/tmp/x'", "OTHER"),
        ("SELECT 1; DELETE FROM t", "MULTI"),
        ("DELETE FROM t", "DELETE"),
        ("UPDATE t SET a = 1", "UPDATE"),
        ("INSERT INTO t VALUES (1)", "INSERT"),
        ("REPLACE INTO t VALUES (1)", "REPLACE"),
        ("DROP TABLE t", "DDL"),
        ("TRUNCATE TABLE t", "DDL"),
        ("SET autocommit = 0", "SET"),
        ("CALL p()", "CALL"),
        ("SHOW TABLES", "SHOW"),
        ("", "OTHER"),
    ],
)
def test_mysql_statement_kinds(sql: str, kind: str) -> None:
    assert statement_kind(sql, "mysql") == kind


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", "SELECT"),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "OTHER"),
        ("SELECT * FROM t FOR SHARE", "OTHER"),
        ("COPY t TO PROGRAM 'id'", "COPY"),
        ("SELECT pg_sleep(10)", "SELECT"),
    ],
)
def test_postgresql_statement_kinds(sql: str, kind: str) -> None:
    assert statement_kind(sql, "postgresql") == kind


def test_split_respects_quotes_and_comments() -> None:
    script = (
        "SELECT 'a;b', \"c;d\", `e;f`; # x; y\n"
        "SELECT 1 -- z;\n;\n"
        "/* ; */ SELECT 'it''s', 'back\\'slash;';\n"
        "SELECT 5--1;\n"
    )
    assert split(script, "mysql") == [
        "SELECT 'a;b', \"c;d\", `e;f`",
        "SELECT 1 -- z;",
        "SELECT 'it''s', 'back\\'slash;'",  # a comment before a statement is not part of it
        "SELECT 5--1",
    ]
    assert split("SELECT $$a;b$$; SELECT $t$;$t$;", "postgresql") == [
        "SELECT $$a;b$$",
        "SELECT $t$;$t$",
    ]
