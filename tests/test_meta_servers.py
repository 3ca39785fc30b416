"""The catalogs of `dsn` databases (real MariaDB and PostgreSQL named in an accounts file):
ListTables, ListColumns and GetMetaTableDetailInfo equal what each server's own catalog says
when queried directly, and paging and TotalCount agree with it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101 import models as M

from emulator.testing.dbservers import MariaDBServer, PostgresServer
from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import dms

TABLES = 23  # 3 pages of 10
MYSQL_DB, PG_DB = "cat_mysql", "cat_pg"


def mysql_script() -> str:
    out = []
    for i in range(TABLES):
        key = "UNIQUE KEY" if i % 3 == 0 else "KEY"
        out.append(
            f"CREATE TABLE t_{i:02d} ("
            " id int NOT NULL AUTO_INCREMENT PRIMARY KEY,"
            f" name varchar({16 + i}) NOT NULL DEFAULT 'n{i}' COMMENT 'the name {i}',"
            " amount decimal(10,2) DEFAULT NULL,"
            " flag tinyint(1) NOT NULL DEFAULT 0,"
            " born datetime DEFAULT CURRENT_TIMESTAMP,"
            f" {key} t_{i:02d}_name (name, flag)"
            f") COMMENT 'table {i}';"
        )
        out.append(
            f"INSERT INTO t_{i:02d} (name) VALUES " + ",".join(f"('r{j}')" for j in range(i)) + ";"
            if i
            else ""
        )
    out.append("CREATE TABLE pair (a int NOT NULL, b char(3) NOT NULL, PRIMARY KEY (a, b));")
    out.append("CREATE VIEW v_small AS SELECT id, name FROM t_01;")
    return "\n".join(s for s in out if s)


def pg_script() -> str:
    out = []
    for i in range(TABLES):
        unique = "UNIQUE " if i % 3 == 0 else ""
        out.append(
            f"CREATE TABLE t_{i:02d} ("
            " id serial PRIMARY KEY,"
            f" name varchar({16 + i}) NOT NULL DEFAULT 'n{i}',"
            " amount numeric(10,2),"
            " flag boolean NOT NULL DEFAULT false,"
            " born timestamp DEFAULT now());"
            f"CREATE {unique}INDEX t_{i:02d}_name ON t_{i:02d} (name, flag);"
            f"COMMENT ON COLUMN t_{i:02d}.name IS 'the name {i}';"
        )
        if i:
            out.append(
                f"INSERT INTO t_{i:02d} (name) SELECT 'r' || g FROM generate_series(1, {i}) g;"
            )
    out.append("CREATE TABLE pair (a int NOT NULL, b char(3) NOT NULL, PRIMARY KEY (a, b));")
    out.append("CREATE VIEW v_small AS SELECT id, name FROM t_01;")
    return "\n".join(out)


ACCOUNTS = """
tenants:
  - tid: 6000
    name: servers
    users:
      - {{uid: 600001, name: ann, role: ADMIN, access_key_id: {key},
         access_key_secret: {secret}}}
    databases:
      - {{db_id: 61001, schema: {mysql_db}, db_type: mariadb, host: 127.0.0.1,
         port: {mport}, dsn: "{mysql_dsn}"}}
      - {{db_id: 61002, schema: {pg_db}, db_type: postgresql, host: 127.0.0.1,
         port: {pport}, dsn: "{pg_dsn}"}}
