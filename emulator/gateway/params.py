"""Reading API parameters off the wire: strings in, typed values out, Alibaba errors on failure."""

from __future__ import annotations

import json
from typing import Any

from emulator.gateway import errors

INT64_MAX = 2**63 - 1


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
    if not (text.lstrip("-").isdigit() and text.isascii()) or len(text) > 20:
        raise errors.invalid(name, f"{raw!r} is not an integer.")
    value = int(text)
    if not minimum <= value <= maximum:
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
        return True, json.loads(raw)
    except (ValueError, RecursionError):
        raise errors.invalid(name, "It is not valid JSON.") from None


def req_json(params: dict[str, str], name: str) -> Any:
    present, value = opt_json(params, name)
    if not present:
        raise errors.missing(name)
    return value
