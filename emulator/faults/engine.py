"""The fault engine: rules that make the emulated cloud fail on demand, in one pipeline slot.

A rule = match + probability + times + after + effect; the first matching rule that fires wins.
Dice come from the seeded random source, so `--seed` makes a run reproducible.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from emulator.core.randomness import RandomSource
from emulator.state.runtime_db import RuntimeDB

MATCH_KEYS = {"product", "action", "tid", "access_key_id", "params", "nth", "order_id"}
PRODUCTS = ("dms-enterprise", "sas")  # the gateway registry's product names (call.product)
RULE_KEYS = {"match", "probability", "times", "after", "effect", "id", "name"}
EFFECT_KEYS = {
    "error": {"type", "code", "http_status", "message", "retry_after"},
    "latency": {"type", "ms", "distribution", "min_ms", "max_ms", "median_ms", "sigma"},
    "connection": {"type", "mode", "bytes", "interval_ms"},
    "lifecycle": {"type", "stage", "outcome", "reason", "seconds"},
}
CONNECTION_MODES = ("reset", "empty", "truncated", "dribble")
STAGES = ("precheck", "approval", "export", "datatrack", "sas_export", "execution")
MAX_LATENCY_MS = 600_000.0  # no latency effect ever sleeps longer
LOGNORMAL_TAIL = 20.0  # a lognormal latency without max_ms stops at 20 x its median


class FaultError(ValueError):
    """An invalid rule; the message names the field."""


def _num(
    doc: dict[str, Any],
    key: str,
    where: str,
    minimum: float = 0,
    maximum: float = math.inf,
    integer: bool = False,
) -> float | None:
    if key not in doc or doc[key] is None:
        return None
    value = doc[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (integer and not isinstance(value, int))
    ):
        raise FaultError(f"{where}.{key}: must be a {'whole ' if integer else ''}number")
    if not minimum <= value <= maximum:
        raise FaultError(f"{where}.{key}: must be between {minimum} and {maximum}")
    return value


def validate_effect(effect: Any, where: str = "effect") -> dict[str, Any]:
    if not isinstance(effect, dict):
        raise FaultError(f"{where}: must be an object")
    kind = effect.get("type")
    if not isinstance(kind, str) or kind not in EFFECT_KEYS:  # a list or object is unhashable
        raise FaultError(
            f"{where}.type: unknown effect type {str(kind)[:40]!r} (one of {', '.join(EFFECT_KEYS)})"
        )
    for key in effect:
        if key not in EFFECT_KEYS[kind]:
            raise FaultError(f"{where}.{key}: unknown key for a {kind} effect")
    if kind == "error":
        if not isinstance(effect.get("code"), str) or not effect["code"]:
            raise FaultError(f"{where}.code: required, a non-empty string")
        _num(effect, "http_status", where, 400, 599, integer=True)
        _num(effect, "retry_after", where, 1, 86_400_000, integer=True)
        if "message" in effect and not isinstance(effect["message"], str):
            raise FaultError(f"{where}.message: must be a string")
    elif kind == "latency":
        dist = effect.get("distribution", "fixed")
        if dist not in ("fixed", "uniform", "lognormal"):
            raise FaultError(f"{where}.distribution: one of fixed, uniform, lognormal")
        for key in ("ms", "min_ms", "max_ms", "median_ms"):
            _num(effect, key, where, 0, 600_000)
        _num(effect, "sigma", where, 0, 10)
        need = {
            "fixed": ("ms",),
            "uniform": ("min_ms", "max_ms"),
            "lognormal": ("median_ms", "sigma"),
        }[dist]
        for key in need:
            if key not in effect:
                raise FaultError(f"{where}.{key}: required for a {dist} latency")
    elif kind == "connection":
        if effect.get("mode") not in CONNECTION_MODES:
            raise FaultError(f"{where}.mode: one of {', '.join(CONNECTION_MODES)}")
        _num(effect, "bytes", where, 0, 10**9, integer=True)
        _num(effect, "interval_ms", where, 0, 60_000)
    elif kind == "lifecycle":
        if effect.get("stage") not in STAGES:
            raise FaultError(f"{where}.stage: one of {', '.join(STAGES)}")
        if effect.get("outcome") not in ("fail", "stall"):
            raise FaultError(f"{where}.outcome: one of fail, stall")
        _num(effect, "seconds", where, 0, 10**9)
        if "reason" in effect and not isinstance(effect["reason"], str):
            raise FaultError(f"{where}.reason: must be a string")
    return dict(effect)


@dataclass
class Rule:
    id: str
    match: dict[str, Any]
    effect: dict[str, Any]
    probability: float = 1.0
    times: int | None = None
    after: int = 0
    name: str | None = None
    seen: int = 0
    fired: int = 0

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "match": self.match,
            "probability": self.probability,
            "times": self.times,
            "after": self.after,
            "effect": self.effect,
            "seen": self.seen,
            "fired": self.fired,
        }


def _check_match(match: dict[str, Any]) -> None:
    """Every match value of the type it is compared with: a wrong-typed one would never match,
    and the rule would sit there silently."""
    for key in ("tid", "order_id"):
        _num(match, key, "match", 0, 2**63 - 1, integer=True)
    _num(match, "nth", "match", 1, 2**63 - 1, integer=True)  # the first match is the 1st
    for key in ("product", "action", "access_key_id"):
        if key in match and (not isinstance(match[key], str) or not 0 < len(match[key]) <= 256):
            raise FaultError(f"match.{key}: must be a non-empty string")
    if "product" in match and match["product"] not in PRODUCTS:
        raise FaultError(f"match.product: one of {', '.join(PRODUCTS)}")
    params = match.get("params")
    if params is None:
        return
    if not isinstance(params, dict):
        raise FaultError("match.params: must be an object of parameter names to values")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise FaultError(f"match.params.{name[:64]}: must be a string or a whole number")


def validate_rule(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise FaultError("rule: must be an object")
    for key in doc:
        if key not in RULE_KEYS:
            raise FaultError(f"{key}: unknown key in a fault rule")
    match = doc.get("match", {}) or {}
    if not isinstance(match, dict):
        raise FaultError("match: must be an object")
    for key in match:
        if key not in MATCH_KEYS:
            raise FaultError(
                f"match.{key}: unknown match key (one of {', '.join(sorted(MATCH_KEYS))})"
            )
    _check_match(match)
    _num(doc, "probability", "rule", 0, 1)
    _num(doc, "times", "rule", 1, 10**9, integer=True)
    _num(doc, "after", "rule", 0, 10**9, integer=True)
    if "effect" not in doc:
        raise FaultError("effect: required")
    out = dict(doc)
    out["effect"] = validate_effect(doc["effect"])
    return out


def parse_header(value: str) -> dict[str, Any]:
    """`x-emulator-fault`: a JSON effect, or a short form like `error:Throttling.User:400`,
    `latency:250`, `connection:reset`, `lifecycle:export:fail`."""
    text = value.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):  # a deep `{"a":{"a":...` is not an effect either
            raise FaultError("x-emulator-fault: not valid JSON") from None
        return validate_effect(doc, "x-emulator-fault")
    parts = text.split(":")
    kind = parts[0]
    if kind == "error" and len(parts) >= 2:
        eff: dict[str, Any] = {"type": "error", "code": parts[1]}
        if len(parts) > 2 and parts[2].isdigit():
            eff["http_status"] = int(parts[2])
    elif kind == "latency" and len(parts) == 2 and parts[1].replace(".", "", 1).isdigit():
        eff = {"type": "latency", "ms": float(parts[1])}
    elif kind == "connection" and len(parts) == 2:
        eff = {"type": "connection", "mode": parts[1]}
    elif kind == "lifecycle" and len(parts) >= 3:
        eff = {"type": "lifecycle", "stage": parts[1], "outcome": parts[2]}
    else:
        raise FaultError(f"x-emulator-fault: cannot read {value!r}")
    return validate_effect(eff, "x-emulator-fault")


class FaultEngine:
    """Rules live in the runtime database, so every worker process applies (and counts) the
    same rules; a shared counter lets requests skip the table when there are none."""

    def __init__(self, rng: RandomSource, db: RuntimeDB, count: Any = None, lock: Any = None):
        self.rng = rng
        self.db = db
        self._count = count
        self._lock = lock

    def _recount(self, conn: Any) -> None:
        if self._count is not None:
            self._count.value = int(conn.execute("SELECT count(*) FROM fault_rules").fetchone()[0])

    def add(self, doc: Any) -> Rule:
        clean = validate_rule(doc)
        if clean["effect"]["type"] == "lifecycle" and "order_id" in (clean.get("match") or {}):
            raise FaultError(
                "match.order_id: lifecycle rules for one ticket go through the control plane"
            )
        with self.db.transaction() as conn:
            rule_id = str(clean.get("id") or f"f{self.db.next_value('fault_rule')}")
            if conn.execute("SELECT 1 FROM fault_rules WHERE id=?", (rule_id,)).fetchone():
                raise FaultError(f"id: a rule with id {rule_id!r} exists already")
            rule = Rule(
                id=rule_id,
                match=dict(clean.get("match") or {}),
                effect=clean["effect"],
                probability=float(clean.get("probability", 1.0)),
                times=clean.get("times"),
                after=int(clean.get("after", 0)),
                name=clean.get("name"),
            )
            conn.execute(
                "INSERT INTO fault_rules (id, tid, doc) VALUES (?,?,?)",
                (rule.id, rule.match.get("tid"), json.dumps(rule.to_doc())),
            )
            self._recount(conn)
            return rule

    def remove(self, rule_id: str) -> bool:
        with self.db.transaction() as conn:
            gone = conn.execute("DELETE FROM fault_rules WHERE id=?", (rule_id,)).rowcount > 0
            self._recount(conn)
            return gone

    def clear(self, tid: int | None = None) -> None:
        with self.db.transaction() as conn:
            if tid is None:
                conn.execute("DELETE FROM fault_rules")
            else:
                conn.execute("DELETE FROM fault_rules WHERE tid=?", (tid,))
            self._recount(conn)

    @staticmethod
    def _load(row: Any) -> Rule:
        doc = json.loads(row["doc"])
        return Rule(
            id=doc["id"],
            match=doc["match"],
            effect=doc["effect"],
            probability=doc["probability"],
            times=doc["times"],
            after=doc["after"],
            name=doc.get("name"),
            seen=row["seen"],
            fired=row["fired"],
        )

    def list(self) -> list[dict[str, Any]]:
        return [
            self._load(r).to_doc() for r in self.db.query("SELECT * FROM fault_rules ORDER BY pos")
        ]

    @staticmethod
    def _matches(rule: Rule, info: dict[str, Any]) -> bool:
        m = rule.match
        for key in ("product", "action", "tid", "access_key_id"):
            if key in m and m[key] != info.get(key):
                return False
        if "order_id" in m and str(m["order_id"]) != str(info.get("params", {}).get("OrderId", "")):
            return False
        params = info.get("params", {})
        return all(str(params.get(k)) == str(v) for k, v in (m.get("params") or {}).items())

    def pick(
        self, info: dict[str, Any], kinds: tuple[str, ...], stages: tuple[str, ...] = ()
    ) -> Rule | None:
        """The first rule of these effect kinds (and lifecycle stages) that matches and fires."""
        if self._count is not None and self._count.value == 0:
            return None
        with self.db.transaction() as conn:
            for row in conn.execute("SELECT * FROM fault_rules ORDER BY pos").fetchall():
                rule = self._load(row)
                if rule.effect["type"] not in kinds or not self._matches(rule, info):
                    continue
                if stages and rule.effect.get("stage") not in stages:
                    continue
                rule.seen += 1
                fires = rule.seen > rule.after and (
                    "nth" not in rule.match or rule.seen == rule.match["nth"]
                )
                if fires and rule.probability < 1.0:
                    fires = self.rng.random() < rule.probability
                rule.fired += 1 if fires else 0
                if fires and rule.times is not None and rule.fired >= rule.times:
                    conn.execute("DELETE FROM fault_rules WHERE id=?", (rule.id,))
                    self._recount(conn)
                else:
                    conn.execute(
                        "UPDATE fault_rules SET seen=?, fired=? WHERE id=?",
                        (rule.seen, rule.fired, rule.id),
                    )
                if fires:
                    return rule
        return None

    def latency_ms(self, effect: dict[str, Any]) -> float:
        dist = effect.get("distribution", "fixed")
        if dist == "uniform":
            value = self.rng.uniform(float(effect["min_ms"]), float(effect["max_ms"]))
        elif dist == "lognormal":
            value = self.rng.lognormal(
                math.log(max(float(effect["median_ms"]), 0.001)), float(effect["sigma"])
            )
        else:
            value = float(effect.get("ms", 0))
        cap = effect.get("max_ms")
        if cap is None and dist == "lognormal":  # a heavy tail, never an endless one (F18)
            cap = LOGNORMAL_TAIL * float(effect["median_ms"])
        if cap is not None and dist != "uniform":
            value = min(value, float(cap))
        return min(value, MAX_LATENCY_MS)
