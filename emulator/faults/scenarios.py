"""Scenario files: named sets of fault rules (YAML or JSON), loaded at start or at run time.

One way in (`resolve`): a shipped scenario by name, a scenario file by path, or the document
itself. A path is read only if it looks like a scenario file (a .yaml/.yml/.json regular file
of bounded size), and no error ever quotes the file's content: the control plane may be asked
to read any path, and its answer must not turn it into a file oracle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.faults.engine import FaultEngine, FaultError, validate_rule

SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 1024 * 1024


class ScenarioError(Exception):
    pass


def _syntax_error(file: Path, exc: Exception) -> ScenarioError:
    """Where the file is wrong (line, column), never the text found there."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        where = f" at line {mark.line + 1}, column {mark.column + 1}"
    elif isinstance(exc, json.JSONDecodeError):
        where = f" at line {exc.lineno}, column {exc.colno}"
    else:
        where = ""
    return ScenarioError(f"scenario file {file}: not valid YAML/JSON{where}")


def read_scenario(path: str | Path, any_name: bool = False) -> dict[str, Any]:
    """A checked scenario file; `any_name` (the command line's own files) skips the suffix rule."""
    file = Path(path)
    if not any_name and file.suffix.lower() not in SUFFIXES:
        raise ScenarioError(
            f"scenario file {file}: not a scenario file (the name must end in .yaml, .yml or .json)"
        )
    try:
        if not file.is_file():
            raise ScenarioError(f"scenario file {file}: no such file")
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"scenario file {file}: larger than {MAX_FILE_BYTES} bytes")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(
            f"scenario file {file}: cannot read it: {exc.strerror or type(exc).__name__}"
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(f"scenario file {file}: not UTF-8 text") from None
    import yaml  # only when a scenario is read (a start without one never loads PyYAML)

    try:
        doc = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise _syntax_error(file, exc) from None
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


def resolve(spec: Any) -> dict[str, Any]:
    """A checked scenario from `{"name": shipped}`, `{"path": FILE}` or the scenario document."""
    if not isinstance(spec, dict):
        raise ScenarioError("scenario: must be an object")
    if "faults" in spec:
        return check_scenario(spec, "in the request body")
    if "path" in spec:
        return read_scenario(str(spec["path"]))
    if "name" in spec:
        return read_scenario(shipped_scenario(str(spec["name"])))
    raise ScenarioError("scenario: give a shipped 'name', a 'path' or the scenario's 'faults'")


def apply(engine: FaultEngine, doc: dict[str, Any]) -> list[str]:
    """Add a checked scenario's rules; each rule is named after the scenario unless it has a name."""
    return [
        engine.add({**rule, "name": rule.get("name") or doc.get("name")}).id
        for rule in doc["faults"]
    ]


def load_scenario(engine: FaultEngine, path: str | Path) -> list[str]:
    """`--scenario FILE` at start-up (the user's own command line, so any file name)."""
    return apply(engine, read_scenario(path, any_name=True))


def _folder() -> Path:
    from importlib import resources

    return Path(str(resources.files("emulator.fixtures").joinpath("scenarios")))


def shipped_scenario(name: str) -> Path:
    """A scenario shipped in fixtures/scenarios, by name."""
    folder = _folder()
    path = folder / f"{name}.yaml"
    if "/" in name or "\\" in name or not path.is_file() or path.parent != folder:
        raise ScenarioError(
            f"no shipped scenario {name!r} (known: {', '.join(shipped_scenarios())})"
        )
    return path


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in _folder().glob("*.yaml"))
