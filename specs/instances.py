"""Catalogue entries for registering instances at run time (RegisterInstance, AddInstance, ...); merged by `specs.build.dms_actions`."""

from __future__ import annotations

from typing import Any

ACTIONS: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]] = {}
