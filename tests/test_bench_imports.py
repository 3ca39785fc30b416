"""Every benchmark script still imports: they are not run by the suite, so a moved helper
(build_fixture left emulator.databases.sqlite) would otherwise break them unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "__init__")


def test_the_bench_folder_has_scripts() -> None:
    assert {"compare", "export", "console", "datachange"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_script_imports(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import bench.{name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
