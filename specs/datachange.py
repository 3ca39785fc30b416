"""Catalogue entries for data-change tickets (CreateDataCorrectOrder and its family); merged by `specs.build.dms_actions`."""

from __future__ import annotations

from typing import Any

from specs.build import BOOL, ID, INT64, RLU, STR, TID, arr, enum, jp, obj, p

CHANGE_STATUS = [
    "new",
    "precheck",
    "precheckFailed",
    "precheck_success",
    "toaudit",
    "approved",
    "reject",
    "waiting",
    "processing",
    "success",
    "fail",
    "closed",
]
JOB_STATUS = ["INIT", "PENDING", "BE_SCHEDULED", "RUNNING", "SUCCESS", "FAIL", "PAUSE", "DELETE"]
CHECK_STEPS = ["SQL_PARSE", "SQL_TYPE_CHECK", "PERMISSION_CHECK", "ROW_CHECK"]
CHECK_STATUS = ["WAITING", "RUNNING", "SUCCESS", "FAIL"]
REVIEW_STATUS = ["WAITING", "RUNNING", "IGNORE", "PASS", "BLOCK"]

PARAM = obj(
    {
        "DbItemList": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": obj({"DbId": INT64, "InstanceId": INT64, "Logic": BOOL}, ["DbId"]),
        },
        "SqlType": enum(["TEXT", "ATTACHMENT"]),
        "ExecSQL": {"type": "string", "minLength": 1},
        "EstimateAffectRows": {**INT64, "minimum": 0},
        "ExecMode": enum(["COMMITOR", "AUTO", "LAST_AUDITOR"]),
        "RollbackSQL": STR,
        "RollbackSqlType": enum(["TEXT", "ATTACHMENT"]),
        "Classify": STR,
        "AttachmentName": STR,
        "RollbackAttachmentName": STR,
    },
    ["DbItemList", "SqlType", "EstimateAffectRows"],
)
ACTION_DETAIL = obj(
    {
        "startTime": {"type": "string", "description": "yyyy-MM-dd HH:mm:ss"},
        "endTime": STR,
        "transaction": BOOL,
        "backupData": BOOL,
    }
)
ORDER = [TID, p("OrderId", ID, True)]

