"""Metadata actions through the official SDK on a real socket: instances, databases, tables, columns.

The oracle is each database's own catalog (sqlite3 PRAGMA on a copy built from the fixture script
by the test itself) and the accounts file the test wrote; never the emulator's code.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101 import models as M

from emulator.testing.dbservers import MariaDBServer
from emulator.testing.flows import ROOT
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, BOB, CAROL, DAVE, dms, v1_request, v3_request

SHOP_HOST = "rm-demo.mysql.rds.aliyuncs.com"

TYPED_SQL = """
CREATE TABLE items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  code varchar(64) NOT NULL,
  price decimal(10,2) NOT NULL DEFAULT 0,
  label varchar(32) DEFAULT 'none',
  qty int,
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX items_code ON items (code);
CREATE INDEX items_label_qty ON items (label, qty);
CREATE TABLE pairs (a int NOT NULL, b varchar(8) NOT NULL, note text, PRIMARY KEY (a, b));
CREATE VIEW cheap AS SELECT id, code FROM items WHERE price < 10;
INSERT INTO items (code, price, qty) VALUES ('a', 1.5, 3), ('b', 20, NULL), ('c', 7.25, 1);
INSERT INTO pairs VALUES (1, 'x', NULL), (2, 'y', 'z');
"""
MANY_SQL = "\n".join(f"CREATE TABLE t_{i:03d} (id INTEGER PRIMARY KEY, v text);" for i in range(45))

ACCOUNTS = """
tenants:
  - tid: 5000
    name: meta
    account_id: 5555000000000001
    users:
      - {uid: 500001, name: ann, role: ADMIN, access_key_id: LTAI5tMetaAnn0000000001,
         access_key_secret: MetaAnnSecret00000000000000001}
      - {uid: 500002, name: ben, role: DBA, access_key_id: LTAI5tMetaBen0000000002,
         access_key_secret: MetaBenSecret00000000000000002}
      - {uid: 500003, name: cat, role: USER, access_key_id: LTAI5tMetaCat0000000003,
         access_key_secret: MetaCatSecret00000000000000003}
    databases:
      - {db_id: 51001, schema: typed, host: 10.0.0.5, port: 3306, env_type: product,
         fixture: typed.sql, instance_alias: main-rds, instance_source: ECS_OWN,
         dba_uid: 500002, owners: [500003], instance_id: 7700001}
      - {db_id: 51002, schema: many, host: 10.0.0.5, port: 3306, env_type: product,
         fixture: many.sql}
      - {db_id: 51003, schema: other, host: 10.0.0.9, port: 5432, env_type: dev,
         fixture: many.sql, logic: true}
"""
ANN = ("LTAI5tMetaAnn0000000001", "MetaAnnSecret00000000000000001")
BEN = ("LTAI5tMetaBen0000000002", "MetaBenSecret00000000000000002")
CAT = ("LTAI5tMetaCat0000000003", "MetaCatSecret00000000000000003")


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    d = tmp_path_factory.mktemp("meta-accounts")
    (d / "typed.sql").write_text(TYPED_SQL, encoding="utf-8")
    (d / "many.sql").write_text(MANY_SQL, encoding="utf-8")
    (d / "accounts.yaml").write_text(textwrap.dedent(ACCOUNTS), encoding="utf-8")
    with EmulatorProcess(
        "--accounts", str(d / "accounts.yaml"), "--clock", "manual", "--seed", "3"
    ) as proc:
        proc.fixture_dir = d  # type: ignore[attr-defined]
        yield proc


def oracle(sql: str) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript(sql)
    return conn


def catalog(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """The database's own description of itself, straight from sqlite_master and PRAGMA."""
    out = {}
    for name, kind in conn.execute(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table','view') "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ):
        cols = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        idx = {}
        for _, iname, unique, origin, _ in conn.execute(f'PRAGMA index_list("{name}")'):
            ic = [r[2] for r in conn.execute(f'PRAGMA index_info("{iname}")')]
            if origin == "u" and iname.startswith("sqlite_autoindex_"):
                iname = ic[0]  # MySQL names a UNIQUE constraint's index after its first column
            idx["PRIMARY" if origin == "pk" else iname] = (ic, bool(unique))
        pk = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
        if pk and "PRIMARY" not in idx:
            idx["PRIMARY"] = (pk, True)
        out[name] = {
            "kind": kind,
            "rows": conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0],
            "columns": [
                {
                    "name": c[1],
                    "type": c[2],
                    "nullable": not c[3] and not c[5],
                    "default": None if c[4] is None else str(c[4]).strip("'"),
                }
                for c in cols
            ],
            "indexes": idx,
        }
    return out


