"""The gateway's handler chain: parse -> route -> authenticate -> fault -> dispatch -> render.

Every exception, expected or not, becomes a wire error in exactly one place (`handle`), and
every call, failed or not, lands in the journal.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import TYPE_CHECKING, Any

from emulator.core.clock import utc_second, wall_time
from emulator.core.shared import pid
from emulator.faults.engine import FaultError
from emulator.gateway import errors, render
from emulator.gateway.auth import authenticate
from emulator.gateway.call import Call
from emulator.gateway.errors import ApiError
from emulator.gateway.parse import BodyError, parse, parse_head_only
from emulator.gateway.registry import Registry
from emulator.serving.netfaults import ENV_EFFECT

if TYPE_CHECKING:
    from emulator.wiring import Emulator

log = logging.getLogger("emulator.gateway")
access_log = logging.getLogger("emulator.access")

FAULT_HEADER = "x-emulator-fault"
JOURNAL_ONLY = ("params", "response_body")  # kept in the journal, not in the access log


class ConnectionDropped(Exception):
    """A reset/empty connection fault: nothing is processed or answered."""


HTTP_STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    """The journal's wall-clock stamp, formatted once per second rather than once per request."""
    return utc_second(second)


class Gateway:
    def __init__(self, emulator: Emulator, registry: Registry):
        self.emu = emulator
        self.registry = registry
        self.chain = (
            self.route,
            self.authenticate,
            self.inject_fault,
            self.lifecycle_fault,
            self.dispatch,
        )

    def route(self, call: Call) -> None:
        call.operation = self.registry.lookup(call.version, call.action)

    def authenticate(self, call: Call) -> None:
        call.user = authenticate(call, self.emu.accounts, self.emu.nonces, wall_time())
        call.tenant = self.emu.accounts.tenants[call.user.tid]
        for check in self.registry.user_checks:
            check(call)

    def fault_info(self, call: Call) -> dict[str, Any]:
        return {
            "product": call.product,
            "action": call.action,
            "tid": call.user.tid if call.user else None,
            "access_key_id": call.access_key_id,
            "params": call.params,
        }

    def inject_fault(self, call: Call) -> None:
        """The one slot where request-level faults act (error, latency, connection)."""
        header = call.header(FAULT_HEADER)
        if header:
            try:
                effect = self.emu.header_faults.parse(header)
            except FaultError as exc:
                raise errors.invalid("EmulatorFault", str(exc)) from None
            call.fault = {"rule": "header", "effect": effect}
        else:
            rule = self.emu.faults.pick(self.fault_info(call), ("error", "latency", "connection"))
            if rule is None:
                return
            call.fault = {"rule": rule.id, "effect": rule.effect}
        effect = call.fault["effect"]
        if effect["type"] == "connection" and effect["mode"] in ("reset", "empty"):
            raise ConnectionDropped()  # the request is never processed
        if header and effect["type"] == "connection":
            self.emu.header_faults.admit(effect, call.user.tid if call.user else None)
        if effect["type"] == "latency":
            delay = self.emu.faults.latency_ms(effect)
            if header:
                self.emu.header_faults.admit(effect, call.user.tid if call.user else None, delay)
            call.fault["latency_ms"] = round(delay, 3)
            time.sleep(delay / 1000.0)
        elif effect["type"] == "error":
            code = effect["code"]
            status = int(effect.get("http_status", 400))
            headers = {}
            if effect.get("retry_after") is not None:
                headers["x-acs-retry-after"] = str(effect["retry_after"])
            elif code.startswith("Throttling"):
                headers["x-acs-retry-after"] = "1000"
            raise ApiError(
                code, effect.get("message") or f"Injected fault: {code}.", status, headers
            )

    def lifecycle_fault(self, call: Call) -> None:
        """The lifecycle effect (of a stage this action declares) the call carries to the ticket
        or job it starts: from the fault header, else from the first matching rule."""
        assert call.operation is not None
        stages = call.operation.stages
        if not stages:
            return
        if call.fault and call.fault["effect"]["type"] == "lifecycle":
            effect = call.fault["effect"]
            call.lifecycle = effect if effect["stage"] in stages else None
            return
        if call.header(FAULT_HEADER):
            return
        rule = self.emu.faults.pick(self.fault_info(call), ("lifecycle",), stages)
        if rule is None:
            return
        call.fault = {"rule": rule.id, "effect": rule.effect}
        call.lifecycle = rule.effect

    def dispatch(self, call: Call) -> None:
        assert call.operation is not None
        call.result = call.operation.handler(call, call.operation.context)

    def handle(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """Run one API call through the chain; returns the WSGI status, headers and body."""
        request_id = self.emu.rng.request_id()
        now = self.emu.clock.now()  # the one reading of the emulated clock for this request
        try:
            call = parse(environ, request_id)
        except BodyError as exc:
            call = parse_head_only(environ, request_id)
            call.now = now
            call.error = exc.error
            return self.respond(call, environ)
        call.now = now
        try:
            if call.path != "/":
                raise errors.action_not_found(call.action or "", call.version or "")
            if call.method not in ("GET", "POST"):
                raise ApiError("UnsupportedHTTPMethod", "This http method not supported.", 400)
            for step in self.chain:
                step(call)
        except ConnectionDropped:
            pass
        except ApiError as exc:
            call.error = exc
        except FaultError as exc:
            call.error = errors.invalid("EmulatorFault", str(exc))
        except Exception:
            log.exception("unexpected error in %s (request %s)", call.action, call.request_id)
            call.error = errors.internal_error(call.product)
        return self.respond(call, environ)

    def respond(
        self, call: Call, environ: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        if call.error is not None:  # the traceback's frames hold `call`: a cycle only gc frees
            call.error.__traceback__ = call.error.__context__ = call.error.__cause__ = None
        product = call.operation.product if call.operation else None
        host_id = product.host if product else call.host
        if call.error is not None:
            body, ctype = render.error(call.error, call.request_id, host_id, product, call.xml)
            status = call.error.http_status
            headers = dict(call.error.headers)
        else:
            body, ctype = render.success(
                call.action or "", call.result or {}, call.request_id, call.xml
            )
            status, headers = 200, {}
        headers["x-acs-request-id"] = call.request_id
        headers["Content-Type"] = ctype
        headers["Content-Length"] = str(len(body))
        if call.fault and call.fault["effect"]["type"] == "connection":
            effect = call.fault["effect"]
            if call.fault["rule"] == "header":
                effect = self.emu.header_faults.shape(effect, len(body))
            environ[ENV_EFFECT] = effect
        self.journal(call, status, body)
        return f"{status} {HTTP_STATUS_TEXT.get(status, 'Error')}", list(headers.items()), body

    def journal(self, call: Call, status: int, body: bytes | None = None) -> None:
        effect = call.fault["effect"] if call.fault else {}
        if effect.get("type") == "connection" and effect.get("mode") in ("reset", "empty"):
            status = 0  # no HTTP response was sent
        latency = (time.perf_counter() - call.started) * 1000
        code = call.error.code if call.error else None
        if status == 0:
            code = f"Connection.{effect['mode'].capitalize()}"
        if code is None:
            code = call.outcome_code
        ts = wall_time()
        entry: dict[str, Any] = {
            "ts": ts,
            "time": _utc_second(int(ts)),
            "emulated_time": call.now,
            "request_id": call.request_id,
            "product": call.product,
            "action": call.action,
            "version": call.version,
            "access_key_id": call.access_key_id,
            "tid": call.user.tid if call.user else None,
            "scheme": call.scheme,
            "pid": pid(),
            "http_status": status,
            "code": code,
            "latency_ms": round(latency, 3),
            "fault": call.fault,
            "params": call.params,  # redacted and bounded by the journal
            "response_body": body if status else None,
        }
        if call.error is not None and call.error.code == "SignatureDoesNotMatch":
            entry["string_to_sign"] = call.string_to_sign
            entry["canonical_request"] = call.canonical_request
        self.emu.journal.record(entry)
        if not access_log.isEnabledFor(logging.INFO):
            return
        access_log.info(
            "%s %s tid=%s status=%s code=%s latency_ms=%.1f request_id=%s",
            call.product,
            call.action,
            entry["tid"],
            status,
            code or "-",
            latency,
            call.request_id,
            extra={"fields": {k: v for k, v in entry.items() if k not in JOURNAL_ONLY}},
        )
