"""Reading API parameters off the wire: strings in, typed values out, Alibaba errors on failure."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from emulator.gateway import errors

INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+")
# deep enough for every documented parameter, shallow enough that no recursive walk over the
# value (marshmallow, key folding, json.dumps) comes near Python's recursion limit
MAX_JSON_DEPTH = 32


def opt_str(params: dict[str, str], name: str, max_len: int = 65_536) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if len(value) > max_len:
        raise errors.invalid(name, f"It is longer than {max_len} characters.")
    return value


def req_str(params: dict[str, str], name: str, max_len: int = 65_536) -> str:
    value = opt_str(params, name, max_len)
    if value is None or value == "":
        raise errors.missing(name)
    return value


def opt_int(
    params: dict[str, str], name: str, minimum: int = -INT64_MAX, maximum: int = INT64_MAX
) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise errors.invalid(name, f"{raw[:40]!r} is not an integer.")
    value = int(text) if len(text) <= 20 else None  # beyond int64 whatever the digits say
    if value is None or not minimum <= value <= maximum:
        raise errors.invalid(name, f"It must be between {minimum} and {maximum}.")
    return value


def req_int(
    params: dict[str, str], name: str, minimum: int = -INT64_MAX, maximum: int = INT64_MAX
) -> int:
    value = opt_int(params, name, minimum, maximum)
    if value is None:
        raise errors.missing(name)
    return value


def opt_enum(
    params: dict[str, str], name: str, allowed: tuple[str, ...], default: str | None = None
) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise errors.invalid(name, f"Valid values: {', '.join(allowed)}.")
    return value


def req_enum(params: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = opt_enum(params, name, allowed)
    if value is None:
        raise errors.missing(name)
    return value


def opt_json(params: dict[str, str], name: str, max_len: int = 2_000_000) -> tuple[bool, Any]:
    """(present, value) of a parameter the SDK sends as a JSON string."""
    raw = params.get(name)
    if raw is None or raw == "":
        return False, None
    if len(raw) > max_len:
        raise errors.invalid(name, f"It is longer than {max_len} characters.")
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise errors.invalid(name, f"It is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError:
        raise errors.invalid(name, "It is not valid JSON.") from None
    why = json_problem(value)
    if why:
        raise errors.invalid(name, why)
    return True, value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def json_problem(value: Any) -> str | None:
    """Why a decoded JSON value cannot be handed on, or None: nesting deeper than
    MAX_JSON_DEPTH, integers beyond 64 bits, non-finite floats, lone surrogates (`\\udcff`
    decodes to text that is not UTF-8). Iterative, so the check itself cannot recurse too deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"It is nested deeper than {MAX_JSON_DEPTH} levels."
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            if not _encodable(item):
                return "It contains text that is not valid UTF-8 (a lone surrogate escape)."
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -(2**63) <= item <= INT64_MAX:
                return "It contains an integer that does not fit in 64 bits."
        elif isinstance(item, float) and not math.isfinite(item):
            return "It contains a number that is not finite."
    return None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def req_json(params: dict[str, str], name: str) -> Any:
    present, value = opt_json(params, name)
    if not present:
        raise errors.missing(name)
    return value
