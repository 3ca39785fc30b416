"""`bench/compare.py --check` (issue 18): a ratio more than 20% worse than the recorded baseline
fails the run; one within 20% passes. Judged on given figures, so no benchmark runs here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPARE = ROOT / "bench" / "compare.py"


def check(tmp_path: Path, figures: dict[str, float], recorded: dict[str, float]) -> int:
    (tmp_path / "figures.json").write_text(json.dumps(figures))
    (tmp_path / "baseline.json").write_text(json.dumps({"figures": recorded}))
    return subprocess.run(
        [
            sys.executable,
            str(COMPARE),
            "--figures",
            str(tmp_path / "figures.json"),
            "--baseline",
            str(tmp_path / "baseline.json"),
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    ).returncode


def test_an_impossible_recorded_figure_fails_the_check(tmp_path: Path) -> None:
    assert check(tmp_path, {"signed_vs_bare": 0.62}, {"signed_vs_bare": 1000.0}) == 1


def test_figures_within_20_percent_pass(tmp_path: Path) -> None:
    figures = {"signed_vs_bare": 0.50, "startup_vs_bare": 1.80, "workers2_vs_1": 1.5}
    recorded = {"signed_vs_bare": 0.62, "startup_vs_bare": 1.5, "workers2_vs_1": 1.5}
    assert check(tmp_path, figures, recorded) == 0


def test_a_lower_is_better_ratio_fails_when_it_grows_past_the_tolerance(tmp_path: Path) -> None:
    # start-up is emulator/bare: 1.5 recorded, 1.9 now is more than 20% slower
    assert check(tmp_path, {"startup_vs_bare": 1.9}, {"startup_vs_bare": 1.5}) == 1


def test_absolute_figures_and_figures_not_taken_are_not_judged(tmp_path: Path) -> None:
    recorded = {"signed_p99_ms": 1.0, "https_vs_http": 0.9}
    assert check(tmp_path, {"signed_p99_ms": 500.0}, recorded) == 0


def test_the_committed_baseline_names_known_ratios() -> None:
    doc = json.loads((ROOT / "bench" / "baseline.json").read_text())
    assert doc["recorded"] and doc["machine"]
    assert {"signed_vs_bare", "startup_vs_bare"} <= set(doc["figures"])
