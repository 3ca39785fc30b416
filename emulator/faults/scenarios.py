"""Scenario files: named sets of fault rules (YAML or JSON), loaded at start or at run time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from emulator.faults.engine import FaultEngine, FaultError, validate_rule


class ScenarioError(Exception):
    pass


def read_scenario(path: str | Path) -> dict[str, Any]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        doc = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except OSError as exc:
        raise ScenarioError(
            f"scenario file {file}: cannot read it: {exc.strerror or exc}"
        ) from None
    except (ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(
            f"scenario file {file}: not valid YAML/JSON: {exc}".replace("\n", " ")
        ) from None
    return check_scenario(doc, str(file))


def check_scenario(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("faults"), list):
        raise ScenarioError(f"scenario {where}: must be an object with a 'faults' list")
    unknown = set(doc) - {"name", "description", "faults"}
    if unknown:
        raise ScenarioError(f"scenario {where}: unknown key(s): {', '.join(sorted(unknown))}")
    for i, rule in enumerate(doc["faults"]):
        try:
            validate_rule(rule)
        except FaultError as exc:
            raise ScenarioError(f"scenario {where}: faults[{i}].{exc}") from None
    return doc


def load_scenario(engine: FaultEngine, path: str | Path) -> list[str]:
    doc = read_scenario(path)
    return [
        engine.add({**rule, "name": rule.get("name") or doc.get("name")}).id
        for rule in doc["faults"]
    ]


def shipped_scenario(name: str) -> Path:
    """A scenario shipped in fixtures/scenarios, by name."""
    from importlib import resources

    folder = Path(str(resources.files("emulator.fixtures").joinpath("scenarios")))
    path = folder / f"{name}.yaml"
    if not path.is_file() or path.parent != folder:
        raise ScenarioError(
            f"no shipped scenario {name!r} (known: {', '.join(shipped_scenarios())})"
        )
    return path


def shipped_scenarios() -> list[str]:
    from importlib import resources

    folder = Path(str(resources.files("emulator.fixtures").joinpath("scenarios")))
    return sorted(p.stem for p in folder.glob("*.yaml"))
