"""What an operator can do to a running emulator, once: reset, clock, faults, scenarios, journal,
state, tickets (approve/reject). The control plane (JSON), the console (HTML forms) and the CLI
all call these; they raise the classes of `emulator.admin.errors` and never build responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator import __version__
from emulator.admin.errors import Invalid, Unknown
from emulator.core.clock import iso
from emulator.faults import scenarios
from emulator.faults.engine import validate_rule
from emulator.gateway.journal import Filter, as_text

if TYPE_CHECKING:
    from emulator.services.dms.domain.tickets import Ticket
    from emulator.state.store import Store
    from emulator.wiring import Emulator

SETTLE_SECONDS = 30.0
MAX_ID = 2**63 - 1  # SQLite's INTEGER range: a larger id names nothing
STATE_FORMAT = "dms-emulator-state"
SECRET_META = ("oss_secret",)  # meta rows a state document leaves out unless asked with the token
VERDICTS = {"approve": "AGREE", "reject": "REJECT"}


# --- values --------------------------------------------------------------------------------


def integer(value: Any, name: str, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """An optional whole number from JSON or a query string; the error names the field."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())):
            raise Invalid(f"{name}: must be an integer")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name}: must be an integer")
    if not minimum <= value <= maximum:
        raise Invalid(f"{name}: must be between {minimum} and {maximum}")
    return value


def number(value: Any, name: str, minimum: float, maximum: float) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise Invalid(f"{name}: must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{name}: must be a number")
    if not minimum <= value <= maximum:  # NaN fails both
        raise Invalid(f"{name}: must be a number between {minimum:g} and {maximum:g}")
    return float(value)


def tenant(emu: Emulator, value: Any) -> int | None:
    tid = integer(value, "tid")
    if tid is not None and tid not in emu.accounts.tenants:
        raise Unknown(f"tid: unknown tenant {tid}")
    return tid


# --- health, reset, clock ------------------------------------------------------------------


def health(emu: Emulator) -> dict[str, Any]:
    return {
        "status": "ok",
        "version": __version__,
        "clock": emu.clock.mode,
        "tenants": sorted(emu.accounts.tenants),
        "state": emu.settings.state or "memory",
        "workers": emu.settings.workers,
        "jobs_running": emu.jobs.busy,
        "databases": emu.databases.states(),
        "control_token": bool(emu.settings.control_token),
    }


def reset(emu: Emulator, tid_value: Any = None) -> int | None:
    tid = tenant(emu, tid_value)
    emu.jobs.wait_idle(SETTLE_SECONDS)
    emu.reset(tid)
    return tid


def clock(emu: Emulator) -> dict[str, Any]:
    now = emu.clock.now()
    return {"now": iso(now), "epoch": now, "mode": emu.clock.mode}


def advance(emu: Emulator, seconds_value: Any) -> dict[str, Any]:
    seconds = number(seconds_value, "seconds", 0, 1e9)
    if seconds is None:
        raise Invalid("seconds: required, a number between 0 and 1e9")
    try:
        emu.clock.advance(seconds)
    except ValueError as exc:  # past the representable range (restructure: F18)
        raise Invalid(f"seconds: {exc}") from None
    emu.save_clock()
    settled = emu.jobs.wait_idle(SETTLE_SECONDS)  # jobs due by now finish before we answer
    return {**clock(emu), "settled": settled}


# --- faults and scenarios ------------------------------------------------------------------


def faults(emu: Emulator, tid_value: Any = None) -> list[dict[str, Any]]:
    tid = integer(tid_value, "tid")
    return [r for r in emu.faults.list() if tid is None or r["match"].get("tid") == tid]


def add_fault(emu: Emulator, doc: Any) -> dict[str, Any]:
    """A rule; a lifecycle rule naming one ticket changes that ticket's schedule at once."""
    clean = validate_rule(doc)
    match = clean.get("match") or {}
    if clean["effect"]["type"] == "lifecycle" and "order_id" in match:
        how = emu.workflow.apply_fault(match.get("tid"), int(match["order_id"]), clean["effect"])
        return {**clean, "id": None, "applied": how}
    return emu.faults.add(clean).to_doc()


def remove_fault(emu: Emulator, rule_id: str) -> None:
    if not emu.faults.remove(rule_id):
        raise Unknown(f"no fault rule {rule_id}")


def clear_faults(emu: Emulator, tid_value: Any = None) -> None:
    emu.faults.clear(integer(tid_value, "tid"))


def load_scenario(emu: Emulator, spec: Any) -> dict[str, Any]:
    """`{"name": shipped}`, `{"path": FILE}` or a scenario document; all its rules or none."""
    doc = scenarios.resolve(spec)
    return {"name": doc.get("name"), "fault_ids": scenarios.apply(emu.faults, doc)}


def shipped_scenarios() -> list[str]:
    return scenarios.shipped_scenarios()


# --- journal -------------------------------------------------------------------------------

FILTER_KEYS = ("action", "code", "access_key_id", "tid", "request_id", "product", "since", "until")


