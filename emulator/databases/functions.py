"""MySQL/PostgreSQL functions registered on SQLite connections (the `DMS_*` that dialect emits).

Every function the translation layer relies on is implemented here in Python, so a result never
depends on which SQLite the host Python ships (CONCAT exists only from 3.44, math functions only
when compiled in, aggregate ORDER BY only from 3.44). Dates are text `YYYY-MM-DD[ HH:MM:SS]`
interpreted as UTC, like the emulator's clock; invalid dates give NULL as MySQL does.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import math
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

Value = Any  # what sqlite3 hands a function: None, int, float, str or bytes

_UTC = dt.timezone.utc
_DT_RE = re.compile(
    r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(?:Z|[+-]00(?::?00)?)?\s*$"
)


@functools.lru_cache(maxsize=65536)
def _parse_text(text: str) -> tuple[dt.datetime, bool] | None:
    m = _DT_RE.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        value = dt.datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
            int((frac or "0").ljust(6, "0")),
        )  # fmt: skip
    except ValueError:
        return None
    return value, h is None


def _parse(value: Value) -> tuple[dt.datetime, bool] | None:
    """(datetime, is_date_only) of a stored date/datetime, or None (NULL or invalid)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, (int, float)):
        text = str(int(value))
        if len(text) == 8:  # MySQL accepts 20240131 as a date
            value = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        else:
            return None
    return _parse_text(str(value))


def _dt(value: Value) -> dt.datetime | None:
    parsed = _parse(value)
    return parsed[0] if parsed else None


