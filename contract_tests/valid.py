"""Valid values for parameters whose schema is 'a string holding JSON' (OpenAPI cannot say more):
positive mode draws them from here so that documented inputs really are documented."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SAS_EXPORT_ACTIONS = {"ExportVul", "DescribeVulExportInfo", "ExportSuspEvents"}
SQL = st.sampled_from(
    [
        "select 1",
        "select * from products",
        "select id, name from customers where id < 50",
        "select count(*) from orders",
    ]
)
PLUGIN_PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "DATA_EXPORT": st.fixed_dictionaries(
        {"dbId": st.just(17001), "exeSQL": SQL},
        optional={
            "classify": st.text(max_size=20),
            "logic": st.just(False),
            "ignoreAffectRows": st.booleans(),
            "affectRows": st.integers(0, 10**6),
        },
    ),
    "DC_COMMON": st.fixed_dictionaries(
        {
            "execSQL": st.just("update products set stock = stock"),
            "dbItemList": st.just([{"dbId": 17001, "logic": False}]),
        }
    ),
    "DC_CHUNK": st.fixed_dictionaries(
        {
            "execSQL": st.just("update products set stock = stock"),
            "dbItemList": st.just([{"dbId": 17001}]),
        }
    ),
    "DC_CRON_CLEAR": st.just(
        {
            "cronFormat": "0 1 21 * * ?",
            "dbItemList": [{"dbId": 17001}],
            "cronClearItemList": [
                {"columnName": "ordered_at", "remainDays": 30, "tableName": "orders"}
            ],
        }
    ),
    "NDDL": st.fixed_dictionaries(
        {"title": st.text(min_size=1, max_size=20), "dbId": st.just(17001)}
    ),
    "PERM_APPLY": st.just({"reason": "r", "dbId": 17001, "permTypes": ["QUERY"]}),
    "OWNER_APPLY": st.just({"reason": "r", "resourceType": "DB", "dbId": 17001}),
}


# ExecuteScript (helper console): queries, several statements, one that fails inside a success,
# and a write that changes no value
SCRIPTS = st.sampled_from(
    [
        "select 1",
        "select * from products",
        "select id, name from customers where id < 50; select count(*) from orders",
        "select * from no_such_table",
        "update products set stock = stock where id = 1",
    ]
)


# data-change tickets (helper datachange): CreateDataCorrectOrder's Param, ExecuteDataCorrect's
# ActionDetail
CHANGE_PARAM = st.fixed_dictionaries(
    {
        "DbItemList": st.just([{"DbId": 17001, "Logic": False}]),
        "SqlType": st.just("TEXT"),
        "ExecSQL": st.sampled_from(
            [
                "update products set stock = stock where id = 1",
                "update products set stock = stock where price > 100; "
                "delete from orders where id < 0",
            ]
        ),
        "EstimateAffectRows": st.integers(100, 10**6),
    },
    optional={"Classify": st.text(max_size=20), "RollbackSQL": st.just("select 1")},
)
CHANGE_DETAIL = st.fixed_dictionaries(
    {}, optional={"backupData": st.booleans(), "transaction": st.booleans()}
)


def _j(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return strategy.map(lambda v: json.dumps(v, ensure_ascii=False))


def fix_positive(
    action: str, query: dict[str, Any], body: Any, tid: int | None, data: st.DataObject
) -> Any:
    """Replace JSON-valued parameters by valid documents; use the caller's tenant. Returns the body."""
    if tid is not None and "Tid" in query:
        query["Tid"] = tid
    if action == "CreateOrder":
        body = {"PluginParam": data.draw(_j(PLUGIN_PARAMS[query["PluginType"]]))}
        if "RelatedUserList" in query:
            query["RelatedUserList"] = data.draw(st.sampled_from(["", "100002", "bob,carol"]))
    elif action == "CreateDataExportOrder":
        query["PluginParam"] = data.draw(_j(PLUGIN_PARAMS["DATA_EXPORT"]))
        if "RelatedUserList" in query:
            query["RelatedUserList"] = "[100002]"
    elif action == "ExecuteDataExport" and "ActionDetail" in query:
        query["ActionDetail"] = data.draw(
            _j(
                st.fixed_dictionaries(
                    {"fileType": st.sampled_from(["CSV", "TXT", "JSON", "SQL", "XLSX"])}
                )
            )
        )
    elif action == "CreateDataTrackOrder":
        query["Param"] = data.draw(
            _j(
                st.fixed_dictionaries(
                    {
                        "DbId": st.just("17001"),
                        "JobStartTime": st.just("2026-11-01 00:00:00"),
                        "JobEndTime": st.just("2026-11-01 02:00:00"),
                        "TableNames": st.sampled_from([["orders"], ["customers", "products"]]),
                        "TrackTypes": st.lists(
                            st.sampled_from(["INSERT", "UPDATE", "DELETE"]), min_size=1, unique=True
                        ),
                    }
                )
            )
        )
        if "RelatedUserList" in query:
            query["RelatedUserList"] = "[]"
    elif action == "DownloadDataTrackResult":
        for name, strat in {
            "FilterTableList": _j(st.sampled_from([["orders"], []])),
            "FilterTypeList": _j(
                st.lists(st.sampled_from(["INSERT", "UPDATE", "DELETE"]), unique=True)
            ),
            "EventIdList": _j(st.lists(st.integers(1, 100), max_size=3)),
            "ColumnFilter": _j(st.just({"ColumnName": "id", "Operator": "MORE", "Value": "5"})),
            "FilterStartTime": st.just("2026-11-01 00:00:00"),
            "FilterEndTime": st.just("2026-11-01 05:00:00"),
        }.items():
            if name in query:
                query[name] = data.draw(strat)
    elif action == "ExecuteScript":
        query["Script"] = data.draw(SCRIPTS)
        query["Logic"] = False
    elif action == "ExportRecord":
        query["ExportType"] = data.draw(
            st.sampled_from(["exportHcWarning", "virusScanExport", "assetInstance"])
        )
        query.pop("ExportFileType", None)
        query.pop("ResourceDirectoryAccountId", None)
    elif action in ("RegisterInstance", "AddInstance"):  # instances helper: no server to test
        query["SkipTest"] = True
    elif action == "SimplyAddInstance":  # a loopback host: refused at once, never a slow timeout
        query["Host"] = "127.0.0.1"
    elif action == "DescribeExportInfo":
        query.pop("ResourceDirectoryAccountId", None)
    elif action == "CreateDataCorrectOrder":  # data-change tickets (helper datachange)
        query["Param"] = data.draw(_j(CHANGE_PARAM))
        if "RelatedUserList" in query:
            query["RelatedUserList"] = "[100002]"
        query.pop("AttachmentKey", None)
    elif action in ("ExecuteDataCorrect", "GetDataCorrectBackupFiles") and "ActionDetail" in query:
        query["ActionDetail"] = data.draw(_j(CHANGE_DETAIL))
    elif action in SAS_EXPORT_ACTIONS:  # the Sas export family (helper sas)
        # a documented RD account id is one of the caller's member accounts
        if "ResourceDirectoryAccountId" in query and tid == 3000:
            query["ResourceDirectoryAccountId"] = 1666036095600001
        else:
            query.pop("ResourceDirectoryAccountId", None)
    return body


def overlay(
    action: str,
    query: dict[str, Any],
    body: Any,
    bundles: dict[str, list[dict[str, Any]]],
    data: st.DataObject,
) -> None:
    """Half the time, real ids from the session's seeds (contract_tests/seeds.py) replace the
    generated ones, so the operation's success answer is checked too."""
    choices = bundles.get(action)
    if not choices or not data.draw(st.booleans(), label="seeded"):
        return
    for name, value in data.draw(st.sampled_from(choices), label="seed").items():
        if isinstance(body, dict) and name in body:
            body[name] = value
        else:
            query[name] = value
    if action.startswith("Describe"):  # a seed is the caller's own export, not a member's
        query.pop("ResourceDirectoryAccountId", None)
