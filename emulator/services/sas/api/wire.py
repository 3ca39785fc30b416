"""Sas parameter shapes beyond the gateway's scalars: comma lists, repeated `Name.N` lists,
`VulEntityList.N.EntityName`, the console's time formats. Bad values are Invalid<Param> (400)."""

from __future__ import annotations

import json

from emulator.core.clock import parse_dms_time
from emulator.gateway import errors
from emulator.gateway.params import opt_int, opt_json, opt_str


def csv(
    params: dict[str, str], name: str, allowed: tuple[str, ...] | None = None, fold: bool = False
) -> tuple[str, ...] | None:
    """A comma-separated list; None when absent or empty. `fold` matches `allowed` ignoring case."""
    raw = opt_str(params, name, 8192)
    if raw is None:
        return None
    items = tuple(x.strip() for x in raw.split(",") if x.strip())
    if not items:
        return None
    if allowed is not None:
        lookup = {a.lower(): a for a in allowed} if fold else {a: a for a in allowed}
        wanted = tuple(lookup.get(x.lower() if fold else x, "") for x in items)
        if "" in wanted:
            raise errors.invalid(name, f"Valid values: {', '.join(allowed)}.")
        return wanted
    return items


def csv_ints(params: dict[str, str], name: str) -> tuple[int, ...] | None:
    items = csv(params, name)
    if items is None:
        return None
    if not all(x.lstrip("-").isdigit() and x.isascii() and len(x) < 19 for x in items):
        raise errors.invalid(name, "It must be integers separated by commas.")
    return tuple(int(x) for x in items)


def one_of(
    params: dict[str, str], name: str, allowed: tuple[str, ...], fold: bool = False
) -> str | None:
    items = csv(params, name, allowed, fold)
    if items is None:
        return None
    if len(items) != 1:
        raise errors.invalid(name, f"Valid values: {', '.join(allowed)}.")
    return items[0]


def flag(params: dict[str, str], name: str) -> int | None:
    """A 0/1 switch."""
    return opt_int(params, name, 0, 1)


def repeated(params: dict[str, str], name: str) -> tuple[str, ...] | None:
    """`Name.1=a&Name.2=b` (how the SDK flattens a list), or a JSON array / comma list in `Name`."""
    items = [
        v for k, v in sorted(_indexed(params, name), key=lambda kv: kv[0]) if isinstance(v, str)
    ]
    raw = params.get(name) or ""
    if raw.lstrip().startswith("["):
        _, parsed = opt_json(params, name, 65_536)
        if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
            raise errors.invalid(name, "It must be a list of strings.")
        items += parsed
    elif raw:
        items += raw.split(",")
    cleaned = tuple(x.strip() for x in items if x.strip())
    return cleaned or None


def _indexed(params: dict[str, str], name: str) -> list[tuple[int, str]]:
    out = []
    prefix = name + "."
    for key, value in params.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            out.append((int(key[len(prefix) :]), value))
    return out


def entities(params: dict[str, str]) -> tuple[tuple[str, str], ...] | None:
    """VulEntityList: `VulEntityList.N.EntityName` / `.EntityVersion`, or a JSON list."""
    found: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "VulEntityList" and parts[1].isdigit():
            found.setdefault(int(parts[1]), {})[parts[2]] = value
    listed = [found[n] for n in sorted(found)]
    given, parsed = opt_json(params, "VulEntityList", 65_536)
    if given:
        if not isinstance(parsed, list) or not all(isinstance(x, dict) for x in parsed):
            raise errors.invalid("VulEntityList", "It must be a JSON list of objects.")
        listed += parsed
    out = []
    for item in listed:
        name, version = item.get("EntityName"), item.get("EntityVersion", "")
        if not isinstance(name, str) or not name or not isinstance(version, str | None):
            raise errors.invalid("VulEntityList", "Each item needs an EntityName.")
        out.append((name, version or ""))
    return tuple(out) or None


def time_at(params: dict[str, str], name: str) -> float | None:
    raw = opt_str(params, name, 64)
    if raw is None or raw == "":
        return None
    try:
        return parse_dms_time(raw)  # TimeStart / TimeEnd: 'yyyy-MM-dd HH:mm:ss' (UTC)
    except ValueError:
        raise errors.invalid(name, "The format is yyyy-MM-dd HH:mm:ss.") from None


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def ms(params: dict[str, str], name: str) -> float | None:
    value = opt_int(params, name, 0, 10**15)
    return None if value is None else value / 1000.0