def all_tables(client: Any, db_id: str, size: int = 200, **kw: Any) -> tuple[list[Any], set[int]]:
    tables, totals, page = [], set(), 1
    while True:
        body = client.list_tables(
            M.ListTablesRequest(database_id=db_id, page_number=page, page_size=size, **kw)
        ).body
        assert body.success, body.to_map()
        totals.add(body.total_count)
        tables += body.table_list.table
        if len(body.table_list.table) < size:
            return tables, totals
        page += 1


def check_catalog(client: Any, db_id: str, expected: dict[str, dict[str, Any]]) -> None:
    tables, totals = all_tables(client, db_id, return_guid=True, search_name="%")
    assert totals == {len(expected)}
    assert [t.table_name for t in tables] == sorted(expected)
    for t in tables:
        want = expected[t.table_name]
        assert t.num_rows == want["rows"], t.table_name
        assert t.table_type == ("VIEW" if want["kind"] == "view" else "BASE TABLE")
        assert t.database_id == db_id and t.table_guid.startswith(f"IDB_{db_id}.")
        cols = client.list_columns(M.ListColumnsRequest(table_id=t.table_id)).body
        assert cols.success, cols.to_map()
        got = [
            {
                "name": c.column_name,
                "type": c.column_type,
                "nullable": c.nullable,
                "default": c.default_value,
            }
            for c in cols.column_list.column
        ]
        assert got == want["columns"], t.table_name
        detail = client.get_meta_table_detail_info(
            M.GetMetaTableDetailInfoRequest(table_guid=t.table_guid)
        ).body
        assert detail.success, detail.to_map()
        assert [c.column_name for c in detail.detail_info.column_list] == [
            c["name"] for c in want["columns"]
        ]
        assert [c.position for c in detail.detail_info.column_list] == [
            str(i) for i in range(1, len(want["columns"]) + 1)
        ]
        assert {
            i.index_name: (i.index_columns, i.unique) for i in detail.detail_info.index_list
        } == want["indexes"], t.table_name


def _mariadb_default(value: str | None) -> str | None:
    """MariaDB writes DEFAULT NULL as 'NULL' and quotes strings; function defaults are
    compared in upper case (the loader renders `current_timestamp()` as SQL keywords)."""
    if value is None or value == "NULL":
        return None
    text = str(value)
    if text.endswith("()"):
        return text.upper()
    return text[1:-1].replace("''", "'") if text.startswith("'") else text


def mariadb_catalog(server: MariaDBServer, database: str) -> dict[str, dict[str, Any]]:
    """The same dump loaded into a real MariaDB, described by its information_schema."""
    out: dict[str, dict[str, Any]] = {}
    q = server.query
    for name, kind in q(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s",
        (database,),
    ):
        cols = q(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM "
            "information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s "
            "ORDER BY ORDINAL_POSITION",
            (database, name),
        )
        idx: dict[str, tuple[list[str], bool]] = {}
        for iname, non_unique, col in q(
            "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            (database, name),
        ):
            idx.setdefault(iname, ([], not non_unique))[0].append(col)
        ((rows,),) = q(f"SELECT count(*) FROM `{database}`.`{name}`")
        out[name] = {
            "kind": "view" if kind == "VIEW" else "table",
            "rows": rows,
            "columns": [
                {
                    "name": c[0],
                    "type": c[1],
                    "nullable": c[2] == "YES",
                    "default": _mariadb_default(c[3]),
                }
                for c in cols
            ],
            "indexes": idx,
        }
    return out


