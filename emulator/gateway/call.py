"""One API call as it moves through the gateway's handler chain."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.gateway.errors import ApiError
    from emulator.gateway.registry import Operation
    from emulator.platform.accounts import Tenant, User


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
    result: dict[str, Any] | None = None
    error: ApiError | None = None

    @property
    def product(self) -> str | None:
        return self.operation.product.name if self.operation else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())
