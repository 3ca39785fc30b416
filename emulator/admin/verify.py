"""Verification over the request journal (WireMock's `verify`, with its near misses).

An ordered list of expectations, each an action plus parameter matches (and optionally code,
tenant, key) and an optional exact `times`. The journal is walked once, oldest first: an
expectation's calls are the entries that match it before the first entry matching the next
expectation (other calls may come in between); without `times` it needs at least one. The
answer says which expectation failed, how many calls it found, and the entries nearest to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.admin.errors import Invalid
from emulator.gateway.journal import Filter, as_text, param_value

KEYS = {"action", "params", "code", "access_key_id", "tid", "product", "times"}
NEAREST = 3


@dataclass(frozen=True)
class Expectation:
    where: Filter
    times: int | None

    def describe(self) -> str:
        w = self.where
        call = w.action or "any action"
        args = ", ".join(f"{k}={v}" for k, v in w.params)
        text = f"{call}({args})"
        for label, value in (("code", w.code), ("tid", w.tid), ("key", w.access_key_id)):
            if value is not None:
                text += f" {label}={value}"
        return text + (f" x{self.times}" if self.times is not None else "")


def expectations(doc: Any) -> list[Expectation]:
    if not isinstance(doc, list) or not doc:
        raise Invalid("expect: a non-empty list of expected calls")
    out = []
    for i, item in enumerate(doc):
        where = f"expect[{i}]"
        if not isinstance(item, dict):
            raise Invalid(f"{where}: must be an object")
        for key in item:
            if key not in KEYS:
                raise Invalid(f"{where}.{key}: unknown key (one of {', '.join(sorted(KEYS))})")
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise Invalid(f"{where}.params: must be an object of parameter names to values")
        times = item.get("times")
        if times is not None and (
            isinstance(times, bool) or not isinstance(times, int) or times < 0
        ):
            raise Invalid(f"{where}.times: must be a whole number >= 0")
        tid = item.get("tid")
        if tid is not None and (isinstance(tid, bool) or not isinstance(tid, int)):
            raise Invalid(f"{where}.tid: must be an integer")
        for key in ("action", "code", "access_key_id", "product"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise Invalid(f"{where}.{key}: must be a string")
        out.append(
            Expectation(
                Filter(
                    action=item.get("action"),
                    code=item.get("code"),
                    access_key_id=item.get("access_key_id"),
                    tid=tid,
                    product=item.get("product"),
                    params=tuple(sorted((str(k), as_text(v)) for k, v in params.items())),
                ),
                times,
            )
        )
    return out


def differences(w: Filter, e: dict[str, Any]) -> list[str]:
    """What keeps entry `e` from matching `w`, one readable line per field."""
    out = []
    for label, want, got in (
        ("action", w.action, e.get("action")),
        ("code", w.code, e.get("code")),
        ("access_key_id", w.access_key_id, e.get("access_key_id")),
        ("tid", w.tid, e.get("tid")),
        ("product", w.product, e.get("product")),
    ):
        if want is not None and want != got:
            out.append(f"{label}: expected {want}, got {got}")
    params = e.get("params") or {}
    for name, want in w.params:
        got = param_value(params, name)
        if got != want:
            out.append(f"param {name}: expected {want}, got {'(absent)' if got is None else got}")
    return out


def _weight(line: str) -> int:
    return 3 if line.startswith("action") else 1


def nearest(w: Filter, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scored = []
    for e in entries:
        diff = differences(w, e)
        scored.append((sum(_weight(d) for d in diff), -e.get("seq", 0), e, diff))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [
        {
            "seq": e.get("seq"),
            "time": e.get("time"),
            "action": e.get("action"),
            "code": e.get("code"),
            "tid": e.get("tid"),
            "params": e.get("params"),
            "differences": diff,
        }
        for _, _, e, diff in scored[:NEAREST]
    ]


def verify_sequence(entries: list[dict[str, Any]], expected: list[Expectation]) -> dict[str, Any]:
    cursor = 0
    matched: list[list[Any]] = []
    for i, exp in enumerate(expected):
        nxt = expected[i + 1] if i + 1 < len(expected) else None
        found: list[int] = []
        j = cursor
        while j < len(entries):
            e = entries[j]
            if exp.where.keeps(e):
                found.append(j)
            elif nxt is not None and nxt.where.keeps(e) and (found or exp.times == 0):
                break
            j += 1
        ok = len(found) == exp.times if exp.times is not None else bool(found)
        if not ok:
            want = f"{exp.times} time(s)" if exp.times is not None else "at least once"
            return {
                "ok": False,
                "failed": {
                    "index": i,
                    "expected": exp.describe(),
                    "times": exp.times,
                    "found": len(found),
                    "found_seqs": [entries[k].get("seq") for k in found],
                },
                "message": (
                    f"expectation {i + 1} of {len(expected)}, {exp.describe()}: expected "
                    f"{want}, found {len(found)}"
                    + (f" (after {len(matched)} matched expectation(s))" if matched else "")
                ),
                "near_misses": nearest(exp.where, entries[cursor:]),
                "matched": matched,
            }
        matched.append([entries[k].get("seq") for k in found])
        cursor = j
    return {"ok": True, "matched": matched, "message": "all expectations met"}


def readable(result: dict[str, Any]) -> str:
    """A verify answer as an assertion message: what failed and the nearest calls."""
    if result.get("ok"):
        return str(result.get("message", "ok"))
    lines = [str(result["message"])]
    misses = result.get("near_misses") or []
    if misses:
        lines.append("nearest calls in the journal:")
    for m in misses:
        args = ", ".join(f"{k}={v}" for k, v in (m.get("params") or {}).items() if k[:1].isupper())
        lines.append(
            f"  #{m['seq']} {m['action']}({args[:300]}) code={m.get('code') or '-'}: "
            + ("; ".join(m["differences"]) or "matches")
        )
    return "\n".join(lines)
