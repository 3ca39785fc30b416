"""Catalogue entries for the SQL console (ExecuteScript); merged by `specs.build.dms_actions`."""

from __future__ import annotations

from typing import Any

from specs.build import BOOL, ID, INT64, RLU, STR, TID, arr, obj, p

# one Results entry per statement run; Rows: column -> value as text (NULL: null)
_RESULT = obj(
    {
        "ColumnNames": arr(STR),
        "Message": STR,
        "RowCount": INT64,
        "Rows": arr(
            {"type": "object", "additionalProperties": {"type": "string", "nullable": True}}
        ),
        "Success": BOOL,
    }
)

ACTIONS: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {
    "ExecuteScript": (
        "Runs SQL (queries, and DML/DDL as the console's rules allow) on a database in "
        "Security Collaboration mode; one Results entry per statement.",
        [
            TID,
            p("DbId", ID, True),
            p("Logic", BOOL, True),
            p("Script", {"type": "string", "minLength": 1, "maxLength": 1048576}, True),
            RLU,
        ],
        [],
        {"Results": arr(_RESULT)},
    ),
}
