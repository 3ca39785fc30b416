"""DMS metadata on the wire: instances, databases, tables and columns (the SDK models' shapes).

Quirks kept on purpose (the SDK models say so): DatabaseId, InstanceId and TableId are strings;
GetInstance's SellSitd is a string where ListInstances' is a boolean; GetMetaTableDetailInfo's
ColumnList is a flat list while ListColumns wraps it in `Column`. Every handler first works out
what the caller may see (domain/permissions.py) and applies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.core.errors import Forbidden, NotFound
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_enum, opt_int, opt_str, req_int, req_str
from emulator.gateway.registry import DMS, Registry
from emulator.platform.accounts import INSTANCE_SOURCES, Accounts, Database, User
from emulator.services.dms.api.common import business, caller
from emulator.services.dms.domain import meta as m
from emulator.services.dms.domain.instances import Instances, Registration, require_registrar
from emulator.services.dms.domain.permissions import Access, GrantSource, access

INSTANCE_STATES = ("NORMAL", "DISABLE", "DELETED")
SEARCH_TARGETS = ("DB", "SINGLE_DB", "LOGIC_DB")
TABLE_TARGETS = ("TABLE", "SINGLE_TABLE", "LOGIC_TABLE")
SEARCH_RANGES = ("HAS_PERMSSION", "HAS_PERMISSION", "OWNER", "MY_FOCUS", "UNKNOWN", "ALL")


@dataclass(frozen=True)
class MetaContext:
    meta: m.Meta
    accounts: Accounts
    grants: GrantSource | None


# --- small helpers -----------------------------------------------------------------------------


def _page(call: Call, default: int, largest: int) -> tuple[int, int]:
    raw = opt_int(call.params, "PageSize")
    size = default if raw is None else raw
    if not 1 <= size <= largest:
        raise errors.invalid("PageSize", f"It must be between 1 and {largest}.")
    page = opt_int(call.params, "PageNumber", 1, 1_000_000) or 1
    return page, size


def _slice(items: list[Any], page: int, size: int) -> list[Any]:
    return items[(page - 1) * size : page * size]


def _bool(call: Call, name: str) -> bool:
    raw = (call.params.get(name) or "").strip().lower()
    if raw in ("", "false"):
        return False
    if raw == "true":
        return True
    raise errors.invalid(name, "Use true or false.")


def _names(ctx: MetaContext, tid: int, uids: tuple[int, ...]) -> dict[str, Any]:
    users = {u.uid: u.name for u in ctx.accounts.tenants[tid].users}
    return {
        "OwnerIdList": {"OwnerIds": [str(u) for u in uids]},
        "OwnerNameList": {"OwnerNames": [users.get(u, str(u)) for u in uids]},
    }


def _dba(ctx: MetaContext, inst: m.Instance) -> tuple[str, str]:
    users = ctx.accounts.tenants[inst.tid].users
    dba = next((u for u in users if u.uid == inst.dba_uid), None) or next(
        (u for u in users if u.role == "DBA"), None
    )
    return (str(dba.uid), dba.name) if dba else ("", "")


def _matches(needle: str | None, *fields: str) -> bool:
    if not needle:
        return True
    n = needle.lower()
    return any(n in f.lower() for f in fields)


def _access(call: Call, ctx: MetaContext) -> tuple[User, Access]:
    user = caller(call)
    return user, access(user, ctx.accounts, ctx.grants)


def _catalog(db: Database) -> str:
    return db.schema if m.db_type(db) == "postgresql" else "def"


def _search_name(db: Database) -> str:
    return f"{db.schema}@{db.host}:{db.port}"


# --- instances ---------------------------------------------------------------------------------


def instance_doc(ctx: MetaContext, inst: m.Instance, sell_sitd_as_str: bool) -> dict[str, Any]:
    dba_id, dba_name = _dba(ctx, inst)
    first = inst.databases[0] if inst.databases else None
    mode = str(getattr(first, "control_mode", None) or "security_collaboration")
    sitd = mode == "security_collaboration"
    reg = inst.registered
    extra = reg.extra if reg else {}
    return {
        "DataLinkName": str(extra.get("DataLinkName", "")),
        "DatabasePassword": "",  # never disclosed
        "DatabaseUser": reg.user if reg else "",
        "DbaId": dba_id,
        "DbaNickName": dba_name,
        "DdlOnline": int(extra.get("DdlOnline", 0)),
        "EcsInstanceId": str(extra.get("EcsInstanceId", "")),
        "EcsRegion": str(extra.get("EcsRegion", "")),
        "EnvType": inst.env_type,
        "ExportTimeout": reg.export_timeout if reg else 600,
        "Host": inst.host,
        "InstanceAlias": inst.alias,
        "InstanceId": str(inst.instance_id),
        "InstanceSource": inst.source,
        "InstanceType": inst.db_type,
        **_names(ctx, inst.tid, inst.owners),
        "Port": inst.port,
        "QueryTimeout": reg.query_timeout if reg else 60,
        "SafeRuleId": str(extra.get("SafeRule", "")),
        "SellSitd": ("true" if sitd else "false") if sell_sitd_as_str else sitd,
        "SellTrust": "",
        "Sid": inst.sid,
        "StandardGroup": {"GroupMode": mode.upper(), "GroupName": ""},
        "State": inst.state,
        "UseDsql": int(extra.get("UseDsql", 0)),
        "VpcId": str(extra.get("VpcId", "")),
    }


def _require_instance(acc: Access, inst: m.Instance) -> None:
    """A USER may look at an instance when one of its databases is theirs."""
    if acc.everything or any(acc.database(d.db_id) for d in inst.databases):
        return
    if inst.databases:
        acc.require_database(inst.databases[0].db_id)
    raise Forbidden(f"You have no permission on instance {inst.instance_id}.")


def _visible_instances(ctx: MetaContext, user: User, acc: Access) -> list[m.Instance]:
    return [
        i
        for i in ctx.meta.instances(user.tid)
        if acc.everything or any(acc.database(d.db_id) for d in i.databases)
    ]


def list_instances(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    page, size = _page(call, 10, 100)
    key = opt_str(call.params, "SearchKey", 256)
    db_type = (opt_str(call.params, "DbType", 64) or "").lower()
    env = (opt_str(call.params, "EnvType", 64) or "").lower()
    state = opt_enum(call.params, "InstanceState", INSTANCE_STATES)
    source = opt_str(call.params, "InstanceSource", 64)
    opt_str(call.params, "NetType", 64)
    opt_str(call.params, "Region", 64)
    found = [
        i
        for i in _visible_instances(ctx, user, acc)
        if _matches(key, i.host, i.alias, str(i.instance_id))
        and (not db_type or i.db_type == db_type)
        and (not env or i.env_type.lower() == env)
        and (not state or i.state == state)
        and (not source or i.source == source)
    ]
    return {
        "TotalCount": len(found),
        "InstanceList": {
            "Instance": [instance_doc(ctx, i, False) for i in _slice(found, page, size)]
        },
    }


def get_instance(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    host = req_str(call.params, "Host", 256)
    port = req_int(call.params, "Port", 1, 65535)
    inst = ctx.meta.instance_at(user.tid, host, port, opt_str(call.params, "Sid", 128))
    _require_instance(acc, inst)
    return {"Instance": instance_doc(ctx, inst, True)}


# --- databases ---------------------------------------------------------------------------------


def database_doc(ctx: MetaContext, db: Database) -> dict[str, Any]:
    inst = ctx.meta.instance_of(db)
    dba_id, dba_name = _dba(ctx, inst)
    return {
        "CatalogName": _catalog(db),
        "DatabaseId": str(db.db_id),
        "DbType": m.db_type(db),
        "DbaId": dba_id,
        "DbaName": dba_name,
        "Encoding": m.encoding(db),
        "EnvType": db.env_type,
        "Host": db.host,
        "InstanceId": str(inst.instance_id),
        **_names(ctx, db.tid, db.owners),
        "Port": db.port,
        "SchemaName": db.schema,
        "SearchName": _search_name(db),
        "Sid": inst.sid,
        "State": "NORMAL",
    }


def list_databases(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    inst = ctx.meta.instance(user.tid, req_str(call.params, "InstanceId", 64))
    page, size = _page(call, 10, 100)
    key = opt_str(call.params, "SearchKey", 256)
    found = [d for d in inst.databases if acc.database(d.db_id) and _matches(key, d.schema)]
    if not found and not key:
        _require_instance(acc, inst)
    return {
        "TotalCount": len(found),
        "DatabaseList": {"Database": [database_doc(ctx, d) for d in _slice(found, page, size)]},
    }


def search_database(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    page, size = _page(call, 10, 1000)
    key = opt_str(call.params, "SearchKey", 256)
    target = opt_enum(call.params, "SearchTarget", SEARCH_TARGETS, "DB")
    scope = opt_enum(call.params, "SearchRange", SEARCH_RANGES)
    db_type = (opt_str(call.params, "DbType", 64) or "").lower()
    env = (opt_str(call.params, "EnvType", 64) or "").lower()
    found = [
        d
        for d in ctx.meta.databases(user.tid)
        if acc.database(d.db_id)
        and _matches(key, d.schema, _search_name(d))
        and (target == "DB" or d.logic == (target == "LOGIC_DB"))
        and (scope != "OWNER" or d.db_id in acc.owned)
        and scope != "MY_FOCUS"
        and (not db_type or m.db_type(d) == db_type)
        and (not env or d.env_type.lower() == env)
    ]
    docs = []
    for d in _slice(found, page, size):
        full = database_doc(ctx, d)
        docs.append(
            {
                "Alias": d.schema,
                "CatalogName": full["CatalogName"],
                "DatabaseId": full["DatabaseId"],
                "DatalinkName": "",
                "DbType": full["DbType"],
                "DbaId": full["DbaId"],
                "Encoding": full["Encoding"],
                "EnvType": full["EnvType"],
                "Host": d.host,
                "Logic": d.logic,
                "OwnerIdList": full["OwnerIdList"],
                "OwnerNameList": full["OwnerNameList"],
                "Port": d.port,
                "SchemaName": d.schema,
                "SearchName": full["SearchName"],
                "Sid": full["Sid"],
            }
        )
    return {"TotalCount": len(found), "SearchDatabaseList": {"SearchDatabase": docs}}


def get_database(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    host = req_str(call.params, "Host", 256)
    port = req_int(call.params, "Port", 1, 65535)
    schema = req_str(call.params, "SchemaName", 256)
    inst = ctx.meta.instance_at(user.tid, host, port, opt_str(call.params, "Sid", 128))
    db = next((d for d in inst.databases if d.schema == schema), None)
    if db is None:
        raise NotFound(
            "database",
            f"The database {schema} does not exist on {host}:{port} in tenant {user.tid}.",
        )
    acc.require_database(db.db_id)
    return {"Database": {**database_doc(ctx, db), "InstanceAlias": inst.alias}}


# --- tables and columns ------------------------------------------------------------------------


def _like(search: str | None) -> str | None:
    """ListTables' SearchName: a LIKE pattern when it holds `%`, otherwise a substring."""
    if not search or search.strip() in ("", "%"):
        return None
    if "%" in search:
        return search
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _table_docs(
    ctx: MetaContext, db: Database, names: list[tuple[str, str]], guid: bool
) -> list[dict[str, Any]]:
    stats = ctx.meta.table_stats(db, [n for n, _ in names])
    out = []
    for name, kind in names:
        rows, size = stats.get(name, (0, 0))
        doc: dict[str, Any] = {
            "DatabaseId": str(db.db_id),
            "Description": "",
            "Encoding": m.encoding(db),
            "Engine": m.engine(db) if kind == "TABLE" else "",
            "NumRows": rows,
            **_names(ctx, db.tid, db.owners),
            "StoreCapacity": size,
            "TableId": m.table_id(db, name),
            "TableName": name,
            "TableSchemaName": db.schema,
            "TableType": "BASE TABLE" if kind == "TABLE" else "VIEW",
        }
        if guid:
            doc["TableGuid"] = m.table_guid(db, name)
        out.append(doc)
    return out


