"""DMS users: the accounts file's users plus what RegisterUser/UpdateUser/... changed since.

The accounts file is the base and never changes; this module's own table `dms_users` holds an
overlay row per user that was registered or changed at run time (state, roles, profile), so a
restart with `--state` keeps them and a reset forgets them. Only this module writes SQL on it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from emulator.core.errors import Exists, Forbidden, Invalid, NotFound
from emulator.platform.accounts import Accounts, User
from emulator.state.store import SqliteDB

TABLE = "dms_users"
# this module alone writes `dms_users`; its declaration is `USERS` in emulator/services/dms/service.py

# the roles RegisterUser/UpdateUser accept; the first three are the emulator's authorisation roles
ROLES = ("USER", "DBA", "ADMIN", "SECURITY_ADMIN", "STRUCT_READ_ONLY")
ROLE_IDS = {"USER": 0, "DBA": 1, "ADMIN": 2, "SECURITY_ADMIN": 3, "STRUCT_READ_ONLY": 4}
STATES = ("NORMAL", "DISABLE", "DELETE")
DEFAULT_MAX_EXECUTE = 2000
DEFAULT_MAX_RESULT = 100_000
FIRST_REGISTERED_ID = 50_000_000


@dataclass(frozen=True)
class DmsUser:
    tid: int
    user_id: int  # the DMS user id (the accounts file's `uid`)
    uid: str  # the Alibaba Cloud account UID (RegisterUser's Uid); the user id for file users
    nick_name: str
    roles: tuple[str, ...]
    state: str
    email: str = ""
    mobile: str = ""
    max_execute_count: int = DEFAULT_MAX_EXECUTE
    max_result_count: int = DEFAULT_MAX_RESULT
    access_key_id: str | None = None  # file users only: registered users cannot sign requests

    @property
    def role(self) -> str:
        """The authorisation role: the strongest of ADMIN > DBA > USER that the user holds."""
        return next((r for r in ("ADMIN", "DBA") if r in self.roles), "USER")


def parse_roles(raw: str) -> tuple[str, ...]:
    """`RoleNames`: one role or several separated by commas; unknown names are refused."""
    names = tuple(dict.fromkeys(r.strip().upper() for r in raw.split(",") if r.strip()))
    unknown = [r for r in names if r not in ROLES]
    if unknown or not names:
        raise Invalid(
            "RoleNames",
            f"Unknown role(s) {', '.join(unknown) or '(none)'}; valid roles: {', '.join(ROLES)}.",
        )
    return names


def _base(user: User) -> DmsUser:
    return DmsUser(
        tid=user.tid,
        user_id=user.uid,
        uid=str(user.uid),
        nick_name=user.nick_name or user.name,
        roles=(user.role,),
        state="NORMAL",
        email=user.email,
        mobile=user.mobile,
        access_key_id=user.access_key_id,
    )


def _doc(u: DmsUser) -> str:
    d = dataclasses.asdict(u)
    for k in ("tid", "user_id", "uid", "access_key_id"):
        d.pop(k)
    return json.dumps(d, sort_keys=True)


def _overlay(base: DmsUser | None, row: Any) -> DmsUser:
    d = json.loads(row["doc"])
    d["roles"] = tuple(d["roles"])
    return DmsUser(
        tid=int(row["tid"]),
        user_id=int(row["user_id"]),
        uid=str(row["uid"]),
        access_key_id=base.access_key_id if base else None,
        **d,
    )


class Users:
    """Every DMS user of every tenant, as the accounts file and the write actions made them."""

    def __init__(self, db: SqliteDB, accounts: Accounts):
        self.db = db  # a store that declares TABLES (created, reset and snapshot there)
        self.accounts = accounts

    # --- reading ----------------------------------------------------------------------------

    def all(self, tid: int) -> list[DmsUser]:
        """The tenant's users (deleted ones too), file users first in file order."""
        base = {u.uid: _base(u) for u in self.accounts.tenants[tid].users}
        rows = self.db.query("SELECT * FROM dms_users WHERE tid=? ORDER BY user_id", (tid,))
        overlay = {int(r["user_id"]): _overlay(base.get(int(r["user_id"])), r) for r in rows}
        users = [overlay.pop(uid, u) for uid, u in base.items()]
        return users + list(overlay.values())

    def by_user_id(self, tid: int, user_id: int) -> DmsUser | None:
        return next((u for u in self.all(tid) if u.user_id == user_id), None)

    def by_uid(self, tid: int, uid: str) -> DmsUser | None:
        return next((u for u in self.all(tid) if u.uid == uid), None)

    def get(self, tid: int, uid: str | None = None, user_id: str | None = None) -> DmsUser:
        """GetUser: by Aliyun UID or DMS user id; a deleted user or another tenant's is unknown."""
        found = None
        if user_id is not None:
            found = (
                self.by_user_id(tid, int(user_id))
                if user_id.isdigit() and user_id.isascii() and len(user_id) < 19
                else None
            )
        elif uid is not None:
            found = self.by_uid(tid, uid)
        if found is None or found.state == "DELETE":
            raise NotFound("user", f"The user {uid or user_id} does not exist in tenant {tid}.")
        return found

    def search(
        self,
        tid: int,
        role: str | None,
        state: str | None,
        key: str | None,
        page: int,
        size: int,
    ) -> tuple[int, list[DmsUser]]:
        """ListUsers: a role, a state (without one: all but deleted users), a fuzzy key."""
        out = []
        needle = (key or "").lower()
        for u in self.all(tid):
            if (state and u.state != state) or (not state and u.state == "DELETE"):
                continue
            if role and role not in u.roles:
                continue
            if needle and not any(
                needle in f.lower() for f in (u.nick_name, u.uid, str(u.user_id), u.email, u.mobile)
            ):
                continue
            out.append(u)
        return len(out), out[(page - 1) * size : page * size]

    def standing(self, user: User) -> tuple[str, str]:
        """(state, authorisation role) of a signed-in file user now: one indexed read per call."""
        row = self.db.query_one(
            "SELECT * FROM dms_users WHERE tid=? AND user_id=?", (user.tid, user.uid)
        )
        if row is None:
            return "NORMAL", user.role
        now = _overlay(None, row)
        return now.state, now.role

    # --- writing (ADMIN only) ---------------------------------------------------------------

    def _save(self, u: DmsUser) -> None:
        self.db.execute(
            "INSERT INTO dms_users (tid, user_id, uid, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(tid, user_id) DO UPDATE SET uid=excluded.uid, doc=excluded.doc",
            (u.tid, u.user_id, u.uid, _doc(u)),
        )

    def _next_id(self) -> int:
        taken = {u.uid for t in self.accounts.tenants.values() for u in t.users}
        while True:
            row = self.db.query_one("SELECT max(user_id) FROM dms_users")
            candidate = max(FIRST_REGISTERED_ID, int(row[0] or 0) + 1) if row else 0
            while candidate in taken:
                candidate += 1
            return candidate

    def register(
        self, admin: User, uid: str, roles: tuple[str, ...], nick: str, mobile: str
    ) -> DmsUser:
        require_admin(admin, "register users")
        with self.db.transaction():
            existing = self.by_uid(admin.tid, uid)
            if existing is not None and existing.state != "DELETE":
                raise Exists("user", f"The user {uid} is already a user of tenant {admin.tid}.")
            user = DmsUser(
                tid=admin.tid,
                user_id=existing.user_id if existing else self._next_id(),
                uid=uid,
                nick_name=nick or uid,
                roles=roles,
                state="NORMAL",
                mobile=mobile,
                email=existing.email if existing else "",
                access_key_id=existing.access_key_id if existing else None,
            )
            self._save(user)
            return user

    def update(self, admin: User, uid: str, **changes: Any) -> DmsUser:
        require_admin(admin, "update users")
        with self.db.transaction():
            user = self.get(admin.tid, uid=uid)
            if "roles" in changes and user.user_id == admin.uid and "ADMIN" not in changes["roles"]:
                raise Forbidden("An ADMIN cannot take the ADMIN role from themselves.")
            user = dataclasses.replace(user, **{k: v for k, v in changes.items() if v is not None})
            self._save(user)
            return user

    def set_state(self, admin: User, uid: str, state: str) -> DmsUser:
        require_admin(
            admin, {"NORMAL": "enable", "DISABLE": "disable"}.get(state, "delete") + " users"
        )
        with self.db.transaction():
            user = self.get(admin.tid, uid=uid)
            if user.user_id == admin.uid and state != "NORMAL":
                raise Forbidden(
                    f"An ADMIN cannot {'disable' if state == 'DISABLE' else 'delete'} themselves.",
                )
            user = dataclasses.replace(user, state=state)
            self._save(user)
            return user


def require_admin(user: User | DmsUser, what: str) -> None:
    if user.role != "ADMIN":
        raise Forbidden(
            f"User {getattr(user, 'uid', '')} ({user.role}) may not {what}: an ADMIN is required.",
        )