def test_shop_catalog_equals_mariadb_information_schema(
    endpoint: str, mariadb_server: MariaDBServer
) -> None:
    """The built-in shop is a mysqldump: the catalog is what MariaDB says of the same dump."""
    mariadb_server.query("DROP DATABASE IF EXISTS meta_shop", database="")
    mariadb_server.query("CREATE DATABASE meta_shop CHARACTER SET utf8mb4", database="")
    dump = (ROOT / "fixtures" / "databases" / "shop.mysql.sql").read_text("utf-8")
    mariadb_server.execute_script(dump, database="meta_shop")
    check_catalog(dms(endpoint), "17001", mariadb_catalog(mariadb_server, "meta_shop"))


def test_typed_catalog_keeps_declared_types_defaults_and_indexes(custom: EmulatorProcess) -> None:
    client = dms(custom.endpoint, ANN)
    expected = catalog(oracle(TYPED_SQL))
    check_catalog(client, "51001", expected)
    tables, _ = all_tables(client, "51001", return_guid=True)
    items = next(t for t in tables if t.table_name == "items")
    detail = client.get_meta_table_detail_info(
        M.GetMetaTableDetailInfoRequest(table_guid=items.table_guid)
    ).body.detail_info
    by = {c.column_name: c for c in detail.column_list}
    # the declared spelling, split the way information_schema splits it
    assert (by["code"].column_type, by["code"].data_length) == ("varchar(64)", 64)
    price = by["price"]
    assert (price.column_type, price.data_precision, price.data_scale) == ("decimal(10,2)", 10, 2)
    assert by["id"].auto_increment is True and by["code"].auto_increment is False
    kinds = {i.index_name: i.index_type for i in detail.index_list}
    assert kinds == {"PRIMARY": "Primary", "items_code": "Unique", "items_label_qty": "Normal"}
    cols = client.list_columns(M.ListColumnsRequest(table_id=items.table_id)).body.column_list
    assert {c.column_name: c.default_value for c in cols.column}["label"] == "none"
    pairs = next(t for t in tables if t.table_name == "pairs")
    pcols = client.get_meta_table_detail_info(
        M.GetMetaTableDetailInfoRequest(table_guid=pairs.table_guid)
    ).body.detail_info
    assert not any(c.auto_increment for c in pcols.column_list)  # composite keys never are


def test_list_tables_paging_and_search(custom: EmulatorProcess) -> None:
    client = dms(custom.endpoint, ANN)
    names = sorted(f"t_{i:03d}" for i in range(45))
    for size in (1, 7, 10, 200):
        tables, totals = all_tables(client, "51002", size=size)
        assert totals == {45} and [t.table_name for t in tables] == names
        assert all(t.table_guid is None for t in tables)  # only with ReturnGuid
    found, totals = all_tables(client, "51002", search_name="t_01")
    assert [t.table_name for t in found] == [f"t_01{i}" for i in range(10)] and totals == {10}
    found, _ = all_tables(client, "51002", search_name="T\\_00%")
    assert [t.table_name for t in found] == [f"t_00{i}" for i in range(10)]
    far = client.list_tables(M.ListTablesRequest(database_id="51002", page_number=99)).body
    assert far.success and far.total_count == 45 and far.table_list.table == []