def list_tables(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    db = ctx.meta.database(user.tid, req_str(call.params, "DatabaseId", 64))
    acc.require_database(db.db_id)
    page, size = _page(call, 10, 200)
    guid = _bool(call, "ReturnGuid")
    names = [
        (n, k)
        for n, k in ctx.meta.list_tables(db, _like(opt_str(call.params, "SearchName", 256)))
        if acc.table(db.db_id, n)
    ]
    return {
        "TotalCount": len(names),
        "TableList": {"Table": _table_docs(ctx, db, _slice(names, page, size), guid)},
    }


def search_table(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    page, size = _page(call, 10, 100)
    pattern = _like(opt_str(call.params, "SearchKey", 256))
    target = opt_enum(call.params, "SearchTarget", TABLE_TARGETS, "TABLE")
    scope = opt_enum(call.params, "SearchRange", SEARCH_RANGES)
    db_type = (opt_str(call.params, "DbType", 64) or "").lower()
    env = (opt_str(call.params, "EnvType", 64) or "").lower()
    guid = _bool(call, "ReturnGuid")
    found: list[tuple[Database, str]] = []
    for db in ctx.meta.databases(user.tid):
        if not acc.database(db.db_id) or (
            target != "TABLE" and db.logic != (target == "LOGIC_TABLE")
        ):
            continue
        if (scope == "OWNER" and db.db_id not in acc.owned) or scope == "MY_FOCUS":
            continue
        if (db_type and m.db_type(db) != db_type) or (env and db.env_type.lower() != env):
            continue
        found += [(db, n) for n, _ in ctx.meta.list_tables(db, pattern) if acc.table(db.db_id, n)]
    docs = []
    for db, name in _slice(found, page, size):
        doc = {
            "DBSearchName": _search_name(db),
            "DatabaseId": str(db.db_id),
            "DbName": db.schema,
            "DbType": m.db_type(db),
            "Description": "",
            "Encoding": m.encoding(db),
            "Engine": m.engine(db),
            "EnvType": db.env_type,
            "Logic": db.logic,
            **_names(ctx, db.tid, db.owners),
            "TableId": m.table_id(db, name),
            "TableName": name,
            "TableSchemaName": db.schema,
        }
        if guid:
            doc["TableGuid"] = m.table_guid(db, name)
        docs.append(doc)
    return {"TotalCount": len(found), "SearchTableList": {"SearchTable": docs}}


def _column_base(db: Database, table: m.Table, c: m.Column) -> dict[str, Any]:
    length, precision, scale = c.length_precision_scale
    return {
        "AutoIncrement": c.auto_increment,
        "ColumnId": f"{m.table_id(db, table.name)}{c.position:04d}",
        "ColumnName": c.name,
        "ColumnType": c.type,
        "DataLength": length,
        "DataPrecision": precision,
        "DataScale": scale,
        "Description": c.comment,
        "Nullable": c.nullable,
    }


def list_columns(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    _bool(call, "Logic")
    db, table = ctx.meta.table(user.tid, req_str(call.params, "TableId", 64))
    acc.require_table(db.db_id, table.name)
    columns = []
    for c in table.columns:
        doc = {
            **_column_base(db, table, c),
            "FunctionType": "",
            "SecurityLevel": "",
            "Sensitive": False,
        }
        if c.default is not None:
            doc["DefaultValue"] = c.default
        columns.append(doc)
    return {"ColumnList": {"Column": columns}}


def get_meta_table_detail_info(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, acc = _access(call, ctx)
    db, table = ctx.meta.table_by_guid(user.tid, req_str(call.params, "TableGuid", 1024))
    acc.require_table(db.db_id, table.name)
    tid_text = m.table_id(db, table.name)
    return {
        "DetailInfo": {
            "ColumnList": [
                {**_column_base(db, table, c), "Position": str(c.position)} for c in table.columns
            ],
            "IndexList": [
                {
                    "IndexColumns": list(ix.columns),
                    "IndexId": f"{tid_text}{n:03d}",
                    "IndexName": ix.name,
                    "IndexType": ix.kind,
                    "Unique": ix.unique,
                }
                for n, ix in enumerate(table.indexes, 1)
            ],
        }
    }


# --- instances registered at run time (domain/instances.py) ---------------------------------

INSTANCE_TYPES = {
    "mysql": "mysql",
    "mariadb": "mariadb",
    "polardb": "polardb",
    "polardb_mysql": "polardb",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "pgsql": "postgresql",
}
ENV_TYPES = ("product", "dev", "pre", "test", "sit", "uat", "pet", "stag")
NETWORK_TYPES = ("CLASSIC", "VPC")
_HOST = re.compile(r"[A-Za-z0-9_.:\-]{1,253}")


def _host(call: Call) -> str:
    host = req_str(call.params, "Host", 256).strip()
    if not _HOST.fullmatch(host) or host.startswith(("-", ".")):
        raise errors.invalid("Host", "Use a host name or an IP address.")
    return host


def _registrar(call: Call, ctx: MetaContext) -> tuple[User, Instances]:
    user = caller(call)
    assert ctx.meta.registry is not None
    return user, ctx.meta.registry


def _registration(call: Call, dba_param: str, dba_required: bool) -> Registration:
    """RegisterInstance/AddInstance's parameters (the SDK marks most of them required)."""
    host = _host(call)
    port = req_int(call.params, "Port", 1, 65535)
    user = req_str(call.params, "DatabaseUser", 128)
    password = req_str(call.params, "DatabasePassword", 256)
    raw_type = req_str(call.params, "InstanceType", 64)
    db_type = INSTANCE_TYPES.get(raw_type.strip().lower())
    if db_type is None:
        raise errors.ApiError(
            "UnsupportedInstanceType",
            f"The emulator registers MySQL, MariaDB, PolarDB (MySQL) and PostgreSQL servers, "
            f"not {raw_type[:64]!r}.",
        )
    alias = req_str(call.params, "InstanceAlias", 256)
    source = req_str(call.params, "InstanceSource", 64)
    if source not in INSTANCE_SOURCES:
        raise errors.invalid("InstanceSource", f"Valid values: {', '.join(INSTANCE_SOURCES)}.")
    env = req_str(call.params, "EnvType", 64).strip().lower()
    if env not in ENV_TYPES:
        raise errors.invalid("EnvType", f"Valid values: {', '.join(ENV_TYPES)}.")
    network = req_str(call.params, "NetworkType", 64)
    if network not in NETWORK_TYPES:
        raise errors.invalid("NetworkType", "Valid values: CLASSIC, VPC.")
    query_timeout = req_int(call.params, "QueryTimeout", 1, 86_400)
    export_timeout = req_int(call.params, "ExportTimeout", 1, 86_400)
    safe_rule = req_str(call.params, "SafeRule", 128)
    dba = opt_int(call.params, dba_param, 1)
    by_string = opt_str(call.params, "DbaUidByString", 64) if dba_param == "DbaUid" else None
    if dba is None and by_string:
        dba = int(by_string) if by_string.isdigit() and len(by_string) < 19 else None
    if dba is None and dba_required and not by_string:
        raise errors.missing(dba_param)
    ddl_online = opt_int(call.params, "DdlOnline", 0, 2) or 0
    use_dsql = opt_int(call.params, "UseDsql", 0, 1) or 0
    link = opt_str(call.params, "DataLinkName", 64) or ""
    extra: dict[str, Any] = {
        "NetworkType": network,
        "SafeRule": safe_rule,
        "DdlOnline": ddl_online,
        "UseDsql": use_dsql,
        "DataLinkName": link,
    }
    for name in ("EcsRegion", "EcsInstanceId", "VpcId", "TemplateType", "ResourceGroup"):
        value = opt_str(call.params, name, 128)
        if value:
            extra[name] = value
    opt_int(call.params, "TemplateId", 0)
    for flag in ("EnableSellSitd", "EnableSellCommon", "EnableSellStable", "EnableSellTrust"):
        opt_str(call.params, flag, 16)
    opt_str(call.params, "RoleArn", 256)
    opt_int(call.params, "UseSsl", 0, 1)
    return Registration(
        db_type=db_type,
        host=host,
        port=port,
        user=user,
        password=password,
        alias=alias,
        source=source,
        env_type=env,
        dba_uid=dba,
        sid=opt_str(call.params, "Sid", 128) or "",
        query_timeout=query_timeout,
        export_timeout=export_timeout,
        extra=extra,
    )


def register_instance(call: Call, ctx: MetaContext) -> dict[str, Any]:
    """No instance id in the answer: clients call GetInstance(Host, Port) for it."""
    user, registry = _registrar(call, ctx)
    reg = _registration(call, "DbaUid", True)
    registry.register(user, reg, test=not _bool(call, "SkipTest"))
    return {}


def add_instance(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, registry = _registrar(call, ctx)
    reg = _registration(call, "DbaId", False)
    registry.register(user, reg, test=not _bool(call, "SkipTest"))
    return {}


def simply_add_instance(call: Call, ctx: MetaContext) -> dict[str, Any]:
    """Host, Port and an account only: the engine is told by the server's first bytes."""
    user, registry = _registrar(call, ctx)
    require_registrar(user, "register instances")
    if not call.params.get("Host") and call.params.get("InstanceId"):
        raise errors.ApiError(
            "UnsupportedInstanceId",
            "The emulator cannot look up a cloud instance by InstanceId: pass Host and Port.",
        )
    host = _host(call)
    port = req_int(call.params, "Port", 1, 65535)
    db_user = req_str(call.params, "DatabaseUser", 128)
    password = req_str(call.params, "DatabasePassword", 256)
    opt_str(call.params, "InstanceId", 128)
    opt_str(call.params, "InstanceRegion", 64)
    opt_str(call.params, "RealLoginUserUid", 64)
    engine = registry.engine_at(host, port)
    reg = Registration(
        db_type=engine,
        host=host,
        port=port,
        user=db_user,
        password=password,
        source="RDS" if call.params.get("InstanceId") else "PUBLIC_OWN",
        extra={"InstanceId": call.params["InstanceId"]} if call.params.get("InstanceId") else {},
    )
    r = registry.register(user, reg, test=True, detect=True)
    return {"Instance": {"Host": r.host, "InstanceId": str(r.instance_id), "Port": str(r.port)}}


def sync_instance_meta(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, registry = _registrar(call, ctx)
    inst = ctx.meta.instance(user.tid, req_str(call.params, "InstanceId", 64))
    _bool(call, "IgnoreTable")  # tables are never cached: there is nothing to skip
    require_registrar(user, "synchronise instance metadata")
    if inst.registered is not None:
        registry.sync(user, inst.registered)
    return {}


def delete_instance(call: Call, ctx: MetaContext) -> dict[str, Any]:
    user, registry = _registrar(call, ctx)
    host = req_str(call.params, "Host", 256)
    port = req_int(call.params, "Port", 1, 65535)
    inst = ctx.meta.instance_at(user.tid, host, port, opt_str(call.params, "Sid", 128))
    require_registrar(user, "delete instances")
    if inst.registered is None:
        raise Forbidden(
            f"The instance {host}:{port} comes from the accounts file: remove it there."
        )
    registry.delete(user, inst.registered)
    return {}


ACTIONS: dict[str, Callable[[Call, MetaContext], dict[str, Any]]] = {
    "ListInstances": list_instances,
    "GetInstance": get_instance,
    "ListDatabases": list_databases,
    "SearchDatabase": search_database,
    "GetDatabase": get_database,
    "ListTables": list_tables,
    "SearchTable": search_table,
    "ListColumns": list_columns,
    "GetMetaTableDetailInfo": get_meta_table_detail_info,
    "RegisterInstance": register_instance,
    "AddInstance": add_instance,
    "SimplyAddInstance": simply_add_instance,
    "SyncInstanceMeta": sync_instance_meta,
    "DeleteInstance": delete_instance,
}


def register(registry: Registry, ctx: MetaContext) -> None:
    for action, fn in ACTIONS.items():
        registry.add(DMS, action, business(fn), ctx)
