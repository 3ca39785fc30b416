"""One API call as it moves through the gateway's handler chain."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.gateway.errors import ApiError
from emulator.platform.accounts import Tenant, User


@dataclass(frozen=True)
class Product:
    name: str  # as fault rules and the journal name it
    version: str
    host: str  # HostId in error bodies
    code: str  # product= in Recommend links


# a handler answers one call with its product's typed context: `(call, ctx) -> body`
Handler = Callable[["Call", Any], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """One (version, action) pair: who answers it, over which context."""

    product: Product
    action: str
    handler: Handler
    context: Any = None
    # lifecycle stages a fault may aim at through this action (the gateway picks the rule)
    stages: tuple[str, ...] = ()


@dataclass
class Call:
    request_id: str
    method: str
    path: str
    host: str
    base_url: str
    headers: dict[str, str]
    query_pairs: list[tuple[str, str]]
    form_pairs: list[tuple[str, str]]
    body: bytes
    params: dict[str, str]
    started: float = field(default_factory=time.perf_counter)
    action: str | None = None
    version: str | None = None
    xml: bool = False
    operation: Operation | None = None
    scheme: str | None = None  # "v3" | "v1"
    access_key_id: str | None = None
    user: User | None = None
    tenant: Tenant | None = None
    string_to_sign: str | None = None
    canonical_request: str | None = None
    fault: dict[str, Any] | None = None
    # the emulated time of this request, read once by the gateway (principle 7)
    now: float = 0.0
    # the lifecycle fault effect this call carries to the ticket or job it starts, if any
    lifecycle: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    # a business failure answered with HTTP 200 (DMS `Success:false`): its code, for the journal
    outcome_code: str | None = None
    error: ApiError | None = None

    @property
    def product(self) -> str | None:
        return self.operation.product.name if self.operation else None

    def header(self, name: str) -> str | None:
        """Headers are stored lower-cased; the gateway asks in lower case (no copy per lookup)."""
        value = self.headers.get(name)
        return value if value is not None or name.islower() else self.headers.get(name.lower())