"""
KEY = ("LTAI5tSrvAnn00000000001", "SrvAnnSecret000000000000000001")


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
    mariadb_server: MariaDBServer,
    postgres_server: PostgresServer,
) -> Iterator[tuple[EmulatorProcess, MariaDBServer, PostgresServer]]:
    mariadb_server.query(f"DROP DATABASE IF EXISTS {MYSQL_DB}", database="")
    mariadb_server.query(f"CREATE DATABASE {MYSQL_DB}", database="")
    mariadb_server.execute_script(mysql_script(), database=MYSQL_DB)
    conn = postgres_server.connect(database="postgres", autocommit=True)
    conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
    conn.execute(f"CREATE DATABASE {PG_DB}")
    conn.close()
    postgres_server.execute_script(pg_script(), database=PG_DB)
    d = tmp_path_factory.mktemp("meta-servers")
    base = lambda dsn, db: dsn.rsplit("/", 1)[0] + f"/{db}"  # noqa: E731
    (d / "accounts.yaml").write_text(
        textwrap.dedent(
            ACCOUNTS.format(
                key=KEY[0],
                secret=KEY[1],
                mysql_db=MYSQL_DB,
                pg_db=PG_DB,
                mport=mariadb_server.port,
                pport=postgres_server.port,
                mysql_dsn=base(mariadb_server.dsn, MYSQL_DB),
                pg_dsn=base(postgres_server.dsn, PG_DB),
            )
        ),
        encoding="utf-8",
    )
    with EmulatorProcess("--accounts", str(d / "accounts.yaml"), "--clock", "manual") as proc:
        yield proc, mariadb_server, postgres_server


# --- the servers' own catalogs, queried directly -----------------------------------------------


def _maria_default(value: Any) -> str | None:
    """information_schema writes DEFAULT NULL as 'NULL' and quotes string literals."""
    if value is None or value == "NULL":
        return None
    text = str(value)
    return text[1:-1].replace("''", "'") if text.startswith("'") else text


def mysql_catalog(server: MariaDBServer) -> dict[str, dict[str, Any]]:
    q = lambda sql: server.query(sql, (MYSQL_DB,), database=MYSQL_DB)  # noqa: E731
    out: dict[str, dict[str, Any]] = {}
    for name, kind in q(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s"
    ):
        out[name] = {"kind": "VIEW" if kind == "VIEW" else "BASE TABLE", "columns": [], "idx": {}}
        ((out[name]["rows"],),) = server.query(f"SELECT count(*) FROM `{name}`", database=MYSQL_DB)
    for t, c, ctype, nullable, default, comment, pos, extra in q(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT,"
        " ORDINAL_POSITION, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s"
        " ORDER BY TABLE_NAME, ORDINAL_POSITION"
    ):
        out[t]["columns"].append(
            {
                "name": c,
                "type": ctype,
                "nullable": nullable == "YES",
                "default": _maria_default(default),
                "comment": comment,
                "position": str(pos),
                "auto": "auto_increment" in extra,
            }
        )
    for t, iname, non_unique, col in q(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS"
        " WHERE TABLE_SCHEMA=%s ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
    ):
        out[t]["idx"].setdefault(iname, ([], not non_unique))[0].append(col)
    return out


def _pg_type(data_type: str, length: Any, precision: Any, scale: Any, udt: str) -> str:
    """information_schema's split put back together the way PostgreSQL spells types."""
    if data_type in ("character varying", "character") and length is not None:
        return f"{data_type}({length})"
    if data_type == "numeric" and precision is not None:
        return f"numeric({precision},{scale})"
    return data_type if data_type != "USER-DEFINED" else udt


def pg_catalog(server: PostgresServer) -> dict[str, dict[str, Any]]:
    q = lambda sql: server.query(sql, database=PG_DB)  # noqa: E731
    out: dict[str, dict[str, Any]] = {}
    for name, kind in q(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema='public'"
    ):
        out[name] = {"kind": "VIEW" if kind == "VIEW" else "BASE TABLE", "columns": [], "idx": {}}
        ((out[name]["rows"],),) = q(f'SELECT count(*) FROM "{name}"')
    comments = {
        (t, c): d
        for t, c, d in q(
            "SELECT c.relname, a.attname, d.description FROM pg_description d"
            " JOIN pg_class c ON c.oid = d.objoid"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid"
        )
    }
    for t, c, dt, length, prec, scale, udt, nullable, default, pos, identity in q(
        "SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision,"
        " numeric_scale, udt_name, is_nullable, column_default, ordinal_position, is_identity"
        " FROM information_schema.columns WHERE table_schema='public'"
        " ORDER BY table_name, ordinal_position"
    ):
        out[t]["columns"].append(
            {
                "name": c,
                "type": _pg_type(dt, length, prec, scale, udt),
                "nullable": nullable == "YES",
                "default": default,
                "comment": comments.get((t, c), ""),
                "position": str(pos),
                "auto": identity == "YES" or str(default or "").startswith("nextval("),
            }
        )
    for t, iname, unique, cols in q(
        "SELECT t.relname, i.relname, ix.indisunique,"
        " array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(n, o)"
        "  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o)"
        " FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid"
        " JOIN pg_class i ON i.oid = ix.indexrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'"
    ):
        out[t]["idx"][iname] = (list(cols), bool(unique))
    return out


