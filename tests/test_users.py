"""DMS users through the official SDK: the accounts file's users, the ADMIN's writes, restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from alibabacloud_dms_enterprise20181101 import models as M
from alibabacloud_tea_openapi.exceptions import ClientException

from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, BOB, CAROL, DAVE, dms, v3_request

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = yaml.safe_load((ROOT / "fixtures" / "accounts.yaml").read_text(encoding="utf-8"))


def file_users(tid: int) -> list[dict]:
    return next(t for t in BUILTIN["tenants"] if t["tid"] == tid)["users"]


def test_list_users_reports_the_accounts_file(endpoint: str) -> None:
    body = dms(endpoint).list_users(M.ListUsersRequest(page_size=100)).body
    want = file_users(3000)
    assert body.success and body.total_count == len(want)
    got = [
        (u.user_id, u.nick_name, u.role_name_list.role_names, u.state) for u in body.user_list.user
    ]
    assert got == [(str(u["uid"]), u["name"], [u["role"]], "NORMAL") for u in want]
    assert {u.parent_uid for u in body.user_list.user} == {"1234567890123456"}
    dbas = dms(endpoint).list_users(M.ListUsersRequest(role="DBA")).body
    assert [u.nick_name for u in dbas.user_list.user] == ["bob"]
    key = dms(endpoint).list_users(M.ListUsersRequest(search_key="CAR")).body
    assert [u.nick_name for u in key.user_list.user] == ["carol"] and key.total_count == 1
    one = dms(endpoint).list_users(M.ListUsersRequest(page_size=10, page_number=2)).body
    assert one.total_count == len(want) and one.user_list.user == []


@pytest.mark.parametrize("size", ["1", "15", "200", "0"])
def test_list_users_page_sizes_are_10_20_50_100(endpoint: str, size: str) -> None:
    r = v3_request(endpoint, "ListUsers", {"PageSize": size}).send()
    assert r.status_code == 400 and r.json()["Code"] == "InvalidPageSize"


def test_get_user_by_uid_user_id_or_none(endpoint: str) -> None:
    carol = dms(endpoint, CAROL)
    me = carol.get_user(M.GetUserRequest()).body
    assert me.success and (me.user.uid, me.user.nick_name) == ("100003", "carol")
    assert me.user.parent_uid == 1234567890123456  # an integer in GetUser, a string in ListUsers
    by_id = carol.get_user(M.GetUserRequest(user_id="100001")).body.user
    by_uid = carol.get_user(M.GetUserRequest(uid="100001")).body.user
    assert by_id.to_map() == by_uid.to_map() and by_id.role_name_list.role_names == ["ADMIN"]
    for req in (M.GetUserRequest(uid="200001"), M.GetUserRequest(user_id="nope")):
        other = carol.get_user(req).body  # another tenant's user is as unknown as a missing one
        assert (other.success, other.error_code) == (False, "UserNotExist")


def test_profile_keys_of_the_accounts_file(tmp_path: Path) -> None:
    doc = {
        "tenants": [
            {
                "tid": 6000,
                "name": "p",
                "users": [
                    {
                        **file_users(3000)[0],
                        "email": "alice@example.com",
                        "mobile": "13800000000",
                        "nick_name": "Alice W.",
                    }
                ],
            }
        ]
    }
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with EmulatorProcess("--accounts", str(tmp_path / "a.yaml")) as proc:
        u = dms(proc.endpoint).get_user(M.GetUserRequest()).body.user
        assert (u.email, u.mobile, u.nick_name) == ("alice@example.com", "13800000000", "Alice W.")


def test_admin_registers_updates_disables_enables_deletes(endpoint: str) -> None:
    alice, carol = dms(endpoint, ALICE), dms(endpoint, CAROL)
    reg = alice.register_user(
        M.RegisterUserRequest(uid="1234509876", role_names="DBA,USER", user_nick="zed", mobile="1")
    ).body
    assert reg.success, reg.to_map()
    zed = alice.get_user(M.GetUserRequest(uid="1234509876")).body.user
    assert (zed.nick_name, zed.role_name_list.role_names, zed.mobile) == (
        "zed",
        ["DBA", "USER"],
        "1",
    )
    assert zed.user_id != zed.uid
    again = alice.register_user(M.RegisterUserRequest(uid="1234509876")).body
    assert (again.success, again.error_code) == (False, "UserAlreadyExist")
    upd = alice.update_user(
        M.UpdateUserRequest(uid_string="1234509876", user_nick="zed2", max_result_count=5)
    ).body
    assert upd.success, upd.to_map()
    zed = alice.get_user(M.GetUserRequest(uid="1234509876")).body.user
    assert (zed.nick_name, zed.max_result_count) == ("zed2", 5)

    # a disabled user's key is refused on DMS actions, and works again once enabled
    assert alice.disable_user(M.DisableUserRequest(uid="100003")).body.success
    with pytest.raises(ClientException) as exc:
        carol.list_users(M.ListUsersRequest())
    assert exc.value.code == "InvalidAccessKeyId.Inactive" and exc.value.status_code == 400  # type: ignore[attr-defined]
    states = alice.list_users(M.ListUsersRequest(user_state="DISABLE")).body
    assert [u.nick_name for u in states.user_list.user] == ["carol"]
    assert alice.enable_user(M.EnableUserRequest(uid="100003")).body.success
    assert carol.get_user(M.GetUserRequest()).body.user.state == "NORMAL"

    # a role change takes effect: carol promoted to DBA sees every database of the tenant
    assert carol.search_database(M.SearchDatabaseRequest()).body.total_count == 0
    assert alice.update_user(M.UpdateUserRequest(uid=100003, role_names="DBA")).body.success
    assert carol.search_database(M.SearchDatabaseRequest()).body.total_count == 1

    assert alice.delete_user(M.DeleteUserRequest(uid="1234509876")).body.success
    gone = alice.get_user(M.GetUserRequest(uid="1234509876")).body
    assert gone.error_code == "UserNotExist"
    deleted = alice.list_users(M.ListUsersRequest(user_state="DELETE")).body
    assert [u.uid for u in deleted.user_list.user] == ["1234509876"]
    assert alice.delete_user(M.DeleteUserRequest(uid="100003")).body.success
    with pytest.raises(ClientException) as exc:
        carol.get_user(M.GetUserRequest())
    assert exc.value.code == "InvalidAccessKeyId.NotFound"  # type: ignore[attr-defined]


def test_only_an_admin_writes_users(endpoint: str) -> None:
    for key in (BOB, CAROL):
        client = dms(endpoint, key)
        for body in (
            client.register_user(M.RegisterUserRequest(uid="777")).body,
            client.disable_user(M.DisableUserRequest(uid="100003")).body,
            client.update_user(M.UpdateUserRequest(uid=100003, user_nick="x")).body,
            client.delete_user(M.DeleteUserRequest(uid="100002")).body,
        ):
            assert (body.success, body.error_code) == (False, "NoPermission"), body.to_map()
    alice = dms(endpoint, ALICE)
    for body in (
        alice.disable_user(M.DisableUserRequest(uid="100001")).body,
        alice.update_user(M.UpdateUserRequest(uid=100001, role_names="USER")).body,
    ):
        assert (body.success, body.error_code) == (False, "NoPermission")  # no self lock-out
    # another tenant's user is not found, not changed
    assert alice.disable_user(M.DisableUserRequest(uid="200003")).body.error_code == "UserNotExist"
    assert dms(endpoint, DAVE).list_users(M.ListUsersRequest()).body.total_count == 3


@pytest.mark.parametrize(
    ("action", "query", "code"),
    [
        ("RegisterUser", {}, "MissingUid"),
        ("RegisterUser", {"Uid": "12ab"}, "InvalidUid"),
        ("DisableUser", {}, "MissingUid"),
        ("ListUsers", {"Role": "KING"}, "InvalidRole"),
        ("ListUsers", {"UserState": "GONE"}, "InvalidUserState"),
        ("UpdateUser", {"Uid": "100003", "MaxResultCount": "-1"}, "InvalidMaxResultCount"),
    ],
)
def test_bad_user_parameters(endpoint: str, action: str, query: dict, code: str) -> None:
    r = v3_request(endpoint, action, query).send()
    assert r.status_code == 400 and r.json()["Code"] == code, r.text


def test_unknown_role_name_is_a_business_error(endpoint: str) -> None:
    body = dms(endpoint).register_user(M.RegisterUserRequest(uid="42", role_names="USER,KING")).body
    assert (body.success, body.error_code) == (False, "InvalidRoleNames")


def test_user_changes_survive_restart_with_state_and_reset_forgets_them(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    with EmulatorProcess("--state", state) as proc:
        alice = dms(proc.endpoint)
        assert alice.register_user(
            M.RegisterUserRequest(uid="99887766", user_nick="kept")
        ).body.success
        assert alice.disable_user(M.DisableUserRequest(uid="100003")).body.success
    with EmulatorProcess("--state", state) as proc:
        alice = dms(proc.endpoint)
        assert alice.get_user(M.GetUserRequest(uid="99887766")).body.user.nick_name == "kept"
        with pytest.raises(ClientException):
            dms(proc.endpoint, CAROL).get_user(M.GetUserRequest())
        Control(proc.url).reset()
        assert alice.get_user(M.GetUserRequest(uid="99887766")).body.error_code == "UserNotExist"
        assert dms(proc.endpoint, CAROL).get_user(M.GetUserRequest()).body.success


def test_reset_of_one_tenant_keeps_the_other(endpoint: str, control: Control) -> None:
    alice, dave = dms(endpoint, ALICE), dms(endpoint, DAVE)
    assert alice.register_user(M.RegisterUserRequest(uid="31")).body.success
    assert dave.register_user(M.RegisterUserRequest(uid="41")).body.success
    control.reset(4000)
    assert alice.get_user(M.GetUserRequest(uid="31")).body.success
    assert dave.get_user(M.GetUserRequest(uid="41")).body.error_code == "UserNotExist"
