"""The accounts file: tenants, their users and keys, and their fixture databases.

A bad file stops start-up with one clear message naming the file and the problem
(`AccountsError`), never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

ROLES = ("ADMIN", "DBA", "USER")


class AccountsError(Exception):
    """The accounts file cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class User:
    uid: int
    name: str
    role: str
    access_key_id: str
    access_key_secret: str
    tid: int

    @property
    def can_approve(self) -> bool:
        return self.role in ("ADMIN", "DBA")


@dataclass(frozen=True)
class Database:
    db_id: int
    schema: str
    host: str
    port: int
    env_type: str
    logic: bool
    instance_id: int
    fixture: Path
    path: Path  # the built SQLite file the fixture script produced
    tid: int

    @property
    def label(self) -> str:
        """How DMS renders a database in ticket details, e.g. `shop@rm-x:3306 [shop]`."""
        return f"{self.schema}@{self.host}:{self.port} [{self.schema}]"


@dataclass(frozen=True)
class Tenant:
    tid: int
    name: str
    account_id: int
    member_accounts: tuple[int, ...]
    approval: str
    users: tuple[User, ...]
    databases: tuple[Database, ...]


@dataclass
class Accounts:
    source: str
    tenants: dict[int, Tenant] = field(default_factory=dict)
    by_access_key: dict[str, User] = field(default_factory=dict)
    databases: dict[int, Database] = field(default_factory=dict)

    def user_by_uid(self, tid: int, uid: int) -> User | None:
        return next((u for u in self.tenants[tid].users if u.uid == uid), None)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _UserSchema(_Strict):
    uid = fields.Integer(required=True, strict=True)
    name = fields.String(required=True, validate=validate.Length(min=1))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    access_key_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    access_key_secret = fields.String(required=True, validate=validate.Length(min=1, max=256))


class _DatabaseSchema(_Strict):
    db_id = fields.Integer(required=True, strict=True)
    schema = fields.String(required=True, validate=validate.Length(min=1))
    host = fields.String(load_default="127.0.0.1")
    port = fields.Integer(load_default=3306, strict=True)
    env_type = fields.String(load_default="test")
    logic = fields.Boolean(load_default=False)
    instance_id = fields.Integer(load_default=None, strict=True, allow_none=True)
    fixture = fields.String(required=True)


class _TenantSchema(_Strict):
    tid = fields.Integer(required=True, strict=True)
    name = fields.String(required=True)
    account_id = fields.Integer(load_default=None, strict=True, allow_none=True)
    member_accounts = fields.List(fields.Integer(strict=True), load_default=list)
    approval = fields.String(load_default="auto", validate=validate.OneOf(("auto", "manual")))
    users = fields.List(fields.Nested(_UserSchema), required=True, validate=validate.Length(min=1))
    databases = fields.List(fields.Nested(_DatabaseSchema), load_default=list)


class _AccountsSchema(_Strict):
    tenants = fields.List(
        fields.Nested(_TenantSchema), required=True, validate=validate.Length(min=1)
    )


def _flatten(errors: Any, prefix: str = "") -> list[str]:
    """Turn marshmallow's nested error dict into `tenants[0].users[1].role: ...` lines."""
    out: list[str] = []
    if isinstance(errors, dict):
        for key, val in errors.items():
            if isinstance(key, int):
                sub = f"{prefix}[{key}]"
            else:
                sub = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(val, sub))
    elif isinstance(errors, list):
        msgs = [m for m in errors if isinstance(m, str)]
        if msgs:
            text = " ".join(msgs)
            if text == "Unknown field.":
                text = "unknown key (not part of the accounts format)"
            out.append(f"{prefix}: {text}")
        for m in errors:
            if not isinstance(m, str):
                out.extend(_flatten(m, prefix))
    else:
        out.append(f"{prefix}: {errors}")
    return out


def builtin_accounts_path() -> Path:
    return Path(str(resources.files("emulator.fixtures").joinpath("accounts.yaml")))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dms-emulator" / "fixtures"


def build_fixture(script: Path, cache_dir: Path) -> Path:
    """Run a fixture SQL script into a SQLite file, cached by the script's content hash.

    The cache makes a restart cost nothing; a script that fails raises AccountsError with
    SQLite's own words.
    """
    sql = script.read_text(encoding="utf-8")
    digest = hashlib.sha256(sql.encode("utf-8")).hexdigest()[:24]
    target = cache_dir / f"{digest}.sqlite"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".building")
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.executescript(sql)
            conn.commit()
        finally:
            conn.close()
        os.replace(tmp, target)
    except sqlite3.Error as exc:
        raise AccountsError(f"fixture {script}: SQL error: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def load_accounts(
    path: str | os.PathLike[str] | None = None, cache_dir: Path | None = None
) -> Accounts:
    """Load and validate an accounts file (YAML or JSON) and build its fixture databases."""
    file = Path(path) if path else builtin_accounts_path()
    where = f"accounts file {file}"
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AccountsError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise AccountsError(f"{where}: not valid YAML/JSON: {exc}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise AccountsError(f"{where}: the top level must be a mapping with a 'tenants' list")
    try:
        data = _AccountsSchema().load(raw)
    except ValidationError as exc:
        raise AccountsError(f"{where}: " + "; ".join(_flatten(exc.messages))) from None

    accounts = Accounts(source=str(file))
    uids: set[int] = set()
    cache = cache_dir or default_cache_dir()
    for ti, t in enumerate(data["tenants"]):
        tid = t["tid"]
        if tid in accounts.tenants:
            raise AccountsError(f"{where}: tenants[{ti}].tid: duplicate tenant id {tid}")
        users = []
        for ui, u in enumerate(t["users"]):
            loc = f"tenants[{ti}].users[{ui}]"
            if u["access_key_id"] in accounts.by_access_key:
                raise AccountsError(
                    f"{where}: {loc}.access_key_id: duplicate access key {u['access_key_id']}"
                )
            if u["uid"] in uids:
                raise AccountsError(f"{where}: {loc}.uid: duplicate user id {u['uid']}")
            uids.add(u["uid"])
            user = User(tid=tid, **u)
            accounts.by_access_key[user.access_key_id] = user
            users.append(user)
        dbs = []
        for di, d in enumerate(t["databases"]):
            loc = f"tenants[{ti}].databases[{di}]"
            if d["db_id"] in accounts.databases:
                raise AccountsError(f"{where}: {loc}.db_id: duplicate database id {d['db_id']}")
            script = (file.parent / d["fixture"]).resolve()
            if not script.is_file():
                raise AccountsError(f"{where}: {loc}.fixture: file not found: {script}")
            try:
                built = build_fixture(script, cache)
            except AccountsError as exc:
                raise AccountsError(f"{where}: {loc}: {exc}") from None
            db = Database(
                db_id=d["db_id"],
                schema=d["schema"],
                host=d["host"],
                port=d["port"],
                env_type=d["env_type"],
                logic=d["logic"],
                instance_id=d["instance_id"]
                if d["instance_id"] is not None
                else d["db_id"] + 1_000_000,
                fixture=script,
                path=built,
                tid=tid,
            )
            accounts.databases[db.db_id] = db
            dbs.append(db)
        accounts.tenants[tid] = Tenant(
            tid=tid,
            name=t["name"],
            account_id=t["account_id"]
            if t["account_id"] is not None
            else 1_000_000_000_000_000 + tid,
            member_accounts=tuple(t["member_accounts"]),
            approval=t["approval"],
            users=tuple(users),
            databases=tuple(dbs),
        )
    return accounts