def fmt_datetime(value: dt.datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def fmt_date(value: dt.datetime | dt.date) -> str:
    return value.strftime("%Y-%m-%d")


def _num(value: Value) -> int | float | None:
    """A MySQL-style numeric reading of a value (strings: their leading number, else 0)."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    m = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text)
    if not m:
        return 0
    token = m.group(0)
    try:
        return int(token)
    except ValueError:
        return float(token)


def _dec(value: int | float | str) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def text_of(value: Value) -> str:
    """How MySQL/PostgreSQL print a value in string context (integral doubles without `.0`)."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# --------------------------------------------------------------------------- dates


def _make_now(now: Callable[[], float]) -> dict[str, Callable[..., Value]]:
    def current() -> dt.datetime:
        return dt.datetime.fromtimestamp(int(now()), _UTC).replace(tzinfo=None)

    def unix_timestamp(value: Value = None, *rest: Value) -> Value:
        if value is None and not rest:
            return int(now())
        parsed = _dt(value)
        if parsed is None:
            return None
        seconds = calendar.timegm(parsed.timetuple())
        return seconds + parsed.microsecond / 1e6 if parsed.microsecond else seconds

    return {
        "DMS_NOW": lambda: fmt_datetime(current()),
        "DMS_CURDATE": lambda: fmt_date(current()),
        "DMS_CURTIME": lambda: current().strftime("%H:%M:%S"),
        "DMS_UNIX_TIMESTAMP": unix_timestamp,
    }


def _add_months(value: dt.datetime, months: int) -> dt.datetime:
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


_SECONDS = {"MICROSECOND": 1e-6, "SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400,
            "WEEK": 604800}  # fmt: skip
_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def date_add(value: Value, amount: Value, unit: str, keep_date: int = 1) -> Value:
    """MySQL DATE_ADD / PostgreSQL `+ interval`: month arithmetic clamps to the month's end."""
    parsed = _parse(value)
    n = _num(amount)
    if parsed is None or n is None:
        return None
    base, date_only = parsed
    try:
        if unit in _MONTHS:
            result = _add_months(base, int(n) * _MONTHS[unit])
        else:
            result = base + dt.timedelta(seconds=float(n) * _SECONDS[unit])
    except (OverflowError, ValueError):
        return None
    if keep_date and date_only and unit not in ("HOUR", "MINUTE", "SECOND", "MICROSECOND"):
        return fmt_date(result)
    return fmt_datetime(result)


def _months_between(a: dt.datetime, b: dt.datetime) -> int:
    months = (b.year - a.year) * 12 + (b.month - a.month)
    tail_a = (a.day, a.time())
    tail_b = (b.day, b.time())
    if months > 0 and tail_b < tail_a:
        months -= 1
    elif months < 0 and tail_b > tail_a:
        months += 1
    return months


def timestampdiff(unit: str, a: Value, b: Value) -> Value:
    start, end = _dt(a), _dt(b)
    if start is None or end is None:
        return None
    if unit in _MONTHS:
        return int(_months_between(start, end) / _MONTHS[unit])
    delta = end - start
    micro = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    per = int(_SECONDS[unit] * 1_000_000)
    return int(micro / per) if micro >= 0 else -int(-micro / per)


def datediff(a: Value, b: Value) -> Value:
    x, y = _dt(a), _dt(b)
    if x is None or y is None:
        return None
    return (x.date() - y.date()).days


_TRUNC = {
    "MICROSECONDS": lambda d: d,
    "SECOND": lambda d: d.replace(microsecond=0),
    "MINUTE": lambda d: d.replace(second=0, microsecond=0),
    "HOUR": lambda d: d.replace(minute=0, second=0, microsecond=0),
    "DAY": lambda d: d.replace(hour=0, minute=0, second=0, microsecond=0),
    "WEEK": lambda d: (d - dt.timedelta(days=d.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    ),
    "MONTH": lambda d: d.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
    "QUARTER": lambda d: d.replace(
        month=(d.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    ),
    "YEAR": lambda d: d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),
    "DECADE": lambda d: d.replace(
        year=d.year // 10 * 10, month=1, day=1, hour=0, minute=0, second=0, microsecond=0
    ),
    "CENTURY": lambda d: d.replace(
        year=(d.year - 1) // 100 * 100 + 1,
        month=1,
        day=1,
        hour=0,
        minute=0,
        second=0,
        microsecond=0,
    ),  # fmt: skip
}


def date_trunc(unit: str, value: Value) -> Value:
    parsed = _dt(value)
    return None if parsed is None else fmt_datetime(_TRUNC[unit.upper()](parsed))


def extract(unit: Value, value: Value) -> Value:
    d = _dt(value)
    if d is None or unit is None:
        return None
    u = str(unit).upper()
    if u == "EPOCH":
        return calendar.timegm(d.timetuple()) + d.microsecond / 1e6
    table: dict[str, Callable[[dt.datetime], int | float]] = {
        "YEAR": lambda x: x.year,
        "MONTH": lambda x: x.month,
        "DAY": lambda x: x.day,
        "HOUR": lambda x: x.hour,
        "MINUTE": lambda x: x.minute,
        "SECOND": lambda x: x.second + x.microsecond / 1e6 if x.microsecond else x.second,
        "MICROSECOND": lambda x: x.microsecond,
        "QUARTER": lambda x: (x.month - 1) // 3 + 1,
        "DOW": lambda x: (x.weekday() + 1) % 7,
        "ISODOW": lambda x: x.isoweekday(),
        "DOY": lambda x: x.timetuple().tm_yday,
        "WEEK": lambda x: x.isocalendar()[1],
        "DECADE": lambda x: x.year // 10,
    }
    fn = table.get(u)
    if fn is None:
        raise ValueError(f"EXTRACT unit {u} is not supported")
    return fn(d)


def _part(fn: Callable[[dt.datetime], Value]) -> Callable[[Value], Value]:
    @functools.lru_cache(maxsize=16384)
    def of_text(value: str) -> Value:
        parsed = _parse_text(value)
        return None if parsed is None else fn(parsed[0])

    def wrapped(value: Value) -> Value:
        if isinstance(value, str):
            return of_text(value)
        d = _dt(value)
        return None if d is None else fn(d)

    return wrapped


_MONTH_NAMES = [calendar.month_name[i] for i in range(13)]
_DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


_CODES: dict[str, Callable[[dt.datetime], str]] = {
    "Y": lambda d: f"{d.year:04d}",
    "y": lambda d: f"{d.year % 100:02d}",
    "m": lambda d: f"{d.month:02d}",
    "-m": lambda d: str(d.month),
    "d": lambda d: f"{d.day:02d}",
    "-d": lambda d: str(d.day),
    "H": lambda d: f"{d.hour:02d}",
    "-H": lambda d: str(d.hour),
    "I": lambda d: f"{(d.hour % 12) or 12:02d}",
    "-I": lambda d: str((d.hour % 12) or 12),
    "M": lambda d: f"{d.minute:02d}",
    "-M": lambda d: str(d.minute),
    "S": lambda d: f"{d.second:02d}",
    "-S": lambda d: str(d.second),
    "f": lambda d: f"{d.microsecond:06d}",
    "p": lambda d: "AM" if d.hour < 12 else "PM",
    "B": lambda d: _MONTH_NAMES[d.month],
    "b": lambda d: _MONTH_NAMES[d.month][:3],
    "A": lambda d: _DAY_NAMES[d.weekday()],
    "a": lambda d: _DAY_NAMES[d.weekday()][:3],
    "j": lambda d: f"{d.timetuple().tm_yday:03d}",
    "-j": lambda d: str(d.timetuple().tm_yday),
    "U": lambda d: f"{int(d.strftime('%U')):02d}",
    "W": lambda d: f"{int(d.strftime('%W')):02d}",
    "V": lambda d: f"{d.isocalendar()[1]:02d}",
    "G": lambda d: f"{d.isocalendar()[0]:04d}",
    "u": lambda d: str(d.isoweekday()),
    "w": lambda d: str((d.weekday() + 1) % 7),
}

_CODE = re.compile(r"%(-?[A-Za-z%])")


@functools.lru_cache(maxsize=256)
def _compile_format(fmt: str) -> tuple[str | Callable[[dt.datetime], str], ...]:
    """A format as literal pieces and code functions, parsed once per format string."""
    parts: list[str | Callable[[dt.datetime], str]] = []
    pos = 0
    for m in _CODE.finditer(fmt):
        if m.start() > pos:
            parts.append(fmt[pos : m.start()])
        code = m.group(1)
        if code == "%":
            parts.append("%")
        elif code in _CODES:
            parts.append(_CODES[code])
        else:
            raise ValueError(f"date format code %{code} is not supported")
        pos = m.end()
    if pos < len(fmt):
        parts.append(fmt[pos:])
    return tuple(parts)


@functools.lru_cache(maxsize=65536)
def _format_text(value: str, fmt: str) -> str | None:
    parsed = _parse_text(value)
    if parsed is None:
        return None
    d = parsed[0]
    return "".join(p if isinstance(p, str) else p(d) for p in _compile_format(fmt))


def strftime(value: Value, fmt: Value) -> Value:
    """DATE_FORMAT / to_char with sqlglot's normalised (Python strftime) format codes."""
    if value is None or fmt is None:
        return None
    if isinstance(value, str):
        return _format_text(value, str(fmt))
    d = _dt(value)
    if d is None:
        return None
    return "".join(p if isinstance(p, str) else p(d) for p in _compile_format(str(fmt)))


def str_to_date(value: Value, fmt: Value) -> Value:
    if value is None or fmt is None:
        return None
    pyfmt = str(fmt).replace("%-", "%")
    try:
        parsed = dt.datetime.strptime(str(value).strip(), pyfmt)
    except ValueError:
        return None
    if re.search(r"%[HIMSfpT]", pyfmt):
        return fmt_datetime(parsed)
    return fmt_date(parsed)


def from_unixtime(value: Value, fmt: Value = None) -> Value:
    n = _num(value)
    if n is None:
        return None
    d = dt.datetime.fromtimestamp(n, _UTC).replace(tzinfo=None)
    return fmt_datetime(d) if fmt is None else strftime(fmt_datetime(d), fmt)


def to_date(value: Value) -> Value:
    d = _dt(value)
    return None if d is None else fmt_date(d)


def to_datetime(value: Value) -> Value:
    d = _dt(value)
    return None if d is None else fmt_datetime(d)


def to_time(value: Value) -> Value:
    d = _dt(value)
    if d is None:
        if isinstance(value, str) and re.fullmatch(r"\d{1,3}:\d{2}(:\d{2})?", value.strip()):
            return value.strip()
        return None
    return d.strftime("%H:%M:%S")


# --------------------------------------------------------------------------- numbers


def _round_dec(value: Value, places: int, mode: str) -> Decimal | None:
    n = _num(value)
    if n is None:
        return None
    if isinstance(n, float) and not math.isfinite(n):
        return None
    exp = Decimal(1).scaleb(-places)
    return _dec(n).quantize(exp, rounding=mode) if places >= 0 else (
        (_dec(n) / exp).quantize(Decimal(1), rounding=mode) * exp
    )  # fmt: skip


def _num_out(d: Decimal | None, places: int, integral_input: bool) -> Value:
    if d is None:
        return None
    if places <= 0 or integral_input:
        return int(d)
    return float(d)


def round_(value: Value, places: Value = 0) -> Value:
    """ROUND half away from zero on the decimal value (MySQL exact-value rounding)."""
    p = int(_num(places) or 0)
    return _num_out(_round_dec(value, p, ROUND_HALF_UP), p, isinstance(value, int))


def truncate(value: Value, places: Value = 0) -> Value:
    p = int(_num(places) or 0)
    return _num_out(_round_dec(value, p, ROUND_DOWN), p, isinstance(value, int))


def cast_int(value: Value, dialect: str = "mysql") -> Value:
    """CAST(x AS SIGNED) / x::int: numbers round half away from zero (4.75 -> 5)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        d = _round_dec(value, 0, ROUND_HALF_UP)
        return None if d is None else int(d)
    text = value.decode() if isinstance(value, bytes) else str(value)
    if dialect == "postgresql":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"invalid input syntax for type integer: {text!r}") from None
    m = re.match(r"\s*[+-]?\d+", text)  # MySQL: a string's leading integer, else 0
    return int(m.group(0)) if m else 0


def cast_unsigned(value: Value) -> Value:
    n = cast_int(value)
    return None if n is None else n % (1 << 64)


def cast_decimal(value: Value, scale: Value) -> Value:
    s = int(_num(scale) or 0)
    return _num_out(_round_dec(value, s, ROUND_HALF_UP), s, False)


def cast_decimal_text(value: Value, scale: Value) -> Value:
    """CAST(x AS DECIMAL(p,s)) as MySQL prints it: exactly s decimals (8 -> '8.00')."""
    d = _round_dec(value, int(_num(scale) or 0), ROUND_HALF_UP)
    return None if d is None else f"{d:f}"


def cast_numeric(value: Value) -> Value:
    n = _num(value)
    return n


def cast_real(value: Value) -> Value:
    n = _num(value)
    return None if n is None else float(n)


def cast_text(value: Value) -> Value:
    return None if value is None else text_of(value)


def cast_bool(value: Value) -> Value:
    if value is None:
        return None
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("t", "true", "y", "yes", "on", "1"):
            return 1
        if low in ("f", "false", "n", "no", "off", "0"):
            return 0
        raise ValueError(f"invalid input syntax for type boolean: {value!r}")
    return 1 if value else 0


def format_number(value: Value, places: Value) -> Value:
    """MySQL FORMAT(x, d): half-up rounding, thousands separators (915375 -> '915,375.00')."""
    p = max(0, int(_num(places) or 0))
    d = _round_dec(value, p, ROUND_HALF_UP)
    return None if d is None else f"{d:,.{p}f}"


def _math(fn: Callable[..., float], integral: bool = False) -> Callable[..., Value]:
    def wrapped(*args: Value) -> Value:
        nums = [_num(a) for a in args]
        if any(n is None for n in nums):
            return None
        try:
            result = fn(*nums)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
        return int(result) if integral else result

    return wrapped


def _log(a: Value, b: Value = None) -> float:
    if b is None:
        return math.log(a)
    return math.log(b) / math.log(a)


def mod(a: Value, b: Value) -> Value:
    x, y = _num(a), _num(b)
    if x is None or y is None or y == 0:
        return None
    if isinstance(x, int) and isinstance(y, int):
        return int(math.fmod(x, y))
    return float(_dec(x) % _dec(y))


def _pick(fn: Callable[..., Value]) -> Callable[..., Value]:
    def wrapped(*args: Value) -> Value:
        if any(a is None for a in args):
            return None
        if all(isinstance(a, (int, float)) for a in args):
            return fn(args)
        return fn([text_of(a) for a in args])

    return wrapped


def _pick_non_null(fn: Callable[..., Value]) -> Callable[..., Value]:
    """PostgreSQL's greatest/least ignore NULL arguments (MySQL's return NULL)."""
    inner = _pick(fn)

    def wrapped(*args: Value) -> Value:
        present = [a for a in args if a is not None]
        return inner(*present) if present else None

    return wrapped


def _mysql_number(value: Value) -> int | float | None:
    """MySQL's numeric reading of a date/datetime in arithmetic: 20240105 / 20240105103000."""
    if isinstance(value, str):
        parsed = _parse_text(value)
        if parsed is not None:
            d, date_only = parsed
            if date_only:
                return d.year * 10000 + d.month * 100 + d.day
            whole = int(d.strftime("%Y%m%d%H%M%S"))
            return whole + d.microsecond / 1e6 if d.microsecond else whole
    return _num(value)


def add(a: Value, b: Value, dialect: str = "mysql") -> Value:
    """`a + b` with the dialect's meaning when an operand is a stored date (text here)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a + b
    if a is None or b is None:
        return None
    if dialect == "postgresql":
        for date, days in ((a, b), (b, a)):
            parsed = _parse_text(date) if isinstance(date, str) else None
            if parsed is not None and parsed[1] and isinstance(days, int):
                return fmt_date(parsed[0] + dt.timedelta(days=days))  # date + integer = date
        x, y = _num(a), _num(b)
    else:
        x, y = _mysql_number(a), _mysql_number(b)
    if x is None or y is None:
        return None
    return x + y


def subtract(a: Value, b: Value, dialect: str = "mysql") -> Value:
    """`a - b` with the dialect's meaning when an operand is a stored date (text here)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a - b
    if a is None or b is None:
        return None
    if dialect == "postgresql":
        pa = _parse_text(a) if isinstance(a, str) else None
        pb = _parse_text(b) if isinstance(b, str) else None
        if pa is not None and pb is not None:
            if pa[1] and pb[1]:
                return (pa[0] - pb[0]).days  # date - date = integer days
            raise ValueError(
                "timestamp - timestamp (an interval) is not supported; "
                "use extract(epoch from ...) or date_trunc"
            )
        if pa is not None and pa[1] and isinstance(b, int):
            return fmt_date(pa[0] - dt.timedelta(days=b))  # date - integer = date
        x, y = _num(a), _num(b)
    else:
        x, y = _mysql_number(a), _mysql_number(b)
    if x is None or y is None:
        return None
    return x - y


# --------------------------------------------------------------------------- strings


def concat(*args: Value) -> Value:
    if any(a is None for a in args):
        return None
    return "".join(text_of(a) for a in args)


def concat_ws(sep: Value, *args: Value) -> Value:
    if sep is None:
        return None
    return text_of(sep).join(text_of(a) for a in args if a is not None)


def substring_index(value: Value, delim: Value, count: Value) -> Value:
    if value is None or delim is None or count is None:
        return None
    s, d, n = text_of(value), text_of(delim), int(_num(count) or 0)
    if not d or n == 0:
        return ""
    parts = s.split(d)
    return d.join(parts[:n]) if n > 0 else d.join(parts[n:])


def split_part(value: Value, delim: Value, index: Value) -> Value:
    if value is None or delim is None or index is None:
        return None
    s, d, n = text_of(value), text_of(delim), int(_num(index) or 0)
    parts = s.split(d) if d else [s]
    if n == 0:
        raise ValueError("field position must not be zero")
    i = n - 1 if n > 0 else len(parts) + n
    return parts[i] if 0 <= i < len(parts) else ""


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str, flags: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if "i" in flags else 0)


