"""The Sas export lifecycle spelled out by hand: where a task of 100 records stands when."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.services.sas.domain.lifecycle import HC, STANDARD, SUSP, Phase, progress

FAIL = {"outcome": "fail", "reason": "quota"}
STALL = {"outcome": "stall"}
STALL_5 = {"outcome": "stall", "seconds": 5}


@pytest.mark.parametrize(
    "at, fault, ready, phase, current, percent",
    [
        (0.0, {}, False, Phase.INIT, 0, 0),
        (0.99, {}, True, Phase.INIT, 0, 0),
        (1.0, {}, False, Phase.EXPORTING, 0, 0),
        (1.5, {}, False, Phase.EXPORTING, 25, 25),
        (2.99, {}, True, Phase.EXPORTING, 99, 99),
        (3.0, {}, False, Phase.EXPORTING, 99, 99),  # the file is not written yet
        (3.0, {}, True, Phase.SUCCESS, 100, 100),
        (999.0, {}, True, Phase.SUCCESS, 100, 100),
        (1.99, FAIL, False, Phase.EXPORTING, 49, 49),
        (2.0, FAIL, False, Phase.FAILED, 50, 50),
        (999.0, FAIL, True, Phase.FAILED, 50, 50),
        (10.0, STALL, True, Phase.EXPORTING, 50, 50),
        (9999.0, STALL, True, Phase.EXPORTING, 50, 50),
        (6.0, STALL_5, True, Phase.EXPORTING, 50, 50),
        (7.5, STALL_5, True, Phase.EXPORTING, 75, 75),
        (8.0, STALL_5, True, Phase.SUCCESS, 100, 100),
    ],
)
def test_progress_of_a_hundred_records(
    at: float, fault: dict[str, Any], ready: bool, phase: Phase, current: int, percent: int
) -> None:
    p = progress(100.0, 100.0 + at, 100, fault, ready)
    assert (p.phase, p.current, p.total, p.percent) == (phase, current, 100, percent)


def test_an_empty_export_succeeds_after_the_first_second() -> None:
    assert progress(0, 0.5, 0, {}, True).phase is Phase.INIT
    done = progress(0, 1.0, 0, {}, True)
    assert (done.phase, done.current, done.percent) == (Phase.SUCCESS, 0, 100)


def test_modified_time_follows_the_work() -> None:
    assert progress(100, 100.5, 100, {}, False).changed_at == 100
    assert progress(100, 102.0, 100, {}, False).changed_at == 102.0
    assert progress(100, 500.0, 100, {}, True).changed_at == 103.0
    assert progress(100, 500.0, 100, FAIL, False).changed_at == 102.0
    assert progress(100, 500.0, 100, STALL, True).changed_at == 102.0


def test_each_poll_view_shows_only_its_documented_words() -> None:
    assert [STANDARD[p] for p in Phase] == ["init", "exporting", "success", "failed"]
    assert [HC[p] for p in Phase] == ["exporting", "exporting", "success", "failed"]
    assert [SUSP[p] for p in Phase] == ["pending", "exporting", "success", "failed"]
