"""Builds the OpenAPI descriptions in specs/ from the action catalogue below.

The catalogue is derived from the seed documents (`../shared/seeds/`) and checked against the
official SDK models (see tests in contract_tests/test_specs.py). RPC actions all live on
`POST /`; OpenAPI cannot tell them apart, so each action gets a pseudo-path `/{Action}` that
the contract tests' transport maps back to `POST /` with `x-acs-action`/`x-acs-version` and a
signature. Run `python specs/build.py` after editing; a test fails if the files are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
INT64 = {"type": "integer", "format": "int64"}
ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": 9223372036854775807}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
DATETIME = {
    "type": "string",
    "description": "yyyy-MM-dd HH:mm:ss",
    "pattern": r"^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$",
}

JOB_STATUS = [
    "PRE_CHECKING",
    "PRE_CHECK_SUCCESS",
    "PRE_CHECK_FAIL",
    "WAITING_APPLY_AUDIT",
    "APPLY_AUDIT_SUCCESS",
    "ENABLE_EXPORT",
    "WAITING_EXPORT",
    "DOING_EXPORT",
    "EXPORT_FAIL",
    "EXPORT_SUCCESS",
]
STATUS_CODE = ["new", "toaudit", "Approved", "reject", "processing", "success", "closed"]
PLUGIN_TYPES = [
    "DC_COMMON",
    "DC_CHUNK",
    "DC_CRON_CLEAR",
    "NDDL",
    "DATA_EXPORT",
    "PERM_APPLY",
    "OWNER_APPLY",
]
DOWNLOAD_STATUS = ["INIT", "LISTING", "DOWNLOADING", "DOWNLOAD_SUCCESS", "DOWNLOAD_FAIL"]


def obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def arr(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def enum(values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": values}


def p(
    name: str, schema: dict[str, Any], required: bool = False, where: str = "query", desc: str = ""
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": desc}


def jp(name: str, schema: dict[str, Any], required: bool = False, desc: str = "") -> dict[str, Any]:
    """A query parameter whose value is a JSON document (the SDKs send nested models so).

    Typed as `content: application/json`, so schemathesis sends documents of the right shape in
    positive mode and of the wrong shape (an `InList` that is a number, a string for an object)
    in negative mode, instead of arbitrary strings that never get past the JSON parser.
    """
    return {
        "name": name,
        "in": "query",
        "required": required,
        "content": {"application/json": {"schema": schema}},
        "description": desc,
    }


TRACK_TYPES = ["INSERT", "UPDATE", "DELETE"]
EXPORT_PARAM = {
    "type": "object",
    "properties": {
        "DbId": INT64,
        "ExeSQL": {"type": "string", "minLength": 1},
        "AffectRows": INT64,
        "Classify": STR,
        "IgnoreAffectRows": BOOL,
        "IgnoreAffectRowsReason": STR,
        "Logic": BOOL,
    },
    "required": ["DbId", "ExeSQL"],
}
TRACK_PARAM = {
    "type": "object",
    "properties": {
        "DbId": STR,
        "JobStartTime": DATETIME,
        "JobEndTime": DATETIME,
        "TableNames": {"type": "array", "items": STR, "minItems": 1, "maxItems": 50},
        "TrackTypes": {"type": "array", "items": {"type": "string", "enum": TRACK_TYPES}},
    },
    "required": ["DbId", "JobStartTime", "JobEndTime", "TableNames", "TrackTypes"],
}
COLUMN_FILTER = {
    "type": "object",
    "properties": {
        "ColumnName": STR,
        "Operator": {
            "type": "string",
            "enum": ["EQUAL", "NOT_EQUAL", "IN", "NOT_IN", "BETWEEN", "LESS", "MORE"],
        },
        "Value": STR,
        "InList": {"type": "array", "items": STR},
        "BetweenStart": STR,
        "BetweenEnd": STR,
    },
}


TID = p("Tid", INT64, desc="Tenant id; defaults to the caller's tenant.")
DMS_BASE = {"RequestId": STR, "Success": BOOL, "ErrorCode": STR, "ErrorMessage": STR}
ORDER_SUMMARY = obj(
    {
        "Comment": STR,
        "Committer": STR,
        "CommitterId": INT64,
        "CreateTime": STR,
        "LastModifyTime": STR,
        "OrderId": INT64,
        "PluginType": STR,
        "StatusCode": enum(STATUS_CODE),
        "StatusDesc": STR,
    }
)
TENANT = obj({"Status": STR, "TenantName": STR, "Tid": INT64})

# action: (summary, query params, form params, response properties)
DMS_ACTIONS: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {
    "CreateOrder": (
        "Creates a ticket.",
        [
            TID,
            p("PluginType", enum(PLUGIN_TYPES), True),
            p("Comment", {"type": "string", "minLength": 1}, True),
            p("RelatedUserList", STR),
            p("AttachmentKey", STR),
            p("RealLoginUserUid", STR),
        ],
        [
            p(
                "PluginParam",
                {"type": "string", "minLength": 1},
                True,
                "body",
                "JSON object; its shape depends on PluginType.",
            )
        ],
        {"CreateOrderResult": obj({"OrderIds": arr(INT64)})},
    ),
    "CreateDataExportOrder": (
        "Creates a data export ticket.",
        [
            TID,
            p("Comment", {"type": "string", "minLength": 1}, True),
            jp("PluginParam", EXPORT_PARAM, True, "JSON object (AffectRows, DbId, ExeSQL...)"),
            jp("RelatedUserList", {"type": "array", "items": INT64}, desc="JSON array of user ids"),
            p("ParentId", {**INT64, "minimum": 0}),
            p("AttachmentKey", STR),
            p("RealLoginUserUid", STR),
        ],
        [],
        {"CreateOrderResult": obj({"CreateOrderResult": arr(INT64)})},
    ),
    "GetDataExportOrderDetail": (
        "Queries the details of a data export ticket.",
        [TID],
        [p("OrderId", ID, True, "body")],
        {
            "DataExportOrderDetail": obj(
                {
                    "KeyInfo": obj(
                        {"JobId": INT64, "JobStatus": enum(JOB_STATUS), "PreCheckId": INT64}
                    ),
                    "OrderDetail": obj(
                        {
                            "ActualAffectRows": INT64,
                            "Classify": STR,
                            "Database": STR,
                            "DbId": INT64,
                            "EnvType": STR,
                            "ExeSQL": STR,
                            "IgnoreAffectRows": BOOL,
                            "IgnoreAffectRowsReason": STR,
                            "Logic": BOOL,
                        }
                    ),
                }
            )
        },
    ),
    "GetDataExportDownloadURL": (
        "Queries the download URL of an export result.",
        [TID, p("OrderId", ID, True), p("RealLoginUserUid", STR)],
        [],
        {"DownloadURLResult": obj({"HasResult": BOOL, "TipMessage": STR, "URL": STR})},
    ),
    "GetDataExportPreCheckDetail": (
        "Queries the precheck result of a data export ticket.",
        [TID, p("OrderId", ID, True)],
        [],
        {
            "PreCheckResult": obj(
                {
                    "IgnoreAffectRows": BOOL,
                    "PreCheckDetailList": obj(
                        {"PreCheckDetailList": arr(obj({"AffectRows": INT64, "SQL": STR}))}
                    ),
                }
            )
        },
    ),
    "SubmitOrderApproval": (
        "Submits a ticket for approval.",
        [TID, p("OrderId", ID, True), p("RealLoginUserUid", STR)],
        [],
        {},
    ),
    "ApproveOrder": (
        "Approves, rejects or cancels a ticket.",
        [
            TID,
            p("WorkflowInstanceId", ID, True),
            p(
                "ApprovalType",
                enum(["AGREE", "CANCEL", "REJECT", "TRANSFER", "ADD_APPROVAL_NODE"]),
                True,
            ),
            p("Comment", STR),
            p("NewApprover", INT64),
            p("NewApproverList", STR),
            p("OldApprover", INT64),
            p("ApprovalNodeId", INT64),
            p("ApprovalNodePos", STR),
            p("RealLoginUserUid", STR),
        ],
        [],
        {},
    ),
    "ExecuteDataExport": (
        "Starts the export of an approved data export ticket.",
        [
            TID,
            p("OrderId", ID, True),
            jp(
                "ActionDetail",
                obj({"fileType": enum(["CSV", "TXT", "JSON", "SQL", "XLSX"])}),
                desc="JSON object (fileType, mode...)",
            ),
            p("RealLoginUserUid", STR),
        ],
        [],
        {},
    ),
    "GetOrderBaseInfo": (
        "Queries the basic information of a ticket.",
        [TID, p("OrderId", ID, True)],
        [],
        {
            "OrderBaseInfo": obj(
                {
                    "AttachmentKey": STR,
                    "Comment": STR,
                    "Committer": STR,
                    "CommitterId": INT64,
                    "CreateTime": STR,
                    "LastModifyTime": STR,
                    "OrderId": INT64,
                    "OriginAttachmentName": STR,
                    "PluginType": STR,
                    "RelatedUserList": obj({"UserIds": arr(STR)}),
                    "RelatedUserNickList": obj({"UserNicks": arr(STR)}),
                    "StatusCode": enum(STATUS_CODE),
                    "StatusDesc": STR,
                    "WorkflowInstanceId": INT64,
                    "WorkflowStatusDesc": STR,
                }
            )
        },
    ),
    "ListOrders": (
        "Lists tickets.",
        [
            TID,
            p("PluginType", enum(PLUGIN_TYPES)),
            p("OrderStatus", enum(["ALL", "FINISHED", "RUNNING"])),
            p(
                "OrderResultType",
                enum(["AS_ADMIN", "AS_COMMITTER", "AS_HANDLER", "AS_OWNER", "AS_Related"]),
            ),
            p("SearchContent", STR),
            p("SearchDateType", enum(["CREATE_TIME", "MODIFY_TIME"])),
            p("StartTime", DATETIME),
            p("EndTime", DATETIME),
            p("PageNumber", {"type": "integer", "minimum": 1, "maximum": 100000}),
            p("PageSize", {"type": "integer", "minimum": 1, "maximum": 100}),
        ],
        [],
        {"TotalCount": INT64, "Orders": obj({"Order": arr(ORDER_SUMMARY)})},
    ),
    "GetUserActiveTenant": ("Queries the caller's active tenant.", [TID], [], {"Tenant": TENANT}),
    "ListUserTenants": ("Lists the caller's tenants.", [TID], [], {"TenantList": arr(TENANT)}),
    "CreateDataTrackOrder": (
        "Creates a data tracking ticket.",
        [
            TID,
            p("Comment", {"type": "string", "minLength": 1}, True),
            jp(
                "Param",
                TRACK_PARAM,
                True,
                "JSON object: DbId, JobStartTime, JobEndTime, TableNames, TrackTypes",
            ),
            jp("RelatedUserList", arr(STR), desc="JSON array of user ids"),
        ],
        [],
        {"CreateOrderResult": arr(INT64)},
    ),
    "DownloadDataTrackResult": (
        "Starts a download of data tracking results.",
        [
            TID,
            p("OrderId", ID, True),
            jp("FilterTableList", arr(STR)),
            jp("FilterTypeList", arr(enum(TRACK_TYPES))),
            p("FilterStartTime", DATETIME),
            p("FilterEndTime", DATETIME),
            jp("ColumnFilter", COLUMN_FILTER),
            jp("EventIdList", arr(INT64)),
            p("RollbackSQLType", enum(["REVERSE", "FORWARD"])),
        ],
        [],
        {"DownloadKeyId": STR},
    ),
    "QueryDataTrackResultDownloadStatus": (
        "Queries the download and parsing progress of data tracking logs.",
        [TID, p("OrderId", ID, True), p("DownloadKeyId", {"type": "string", "minLength": 1}, True)],
        [],
        {
            "StatusResult": obj(
                {
                    "DownloadStatus": enum(DOWNLOAD_STATUS),
                    "DownloadUrl": STR,
                    "StatusDesc": STR,
                    "TotalCount": INT64,
                }
            )
        },
    ),
}


# --- metadata and users (issue 13; helper "meta") -------------------------------------------------


def s(n: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": n}


def page(largest: int) -> list[dict[str, Any]]:
    return [
        p("PageNumber", {"type": "integer", "format": "int64", "minimum": 1, "maximum": 1000000}),
        p("PageSize", {"type": "integer", "format": "int64", "minimum": 1, "maximum": largest}),
    ]


RLU = p("RealLoginUserUid", STR)
OWNERS = {
    "OwnerIdList": obj({"OwnerIds": arr(STR)}),
    "OwnerNameList": obj({"OwnerNames": arr(STR)}),
}


def instance(sell_sitd: dict[str, Any]) -> dict[str, Any]:
    return obj(
        {
            **{k: STR for k in ("DataLinkName", "DatabasePassword", "DatabaseUser", "DbaId")},
            **{k: STR for k in ("DbaNickName", "EcsInstanceId", "EcsRegion", "EnvType", "Host")},
            **{k: STR for k in ("InstanceAlias", "InstanceId", "InstanceSource", "InstanceType")},
            **{k: STR for k in ("SafeRuleId", "SellTrust", "Sid", "State", "VpcId")},
            **OWNERS,
            "DdlOnline": INT64,
            "ExportTimeout": INT64,
            "Port": INT64,
            "QueryTimeout": INT64,
            "SellSitd": sell_sitd,
            "StandardGroup": obj({"GroupMode": STR, "GroupName": STR}),
            "UseDsql": INT64,
        }
    )


DATABASE_KEYS = ("CatalogName", "DatabaseId", "DbType", "DbaId", "DbaName", "Encoding", "EnvType")
DATABASE = {
    **{k: STR for k in (*DATABASE_KEYS, "Host", "InstanceId", "SchemaName", "SearchName")},
    **{k: STR for k in ("Sid", "State")},
    **OWNERS,
    "Port": INT64,
}
COLUMN = {
    "AutoIncrement": BOOL,
    "ColumnId": STR,
    "ColumnName": STR,
    "ColumnType": STR,
    "DataLength": INT64,
    "DataPrecision": INT64,
    "DataScale": INT64,
    "Description": STR,
    "Nullable": BOOL,
}


def user(parent: dict[str, Any]) -> dict[str, Any]:
    return obj(
        {
            **{k: INT64 for k in ("CurExecuteCount", "CurResultCount")},
            **{k: INT64 for k in ("MaxExecuteCount", "MaxResultCount")},
            **{k: STR for k in ("DingRobot", "Email", "LastLoginTime", "Mobile", "NickName")},
            **{k: STR for k in ("NotificationMode", "SignatureMethod", "State", "Uid", "UserId")},
            "Webhook": STR,
            "ParentUid": parent,
            "RoleIdList": obj({"RoleIds": arr(INT64)}),
            "RoleNameList": obj({"RoleNames": arr(STR)}),
        }
    )


ROLES = enum(["USER", "DBA", "ADMIN", "SECURITY_ADMIN", "STRUCT_READ_ONLY"])
UID = {"type": "string", "pattern": "^[0-9]{1,20}$"}
RANGES = enum(["HAS_PERMSSION", "HAS_PERMISSION", "OWNER", "MY_FOCUS", "UNKNOWN", "ALL"])
PORT = {"type": "integer", "format": "int64", "minimum": 1, "maximum": 65535}
NOTHING: dict[str, Any] = {}

DMS_ACTIONS.update(
    {
        "ListInstances": (
            "Lists the instances of the tenant (databases sharing host and port are one).",
            [
                TID,
                *page(100),
                p("SearchKey", s(256)),
                p("DbType", s(64)),
                p("EnvType", s(64)),
                p("InstanceSource", s(64)),
                p("InstanceState", enum(["NORMAL", "DISABLE", "DELETED"])),
                p("NetType", s(64)),
                p("Region", s(64)),
                RLU,
            ],
            [],
            {"TotalCount": INT64, "InstanceList": obj({"Instance": arr(instance(BOOL))})},
        ),
        "GetInstance": (
            "Queries an instance by host and port.",
            [
                TID,
                p("Host", {**s(256), "minLength": 1}, True),
                p("Port", PORT, True),
                p("Sid", s(128)),
                RLU,
            ],
            [],
            {"Instance": instance(STR)},
        ),
        "ListDatabases": (
            "Lists the databases of an instance.",
            [
                TID,
                p("InstanceId", {**s(64), "minLength": 1}, True),
                *page(100),
                p("SearchKey", s(256)),
            ],
            [],
            {"TotalCount": INT64, "DatabaseList": obj({"Database": arr(obj(DATABASE))})},
        ),
        "SearchDatabase": (
            "Searches the databases the caller may see.",
            [
                TID,
                *page(1000),
                p("SearchKey", s(256)),
                p("SearchTarget", enum(["DB", "SINGLE_DB", "LOGIC_DB"])),
                p("SearchRange", RANGES),
                p("DbType", s(64)),
                p("EnvType", s(64)),
                RLU,
            ],
            [],
            {
                "TotalCount": INT64,
                "SearchDatabaseList": obj(
                    {
                        "SearchDatabase": arr(
                            obj(
                                {
                                    **{
                                        k: v
                                        for k, v in DATABASE.items()
                                        if k not in ("DbaName", "InstanceId", "State")
                                    },
                                    "Alias": STR,
                                    "DatalinkName": STR,
                                    "Logic": BOOL,
                                }
                            )
                        )
                    }
                ),
            },
        ),
        "GetDatabase": (
            "Queries a database by host, port and schema name.",
            [
                TID,
                p("Host", {**s(256), "minLength": 1}, True),
                p("Port", PORT, True),
                p("SchemaName", {"type": "string", "minLength": 1, "maxLength": 256}, True),
                p("Sid", s(128)),
                RLU,
            ],
            [],
            {"Database": obj({**DATABASE, "InstanceAlias": STR})},
        ),
        "ListTables": (
            "Lists the tables of a database, read live from its catalog.",
            [
                TID,
                p("DatabaseId", {**s(64), "minLength": 1}, True),
                *page(200),
                p("SearchName", s(256)),
                p("ReturnGuid", BOOL),
                RLU,
            ],
            [],
            {
                "TotalCount": INT64,
                "TableList": obj(
                    {
                        "Table": arr(
                            obj(
                                {
                                    **{k: STR for k in ("DatabaseId", "Description", "Encoding")},
                                    **{k: STR for k in ("Engine", "TableGuid", "TableId")},
                                    **{k: STR for k in ("TableName", "TableSchemaName")},
                                    "TableType": STR,
                                    "NumRows": INT64,
                                    "StoreCapacity": INT64,
                                    **OWNERS,
                                }
                            )
                        )
                    }
                ),
            },
        ),
        "SearchTable": (
            "Searches tables across the databases the caller may see.",
            [
                TID,
                *page(100),
                p("SearchKey", s(256)),
                p("SearchTarget", enum(["TABLE", "SINGLE_TABLE", "LOGIC_TABLE"])),
                p("SearchRange", RANGES),
                p("DbType", s(64)),
                p("EnvType", s(64)),
                p("ReturnGuid", BOOL),
            ],
            [],
            {
                "TotalCount": INT64,
                "SearchTableList": obj(
                    {
                        "SearchTable": arr(
                            obj(
                                {
                                    **{k: STR for k in ("DBSearchName", "DatabaseId", "DbName")},
                                    **{k: STR for k in ("DbType", "Description", "Encoding")},
                                    **{k: STR for k in ("Engine", "EnvType", "TableGuid")},
                                    **{k: STR for k in ("TableId", "TableName", "TableSchemaName")},
                                    "Logic": BOOL,
                                    **OWNERS,
                                }
                            )
                        )
                    }
                ),
            },
        ),
        "ListColumns": (
            "Lists the columns of a table.",
            [TID, p("TableId", {**s(64), "minLength": 1}, True), p("Logic", BOOL)],
            [],
            {
                "ColumnList": obj(
                    {
                        "Column": arr(
                            obj(
                                {
                                    **COLUMN,
                                    "DefaultValue": STR,
                                    "FunctionType": STR,
                                    "SecurityLevel": STR,
                                    "Sensitive": BOOL,
                                }
                            )
                        )
                    }
                )
            },
        ),
        "GetMetaTableDetailInfo": (
            "Queries a table's columns and indexes by its TableGuid (IDB_<db>.<schema>.<table>).",
            [TID, p("TableGuid", {"type": "string", "minLength": 1, "maxLength": 1024}, True), RLU],
            [],
            {
                "DetailInfo": obj(
                    {
                        "ColumnList": arr(obj({**COLUMN, "Position": STR})),
                        "IndexList": arr(
                            obj(
                                {
                                    "IndexColumns": arr(STR),
                                    "IndexId": STR,
                                    "IndexName": STR,
                                    "IndexType": enum(["Primary", "Unique", "Normal"]),
                                    "Unique": BOOL,
                                }
                            )
                        ),
                    }
                )
            },
        ),
        "ListUsers": (
            "Lists the users of the tenant.",
            [
                TID,
                p(
                    "PageNumber",
                    {"type": "integer", "format": "int64", "minimum": 1, "maximum": 1000000},
                ),
                p("PageSize", {"type": "integer", "enum": [10, 20, 50, 100]}),
                p("Role", ROLES),
                p("UserState", enum(["NORMAL", "DISABLE", "DELETE"])),
                p("SearchKey", s(256)),
            ],
            [],
            {"TotalCount": INT64, "UserList": obj({"User": arr(user(STR))})},
        ),
        "GetUser": (
            "Queries a user by Uid or UserId; with neither, the caller.",
            [TID, p("Uid", s(32)), p("UserId", s(32))],
            [],
            {"User": user(INT64)},
        ),
        "RegisterUser": (
            "Registers an Alibaba Cloud account as a user of the tenant (ADMIN only).",
            [
                TID,
                p("Uid", {**UID, "maxLength": 32}, True),
                p("RoleNames", s(256)),
                p("UserNick", s(128)),
                p("Mobile", s(64)),
            ],
            [],
            NOTHING,
        ),
        "UpdateUser": (
            "Updates a user's roles, nickname, mobile or limits (ADMIN only).",
            [
                TID,
                p("Uid", {"type": "integer", "format": "int64", "minimum": 0}, True),
                p("UidString", {**UID, "maxLength": 32}),
                p("RoleNames", s(256)),
                p("UserNick", s(128)),
                p("Mobile", s(64)),
                p("MaxExecuteCount", {"type": "integer", "minimum": 0, "maximum": 2147483647}),
                p("MaxResultCount", {"type": "integer", "minimum": 0, "maximum": 2147483647}),
            ],
            [],
            NOTHING,
        ),
        **{
            action: (
                f"{summary} (ADMIN only).",
                [TID, p("Uid", {**UID, "maxLength": 32}, True)],
                [],
                NOTHING,
            )
            for action, summary in (
                ("DisableUser", "Disables a user: their access key is refused"),
                ("EnableUser", "Enables a disabled user"),
                ("DeleteUser", "Deletes a user from the tenant"),
            )
        },
    }
)

SAS_ACTIONS: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {
    "ExportRecord": (
        "Starts an export of records.",
        [
            p("ExportType", {"type": "string", "minLength": 1}, True),
            p("Params", STR),
            p("Lang", enum(["zh", "en"])),
            p("ExportFileType", STR),
            p("ResourceDirectoryAccountId", INT64),
        ],
        [],
        {"FileName": STR, "Id": INT64},
    ),
    "DescribeExportInfo": (
        "Queries the progress of an export task.",
        [
            p("ExportId", {"type": "integer", "format": "int64", "minimum": 0}, True),
            p("ResourceDirectoryAccountId", INT64),
        ],
        [],
        {
            "CurrentCount": INT64,
            "ExportStatus": enum(["init", "exporting", "success", "failed"]),
            "FileName": STR,
            "Id": INT64,
            "Link": STR,
            "Message": STR,
            "Progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "TotalCount": INT64,
        },
    ),
}

# --- Sas export family (owned by the Sas helper; parameter shapes from the SDK 10.3.2 models) ---
NONNEG = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 9223372036854775807}
SWITCH = {"type": "integer", "enum": [0, 1]}
LANG = p("Lang", enum(["zh", "en"]))
RD = p("ResourceDirectoryAccountId", INT64)
EXPORT_ID = p("ExportId", {"type": "integer", "format": "int64", "minimum": 0}, True)


def csv_of(values: list[str]) -> dict[str, Any]:
    """A comma-separated list of documented values."""
    one = "(" + "|".join(values) + ")"
    return {"type": "string", "pattern": f"^{one}(,{one})*$"}


INTS = {"type": "string", "pattern": "^[0-9]{1,18}(,[0-9]{1,18})*$"}
STARTED = {"FileName": STR, "Id": INT64}
PROGRESS = {
    "CurrentCount": INT64,
    "ExportStatus": enum(["init", "exporting", "success", "failed"]),
    "FileName": STR,
    "Id": INT64,
    "Link": STR,
    "Message": STR,
    "Progress": {"type": "integer", "minimum": 0, "maximum": 100},
    "TotalCount": INT64,
}
SAS_EXPORTS: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {
    "ExportVul": (
        "Starts an export of vulnerabilities (a zip holding an xlsx).",
        [
            p("Type", enum(["cve", "sys", "cms", "app", "emg"]), True),
            p("AttachTypes", enum(["sca"])),
            p("Necessity", csv_of(["asap", "later", "nntf"])),
            p("Dealed", enum(["y", "n"])),
            p("Uuids", STR),
            p("AliasName", STR),
            p("CveId", STR),
            p("GroupId", INTS),
            p("AssetType", csv_of(["ECS", "CONTAINER"])),
            p("SearchTags", STR),
            p("CreateTsStart", {"type": "integer", "minimum": 0, "maximum": 10**15}),
            p("CreateTsEnd", {"type": "integer", "minimum": 0, "maximum": 10**15}),
            p("ContainerName", STR),
            p("ImageName", STR),
            p("Path", STR),
            p("RaspDefend", SWITCH),
            p("VpcInstanceIds", STR),
            p(
                "VulEntityList",
                arr(
                    {
                        **obj(
                            {
                                "EntityName": {"type": "string", "minLength": 1},
                                "EntityVersion": STR,
                            },
                            ["EntityName"],
                        ),
                        "additionalProperties": False,
                    }
                ),
                desc="JSON list of {EntityName, EntityVersion}, or VulEntityList.N.EntityName",
            ),
            LANG,
            RD,
        ],
        [],
        STARTED,
    ),
    "DescribeVulExportInfo": (
        "Queries the progress of a vulnerability export.",
        [EXPORT_ID, RD],
        [],
        PROGRESS,
    ),
    "ExportWarning": (
        "Starts an export of baseline check results (a zip holding an xlsx).",
        [
            p("ExportType", enum(["hc_check_warning"])),
            p("RiskLevels", csv_of(["high", "medium", "low"])),
            p("StatusList", csv_of(["1", "3"])),
            p("Dealed", enum(["Y", "N"])),
            p("Uuids", STR),
            p("RiskIds", INTS),
            p("RiskName", STR),
            p("TypeName", STR),
            p("TypeNames", STR),
            p("SubTypeNames", STR),
            p("GroupId", NONNEG),
            p("StrategyId", NONNEG),
            p("IsCleartextPwd", SWITCH),
            p("IsSummaryExport", SWITCH),
            p("SourceIp", STR),
            LANG,
        ],
        [],
        STARTED,
    ),
    "DescribeWarningExportInfo": (
        "Queries the progress of a baseline check export.",
        [EXPORT_ID],
        [],
        PROGRESS,
    ),
    "DescribeHcExportInfo": (
        "Queries the progress of a baseline check export (ResultStatus, GmtCreate).",
        [EXPORT_ID],
        [],
        {
            "CurrentCount": INT64,
            "FileName": STR,
            "GmtCreate": INT64,
            "Id": INT64,
            "Link": STR,
            "Progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "ResultStatus": enum(["exporting", "success", "failed"]),
            "TotalCount": INT64,
        },
    ),
    "ExportSuspEvents": (
        "Starts an export of suspicious events (a zip holding an xlsx).",
        [
            p("TimeStart", DATETIME),
            p("TimeEnd", DATETIME),
            p("Levels", csv_of(["serious", "suspicious", "remind"])),
            p("Status", enum(["0", "1", "2", "4", "8", "16", "32", "64", "128"])),
            p("Dealed", enum(["Y", "N"])),
            p("ParentEventTypes", STR),
            p("Name", STR),
            p("Remark", STR),
            p("Uuid", STR),
            p("GroupId", NONNEG),
            p("Id", NONNEG),
            p("UniqueInfo", STR),
            p("AssetsTypeList", arr(enum(["ecs", "container"]))),
            p("ClusterId", STR),
            p(
                "ContainerFieldName",
                enum(
                    [
                        "instanceId",
                        "appName",
                        "clusterId",
                        "regionId",
                        "nodeName",
                        "namespace",
                        "clusterName",
                        "image",
                        "imageRepoName",
                        "imageRepoNamespace",
                        "imageRepoTag",
                        "imageDigest",
                    ]
                ),
            ),
            p("ContainerFieldValue", STR),
            p("CurrentPage", STR, desc="paging is for lists; an export holds every match"),
            p("PageSize", STR),
            p("From", STR),
            p("OperateErrorCodeList", arr(STR)),
            p("SourceIp", STR),
            p("TargetType", STR),
            LANG,
            RD,
        ],
        [],
        STARTED,
    ),
    "DescribeSuspEventExportInfo": (
        "Queries the progress of a suspicious-event export.",
        [EXPORT_ID],
        [],
        {
            "ExportStatus": enum(["pending", "exporting", "success", "failed"]),
            "FileName": STR,
            "GmtCreate": INT64,
            "GmtModified": INT64,
            "Id": INT64,
            "Link": STR,
            "Progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "Properties": STR,
            "TotalCount": INT64,
            "Type": enum(["suspiciousEvent"]),
        },
    ),
}
SAS_ACTIONS.update(SAS_EXPORTS)

ERROR = obj(
    {
        "RequestId": STR,
        "HostId": STR,
        "Code": {"type": "string", "minLength": 1},
        "Message": STR,
        "Recommend": STR,
    },
    ["RequestId", "HostId", "Code", "Message", "Recommend"],
)


def document(title: str, version: str, actions: dict[str, Any], dms: bool) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for action, (summary, query, form, body) in actions.items():
        props = {**(DMS_BASE if dms else {"RequestId": STR}), **body}
        success = obj(props, ["RequestId", "Success"] if dms else ["RequestId"])
        # a success body never carries a top-level Code (pop-core would throw)
        success["not"] = {"required": ["Code"]}
        op: dict[str, Any] = {
            "operationId": action,
            "summary": summary,
            "x-acs-action": action,
            "x-acs-version": version,
            "parameters": query,
            "responses": {
                "200": {
                    "description": "Success (DMS business failures too: Success=false)",
                    "content": {"application/json": {"schema": success}},
                },
                "400": {
                    "description": "Missing or invalid parameter; gateway errors",
                    "content": {"application/json": {"schema": ERROR}},
                },
                "403": {
                    "description": "No permission",
                    "content": {"application/json": {"schema": ERROR}},
                },
                "404": {
                    "description": "Unknown access key or action",
                    "content": {"application/json": {"schema": ERROR}},
                },
                "413": {
                    "description": "Body too large",
                    "content": {"application/json": {"schema": ERROR}},
                },
            },
        }
        if form:
            op["requestBody"] = {
                "required": any(f["required"] for f in form),
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": obj(
                            {f["name"]: f["schema"] for f in form},
                            [f["name"] for f in form if f["required"]],
                        )
                    }
                },
            }
        paths[f"/{action}"] = {"post": op}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": version,
            "description": "RPC actions on pseudo-paths /{Action}; on the wire every call is POST / with "
            "x-acs-action and x-acs-version (see specs/README.md).",
        },
        "servers": [{"url": "http://127.0.0.1:8787"}],
        "paths": paths,
    }


# catalogue parts kept in their own modules (one owner each); they import the helpers above
PARTS = ("specs.console", "specs.datachange", "specs.instances")


def dms_actions() -> dict[str, Any]:
    """DMS_ACTIONS plus every part's ACTIONS (imported late: the parts import this module)."""
    import importlib

    actions = dict(DMS_ACTIONS)
    for name in PARTS:
        actions.update(importlib.import_module(name).ACTIONS)
    return actions


def build() -> dict[str, dict[str, Any]]:
    return {
        "dms-enterprise-2018-11-01.openapi.json": document(
            "DMS Enterprise", "2018-11-01", dms_actions(), True
        ),
        "sas-2018-12-03.openapi.json": document(
            "Security Center (Sas)", "2018-12-03", SAS_ACTIONS, False
        ),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(HERE.parent))  # the parts import `specs.build` as a package module
    for name, doc in build().items():
        (HERE / name).write_text(render(doc), encoding="utf-8")
        print("wrote", HERE / name)