ACTIONS: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {
    "CreateDataCorrectOrder": (
        "Creates a data-change ticket (DC_COMMON) whose DML runs for real after approval.",
        [
            TID,
            p("Comment", {"type": "string", "minLength": 1}, True),
            jp("Param", PARAM, True, "JSON object (DbItemList, SqlType, ExecSQL...)"),
            jp("RelatedUserList", {"type": "array", "items": INT64}, desc="JSON array of user ids"),
            p("AttachmentKey", STR),
            RLU,
        ],
        [],
        {"CreateOrderResult": arr(INT64)},
    ),
    "GetDataCorrectOrderDetail": (
        "Queries a data-change ticket: its databases, SQL, precheck steps and status.",
        ORDER,
        [],
        {
            "DataCorrectOrderDetail": obj(
                {
                    "ConfigDetail": obj(
                        {
                            "Cron": BOOL,
                            "CronCallTimes": INT64,
                            "CronExtConfig": obj(
                                {
                                    "CurrentClearTaskCount": INT64,
                                    "OptimizeTableAfterEveryClearTimes": INT64,
                                }
                            ),
                            "CronFormat": STR,
                            "CronLastCallStartTime": STR,
                            "CronNextCallTime": STR,
                            "CronStatus": STR,
                            "CsvTableName": STR,
                            "CurrentTaskId": INT64,
                            "DetailType": STR,
                            "Duration": INT64,
                            "FileEncoding": STR,
                            "FileType": STR,
                            "ImportExtConfig": obj(
                                {
                                    "CsvFirstRowIsColumnDef": BOOL,
                                    "IgnoreError": BOOL,
                                    "ImportMode": STR,
                                    "InsertType": STR,
                                }
                            ),
                        }
                    ),
                    "DatabaseList": obj(
                        {
                            "Database": arr(
                                obj(
                                    {
                                        "DbId": INT64,
                                        "DbType": STR,
                                        "EnvType": STR,
                                        "Logic": BOOL,
                                        "SearchName": STR,
                                    }
                                )
                            )
                        }
                    ),
                    "ExecMode": STR,
                    "OrderDetail": obj(
                        {
                            "ActualAffectRows": INT64,
                            "AttachmentName": STR,
                            "Classify": STR,
                            "EstimateAffectRows": INT64,
                            "ExeSQL": STR,
                            "IgnoreAffectRows": BOOL,
                            "IgnoreAffectRowsReason": STR,
                            "RbAttachmentName": STR,
                            "RbSQL": STR,
                            "RbSQLType": STR,
                            "SqlType": STR,
                        }
                    ),
                    "PreCheckDetail": obj(
                        {
                            "TaskCheckDO": arr(
                                obj(
                                    {
                                        "CheckStatus": enum(CHECK_STATUS),
                                        "CheckStep": enum(CHECK_STEPS),
                                        "UserTip": STR,
                                    }
                                )
                            )
                        }
                    ),
                    "Status": STR,
                }
            )
        },
    ),
    "ListDataCorrectPreCheckSQL": (
        "Lists the statements of a data-change ticket as its precheck saw them.",
        [
            *ORDER,
            p("DbId", {**INT64, "minimum": 0}),
            p("PageNumber", {**INT64, "minimum": 1, "maximum": 100000}),
            p("PageSize", {**INT64, "minimum": 1, "maximum": 1000}),
        ],
        [],
        {
            "PreCheckSQLList": arr(
                obj(
                    {
                        "AffectRows": INT64,
                        "CheckSQL": STR,
                        "DbId": INT64,
                        "SQLReviewQueryKey": STR,
                        "SqlReviewStatus": enum(REVIEW_STATUS),
                        "SqlType": STR,
                        "TableNames": STR,
                    }
                )
            )
        },
    ),
    "ListDataCorrectPreCheckDB": (
        "Lists the databases of a data-change ticket and how many statements each has.",
        [
            *ORDER,
            p("PageNumber", {**INT64, "minimum": 1, "maximum": 100000}),
            p("PageSize", {**INT64, "minimum": 1, "maximum": 1000}),
        ],
        [],
        {"PreCheckDBList": arr(obj({"DbId": INT64, "SearchName": STR, "SqlNum": INT64}))},
    ),
    "RetryDataCorrectPreCheck": (
        "Runs the precheck of a data-change ticket again, on the data as it is now.",
        [*ORDER, RLU],
        [],
        {},
    ),
    "ExecuteDataCorrect": (
        "Starts an approved data-change ticket (at startTime; backupData; transaction).",
        [*ORDER, jp("ActionDetail", ACTION_DETAIL, desc="JSON object"), RLU],
        [],
        {},
    ),
    "GetDataCorrectTaskDetail": (
        "Queries the execution task of a data-change ticket (jobStatus, ActualAffectRows).",
        ORDER,
        [],
        {
            "DataCorrectTaskDetail": obj(
                {
                    "ActualAffectRows": INT64,
                    "CreateTime": STR,
                    "DBTaskGroupId": INT64,
                    "jobStatus": enum(JOB_STATUS),
                }
            )
        },
    ),
    "GetDataCorrectBackupFiles": (
        "The rollback SQL of the rows a data-change ticket changed, as expiring signed links.",
        [*ORDER, jp("ActionDetail", obj({}), desc="JSON object")],
        [],
        {"DataCorrectBackupFiles": obj({"FileUrl": arr(STR)})},
    ),
    "CloseOrder": (
        "Closes a ticket that has not started running; nothing of it runs afterwards.",
        [*ORDER, p("CloseReason", {"type": "string", "minLength": 1}, True)],
        [],
        {},
    ),
}