def regexp(value: Value, pattern: Value, flags: Value = "") -> Value:
    if value is None or pattern is None:
        return None
    return 1 if _regex(text_of(pattern), str(flags or "")).search(text_of(value)) else 0


@functools.lru_cache(maxsize=1024)
def like_regex(pattern: str, flags: int) -> re.Pattern[str]:
    """SQL LIKE (`%`, `_`, backslash escapes) as a regular expression (cached)."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), flags | re.DOTALL)


def like(value: Value, pattern: Value) -> Value:
    if value is None or pattern is None:
        return None
    return 1 if like_regex(text_of(pattern), 0).fullmatch(text_of(value)) else 0


def ilike(value: Value, pattern: Value) -> Value:
    if value is None or pattern is None:
        return None
    return 1 if like_regex(text_of(pattern), re.IGNORECASE).fullmatch(text_of(value)) else 0


def _pad(left: bool) -> Callable[[Value, Value, Value], Value]:
    def pad(value: Value, length: Value, fill: Value = " ") -> Value:
        if value is None or length is None or fill is None:
            return None
        s, n, f = text_of(value), int(_num(length) or 0), text_of(fill)
        if n < 0:
            return None
        if len(s) >= n:
            return s[:n]
        if not f:
            return None
        extra = (f * (n // len(f) + 1))[: n - len(s)]
        return extra + s if left else s + extra

    return pad


def locate(sub: Value, value: Value, start: Value = 1) -> Value:
    if sub is None or value is None or start is None:
        return None
    begin = int(_num(start) or 1)
    if begin < 1:
        return 0
    return text_of(value).find(text_of(sub), begin - 1) + 1


def _str1(fn: Callable[[str], Value]) -> Callable[[Value], Value]:
    def wrapped(value: Value) -> Value:
        return None if value is None else fn(text_of(value))

    return wrapped


def left(value: Value, n: Value) -> Value:
    if value is None or n is None:
        return None
    k = int(_num(n) or 0)
    return text_of(value)[: max(k, 0)]


def right(value: Value, n: Value) -> Value:
    if value is None or n is None:
        return None
    k = int(_num(n) or 0)
    return text_of(value)[-k:] if k > 0 else ""


def repeat(value: Value, n: Value) -> Value:
    if value is None or n is None:
        return None
    return text_of(value) * max(int(_num(n) or 0), 0)


def hex_(value: Value) -> Value:
    """MySQL HEX: an integer's hexadecimal digits, a string's UTF-8 bytes (upper case)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return format(int(_dec(value).to_integral_value(ROUND_HALF_UP)) % (1 << 64), "X")
    data = value if isinstance(value, bytes) else str(value).encode()
    return data.hex().upper()


