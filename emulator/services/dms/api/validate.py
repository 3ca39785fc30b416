"""Shape checks on DMS data-tracking parameters, run at the wire edge before the domain sees them.

The domain trusts what it is handed (times it can parse, a column filter of strings, distinct
tables); these checks make that true for any input, so a malformed request is an InvalidParam
error and never a 5xx, and one small request cannot store an outsized ticket (probes r06, r09).
"""

from __future__ import annotations

import re
from typing import Any

from emulator.core.clock import parse_dms_time
from emulator.gateway import errors

_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
MIN_YEAR = 1970  # no binlog predates the Unix epoch
MAX_WINDOW_SECONDS = 31 * 86400  # one month of binlog per ticket, as DMS keeps binlogs for days
SCALARS = (str, int, float)


def _field(doc: dict[str, Any], name: str) -> Any:
    """`jobStartTime` or `JobStartTime`: the SDK and the docs spell keys both ways."""
    if name in doc:
        return doc[name]
    return doc.get(name[:1].upper() + name[1:])


def parse_time(text: str) -> float | None:
    """Seconds since the epoch for an exact `yyyy-MM-dd HH:mm:ss` in MIN_YEAR..9999, else None."""
    if not _TIME.fullmatch(text) or int(text[:4]) < MIN_YEAR:
        return None
    try:
        return parse_dms_time(text)
    except ValueError:  # 2024-02-30, 25:00:00 ...
        return None


def datatrack_param(raw: Any) -> None:
    """CreateDataTrackOrder's Param: real times in a bounded window, each table once."""
    if not isinstance(raw, dict):
        return  # the schema names the wrong type
    times: dict[str, float] = {}
    for name in ("jobStartTime", "jobEndTime"):
        value = _field(raw, name)
        if not isinstance(value, str):
            continue  # missing or not a string: the schema says so
        ts = parse_time(value)
        if ts is None:
            raise errors.invalid(
                "Param",
                f"{name}: {value[:40]!r} is not a time yyyy-MM-dd HH:mm:ss "
                f"between {MIN_YEAR} and 9999.",
            )
        times[name] = ts
    if len(times) == 2 and times["jobEndTime"] - times["jobStartTime"] > MAX_WINDOW_SECONDS:
        raise errors.invalid(
            "Param",
            f"jobEndTime: the window is longer than {MAX_WINDOW_SECONDS // 86400} days.",
        )
    tables = _field(raw, "tableNames")
    if isinstance(tables, list):
        seen: set[str] = set()
        for table in tables:
            if not isinstance(table, str):
                continue
            if table.lower() in seen:
                raise errors.invalid("Param", f"tableNames: {table[:64]!r} is listed twice.")
            seen.add(table.lower())


def column_filter(value: Any) -> None:
    """DownloadDataTrackResult's ColumnFilter: an object whose fields are the SDK's scalars."""
    if not isinstance(value, dict):
        raise errors.invalid("ColumnFilter", "It must be a JSON object.")
    for name in ("ColumnName", "Operator", "Value", "BetweenStart", "BetweenEnd"):
        item = value.get(name)
        if item is not None and (isinstance(item, bool) or not isinstance(item, SCALARS)):
            raise errors.invalid("ColumnFilter", f"{name} must be a string.")
    in_list = value.get("InList")
    if in_list is not None and not (
        isinstance(in_list, list)
        and all(isinstance(x, SCALARS) and not isinstance(x, bool) for x in in_list)
    ):
        raise errors.invalid("ColumnFilter", "InList must be a JSON array of strings.")
