"""Stateful properties of registering instances at run time (RegisterInstance, AddInstance,
SimplyAddInstance, SyncInstanceMeta, DeleteInstance) over the official SDK, against a private
MariaDB whose catalog is read directly (information_schema), never through the emulator.

Whatever the interleaving of registering (by an ADMIN, a DBA or a USER, with the right or a
wrong password, tested or not), creating and dropping schemas on the server, syncing and
deleting, in two tenants:
- only an ADMIN or a DBA registers, syncs or deletes; a refused call changes nothing;
- one registration per host and port per tenant; a failed connection test registers nothing;
- ListInstances / GetInstance show exactly the registered instance, to its own tenant only;
- its databases are the server's schemas as of the last registration or sync.
The suite starts its own emulator (the server is the session's private MariaDB), so it runs on
the emulator only. Known gap (reported to the instances helper): ListTables on a database whose
schema was dropped on the server after the last sync answers HTTP 500; that call is not made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from emulator.testing.dbservers import MariaDBServer
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, BOB, CAROL, DAVE, ERIN, FRANK, dms

HOST = "127.0.0.1"
KEYS = {  # tenant -> role -> key (and the uid a DBA registration names)
    3000: {"ADMIN": ALICE, "DBA": BOB, "USER": CAROL},
    4000: {"ADMIN": DAVE, "DBA": ERIN, "USER": FRANK},
}
UIDS = {3000: 100001, 4000: 200001}
SYSTEM = {"information_schema", "mysql", "performance_schema", "sys"}
PREFIX = "sm_"


def server_schemas(server: MariaDBServer) -> set[str]:
    """The schemas a DMS instance of this server has: what information_schema lists."""
    rows = server.query("SELECT schema_name FROM information_schema.schemata", database="")
    return {str(r[0]) for r in rows} - SYSTEM


class Registrations(RuleBasedStateMachine):
    world: Any = None  # (EmulatorProcess, MariaDBServer), set by the test

    def __init__(self) -> None:
        super().__init__()
        proc, server = type(self).world
        self.url = proc.url
        self.server: MariaDBServer = server
        Control(proc.url).reset()
        for name in server_schemas(server):
            if name.startswith(PREFIX):
                server.query(f"DROP DATABASE `{name}`", database="")
        self.clients = {
            (tid, role): dms(proc.endpoint, key)
            for tid, roles in KEYS.items()
            for role, key in roles.items()
        }
        # tenant -> the schemas its registration knows (None: not registered)
        self.known: dict[int, set[str] | None] = {3000: None, 4000: None}
        self.password_ok: dict[int, bool] = {}
        for tid in KEYS:
            assert self.instance(tid) is None, "reset keeps no registration"

    def client(self, tid: int, role: str = "ADMIN") -> Any:
        return self.clients[(tid, role)]

    def instance(self, tid: int) -> Any:
        """The tenant's instance at the server's host and port (GetInstance), or None."""
        body = (
            self.client(tid)
            .get_instance(dm.GetInstanceRequest(host=HOST, port=self.server.port))
            .body
        )
        if not body.success:
            assert body.error_code, body.to_map()
            return None
        return body.instance

    def refused_changes_nothing(self, body: Any, tid: int) -> None:
        assert body.error_code and body.error_message, body.to_map()
        assert (self.instance(tid) is None) == (self.known[tid] is None)

    @initialize(
        tid=st.sampled_from([3000, 4000]),
        via=st.sampled_from(["RegisterInstance", "AddInstance", "SimplyAddInstance"]),
    )
    def first(self, tid: int, via: str) -> None:
        """Every run starts with one registration that works, so the rest has work to do."""
        self.attempt(tid, "DBA" if tid == 4000 else "ADMIN", via, True, False)

    @rule(
        tid=st.sampled_from([3000, 4000]),
        role=st.sampled_from(["ADMIN", "DBA", "USER"]),
        via=st.sampled_from(["RegisterInstance", "AddInstance", "SimplyAddInstance"]),
        good=st.booleans(),
        skip_test=st.booleans(),
    )
    def register(self, tid: int, role: str, via: str, good: bool, skip_test: bool) -> None:
        self.attempt(tid, role, via, good, skip_test)

    def attempt(self, tid: int, role: str, via: str, good: bool, skip_test: bool) -> None:
        c = self.client(tid, role)
        password = self.server.password if good else "not-the-password"
        common = {
            "host": HOST,
            "port": self.server.port,
            "database_user": self.server.user,
            "database_password": password,
        }
        full = {
            **common,
            "instance_type": "MariaDB",
            "instance_alias": f"sm-{tid}",
            "instance_source": "PUBLIC_OWN",
            "network_type": "VPC",
            "env_type": "dev",
            "query_timeout": 60,
            "export_timeout": 600,
            "safe_rule": "Free",
            "skip_test": skip_test,
        }
        if via == "RegisterInstance":
            body = c.register_instance(dm.RegisterInstanceRequest(**full, dba_uid=UIDS[tid])).body
        elif via == "AddInstance":
            body = c.add_instance(dm.AddInstanceRequest(**full)).body
        else:
            body = c.simply_add_instance(dm.SimplyAddInstanceRequest(**common)).body
        tested = via == "SimplyAddInstance" or not skip_test
        legal = role != "USER" and self.known[tid] is None and (good or not tested)
        assert bool(body.success) is legal, (via, role, good, skip_test, body.to_map())
        if not legal:
            self.refused_changes_nothing(body, tid)
            return
        self.known[tid] = server_schemas(self.server) if good else set()
        self.password_ok[tid] = good
        if via == "SimplyAddInstance":
            got = self.instance(tid)
            assert body.instance.instance_id == got.instance_id and body.instance.host == HOST

    @rule(n=st.integers(0, 3), create=st.booleans())
    def change_server(self, n: int, create: bool) -> None:
        """Schemas appear and go on the server behind the emulator's back."""
        name = f"{PREFIX}{n}"
        if create:
            self.server.query(f"CREATE DATABASE IF NOT EXISTS `{name}`", database="")
            self.server.query(f"CREATE TABLE IF NOT EXISTS `{name}`.t (id int primary key)")
        else:
            self.server.query(f"DROP DATABASE IF EXISTS `{name}`", database="")

    @rule(tid=st.sampled_from([3000, 4000]), role=st.sampled_from(["ADMIN", "DBA", "USER"]))
    def sync(self, tid: int, role: str) -> None:
        inst = self.instance(tid)
        if inst is None:
            return
        body = (
            self.client(tid, role)
            .sync_instance_meta(dm.SyncInstanceMetaRequest(instance_id=inst.instance_id))
            .body
        )
        legal = role != "USER" and self.password_ok[tid]
        assert bool(body.success) is legal, (role, self.password_ok[tid], body.to_map())
        if legal:
            self.known[tid] = server_schemas(self.server)
        else:
            self.refused_changes_nothing(body, tid)

    @rule(tid=st.sampled_from([3000, 4000]), role=st.sampled_from(["ADMIN", "DBA", "USER"]))
    def delete(self, tid: int, role: str) -> None:
        body = (
            self.client(tid, role)
            .delete_instance(dm.DeleteInstanceRequest(host=HOST, port=self.server.port))
            .body
        )
        legal = role != "USER" and self.known[tid] is not None
        assert bool(body.success) is legal, (role, self.known[tid], body.to_map())
        if legal:
            self.known[tid] = None
            self.password_ok.pop(tid, None)
        else:
            self.refused_changes_nothing(body, tid)

    @invariant()
    def listed_to_its_tenant_only(self) -> None:
        for tid in KEYS:
            body = self.client(tid).list_instances(dm.ListInstancesRequest(page_size=100)).body
            assert body.success, body.to_map()
            mine = [
                i
                for i in (body.instance_list.instance if body.instance_list else None) or []
                if i.host == HOST and i.port == self.server.port
            ]
            assert len(mine) == (0 if self.known[tid] is None else 1), (tid, self.known)

    @invariant()
    def databases_are_the_schemas_of_the_last_sync(self) -> None:
        for tid, known in self.known.items():
            if known is None:
                continue
            inst = self.instance(tid)
            assert inst is not None
            body = (
                self.client(tid)
                .list_databases(
                    dm.ListDatabasesRequest(instance_id=inst.instance_id, page_size=100)
                )
                .body
            )
            assert body.success, body.to_map()
            listed = {d.schema_name for d in (body.database_list.database or [])}
            assert listed == known, (tid, listed, known)
            live = server_schemas(self.server)
            for db in body.database_list.database or []:
                if db.schema_name not in live:
                    continue  # DROPPED on the server since the sync: ListTables answers 500 today
                tables = (
                    self.client(tid)
                    .list_tables(dm.ListTablesRequest(database_id=db.database_id))
                    .body
                )
                assert tables.success, tables.to_map()

    @invariant()
    def the_console_shows_it(self) -> None:
        """The console's catalog lists the registered instance, its databases and their
        tables (with columns) under its own tenant only."""
        for tid, known in self.known.items():
            page = requests.get(f"{self.url}/_emulator/ui/catalog/?tid={tid}", timeout=30)
            assert page.status_code == 200, page.text
            where = f"{HOST}:{self.server.port}"
            assert (where in page.text) is (known is not None), (tid, known)
            if not known:
                continue
            inst = self.instance(tid)
            assert f'data-instance="{inst.instance_id}"' in page.text
            for schema in known:
                assert f"<td>{schema}</td>" in page.text, schema
            dbs = (
                self.client(tid)
                .list_databases(
                    dm.ListDatabasesRequest(instance_id=inst.instance_id, page_size=100)
                )
                .body.database_list.database
            )
            for db in dbs:
                if db.schema_name.startswith(PREFIX) and db.schema_name in server_schemas(
                    self.server
                ):
                    table = requests.get(
                        f"{self.url}/_emulator/ui/catalog/{db.database_id}/t", timeout=30
                    )
                    assert table.status_code == 200 and "<td>id</td>" in table.text, table.text
                    break


@pytest.fixture(scope="module")
def world(mariadb_server: MariaDBServer) -> Iterator[tuple[EmulatorProcess, MariaDBServer]]:
    """The session's private MariaDB (contract_tests/conftest.py) and an emulator of our own."""
    with EmulatorProcess("--clock", "manual") as proc:
        yield proc, mariadb_server
    for name in server_schemas(mariadb_server):
        if name.startswith(PREFIX):
            mariadb_server.query(f"DROP DATABASE `{name}`", database="")


def test_registration_state_machine(target: Any, world: Any) -> None:
    Registrations.world = world
    target.covered.add("stateful:instances")
    base = settings()
    run_state_machine_as_test(
        Registrations,
        settings=settings(
            max_examples=max(5, base.max_examples // 2),
            stateful_step_count=15,
            deadline=None,
            phases=[p for p in base.phases if p != Phase.shrink] or [Phase.generate],
        ),
    )
