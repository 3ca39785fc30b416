"""The code stays linted and typed: ruff over the tree, mypy over the emulator and its tests, and
no test reaches into private attributes (tests use the public interfaces users have)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTED = ("tests", "contract_tests", "bench", "emulator/testing")
# underscore names that are public API: namedtuple methods, documented interpreter hooks
PUBLIC_UNDERSCORE = {"_replace", "_asdict", "_fields", "_make", "_exit", "_getframe"}


def test_ruff_is_clean() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "emulator", "tests", "bench", "contract_tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_is_clean() -> None:
    """Tests are type-checked too: a test that calls an API wrongly should not need to run."""
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "emulator", "tests", "contract_tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


ALLOW = "# sdk-private"  # on the line: a third-party SDK's attribute with no public accessor


def private_accesses(source: str) -> list[tuple[int, str]]:
    """`x._name` where x is not self/cls, and getattr(x, "_name"): a test leaning on internals."""
    found: list[tuple[int, str]] = []
    allowed = {i for i, text in enumerate(source.splitlines(), 1) if ALLOW in text}
    for node in ast.walk(ast.parse(source)):
        name = None
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner not in ("self", "cls"):
                name = node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            name = node.args[1].value
        if (
            name
            and name.startswith("_")
            and not name.startswith("__")
            and name not in PUBLIC_UNDERSCORE
            and line not in allowed
        ):
            found.append((line, name))
    return found


def test_private_access_check_finds_what_it_should() -> None:
    code = (
        "ops = app.registry._ops\nx = getattr(store, '_conn')\np = t._replace(a=1)\nself._x = 1\n"
    )
    assert private_accesses(code) == [(1, "_ops"), (2, "_conn")]


def test_no_test_reaches_into_private_attributes() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: .{name}"
        for folder in TESTED
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, name in private_accesses(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use a public interface instead:\n" + "\n".join(offenders)