def test_instances_group_databases_by_host_and_port(custom: EmulatorProcess) -> None:
    client = dms(custom.endpoint, ANN)
    body = client.list_instances(M.ListInstancesRequest(page_size=100)).body
    assert body.success and body.total_count == 2
    by_host = {i.host: i for i in body.instance_list.instance}
    main = by_host["10.0.0.5"]
    assert (main.instance_id, main.instance_alias, main.instance_source) == (
        "7700001",
        "main-rds",
        "ECS_OWN",
    )
    assert (main.port, main.env_type, main.dba_id, main.dba_nick_name) == (
        3306,
        "product",
        "500002",
        "ben",
    )
    assert main.owner_id_list.owner_ids == ["500003"] and main.database_password == ""
    dbs = client.list_databases(M.ListDatabasesRequest(instance_id="7700001")).body
    assert dbs.total_count == 2
    assert [(d.database_id, d.schema_name) for d in dbs.database_list.database] == [
        ("51001", "typed"),
        ("51002", "many"),
    ]
    assert all(
        d.instance_id == "7700001" and d.host == "10.0.0.5" for d in dbs.database_list.database
    )
    got = client.get_instance(M.GetInstanceRequest(host="10.0.0.9", port=5432)).body
    assert (
        got.success
        and got.instance.env_type == "dev"
        and got.instance.sell_sitd in ("true", "false")
    )
    for kw, want in (
        ({"env_type": "dev"}, ["10.0.0.9"]),
        ({"search_key": "main"}, ["10.0.0.5"]),
        ({"instance_source": "ECS_OWN"}, ["10.0.0.5"]),
        ({"instance_state": "DISABLE"}, []),
        ({"db_type": "postgresql"}, []),
    ):
        res = client.list_instances(M.ListInstancesRequest(**kw)).body
        assert sorted(i.host for i in res.instance_list.instance) == want, kw
        assert res.total_count == len(want)
    page2 = client.list_instances(M.ListInstancesRequest(page_size=1, page_number=2)).body
    assert page2.total_count == 2 and len(page2.instance_list.instance) == 1


def test_get_and_search_database(custom: EmulatorProcess) -> None:
    client = dms(custom.endpoint, ANN)
    got = client.get_database(
        M.GetDatabaseRequest(host="10.0.0.5", port=3306, schema_name="many")
    ).body
    assert got.success and got.database.database_id == "51002"
    assert got.database.instance_alias == "main-rds" and got.database.catalog_name == "def"
    res = client.search_database(M.SearchDatabaseRequest(search_key="", page_size=1000)).body
    assert res.total_count == 3
    assert {d.database_id for d in res.search_database_list.search_database} == {
        "51001",
        "51002",
        "51003",
    }
    logic = client.search_database(M.SearchDatabaseRequest(search_target="LOGIC_DB")).body
    assert [d.schema_name for d in logic.search_database_list.search_database] == ["other"]
    single = client.search_database(M.SearchDatabaseRequest(search_target="SINGLE_DB")).body
    assert single.total_count == 2
    prod = client.search_database(M.SearchDatabaseRequest(env_type="product", page_size=1)).body
    assert prod.total_count == 2 and len(prod.search_database_list.search_database) == 1
    missing = client.get_database(
        M.GetDatabaseRequest(host="10.0.0.5", port=3306, schema_name="nope")
    ).body
    assert not missing.success and missing.error_code == "DatabaseNotExist"


def test_search_table_across_databases(custom: EmulatorProcess) -> None:
    client = dms(custom.endpoint, ANN)
    res = client.search_table(M.SearchTableRequest(search_key="t_044", return_guid=True)).body
    assert res.success and res.total_count == 2
    assert sorted(t.database_id for t in res.search_table_list.search_table) == ["51002", "51003"]
    logic = client.search_table(
        M.SearchTableRequest(search_key="t_044", search_target="LOGIC_TABLE")
    ).body
    assert [t.db_name for t in logic.search_table_list.search_table] == ["other"]