def journal_filter(args: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> Filter:
    """Filters from a query string (`param.OrderId=4000001` matches a parameter) or a JSON object
    (`"params": {"OrderId": 4000001}`)."""
    wanted: dict[str, str] = {}
    for key, value in args.items():
        if key.startswith("param.") and len(key) > 6:
            wanted[key[6:]] = str(value)
    for key, value in (params or {}).items():
        wanted[str(key)] = as_text(value)

    def text(key: str) -> str | None:
        value = args.get(key)
        return None if value in (None, "") else str(value)

    return Filter(
        action=text("action"),
        code=text("code"),
        access_key_id=text("access_key_id"),
        tid=integer(args.get("tid"), "tid"),
        request_id=text("request_id"),
        product=text("product"),
        since=number(args.get("since"), "since", 0, 1e12),
        until=number(args.get("until"), "until", 0, 1e12),
        params=tuple(sorted(wanted.items())),
    )


def requests(emu: Emulator, where: Filter, limit_value: Any = None) -> list[dict[str, Any]]:
    return emu.journal.query(where, integer(limit_value, "limit", 1, 10**9))


def count(emu: Emulator, where: Filter) -> int:
    return len(emu.journal.query(where))


def verify(emu: Emulator, body: Any) -> dict[str, Any]:
    """An ordered list of expected calls checked against the journal (see `admin.verify`)."""
    from emulator.admin.verify import expectations, verify_sequence

    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object with an 'expect' list")
    unknown = set(body) - {"expect", *FILTER_KEYS}
    if unknown:
        raise Invalid(f"{sorted(unknown)[0]}: unknown key (expect, {', '.join(FILTER_KEYS)})")
    scope = journal_filter({k: v for k, v in body.items() if k != "expect"})
    return verify_sequence(emu.journal.query(scope), expectations(body.get("expect")))


def clear_requests(emu: Emulator, tid_value: Any = None) -> None:
    emu.journal.clear(integer(tid_value, "tid"))


# --- tickets -------------------------------------------------------------------------------


def _order_id(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_ID:
        raise Unknown(f"no ticket {value}")  # such an id cannot exist (probe F20)
    order_id = integer(value, "order_id")
    if order_id is None:
        raise Invalid("order_id: required")
    return order_id


def ticket(emu: Emulator, order_id: Any) -> Ticket:
    from emulator.services.dms import views

    return views.find_ticket(emu.dms.ctx, _order_id(order_id))


def ticket_view(emu: Emulator, t: Ticket) -> dict[str, Any]:
    from emulator.services.dms import views

    return views.ticket_view(emu.dms.ctx, t)


def tickets(emu: Emulator, tid_value: Any = None) -> list[Ticket]:
    from emulator.services.dms import views

    return views.all_tickets(emu.dms.ctx, integer(tid_value, "tid"))


def decide(
    emu: Emulator, order_id: Any, verdict: str, comment: Any = "", uid_value: Any = None
) -> Ticket:
    """Approve or reject as a DBA does in the console (submitting first when it waits for that)."""
    from emulator.services.dms import views

    if verdict not in VERDICTS:
        raise Invalid(f"verdict: one of {', '.join(VERDICTS)}")
    uid = integer(uid_value, "uid")
    return views.decide(
        emu.dms.ctx, _order_id(order_id), VERDICTS[verdict], str(comment or ""), uid
    )


def download_link(emu: Emulator, host_url: str, key: str) -> str:
    expires = int(emu.clock.now()) + emu.settings.link_ttl
    return emu.artifacts.link(host_url, key, expires)


# --- state ---------------------------------------------------------------------------------


def state_document(
    store: Store, clock_doc: Any, fault_rules: list[dict[str, Any]], secrets: bool
) -> dict[str, Any]:
    """The one state document (GET /_emulator/state, `dms-emulator state export`)."""
    tables = store.dump()
    if not secrets:
        tables["meta"] = [r for r in tables.get("meta", []) if r.get("key") not in SECRET_META]
    return {
        "format": STATE_FORMAT,
        "version": 1,
        "clock": clock_doc,
        "tables": tables,
        "faults": fault_rules,
    }


def read_state_document(doc: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The tables and clock of a state document; anything else is refused before a change."""
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
        raise Invalid("the body must be a state document from GET /_emulator/state")
    if not isinstance(doc.get("tables"), dict):
        raise Invalid("tables: missing or not an object")
    clock_doc = doc.get("clock")
    if clock_doc is not None and not isinstance(clock_doc, dict):
        raise Invalid("clock: must be an object")
    return doc["tables"], clock_doc


def keep_secrets(store: Store, tables: dict[str, Any]) -> dict[str, Any]:
    """A document without the secret (the state document leaves it out) keeps the store's
    current one, so links signed before the import stay valid."""
    meta = tables.get("meta")
    if not isinstance(meta, list) or any(
        isinstance(r, dict) and r.get("key") in SECRET_META for r in meta
    ):
        return tables
    kept = [{"key": k, "value": v} for k in SECRET_META if (v := store.get_meta(k))]
    return {**tables, "meta": [*meta, *kept]}


def export_state(emu: Emulator, secrets: bool = False) -> dict[str, Any]:
    emu.jobs.wait_idle(SETTLE_SECONDS)
    return state_document(emu.store, emu.clock.snapshot(), emu.faults.list(), secrets)


def import_state(emu: Emulator, doc: Any) -> None:
    tables, clock_doc = read_state_document(doc)
    emu.jobs.wait_idle(SETTLE_SECONDS)
    try:
        # checked against the schema the store writes, all or nothing; secrets kept (restructure)
        emu.load_state(tables, clock_doc)
    except Exception as exc:
        raise Invalid(f"state not imported (nothing changed): {exc}") from None
