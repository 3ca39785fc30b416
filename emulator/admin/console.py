"""The web console at /_emulator/ui: tickets with their history and lifecycle diagram, approve and
reject buttons (what a DBA does in the DMS console), fault rules, the request journal with each
call's parameters and answer. Server-rendered HTML forms: everything works with JavaScript off.

Actions are POST forms that call the shared operations and redirect back (303) to a page of the
console itself; refusals come back as a flash message chosen by the error table."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from emulator.admin import operations as ops
from emulator.admin import security
from emulator.admin.context import emulator
from emulator.admin.errors import message_of, status_of

bp = Blueprint("console", __name__, template_folder="templates")


@bp.app_template_filter("pretty")
def pretty(value: Any) -> str:
    """JSON as readable text (`<` stays `<`; Jinja escapes it for HTML, not JSON's \\u003c)."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


@bp.app_template_filter("compact")
def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


@bp.app_template_filter("body")
def body_text(value: Any) -> str:
    """A journaled response body, indented when it is JSON."""
    if not isinstance(value, str):
        return ""
    try:
        return pretty(json.loads(value))
    except ValueError:
        return value


def page(template: str, **kw: Any) -> str:
    emu = emulator()
    return render_template(
        template,
        clock=ops.clock(emu),
        message=request.args.get("message"),
        here=request.full_path.rstrip("?"),
        **kw,
    )


def back(endpoint: str, message: str, **kw: Any) -> Response:
    return redirect(url_for(endpoint, message=message, **kw), code=303)  # type: ignore[return-value]


def attempt(action: Callable[[], str], endpoint: str, **kw: Any) -> Response:
    """Run a form's action; an expected refusal (by the error table) becomes the flash message."""
    try:
        message = action()
    except Exception as exc:
        if status_of(exc) is None:
            raise
        message = f"Not possible: {message_of(exc)}"
    return back(endpoint, message, **kw)


@bp.get("/")
def index() -> Response:
    return redirect(url_for("console.tickets"))  # type: ignore[return-value]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """With --control-token: a form that sets the console's cookie (HttpOnly, SameSite=Strict)."""
    emu = emulator()
    target = security.safe_next(request.values.get("next"), url_for("console.tickets"))
    token = emu.settings.control_token
    if request.method == "POST" and token:
        try:
            security.check_token(token, request.form.get("token", ""), None)
        except Exception as exc:
            if status_of(exc) is None:
                raise
            return login_page(target, "Wrong token.", 401)
        response = redirect(target, code=303)
        response.set_cookie(
            security.COOKIE,
            security.cookie_value(token),
            httponly=True,
            samesite="Strict",
            path="/_emulator",
            secure=request.scheme == "https",
        )
        return response
    if not token:
        return redirect(target, code=303)
    return login_page(target, request.args.get("message"), 200)


def login_page(target: str, message: str | None, status: int) -> tuple[str, int]:
    return render_template("login.html", next=target, message=message, clock=None), status


@bp.get("/tickets")
def tickets() -> str:
    emu = emulator()
    tid = ops.integer(request.args.get("tid"), "tid")
    views = [ops.ticket_view(emu, t) for t in ops.tickets(emu, tid)]
    running = any(not v["finished"] for v in views)
    return page(
        "tickets.html",
        tickets=views,
        tenants=list(emu.accounts.tenants.values()),
        tid=tid,
        refresh=3 if running and request.args.get("refresh") != "0" else None,
    )


@bp.get("/tickets/<int:order_id>")
def ticket(order_id: int) -> Any:
    from emulator.services.dms import diagram

    emu = emulator()
    view = ops.ticket_view(emu, ops.ticket(emu, order_id))
    download = (
        ops.download_link(emu, request.host_url, view["result_key"]) if view["result_key"] else None
    )
    change = view["change"]
    backup = (
        ops.download_link(emu, request.host_url, change["backup_key"])
        if change and change["backup_key"]
        else None
    )
    return page(
        "ticket.html",
        t=view,
        download=download,
        backup=backup,
        can_decide=view["can_decide"],
        svg=diagram.render(view["plugin_type"], view["path"], view["closed"]),
        refresh=2 if not view["finished"] and request.args.get("refresh") != "0" else None,
    )


@bp.post("/tickets/<int:order_id>/<any(approve, reject):verdict>")
def decide(order_id: int, verdict: str) -> Response:
    def act() -> str:
        ops.decide(emulator(), order_id, verdict, request.form.get("comment", ""))
        return f"Ticket {order_id} {'approved' if verdict == 'approve' else 'rejected'}."

    return attempt(act, "console.ticket", order_id=order_id)


@bp.post("/clock/advance")
def advance() -> Response:
    """Back to the page the form was on (a path of this console: never a Referer elsewhere)."""
    target = security.safe_next(request.form.get("next"), url_for("console.tickets"))
    try:
        ops.advance(emulator(), request.form.get("seconds", "0"))
    except Exception as exc:
        if status_of(exc) is None:
            raise
        return back("console.tickets", f"Not possible: {message_of(exc)}")
    return redirect(target, code=303)  # type: ignore[return-value]


@bp.get("/faults")
def faults() -> str:
    emu = emulator()
    return page("faults.html", faults=ops.faults(emu), scenarios=ops.shipped_scenarios())


@bp.post("/faults")
def fault_add() -> Response:
    def act() -> str:
        try:
            doc = json.loads(request.form.get("rule", ""))
        except ValueError:
            return "Invalid rule: not valid JSON."
        rule = ops.add_fault(emulator(), doc)
        return f"Added rule {rule['id']}." if rule.get("id") else "Applied to the ticket."

    return attempt(act, "console.faults")


@bp.post("/faults/<rule_id>/remove")
def fault_remove(rule_id: str) -> Response:
    def act() -> str:
        ops.remove_fault(emulator(), rule_id)
        return f"Removed rule {rule_id}."

    return attempt(act, "console.faults")


@bp.post("/scenarios")
def scenario_load() -> Response:
    def act() -> str:
        done = ops.load_scenario(emulator(), {"name": request.form.get("name", "")})
        return f"Loaded {done['name']}: {', '.join(done['fault_ids'])}."

    return attempt(act, "console.faults")


def _param_filters(raw: list[str]) -> dict[str, str]:
    """`OrderId=4000001` lines of the journal form (blank ones ignored)."""
    out: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if sep and name.strip():
            out[f"param.{name.strip()}"] = value.strip()
    return out


@bp.get("/requests")
def journal() -> str:
    a = request.args
    shown = {k: a.get(k) or None for k in ("action", "code", "access_key_id", "tid")}
    params = [p for p in a.getlist("param") if p.strip()]
    where = ops.journal_filter({**{k: v for k, v in shown.items() if v}, **_param_filters(params)})
    entries = ops.requests(emulator(), where, 300)
    return page("journal.html", entries=list(reversed(entries)), f=shown, params=params)