def test_user_sees_owned_databases_only(custom: EmulatorProcess) -> None:
    cat, ben = dms(custom.endpoint, CAT), dms(custom.endpoint, BEN)
    assert ben.search_database(M.SearchDatabaseRequest()).body.total_count == 3
    mine = cat.search_database(M.SearchDatabaseRequest()).body
    assert [d.database_id for d in mine.search_database_list.search_database] == ["51001"]
    inst = cat.list_instances(M.ListInstancesRequest()).body
    assert [i.host for i in inst.instance_list.instance] == ["10.0.0.5"]
    dbs = cat.list_databases(M.ListDatabasesRequest(instance_id="7700001")).body
    assert [d.schema_name for d in dbs.database_list.database] == ["typed"]
    assert cat.list_tables(M.ListTablesRequest(database_id="51001")).body.total_count == 3
    denied = cat.list_tables(M.ListTablesRequest(database_id="51002")).body
    assert not denied.success and denied.error_code == "NoPermission"
    guid = cat.get_meta_table_detail_info(
        M.GetMetaTableDetailInfoRequest(table_guid="IDB_51002.many.t_001")
    ).body
    assert guid.error_code == "NoPermission"
    owner = cat.search_database(M.SearchDatabaseRequest(search_range="OWNER")).body
    assert owner.total_count == 1
    assert ben.search_database(M.SearchDatabaseRequest(search_range="OWNER")).body.total_count == 0


def test_perm_apply_ticket_grants_a_user_the_database(endpoint: str, control: Control) -> None:
    carol = dms(endpoint, CAROL)
    before = carol.search_database(M.SearchDatabaseRequest()).body
    assert before.success and before.total_count == 0
    assert carol.list_tables(M.ListTablesRequest(database_id="17001")).body.error_code == (
        "NoPermission"
    )
    order = carol.create_order(
        M.CreateOrderRequest(
            plugin_type="PERM_APPLY",
            comment="need shop",
            plugin_param={"reason": "report", "dbId": 17001, "permTypes": ["QUERY"]},
        )
    ).body
    assert order.success, order.to_map()
    control.advance(120)  # the auto tenant approves and finishes the ticket by itself
    after = carol.search_database(M.SearchDatabaseRequest()).body
    assert [d.database_id for d in after.search_database_list.search_database] == ["17001"]
    assert carol.list_tables(M.ListTablesRequest(database_id="17001")).body.total_count == 3
    control.advance(86400 + 60)  # a PERM_APPLY grant lasts `seconds` (one day by default)
    assert carol.search_database(M.SearchDatabaseRequest()).body.total_count == 0


def test_other_tenants_ids_are_clean_not_found(endpoint: str) -> None:
    dave, alice = dms(endpoint, DAVE), dms(endpoint, ALICE)
    shop = all_tables(alice, "17001", return_guid=True)[0][0]
    inst = alice.list_instances(M.ListInstancesRequest()).body.instance_list.instance[0]
    checks = [
        (dave.list_tables(M.ListTablesRequest(database_id="17001")).body, "DatabaseNotExist"),
        (dave.list_columns(M.ListColumnsRequest(table_id=shop.table_id)).body, "TableNotExist"),
        (
            dave.get_meta_table_detail_info(
                M.GetMetaTableDetailInfoRequest(table_guid=shop.table_guid)
            ).body,
            "TableNotExist",
        ),
        (
            dave.list_databases(M.ListDatabasesRequest(instance_id=inst.instance_id)).body,
            "InstanceNotExist",
        ),
        (
            dave.get_instance(M.GetInstanceRequest(host=SHOP_HOST, port=3306)).body,
            "InstanceNotExist",
        ),
        (
            dave.get_database(
                M.GetDatabaseRequest(host=SHOP_HOST, port=3306, schema_name="shop")
            ).body,
            "InstanceNotExist",
        ),
    ]
    for body, code in checks:
        assert (body.success, body.error_code) == (False, code), body.to_map()
    assert dave.search_database(M.SearchDatabaseRequest(search_key="shop")).body.total_count == 0
    assert dave.search_table(M.SearchTableRequest(search_key="customers")).body.total_count == 0
    wrong = alice.list_instances(M.ListInstancesRequest(tid=4000)).body
    assert (wrong.success, wrong.error_code) == (False, "NoPermission")


