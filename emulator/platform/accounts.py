"""The accounts file: tenants, their users and keys, and the databases DMS manages for them.

A bad file stops start-up with one clear message naming the file and the problem
(`AccountsError`), never a traceback. This module only declares databases; building fixtures
and connecting to servers is the data plane's work (`emulator.databases.catalog`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

ROLES = ("ADMIN", "DBA", "USER")
DB_TYPES = ("mysql", "mariadb", "polardb", "postgresql", "sqlite")
CONTROL_MODES = ("security_collaboration", "stable_change", "flexible")
_DIALECTS = {"mysql": "mysql", "mariadb": "mysql", "polardb": "mysql", "postgresql": "postgresql"}
INSTANCE_SOURCES = ("PUBLIC_OWN", "RDS", "ECS_OWN", "VPC_IDC")


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
    # optional profile keys (issue 13): what GetUser/ListUsers report
    email: str = ""
    mobile: str = ""
    nick_name: str = ""

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
    fixture: Path | None  # the script the embedded copy is built from (None with a dsn)
    tid: int
    db_type: str | None = None  # as declared; None: SQLite dialect, as before db_type existed
    dsn: str | None = None  # a real server instead of a fixture
    control_mode: str = "security_collaboration"

    @property
    def dialect(self) -> str:
        """The SQL dialect clients write for this database (mysql | postgresql | sqlite)."""
        return _DIALECTS.get(self.db_type or "sqlite", "sqlite")

    @property
    def where(self) -> str:
        """The dsn without its password, for messages."""
        if not self.dsn:
            return str(self.fixture)
        head, sep, tail = self.dsn.partition("@")
        if not sep:
            return self.dsn
        scheme, _, cred = head.partition("://")
        return f"{scheme}://{cred.split(':', 1)[0]}@{tail}"

    # optional instance/ownership keys (issue 13): databases sharing host and port are one
    # instance; its alias, source and DBA come from the first database that declares them
    instance_alias: str = ""
    instance_source: str = "RDS"
    dba_uid: int | None = None
    owners: tuple[int, ...] = ()


@dataclass(frozen=True)
class Tenant:
    tid: int
    name: str
    account_id: int
    member_accounts: tuple[int, ...]
    approval: str
    users: tuple[User, ...]
    databases: tuple[Database, ...]


class DatabaseMap(Mapping[int, Database]):
    """Every database DMS manages, by id: the accounts file's, then those registered at run
    time (RegisterInstance), read from the source `attach()` names on each lookup, so a
    database registered by another worker process is found too."""

    def __init__(self) -> None:
        self.file: dict[int, Database] = {}
        self._extra: Callable[[], Mapping[int, Database]] | None = None

    def attach(self, extra: Callable[[], Mapping[int, Database]]) -> None:
        self._extra = extra

    def __setitem__(self, db_id: int, db: Database) -> None:
        self.file[db_id] = db

    def __getitem__(self, db_id: int) -> Database:
        found = self.file.get(db_id)
        if found is not None:
            return found
        if self._extra is None:
            raise KeyError(db_id)
        return self._extra()[db_id]

    def __iter__(self) -> Iterator[int]:
        yield from self.file
        if self._extra is not None:
            yield from (k for k in self._extra() if k not in self.file)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class Accounts:
    source: str
    tenants: dict[int, Tenant] = field(default_factory=dict)
    by_access_key: dict[str, User] = field(default_factory=dict)
    databases: DatabaseMap = field(default_factory=DatabaseMap)

    def user_by_uid(self, tid: int, uid: int) -> User | None:
        """A user of this tenant, or None (another tenant's uid is as unknown as a missing one)."""
        return next((u for u in self.tenants[tid].users if u.uid == uid), None)


Spec = dict[str, tuple[type, bool, Any, Any]]

# The accounts format as data: key -> (type, required, default, allowed values / nested spec).
# A small validator of our own keeps marshmallow (used for PluginParam) off the start-up path.
_USER: Spec = {
    "uid": (int, True, None, None),
    "name": (str, True, None, None),
    "role": (str, True, None, ROLES),
    "access_key_id": (str, True, None, None),
    "access_key_secret": (str, True, None, None),
    "email": (str, False, "", None),
    "mobile": (str, False, "", None),
    "nick_name": (str, False, "", None),
}
_DATABASE: Spec = {
    "db_id": (int, True, None, None),
    "schema": (str, True, None, None),
    "host": (str, False, "127.0.0.1", None),
    "port": (int, False, 3306, None),
    "env_type": (str, False, "test", None),
    "logic": (bool, False, False, None),
    "instance_id": (int, False, None, None),
    "fixture": (str, False, None, None),
    "db_type": (str, False, None, DB_TYPES),
    "dsn": (str, False, None, None),
    "control_mode": (str, False, "security_collaboration", CONTROL_MODES),
    "instance_alias": (str, False, "", None),
    "instance_source": (str, False, "RDS", INSTANCE_SOURCES),
    "dba_uid": (int, False, None, None),
    "owners": (list, False, [], int),
}
_TENANT: Spec = {
    "tid": (int, True, None, None),
    "name": (str, True, None, None),
    "account_id": (int, False, None, None),
    "member_accounts": (list, False, [], int),
    "approval": (str, False, "auto", ("auto", "manual")),
    "users": (list, True, None, _USER),
    "databases": (list, False, [], _DATABASE),
}
_ACCOUNTS: Spec = {"tenants": (list, True, None, _TENANT)}
_TYPE_NAMES = {
    int: "an integer",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
}


def _check(doc: Any, spec: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """Validate one mapping against its spec; collect `where.key: problem` lines; fill defaults."""
    if not isinstance(doc, dict):
        problems.append(f"{where or 'top level'}: must be a mapping")
        return {}
    out: dict[str, Any] = {}
    for key in doc:
        if key not in spec:
            problems.append(
                f"{where}.{key}".lstrip(".") + ": unknown key (not part of the accounts format)"
            )
    for key, (kind, required, default, extra) in spec.items():
        loc = f"{where}.{key}".lstrip(".")
        if key not in doc or doc[key] is None:
            if required:
                problems.append(f"{loc}: Missing data for required field.")
            out[key] = list(default) if isinstance(default, list) else default
            continue
        value = doc[key]
        if (
            kind is int and (isinstance(value, bool) or not isinstance(value, int))
        ) or not isinstance(value, kind):
            problems.append(f"{loc}: must be {_TYPE_NAMES[kind]}")
            continue
        if kind is str and not value.strip():
            problems.append(f"{loc}: must not be empty")
        elif isinstance(extra, tuple) and value not in extra:
            problems.append(f"{loc}: Must be one of: {', '.join(extra)}.")
        elif kind is list:
            if required and not value:
                problems.append(f"{loc}: must not be empty")
            if isinstance(extra, dict):
                value = [
                    _check(item, extra, f"{loc}[{i}]", problems) for i, item in enumerate(value)
                ]
            elif extra is int and any(isinstance(v, bool) or not isinstance(v, int) for v in value):
                problems.append(f"{loc}: must be a list of integers")
        out[key] = value
    return out


def builtin_accounts_path() -> Path:
    return Path(str(resources.files("emulator.fixtures").joinpath("accounts.yaml")))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dms-emulator" / "fixtures"


def _database_source(where: str, loc: str, file: Path, d: dict[str, Any]) -> Path | None:
    """The fixture script of a database, or None for a dsn one (exactly one of the two)."""
    if d["fixture"] is not None and d["dsn"] is not None:
        raise AccountsError(f"{where}: {loc}: a database has a fixture or a dsn, not both")
    if d["dsn"] is not None:
        scheme = d["dsn"].split("://", 1)[0].lower() if "://" in d["dsn"] else ""
        want = "postgresql" if (d["db_type"] or "") == "postgresql" else "mysql"
        if d["db_type"] in (None, "sqlite"):
            raise AccountsError(
                f"{where}: {loc}.db_type: a dsn database needs db_type "
                "mysql, mariadb, polardb or postgresql"
            )
        if scheme not in ((want, "postgres") if want == "postgresql" else (want, "mariadb")):
            raise AccountsError(
                f"{where}: {loc}.dsn: must start with {want}:// for db_type {d['db_type']}"
            )
        try:
            from emulator.databases.mysql import parse_dsn

            parse_dsn(d["dsn"], 3306)
        except ValueError as exc:
            raise AccountsError(f"{where}: {loc}.dsn: {exc}") from None
        return None
    if d["fixture"] is None:
        raise AccountsError(f"{where}: {loc}: a database needs a fixture or a dsn")
    script = (file.parent / d["fixture"]).resolve()
    if not script.is_file():
        raise AccountsError(f"{where}: {loc}.fixture: file not found: {script}")
    return script


def _yaml(text: str) -> Any:
    """The parsed document, from a JSON copy cached by content when one exists: a start on an
    unchanged file imports no YAML parser (importing PyYAML costs ~10 ms, issue 18). The copy
    holds the text it was parsed from and is used only for exactly that text."""
    cache = default_cache_dir().parent / "accounts"
    entry = cache / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()[:24]}.json"
    try:
        cached = json.loads(entry.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and cached.get("text") == text:
            return cached["data"]
    except (OSError, ValueError):
        pass
    raw = _parse_yaml(text)
    try:
        copy = json.dumps({"text": text, "data": raw}, ensure_ascii=False)
        if json.loads(copy)["data"] != raw:
            return raw  # not plain JSON (e.g. dates or number keys): never cached
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(copy)
            os.replace(tmp, entry)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except (OSError, TypeError, ValueError):
        pass  # no cache: the next start parses the YAML again
    return raw


def _parse_yaml(text: str) -> Any:
    """PyYAML's C parser where it is built, its pure-Python parser for the message of a
    document that fails (the words tests and users know)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)  # noqa: S506 - CSafeLoader is the safe loader
        except yaml.YAMLError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


def load_accounts(path: str | os.PathLike[str] | None = None) -> Accounts:
    """Load and validate an accounts file (YAML or JSON)."""
    file = Path(path) if path else builtin_accounts_path()
    where = f"accounts file {file}"
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AccountsError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text) if file.suffix == ".json" else _yaml(text)
    except ValueError as exc:  # _parse_yaml's YAML errors are ValueErrors
        raise AccountsError(f"{where}: not valid YAML/JSON: {exc}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise AccountsError(f"{where}: the top level must be a mapping with a 'tenants' list")
    problems: list[str] = []
    data = _check(raw, _ACCOUNTS, "", problems)
    if problems:
        raise AccountsError(f"{where}: " + "; ".join(problems))

    accounts = Accounts(source=str(file))
    uids: set[int] = set()
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
            script = _database_source(where, loc, file, d)
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
                tid=tid,
                db_type=d["db_type"],
                dsn=d["dsn"],
                control_mode=d["control_mode"],
                instance_alias=d["instance_alias"],
                instance_source=d["instance_source"],
                dba_uid=d["dba_uid"],
                owners=tuple(d["owners"]),
            )
            accounts.databases[db.db_id] = db
            dbs.append(db)
        _check_instances(where, ti, users, dbs)
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


def _check_instances(where: str, ti: int, users: list[User], dbs: list[Database]) -> None:
    """Owners and DBAs are users of the tenant; one host:port is one instance, one id each."""
    uids = {u.uid for u in users}
    by_endpoint: dict[tuple[str, int], Database] = {}
    by_id: dict[int, tuple[str, int]] = {}
    for di, db in enumerate(dbs):
        loc = f"{where}: tenants[{ti}].databases[{di}]"
        for uid in (*db.owners, *(() if db.dba_uid is None else (db.dba_uid,))):
            if uid not in uids:
                raise AccountsError(f"{loc}: user {uid} is not a user of this tenant")
        endpoint = (db.host, db.port)
        first = by_endpoint.setdefault(endpoint, db)
        if (
            first is not db
            and db.instance_id != first.instance_id
            and db.instance_id != (db.db_id + 1_000_000)
        ):
            raise AccountsError(
                f"{loc}.instance_id: {db.host}:{db.port} is already instance {first.instance_id}"
            )
        other = by_id.setdefault(first.instance_id, endpoint)
        if other != endpoint:
            raise AccountsError(
                f"{loc}.instance_id: {first.instance_id} is already the instance at "
                f"{other[0]}:{other[1]}"
            )
