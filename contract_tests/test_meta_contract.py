"""Metadata and users against the target, the way public programs use them.

The discovery walk (ListInstances -> ListDatabases / SearchDatabase -> ListTables ->
GetMetaTableDetailInfo / ListColumns) and user look-ups are read-only and run against any target.
The state machine registers, changes and deletes users it made itself (never the caller), so it
needs --allow-mutations; its invariants: ListUsers agrees with the model of what was done, every
state filter partitions the users, paging agrees with TotalCount, another tenant sees nothing.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_dms_enterprise20181101.client import Client as Dms
from alibabacloud_tea_openapi.models import Config
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from emulator.testing.sdk import DAVE


def config(target, key: tuple[str, str] | None = None) -> Config:
    scheme, host = target.url.split("://", 1)
    key = key or target.key
    cfg = Config(
        access_key_id=key[0], access_key_secret=key[1], endpoint=host.rstrip("/"), protocol=scheme
    )
    if target.scheme == "v1":
        cfg.signature_algorithm = "v2"
    return cfg


def pages(fetch, size: int) -> tuple[list, set[int]]:
    """Every item of a paged list action, and every TotalCount seen on the way."""
    items, totals, page = [], set(), 1
    while True:
        total, chunk = fetch(page, size)
        totals.add(total)
        items += chunk
        if len(chunk) < size or len(items) >= total:
            return items, totals
        page += 1


def test_discovery_walk(target) -> None:
    client = Dms(config(target))
    target.covered.add("walk:metadata")

    def instances(page: int, size: int):
        b = client.list_instances(dm.ListInstancesRequest(page_number=page, page_size=size)).body
        assert b.success, b.to_map()
        return b.total_count, b.instance_list.instance

    found, totals = pages(instances, 2)
    assert len(totals) == 1 and len(found) == totals.pop()
    for inst in found[:3]:
        got = client.get_instance(dm.GetInstanceRequest(host=inst.host, port=inst.port)).body
        assert got.success and got.instance.instance_id == inst.instance_id
        dbs = client.list_databases(
            dm.ListDatabasesRequest(instance_id=inst.instance_id, page_size=100)
        ).body
        assert dbs.success, dbs.to_map()
        for db in dbs.database_list.database[:2]:
            assert isinstance(db.database_id, str)  # a string here, an int in ExecuteScript
            same = client.get_database(
                dm.GetDatabaseRequest(host=db.host, port=db.port, schema_name=db.schema_name)
            ).body
            assert same.success and same.database.database_id == db.database_id

            def tables(page: int, size: int, db_id: str = db.database_id):
                b = client.list_tables(
                    dm.ListTablesRequest(
                        database_id=db_id, page_number=page, page_size=size, return_guid=True
                    )
                ).body
                assert b.success, b.to_map()
                return b.total_count, b.table_list.table

            listed, totals = pages(tables, 2)
            assert len(totals) == 1 and len(listed) == totals.pop()
            assert len({t.table_id for t in listed}) == len(listed)
            for t in listed[:2]:
                detail = client.get_meta_table_detail_info(
                    dm.GetMetaTableDetailInfoRequest(table_guid=t.table_guid)
                ).body
                assert detail.success, detail.to_map()
                cols = client.list_columns(dm.ListColumnsRequest(table_id=t.table_id)).body
                assert [c.column_name for c in cols.column_list.column] == [
                    c.column_name for c in detail.detail_info.column_list
                ]
    me = client.get_user(dm.GetUserRequest()).body
    assert me.success and me.user.uid
    listed = client.list_users(dm.ListUsersRequest(page_size=100)).body
    assert me.user.uid in {u.uid for u in listed.user_list.user}


SALTS = itertools.count(int(time.time() * 1000) % 10**12)


class Users(RuleBasedStateMachine):
    """Users the machine registered: uid -> expected state (NORMAL | DISABLE | DELETE)."""

    target: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.client = Dms(config(type(self).target))
        # the target is shared and never reset: each run's users get uids no other run used
        self.salt = next(SALTS)
        self.model: dict[str, str] = {}
        self.nicks: dict[str, str] = {}

    @rule(n=st.integers(0, 99), roles=st.sampled_from(["USER", "DBA", "USER,DBA"]))
    def register(self, n: int, roles: str) -> None:
        uid = str(self.salt * 100 + n)
        body = self.client.register_user(
            dm.RegisterUserRequest(uid=uid, role_names=roles, user_nick=f"sm{n}")
        ).body
        if self.model.get(uid, "DELETE") == "DELETE":
            assert body.success, body.to_map()
            self.model[uid] = "NORMAL"
        else:
            assert body.error_code == "UserAlreadyExist"

    @rule(data=st.data(), action=st.sampled_from(["DISABLE", "NORMAL", "DELETE"]))
    def change(self, data, action: str) -> None:
        if not self.model:
            return
        uid = data.draw(st.sampled_from(sorted(self.model)))
        req = {"DISABLE": dm.DisableUserRequest, "NORMAL": dm.EnableUserRequest}.get(
            action, dm.DeleteUserRequest
        )(uid=uid)
        fn = {
            "DISABLE": self.client.disable_user,
            "NORMAL": self.client.enable_user,
            "DELETE": self.client.delete_user,
        }[action]
        body = fn(req).body
        if self.model[uid] == "DELETE":
            assert body.error_code == "UserNotExist"
        else:
            assert body.success, body.to_map()
            self.model[uid] = action

    @rule(data=st.data())
    def rename(self, data) -> None:
        alive = sorted(u for u, s in self.model.items() if s != "DELETE")
        if not alive:
            return
        uid = data.draw(st.sampled_from(alive))
        nick = data.draw(st.text("abcxyz", min_size=1, max_size=8))
        assert self.client.update_user(
            dm.UpdateUserRequest(uid=int(uid), user_nick=nick)
        ).body.success
        self.nicks[uid] = nick

    @invariant()
    def list_users_agrees(self) -> None:
        seen: dict[str, str] = {}
        for state in ("NORMAL", "DISABLE", "DELETE"):

            def fetch(page: int, size: int, state: str = state):
                b = self.client.list_users(
                    dm.ListUsersRequest(user_state=state, page_number=page, page_size=size)
                ).body
                return b.total_count, b.user_list.user

            users, totals = pages(fetch, 10)
            assert len(totals) == 1 and len(users) == totals.pop()
            for u in users:
                assert u.uid not in seen, "one user, one state"
                seen[u.uid] = u.state
                if u.uid in self.nicks and u.state != "DELETE":
                    assert u.nick_name == self.nicks[u.uid]
        for uid, state in self.model.items():
            assert seen.get(uid) == state, uid

    @invariant()
    def strangers_see_nothing(self) -> None:
        t = type(self).target
        if not t.control or t.tid != 3000:  # the built-in accounts: DAVE is tenant 4000
            return
        stranger = Dms(config(t, DAVE))
        for uid in list(self.model)[:2]:
            body = stranger.get_user(dm.GetUserRequest(uid=uid)).body
            assert body.error_code == "UserNotExist"


def test_users_state_machine(target) -> None:
    if not target.mutations:
        pytest.skip("registers users on the target: pass --allow-mutations")
    Users.target = target
    target.covered.add("stateful:users")
    base = settings()
    run_state_machine_as_test(
        Users,
        settings=settings(
            max_examples=max(3, base.max_examples // 3), stateful_step_count=15, deadline=None
        ),
    )