@pytest.mark.parametrize(
    ("action", "query", "status", "code"),
    [
        ("ListTables", {}, 400, "MissingDatabaseId"),
        ("ListTables", {"DatabaseId": "17001", "PageSize": "201"}, 400, "InvalidPageSize"),
        ("ListTables", {"DatabaseId": "17001", "PageSize": "0"}, 400, "InvalidPageSize"),
        ("ListTables", {"DatabaseId": "17001", "PageNumber": "x"}, 400, "InvalidPageNumber"),
        ("ListTables", {"DatabaseId": "17001", "ReturnGuid": "maybe"}, 400, "InvalidReturnGuid"),
        ("ListTables", {"DatabaseId": "abc"}, 200, "DatabaseNotExist"),
        ("ListTables", {"DatabaseId": "9" * 40}, 200, "DatabaseNotExist"),
        ("ListInstances", {"PageSize": "101"}, 400, "InvalidPageSize"),
        ("ListInstances", {"InstanceState": "ODD"}, 400, "InvalidInstanceState"),
        ("GetInstance", {"Host": SHOP_HOST}, 400, "MissingPort"),
        ("GetInstance", {"Host": SHOP_HOST, "Port": "70000"}, 400, "InvalidPort"),
        ("ListDatabases", {}, 400, "MissingInstanceId"),
        ("ListDatabases", {"InstanceId": "x'; --"}, 200, "InstanceNotExist"),
        ("SearchDatabase", {"PageSize": "1001"}, 400, "InvalidPageSize"),
        ("SearchDatabase", {"SearchTarget": "X"}, 400, "InvalidSearchTarget"),
        ("GetDatabase", {"Host": SHOP_HOST, "Port": "3306"}, 400, "MissingSchemaName"),
        ("ListColumns", {}, 400, "MissingTableId"),
        ("ListColumns", {"TableId": "12"}, 200, "TableNotExist"),
        ("ListColumns", {"TableId": "17001000000000"}, 200, "TableNotExist"),
        ("GetMetaTableDetailInfo", {}, 400, "MissingTableGuid"),
        ("GetMetaTableDetailInfo", {"TableGuid": "IDB_17001.shop"}, 200, "TableNotExist"),
        ("GetMetaTableDetailInfo", {"TableGuid": "IDB_17001.hr.customers"}, 200, "TableNotExist"),
        ("GetMetaTableDetailInfo", {"TableGuid": "IDB_x.shop.a"}, 200, "TableNotExist"),
        ("GetMetaTableDetailInfo", {"TableGuid": "IDB_17001.shop.nope"}, 200, "TableNotExist"),
        ("SearchTable", {"SearchTarget": "VIEW"}, 400, "InvalidSearchTarget"),
    ],
)
def test_bad_parameters_are_clean_errors(
    endpoint: str, action: str, query: dict[str, str], status: int, code: str
) -> None:
    r = v3_request(endpoint, action, query, key=ALICE).send()
    assert r.status_code == status, r.text
    body = r.json()
    assert (body.get("Code") or body.get("ErrorCode")) == code, body
    assert body["RequestId"]


def test_legacy_core_sdk_lists_instances_and_tables(endpoint: str) -> None:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    client = AcsClient(BOB[0], BOB[1], "cn-hangzhou")

    def call(action: str, **params: str) -> Any:
        req = CommonRequest(
            domain=endpoint, version="2018-11-01", action_name=action, product="dms-enterprise"
        )
        req.set_protocol_type("http")
        req.set_method("POST")
        for k, v in params.items():
            req.add_query_param(k, v)
        return json.loads(client.do_action_with_exception(req))

    inst = call("ListInstances")
    assert inst["Success"] and inst["TotalCount"] == 1
    assert inst["InstanceList"]["Instance"][0]["Host"] == SHOP_HOST
    tables = call("ListTables", DatabaseId="17001", ReturnGuid="true")
    assert [t["TableName"] for t in tables["TableList"]["Table"]] == [
        "customers",
        "orders",
        "products",
    ]
    assert isinstance(tables["TableList"]["Table"][0]["DatabaseId"], str)
    assert v1_request(endpoint, "ListDatabases", {"InstanceId": "1"}).send().status_code == 200
