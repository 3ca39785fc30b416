"""Registering real servers as DMS instances at run time, through the official SDK on a socket.

RegisterInstance / AddInstance / SimplyAddInstance against private MariaDB and PostgreSQL
servers; SyncInstanceMeta, DeleteInstance, roles, tenant isolation, `--state` restarts, reset.
Expected databases and tables come from the servers' own catalogs, queried directly.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as M

from emulator.testing.dbservers import MariaDBServer, PostgresServer, free_port
from emulator.testing.flows import create_export, watch
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, BOB, CAROL, DAVE, dms, v3_request

REQUIRED = {
    "instance_alias": "reg",
    "instance_source": "PUBLIC_OWN",
    "network_type": "VPC",
    "env_type": "dev",
    "query_timeout": 60,
    "export_timeout": 600,
    "safe_rule": "Free",
}


class Emu:
    """One emulator with a --state file that a test may restart."""

    def __init__(self, state: Path):
        self.state = state
        self.proc = EmulatorProcess("--state", str(state), "--clock", "manual").start()

    def restart(self) -> None:
        assert self.proc.stop() == 0
        self.proc = EmulatorProcess("--state", str(self.state), "--clock", "manual").start()

    @property
    def endpoint(self) -> str:
        return self.proc.endpoint

    @property
    def control(self) -> Control:
        return Control(self.proc.url)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emu]:
    e = Emu(tmp_path_factory.mktemp("instances") / "state.sqlite")
    yield e
    e.proc.stop()


@pytest.fixture()
def fresh(emu: Emu) -> Emu:
    emu.control.reset()
    return emu


@pytest.fixture(scope="module")
def maria(mariadb_server: MariaDBServer) -> MariaDBServer:
    for name in ("reg_a", "reg_b", "reg_late"):
        mariadb_server.query(f"DROP DATABASE IF EXISTS {name}", database="")
    mariadb_server.query("CREATE DATABASE reg_a", database="")
    mariadb_server.query("CREATE DATABASE reg_b", database="")
    mariadb_server.execute_script(
        "CREATE TABLE pets (id int PRIMARY KEY AUTO_INCREMENT, name varchar(32) NOT NULL,"
        " born date, KEY pets_name (name));"
        "CREATE TABLE owners (id bigint PRIMARY KEY, email varchar(128) UNIQUE);"
        "INSERT INTO pets (name, born) VALUES ('rex', '2020-01-02'), ('tom', NULL);",
        database="reg_a",
    )
    return mariadb_server


@pytest.fixture(scope="module")
def pg(postgres_server: PostgresServer) -> PostgresServer:
    conn = postgres_server.connect(database="postgres", autocommit=True)
    conn.execute("DROP DATABASE IF EXISTS reg_pg")
    conn.execute("CREATE DATABASE reg_pg")
    conn.close()
    postgres_server.execute_script(
        "CREATE TABLE birds (id serial PRIMARY KEY, name text NOT NULL, wings int DEFAULT 2);"
        "INSERT INTO birds (name) VALUES ('kea'), ('kiwi');",
        database="reg_pg",
    )
    return postgres_server


def register(client: Any, server: Any, kind: str = "MySQL", **kw: Any) -> Any:
    args = {
        **REQUIRED,
        "host": "127.0.0.1",
        "port": server.port,
        "database_user": server.user,
        "database_password": server.password,
        "instance_type": kind,
        "dba_uid": 100002,
        **kw,
    }
    return client.register_instance(M.RegisterInstanceRequest(**args)).body


def instance(client: Any, port: int) -> Any:
    body = client.get_instance(M.GetInstanceRequest(host="127.0.0.1", port=port)).body
    return body


def database_names(client: Any, instance_id: str) -> dict[str, str]:
    body = client.list_databases(
        M.ListDatabasesRequest(instance_id=instance_id, page_size=100)
    ).body
    assert body.success, body.to_map()
    return {d.schema_name: d.database_id for d in body.database_list.database}


def mysql_schemas(server: MariaDBServer) -> set[str]:
    system = {"information_schema", "mysql", "performance_schema", "sys"}
    return {r[0] for r in server.query("SHOW DATABASES", database="")} - system


def pg_databases(server: PostgresServer) -> set[str]:
    rows = server.query(
        "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn",
        database="postgres",
    )
    return {r[0] for r in rows}


def table_names(client: Any, db_id: str) -> list[str]:
    body = client.list_tables(M.ListTablesRequest(database_id=db_id, page_size=200)).body
    assert body.success, body.to_map()
    return [t.table_name for t in body.table_list.table]


def test_register_mariadb_makes_its_schemas_databases(fresh: Emu, maria: MariaDBServer) -> None:
    client = dms(fresh.endpoint, ALICE)
    body = register(client, maria)
    assert body.success, body.to_map()
    got = instance(client, maria.port)
    assert got.success, got.to_map()
    inst = got.instance
    assert (inst.host, inst.port, inst.instance_type) == ("127.0.0.1", maria.port, "mysql")
    assert (inst.instance_alias, inst.env_type, inst.database_user) == ("reg", "dev", "dms")
    assert inst.database_password == "" and inst.dba_id == "100002"
    dbs = database_names(client, inst.instance_id)
    assert set(dbs) == mysql_schemas(maria)
    expected = [
        r[0]
        for r in maria.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='reg_a'"
            " ORDER BY TABLE_NAME"
        )
    ]
    assert table_names(client, dbs["reg_a"]) == expected == ["owners", "pets"]
    listed = client.list_instances(M.ListInstancesRequest(search_key="127.0.0.1")).body
    assert [i.instance_id for i in listed.instance_list.instance] == [inst.instance_id]


def test_a_registered_database_exports_from_the_server(fresh: Emu, maria: MariaDBServer) -> None:
    client = dms(fresh.endpoint, ALICE)
    assert register(client, maria).success
    inst = instance(client, maria.port).instance
    db_id = int(database_names(client, inst.instance_id)["reg_a"])
    order = create_export(client, "SELECT id, name FROM pets ORDER BY id", db=db_id)
    seen = watch(client, fresh.control, order, {"EXPORT_SUCCESS", "EXPORT_FAIL"})
    assert seen[-1] == "EXPORT_SUCCESS", seen
    url = client.get_data_export_download_url(
        M.GetDataExportDownloadURLRequest(order_id=order)
    ).body.download_urlresult.url
    data = requests.get(url, timeout=30).content
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        text = z.read(z.namelist()[0]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    direct = maria.query("SELECT id, name FROM pets ORDER BY id", database="reg_a")
    assert rows[1:] == [[str(a), b] for a, b in direct]


def test_wrong_password_is_refused_and_nothing_is_registered(
    fresh: Emu, maria: MariaDBServer
) -> None:
    client = dms(fresh.endpoint, BOB)
    body = register(client, maria, database_password="not-the-password")
    assert not body.success
    assert body.error_code == "TestConnectionFailed"
    assert "Access denied for user 'dms'" in body.error_message
    assert "not-the-password" not in body.error_message
    got = instance(client, maria.port)
    assert (got.success, got.error_code) == (False, "InstanceNotExist")


def test_skip_test_registers_an_unreachable_server(fresh: Emu) -> None:
    client = dms(fresh.endpoint, ALICE)
    port = free_port()
    body = client.register_instance(
        M.RegisterInstanceRequest(
            **REQUIRED,
            host="127.0.0.1",
            port=port,
            database_user="u",
            database_password="p",
            instance_type="PostgreSQL",
            dba_uid=100002,
            skip_test=True,
        )
    ).body
    assert body.success, body.to_map()
    inst = instance(client, port).instance
    assert inst.instance_type == "postgresql" and database_names(client, inst.instance_id) == {}
    sync = client.sync_instance_meta(M.SyncInstanceMetaRequest(instance_id=inst.instance_id))
    assert (sync.body.success, sync.body.error_code) == (False, "TestConnectionFailed")
    without = register(client, type("S", (), {"port": free_port(), "user": "u", "password": "p"}))
    assert (without.success, without.error_code) == (False, "TestConnectionFailed")


def test_sync_picks_up_a_schema_created_afterwards_and_delete_forgets(
    fresh: Emu, maria: MariaDBServer
) -> None:
    client = dms(fresh.endpoint, ALICE)
    maria.query("DROP DATABASE IF EXISTS reg_late", database="")
    assert register(client, maria).success
    inst = instance(client, maria.port).instance
    before = database_names(client, inst.instance_id)
    assert "reg_late" not in before
    maria.query("CREATE DATABASE reg_late", database="")
    maria.query("CREATE TABLE late_t (id int PRIMARY KEY)", database="reg_late")
    try:
        body = client.sync_instance_meta(
            M.SyncInstanceMetaRequest(instance_id=inst.instance_id, ignore_table=False)
        ).body
        assert body.success, body.to_map()
        after = database_names(client, inst.instance_id)
        assert set(after) == mysql_schemas(maria)
        assert {k: after[k] for k in before} == before  # ids are kept
        assert table_names(client, after["reg_late"]) == ["late_t"]
    finally:
        maria.query("DROP DATABASE reg_late", database="")
    client.sync_instance_meta(M.SyncInstanceMetaRequest(instance_id=inst.instance_id))
    assert "reg_late" not in database_names(client, inst.instance_id)
    gone = client.delete_instance(M.DeleteInstanceRequest(host="127.0.0.1", port=maria.port))
    assert gone.body.success, gone.body.to_map()
    assert instance(client, maria.port).error_code == "InstanceNotExist"
    lost = client.list_tables(M.ListTablesRequest(database_id=after["reg_a"])).body
    assert (lost.success, lost.error_code) == (False, "DatabaseNotExist")


def test_add_instance_on_postgresql(fresh: Emu, pg: PostgresServer) -> None:
    client = dms(fresh.endpoint, BOB)
    body = client.add_instance(
        M.AddInstanceRequest(
            **REQUIRED,
            host="127.0.0.1",
            port=pg.port,
            database_user=pg.user,
            database_password=pg.password,
            instance_type="PostgreSQL",
        )
    ).body
    assert body.success, body.to_map()
    inst = instance(client, pg.port).instance
    dbs = database_names(client, inst.instance_id)
    assert set(dbs) == pg_databases(pg)
    expected = [
        r[0]
        for r in pg.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            " ORDER BY table_name",
            database="reg_pg",
        )
    ]
    assert table_names(client, dbs["reg_pg"]) == expected == ["birds"]
    listed = client.list_tables(
        M.ListTablesRequest(database_id=dbs["reg_pg"], return_guid=True)
    ).body.table_list.table[0]
    assert listed.num_rows == pg.query("SELECT count(*) FROM birds", database="reg_pg")[0][0]
    detail = client.get_meta_table_detail_info(
        M.GetMetaTableDetailInfoRequest(table_guid=listed.table_guid)
    ).body.detail_info
    cols = pg.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name='birds'"
        " ORDER BY ordinal_position",
        database="reg_pg",
    )
    assert [c.column_name for c in detail.column_list] == [c[0] for c in cols]


def test_simply_add_instance_tells_the_engine(
    fresh: Emu, maria: MariaDBServer, pg: PostgresServer
) -> None:
    client = dms(fresh.endpoint, ALICE)
    for server, kind in ((maria, "mariadb"), (pg, "postgresql")):
        body = client.simply_add_instance(
            M.SimplyAddInstanceRequest(
                host="127.0.0.1",
                port=server.port,
                database_user=server.user,
                database_password=server.password,
            )
        ).body
        assert body.success, body.to_map()
        assert (body.instance.host, body.instance.port) == ("127.0.0.1", str(server.port))
        inst = instance(client, server.port).instance
        assert (inst.instance_id, inst.instance_type) == (body.instance.instance_id, kind)
    bad = client.simply_add_instance(
        M.SimplyAddInstanceRequest(
            host="127.0.0.1", port=maria.port, database_user="dms", database_password="x"
        )
    ).body
    assert (bad.success, bad.error_code) == (False, "InstanceAlreadyExist")


def test_a_user_may_not_register_and_another_tenant_sees_nothing(
    fresh: Emu, maria: MariaDBServer
) -> None:
    carol = dms(fresh.endpoint, CAROL)
    refused = register(carol, maria)
    assert (refused.success, refused.error_code) == (False, "NoPermission")
    alice = dms(fresh.endpoint, ALICE)
    assert instance(alice, maria.port).error_code == "InstanceNotExist"
    assert register(alice, maria).success
    inst = instance(alice, maria.port).instance
    db_id = database_names(alice, inst.instance_id)["reg_a"]
    # a USER of the tenant sees none of its databases (they own none)
    assert instance(carol, maria.port).error_code == "NoPermission"
    dave = dms(fresh.endpoint, DAVE)
    assert instance(dave, maria.port).error_code == "InstanceNotExist"
    other = dave.list_tables(M.ListTablesRequest(database_id=db_id)).body
    assert (other.success, other.error_code) == (False, "DatabaseNotExist")
    ids = [
        i.instance_id
        for i in dave.list_instances(M.ListInstancesRequest()).body.instance_list.instance
    ]
    assert inst.instance_id not in ids
    # the other tenant may register the same server as its own instance
    assert register(dave, maria).success
    assert instance(dave, maria.port).instance.instance_id != inst.instance_id


def test_state_restart_keeps_it_and_the_password_never_leaves(
    fresh: Emu, maria: MariaDBServer
) -> None:
    client = dms(fresh.endpoint, ALICE)
    assert register(client, maria).success
    before = instance(client, maria.port).instance
    dbs = database_names(client, before.instance_id)
    doc = fresh.control.get("/state")
    assert [r["instance_id"] for r in doc["tables"]["dms_instances"]] == [int(before.instance_id)]
    assert maria.password not in json.dumps(doc)
    fresh.restart()
    client = dms(fresh.endpoint, ALICE)
    after = instance(client, maria.port).instance
    assert after.instance_id == before.instance_id
    assert database_names(client, after.instance_id) == dbs
    assert table_names(client, dbs["reg_a"]) == ["owners", "pets"]  # the password was kept
    fresh.control.reset()
    assert instance(client, maria.port).error_code == "InstanceNotExist"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Host": None}, "MissingHost"),
        ({"Host": "bad host/"}, "InvalidHost"),
        ({"Port": "0"}, "InvalidPort"),
        ({"Port": "x"}, "InvalidPort"),
        ({"DatabasePassword": None}, "MissingDatabasePassword"),
        ({"InstanceType": "Oracle"}, "UnsupportedInstanceType"),
        ({"EnvType": "moon"}, "InvalidEnvType"),
        ({"InstanceSource": "MARS"}, "InvalidInstanceSource"),
        ({"NetworkType": None}, "MissingNetworkType"),
        ({"QueryTimeout": "-1"}, "InvalidQueryTimeout"),
        ({"DbaUid": None}, "MissingDbaUid"),
        ({"SkipTest": "maybe"}, "InvalidSkipTest"),
    ],
)
def test_bad_parameters_are_clean_errors(emu: Emu, change: dict[str, Any], code: str) -> None:
    params = {
        "Tid": "3000",
        "Host": "127.0.0.1",
        "Port": "3306",
        "DatabaseUser": "u",
        "DatabasePassword": "p",
        "InstanceType": "MySQL",
        "InstanceAlias": "x",
        "InstanceSource": "PUBLIC_OWN",
        "NetworkType": "VPC",
        "EnvType": "dev",
        "QueryTimeout": "60",
        "ExportTimeout": "600",
        "SafeRule": "Free",
        "DbaUid": "100002",
        "SkipTest": "true",
    }
    for k, v in change.items():
        if v is None:
            params.pop(k)
        else:
            params[k] = v
    r = v3_request(emu.endpoint, "RegisterInstance", params, key=ALICE).send()
    assert r.status_code == 400, r.text
    assert r.json()["Code"] == code, r.text


def test_sync_and_delete_of_unknown_or_file_instances(emu: Emu) -> None:
    client = dms(emu.endpoint, ALICE)
    unknown = client.sync_instance_meta(M.SyncInstanceMetaRequest(instance_id="123")).body
    assert (unknown.success, unknown.error_code) == (False, "InstanceNotExist")
    shop = client.list_instances(M.ListInstancesRequest()).body.instance_list.instance[0]
    synced = client.sync_instance_meta(M.SyncInstanceMetaRequest(instance_id=shop.instance_id))
    assert synced.body.success
    kept = client.delete_instance(M.DeleteInstanceRequest(host=shop.host, port=shop.port)).body
    assert (kept.success, kept.error_code) == (False, "NoPermission")
    missing = client.delete_instance(M.DeleteInstanceRequest(host="10.9.9.9", port=1)).body
    assert (missing.success, missing.error_code) == (False, "InstanceNotExist")