def week(value: Value, mode: Value = 0) -> Value:
    """MySQL WEEK(d[, mode]) for modes 0 (Sunday first, 0-53, the default) and 3 (ISO)."""
    d = _dt(value)
    if d is None:
        return None
    m = int(_num(mode) or 0)
    if m == 0:
        return int(d.strftime("%U"))
    if m == 3:
        return d.isocalendar()[1]
    raise ValueError(f"WEEK mode {m} is not supported (0 and 3 are)")


def field(value: Value, *options: Value) -> Value:
    if value is None:
        return 0
    for i, opt in enumerate(options, 1):
        if opt is not None and text_of(opt).lower() == text_of(value).lower():
            return i
    return 0


def elt(n: Value, *options: Value) -> Value:
    k = int(_num(n) or 0)
    return options[k - 1] if 1 <= k <= len(options) else None


# --------------------------------------------------------------------------- aggregates


def _sort_key(value: Value) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, text_of(value).lower())


def _row_key(index: int, row: tuple[Value, tuple[Value, ...]]) -> tuple[int, Any]:
    return _sort_key(row[1][index])


class GroupConcat:
    """GROUP_CONCAT(x ORDER BY k [DESC] SEPARATOR s) / string_agg: args (x, sep, k1, desc1, ...)."""

    distinct = False

    def __init__(self) -> None:
        self.rows: list[tuple[Value, tuple[Value, ...]]] = []
        self.sep: str = ","

    def step(self, value: Value, sep: Value, *keys: Value) -> None:
        if sep is not None:
            self.sep = text_of(sep)
        if value is None:
            return
        self.rows.append((value, keys))

    def finalize(self) -> Value:
        if not self.rows:
            return None
        rows = self.rows
        if self.distinct:
            seen: set[str] = set()
            unique = []
            for row in rows:
                t = text_of(row[0])
                if t not in seen:
                    seen.add(t)
                    unique.append(row)
            rows = unique
        if rows and rows[0][1]:
            pairs = len(rows[0][1]) // 2
            for i in reversed(range(pairs)):
                desc = bool(rows[0][1][2 * i + 1])
                rows = sorted(rows, key=functools.partial(_row_key, 2 * i), reverse=desc)
        return self.sep.join(text_of(v) for v, _ in rows)


