"""Which (version, action) pairs exist, and which handler answers each. Never routed by Host."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.gateway import errors
from emulator.gateway.call import Call, Handler, Operation, Product

__all__ = ["DMS", "PRODUCTS", "SAS", "Handler", "Operation", "Product", "Registry"]


DMS = Product("dms-enterprise", "2018-11-01", "dms-enterprise.aliyuncs.com", "dms-enterprise")
SAS = Product("sas", "2018-12-03", "tds.aliyuncs.com", "Sas")
PRODUCTS = {p.version: p for p in (DMS, SAS)}


class Registry:
    def __init__(self) -> None:
        self._ops: dict[tuple[str, str], Operation] = {}
        # services' checks on the signed-in user, run right after authentication
        # (DMS: a disabled user's key is refused)
        self.user_checks: list[Callable[[Call], None]] = []

    def add(
        self,
        product: Product,
        action: str,
        handler: Handler,
        context: Any = None,
        stages: tuple[str, ...] = (),
    ) -> None:
        self._ops[(product.version, action)] = Operation(product, action, handler, context, stages)

    def actions(self, product: Product) -> list[str]:
        """The actions registered for a product (for listings and tests)."""
        return sorted(a for (v, a) in self._ops if v == product.version)

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