# --- what the emulator says ---------------------------------------------------------------------


def listed(
    client: Any, db_id: str, size: int, search: str | None = None
) -> tuple[list[Any], set[int]]:
    tables, totals, page = [], set(), 1
    while True:
        body = client.list_tables(
            M.ListTablesRequest(
                database_id=db_id,
                page_number=page,
                page_size=size,
                return_guid=True,
                search_name=search,
            )
        ).body
        assert body.success, body.to_map()
        totals.add(body.total_count)
        tables += body.table_list.table
        if len(body.table_list.table) < size:
            return tables, totals
        page += 1


def check(client: Any, db_id: str, want: dict[str, dict[str, Any]]) -> None:
    tables, totals = listed(client, db_id, 10)
    assert totals == {len(want)} and len(want) == TABLES + 2
    assert [t.table_name for t in tables] == sorted(want)
    for t in tables:
        w = want[t.table_name]
        assert (t.table_type, t.num_rows) == (w["kind"], w["rows"]), t.table_name
        cols = client.list_columns(M.ListColumnsRequest(table_id=t.table_id)).body
        assert cols.success, cols.to_map()
        got = [
            {
                "name": c.column_name,
                "type": c.column_type,
                "nullable": c.nullable,
                "default": c.default_value,
                "comment": c.description,
                "auto": c.auto_increment,
            }
            for c in cols.column_list.column
        ]
        assert got == [{k: v for k, v in c.items() if k != "position"} for c in w["columns"]], (
            t.table_name
        )
        detail = client.get_meta_table_detail_info(
            M.GetMetaTableDetailInfoRequest(table_guid=t.table_guid)
        ).body
        assert detail.success, detail.to_map()
        info = detail.detail_info
        assert [(c.column_name, c.position) for c in info.column_list] == [
            (c["name"], c["position"]) for c in w["columns"]
        ]
        assert {i.index_name: (i.index_columns, i.unique) for i in info.index_list} == w["idx"]


def test_mariadb_dsn_catalog_equals_information_schema(servers: Any) -> None:
    emu, maria, _ = servers
    check(dms(emu.endpoint, KEY), "61001", mysql_catalog(maria))


def test_postgres_dsn_catalog_equals_its_catalog(servers: Any) -> None:
    emu, _, pg = servers
    check(dms(emu.endpoint, KEY), "61002", pg_catalog(pg))


@pytest.mark.parametrize("db_id", ["61001", "61002"])
def test_search_name_paging_agrees_with_like(servers: Any, db_id: str) -> None:
    emu, maria, pg = servers
    client = dms(emu.endpoint, KEY)
    if db_id == "61001":
        rows = maria.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s"
            " AND TABLE_NAME LIKE %s",
            (MYSQL_DB, "%t\\_1%"),
            database=MYSQL_DB,
        )
    else:
        rows = pg.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            " AND table_name LIKE '%t\\_1%'",
            database=PG_DB,
        )
    want = sorted(r[0] for r in rows)
    tables, totals = listed(client, db_id, 3, search="t_1")
    assert [t.table_name for t in tables] == want and totals == {len(want)} and len(want) == 10