class GroupConcatDistinct(GroupConcat):
    distinct = True


# --------------------------------------------------------------------------- install


def _functions(now: Callable[[], float]) -> dict[str, Callable[..., Value]]:
    fns: dict[str, Callable[..., Value]] = {
        "DMS_DATE_ADD": date_add,
        "DMS_TIMESTAMPDIFF": timestampdiff,
        "DMS_DATEDIFF": datediff,
        "DMS_DATE_TRUNC": date_trunc,
        "DMS_EXTRACT": extract,
        "DMS_YEAR": _part(lambda d: d.year),
        "DMS_MONTH": _part(lambda d: d.month),
        "DMS_DAY": _part(lambda d: d.day),
        "DMS_HOUR": _part(lambda d: d.hour),
        "DMS_MINUTE": _part(lambda d: d.minute),
        "DMS_SECOND": _part(lambda d: d.second),
        "DMS_MICROSECOND": _part(lambda d: d.microsecond),
        "DMS_QUARTER": _part(lambda d: (d.month - 1) // 3 + 1),
        "DMS_DAYOFWEEK": _part(lambda d: (d.weekday() + 1) % 7 + 1),
        "DMS_WEEKDAY": _part(lambda d: d.weekday()),
        "DMS_DAYOFYEAR": _part(lambda d: d.timetuple().tm_yday),
        "DMS_WEEKOFYEAR": _part(lambda d: d.isocalendar()[1]),
        "DMS_DAYNAME": _part(lambda d: _DAY_NAMES[d.weekday()]),
        "DMS_MONTHNAME": _part(lambda d: _MONTH_NAMES[d.month]),
        "DMS_LAST_DAY": _part(
            lambda d: fmt_date(d.replace(day=calendar.monthrange(d.year, d.month)[1]))
        ),
        "DMS_TO_DAYS": _part(lambda d: d.toordinal() + 365),
        "DMS_DATE": to_date,
        "DMS_DATETIME": to_datetime,
        "DMS_TIME": to_time,
        "DMS_STRFTIME": strftime,
        "DMS_STR_TO_DATE": str_to_date,
        "DMS_FROM_UNIXTIME": from_unixtime,
        "DMS_ROUND": round_,
        "DMS_TRUNCATE": truncate,
        "DMS_CAST_INT": cast_int,
        "DMS_CAST_UNSIGNED": cast_unsigned,
        "DMS_CAST_DECIMAL": cast_decimal,
        "DMS_CAST_DECIMAL_TEXT": cast_decimal_text,
        "DMS_CAST_NUMERIC": cast_numeric,
        "DMS_CAST_REAL": cast_real,
        "DMS_CAST_TEXT": cast_text,
        "DMS_CAST_BOOL": cast_bool,
        "DMS_FORMAT": format_number,
        "DMS_POWER": _math(math.pow),
        "DMS_SQRT": _math(math.sqrt),
        "DMS_LN": _math(math.log),
        "DMS_LOG": _math(_log),
        "DMS_EXP": _math(math.exp),
        "DMS_CEIL": _math(math.ceil, integral=True),
        "DMS_FLOOR": _math(math.floor, integral=True),
        "DMS_SIGN": _math(lambda x: (x > 0) - (x < 0), integral=True),
        "DMS_PI": lambda: math.pi,
        "DMS_MOD": mod,
        "DMS_SUB": subtract,
        "DMS_ADD": add,
        "DMS_GREATEST": _pick(max),
        "DMS_LEAST": _pick(min),
        "DMS_GREATEST_PG": _pick_non_null(max),
        "DMS_LEAST_PG": _pick_non_null(min),
        "DMS_CONCAT": concat,
        "DMS_CONCAT_WS": concat_ws,
        "DMS_SUBSTRING_INDEX": substring_index,
        "DMS_SPLIT_PART": split_part,
        "DMS_REGEXP": regexp,
        "DMS_LIKE": like,
        "DMS_ILIKE": ilike,
        "DMS_LPAD": _pad(True),
        "DMS_RPAD": _pad(False),
        "DMS_LOCATE": locate,
        "DMS_LEFT": left,
        "DMS_RIGHT": right,
        "DMS_REPEAT": repeat,
        "DMS_SPACE": lambda n: None if n is None else " " * max(int(_num(n) or 0), 0),
        "DMS_FIELD": field,
        "DMS_HEX": hex_,
        "DMS_WEEK": week,
        "DMS_ELT": elt,
        "DMS_REVERSE": _str1(lambda s: s[::-1]),
        "DMS_INITCAP": _str1(
            lambda s: re.sub(r"[A-Za-z0-9]+", lambda m: m.group(0).capitalize(), s)
        ),
        "DMS_LOWER": _str1(str.lower),
        "DMS_UPPER": _str1(str.upper),
        "DMS_ASCII": _str1(lambda s: ord(s[0]) if s else 0),
        "DMS_MD5": _str1(lambda s: hashlib.md5(s.encode()).hexdigest()),
        "DMS_OCTET_LENGTH": _str1(lambda s: len(s.encode("utf-8"))),
        "DMS_CHAR_LENGTH": _str1(len),
        "DMS_STRCMP": lambda a, b: (
            None
            if a is None or b is None
            else (text_of(a).lower() > text_of(b).lower())
            - (text_of(a).lower() < text_of(b).lower())
        ),
    }
    fns.update(_make_now(now))
    return fns


@functools.lru_cache(maxsize=65536)
def ci_key(text: str) -> str:
    """utf8mb4_general_ci's weight, closely enough: no accents, no case, trailing blanks ignored."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper().rstrip(" ")


def mysql_ci(a: str, b: str) -> int:
    ka, kb = ci_key(a), ci_key(b)
    return (ka > kb) - (ka < kb)


_LAST_ERROR = threading.local()


def _recording(name: str, fn: Callable[..., Value]) -> Callable[..., Value]:
    def wrapped(*args: Value) -> Value:
        try:
            return fn(*args)
        except Exception as exc:
            _LAST_ERROR.message = f"{name.removeprefix('DMS_')}: {exc}"
            raise

    return wrapped


def describe_error(exc: BaseException) -> str:
    """The message of an sqlite3 error, with the cause when a DMS_* function raised it.

    sqlite3 reports every exception in a registered function as "user-defined function raised
    exception"; the function's own message (which names the construct) is kept per thread.
    """
    text = str(exc)
    if "user-defined function raised exception" in text:
        message = getattr(_LAST_ERROR, "message", None)
        if message:
            return message
    return text


_VOLATILE = {"DMS_NOW", "DMS_CURDATE", "DMS_CURTIME", "DMS_UNIX_TIMESTAMP"}


def install(conn: sqlite3.Connection, now: Callable[[], float]) -> None:
    """Register every DMS_* function on `conn`; `now()` is the emulator clock in epoch seconds."""
    for name, fn in _functions(now).items():
        conn.create_function(name, -1, _recording(name, fn), deterministic=name not in _VOLATILE)
    # MySQL text columns are declared COLLATE NOCASE by the loader (valid on any connection);
    # here NOCASE gets MySQL's meaning: case- and accent-insensitive ('São' sorts as 'Sao').
    conn.create_collation("NOCASE", mysql_ci)
    conn.create_aggregate("DMS_GROUP_CONCAT", -1, GroupConcat)  # type: ignore[arg-type]
    conn.create_aggregate("DMS_GROUP_CONCAT_DISTINCT", -1, GroupConcatDistinct)  # type: ignore[arg-type]
    average, parts = _pg_average()
    conn.create_function("DMS_PG_AVG", 2, _recording("DMS_PG_AVG", average))
    conn.create_function("DMS_PG_AVG_PARTS", 1, parts)


def _pg_average() -> tuple[Callable[..., Value], Callable[..., Value]]:
    """PostgreSQL avg() in the outermost select list: DMS_PG_AVG(SUM(x), COUNT(x)) is SQLite's
    AVG (a double, so ORDER BY and comparisons work), and remembers the sum and count behind
    each value it gave on this connection, which DMS_PG_AVG_PARTS(value) answers
    (`sum/count`, NULL when unknown or ambiguous); the console turns them into the server's
    exact numeric (`pg_numeric_avg`)."""
    seen: dict[float, set[tuple[int | float, int]]] = {}

    def average(total: Value, count: Value) -> Value:
        if total is None or not isinstance(count, int) or count <= 0:
            return None
        if not isinstance(total, (int, float)):
            total = _num(total)
            if total is None:
                return None
        value = total / count
        if len(seen) >= 4096:
            seen.clear()
        seen.setdefault(value, set()).add((total, count))
        return value

    def parts(value: Value) -> Value:
        found = seen.get(value) if isinstance(value, float) else None
        if not found or len(found) != 1:
            return None
        total, count = next(iter(found))
        return f"{total!r}/{count}"

    return average, parts


def pg_numeric_avg(total: Decimal, count: int) -> Decimal:
    """sum / count as PostgreSQL's numeric avg() gives it: numeric_div's result scale
    (select_div_scale: at least 16 significant digits from the base-10000 weights and first
    digits of both operands, never less than the sum's scale), rounded half away from zero."""

    def weight_first(d: Decimal) -> tuple[int, int]:
        if d == 0:
            return 0, 0
        w = abs(d).adjusted() // 4
        return w, int(abs(d).scaleb(-4 * w))

    w1, f1 = weight_first(total)
    w2, f2 = weight_first(Decimal(count))
    qweight = w1 - w2 - (1 if f1 <= f2 else 0)
    exponent = total.as_tuple().exponent
    dscale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    rscale = min(max(16 - qweight * 4, dscale, 0), 1000)
    with localcontext() as ctx:
        ctx.prec = rscale + max(total.adjusted(), 0) + 20
        return (total / count).quantize(Decimal(1).scaleb(-rscale), ROUND_HALF_UP)


__all__ = ["describe_error", "install"]
