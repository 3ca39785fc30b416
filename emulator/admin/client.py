"""A typed Python client for the control plane, so tests drive an emulator (local or remote)
without hand-writing HTTP: reset, clock, faults, scenarios, journal, state, ticket approval.

    from emulator.admin.client import EmulatorClient
    emu = EmulatorClient("http://127.0.0.1:8787")
    emu.reset(); emu.advance(60); emu.add_fault(action="ListOrders", code="Throttling.User", times=2)
    emu.assert_called("GetDataExportOrderDetail", times=2, OrderId=4000001)

An emulator started with `--control-token` needs `EmulatorClient(url, token=...)`; without
`token` the client uses DMS_EMULATOR_CONTROL_TOKEN from the environment, if set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import requests


class ControlError(RuntimeError):
    """The control plane refused a call; `status` and `message` say why."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass
class Clock:
    now: str
    epoch: float
    mode: str


TOKEN_HEADER = "x-emulator-token"
TOKEN_ENV = "DMS_EMULATOR_CONTROL_TOKEN"


class EmulatorClient:
    def __init__(
        self,
        url: str,
        timeout: float = 60.0,
        session: requests.Session | None = None,
        token: str | None = None,
    ):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        if token:
            self.http.headers[TOKEN_HEADER] = token

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        r = self.http.request(
            method,
            f"{self.url}/_emulator{path}",
            json=body,
            params={k: v for k, v in params.items() if v is not None},
            timeout=self.timeout,
        )
        try:
            doc = r.json()
        except ValueError:
            doc = {"error": r.text}
        if r.status_code >= 400:
            raise ControlError(
                r.status_code, doc.get("error", r.text) if isinstance(doc, dict) else r.text
            )
        return doc

    # --- lifecycle of the emulator ------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/health"))

    def reset(self, tid: int | None = None) -> None:
        self._call("POST", "/reset", {"tid": tid} if tid is not None else {})

    # --- clock ------------------------------------------------------------------------------
    def clock(self) -> Clock:
        doc = self._call("GET", "/clock")
        return Clock(doc["now"], float(doc["epoch"]), doc["mode"])

    def advance(self, seconds: float) -> Clock:
        doc = self._call("POST", "/clock/advance", {"seconds": seconds})
        return Clock(doc["now"], float(doc["epoch"]), doc["mode"])

    # --- faults -----------------------------------------------------------------------------
    def faults(self, tid: int | None = None) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults", tid=tid)["faults"])

    def add_fault_rule(self, rule: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/faults", rule))

    def add_fault(
        self,
        *,
        code: str | None = None,
        http_status: int = 400,
        message: str | None = None,
        latency_ms: float | None = None,
        connection: str | None = None,
        times: int | None = None,
        after: int | None = None,
        probability: float | None = None,
        **match: Any,
    ) -> dict[str, Any]:
        """Shorthand: `add_fault(action="ListOrders", code="Throttling.User", times=2)`."""
        if code:
            effect: dict[str, Any] = {"type": "error", "code": code, "http_status": http_status}
            if message:
                effect["message"] = message
        elif latency_ms is not None:
            effect = {"type": "latency", "ms": latency_ms}
        elif connection:
            effect = {"type": "connection", "mode": connection}
        else:
            raise ValueError("give code=, latency_ms= or connection=")
        rule: dict[str, Any] = {"match": match, "effect": effect}
        for key, value in (("times", times), ("after", after), ("probability", probability)):
            if value is not None:
                rule[key] = value
        return self.add_fault_rule(rule)

    def fail_ticket(
        self,
        order_id: int,
        stage: str = "export",
        outcome: str = "fail",
        reason: str = "",
        seconds: float | None = None,
    ) -> dict[str, Any]:
        """A lifecycle fault for one existing ticket (precheck, approval or export)."""
        effect: dict[str, Any] = {
            "type": "lifecycle",
            "stage": stage,
            "outcome": outcome,
            "reason": reason,
        }
        if seconds is not None:
            effect["seconds"] = seconds
        return self.add_fault_rule({"match": {"order_id": order_id}, "effect": effect})

    def remove_fault(self, rule_id: str) -> None:
        self._call("DELETE", f"/faults/{rule_id}")

    def clear_faults(self, tid: int | None = None) -> None:
        self._call("DELETE", "/faults", tid=tid)

    def load_scenario(
        self,
        name: str | None = None,
        *,
        path: str | None = None,
        scenario: dict[str, Any] | None = None,
    ) -> list[str]:
        body = scenario if scenario is not None else {"path": path} if path else {"name": name}
        return list(self._call("POST", "/scenarios", body)["fault_ids"])

    # --- journal ----------------------------------------------------------------------------
    def requests(
        self,
        *,
        action: str | None = None,
        code: str | None = None,
        access_key_id: str | None = None,
        tid: int | None = None,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return list(
            self._call(
                "GET",
                "/requests",
                action=action,
                code=code,
                access_key_id=access_key_id,
                tid=tid,
                request_id=request_id,
                since=since,
                until=until,
                limit=limit,
            )["requests"]
        )

    def count(self, action: str | None = None, **filters: Any) -> int:
        """How many journal entries match: `count("ListOrders", tid=3000, params={"PageSize": 5})`."""
        query = {k: v for k, v in filters.items() if k != "params"}
        for name, value in (filters.get("params") or {}).items():
            query[f"param.{name}"] = _text(value)
        return int(self._call("GET", "/requests/count", action=action, **query)["count"])

    def verify(self, expect: list[dict[str, Any]], **scope: Any) -> dict[str, Any]:
        """An ordered list of expected calls (`{"action", "params", "times", ...}`) against the
        journal; the answer says `ok`, or which expectation failed and the nearest entries."""
        return dict(self._call("POST", "/requests/verify", {"expect": expect, **scope}))

    def assert_called(
        self,
        action: str,
        times: int | None = None,
        *,
        code: str | None = None,
        tid: int | None = None,
        access_key_id: str | None = None,
        since: float | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """AssertionError (with the nearest calls) unless `action` was called with these
        parameters, exactly `times` times if given, else at least once."""
        from emulator.admin.verify import readable

        expectation: dict[str, Any] = {"action": action, "params": params}
        for key, value in (("times", times), ("code", code), ("tid", tid)):
            if value is not None:
                expectation[key] = value
        if access_key_id is not None:
            expectation["access_key_id"] = access_key_id
        result = self.verify([expectation], **({"since": since} if since is not None else {}))
        if not result.get("ok"):
            raise AssertionError(readable(result))
        return result

    def assert_sequence(self, expect: list[dict[str, Any]], **scope: Any) -> dict[str, Any]:
        """AssertionError with a readable message unless the journal holds these calls in order."""
        from emulator.admin.verify import readable

        result = self.verify(expect, **scope)
        if not result.get("ok"):
            raise AssertionError(readable(result))
        return result

    def clear_requests(self, tid: int | None = None) -> None:
        self._call("DELETE", "/requests", tid=tid)

    # --- state ------------------------------------------------------------------------------
    def export_state(self, secrets: bool = False) -> dict[str, Any]:
        """The state document; the link-signing secret only with `secrets` (and a token)."""
        return dict(self._call("GET", "/state", secrets="true" if secrets else None))

    def import_state(self, document: dict[str, Any]) -> None:
        self._call("PUT", "/state", document)

    # --- tickets ----------------------------------------------------------------------------
    def tickets(self, tid: int | None = None) -> list[dict[str, Any]]:
        return list(self._call("GET", "/tickets", tid=tid)["tickets"])

    def ticket(self, order_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/tickets/{order_id}"))

    def approve(self, order_id: int, comment: str = "", uid: int | None = None) -> dict[str, Any]:
        """What a DBA does in the console: submit if needed, then AGREE (by an ADMIN/DBA, or `uid`)."""
        return dict(
            self._call("POST", f"/tickets/{order_id}/approve", {"comment": comment, "uid": uid})
        )

    def reject(self, order_id: int, comment: str = "", uid: int | None = None) -> dict[str, Any]:
        return dict(
            self._call("POST", f"/tickets/{order_id}/reject", {"comment": comment, "uid": uid})
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
