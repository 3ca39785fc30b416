"""Which (version, action) pairs exist, and which handler answers each. Never routed by Host."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.gateway import errors
from emulator.gateway.call import Call


@dataclass(frozen=True)
class Product:
    name: str  # as fault rules and the journal name it
    version: str
    host: str  # HostId in error bodies
    code: str  # product= in Recommend links


DMS = Product("dms-enterprise", "2018-11-01", "dms-enterprise.aliyuncs.com", "dms-enterprise")
SAS = Product("sas", "2018-12-03", "tds.aliyuncs.com", "Sas")
PRODUCTS = {p.version: p for p in (DMS, SAS)}

Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    product: Product
    action: str
    handler: Handler


class Registry:
    def __init__(self) -> None:
        self._ops: dict[tuple[str, str], Operation] = {}

    def add(self, product: Product, action: str, handler: Handler) -> None:
        self._ops[(product.version, action)] = Operation(product, action, handler)

    def lookup(self, version: str | None, action: str | None) -> Operation:
        if not action:
            raise errors.missing("Action")
        if not version:
            raise errors.missing("Version")
        if version not in PRODUCTS:
            raise errors.version_invalid(version)
        op = self._ops.get((version, action))
        if op is None:
            raise errors.action_not_found(action, version)
        return op
