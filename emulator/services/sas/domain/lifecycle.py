"""The Sas export lifecycle, all of it in one file: phases, how they follow from the emulated
clock, and the status words each poll action shows for them.

An export is `init` for its first second, then `exporting` at ROWS_PER_SECOND records a
second, then `success` once its file is written. A lifecycle fault (`sas_export` stage) makes it
fail halfway (`failed`) or stall (progress stops, for `seconds` of emulated time or for ever).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

ROWS_PER_SECOND = 50.0
INIT_SECONDS = 1.0


class Phase(Enum):
    INIT = "init"
    EXPORTING = "exporting"
    SUCCESS = "success"
    FAILED = "failed"


class Family(Enum):
    """Which start action made the export; each family is polled by its own info actions."""

    RECORD = "record"  # ExportRecord -> DescribeExportInfo
    VUL = "vul"  # ExportVul -> DescribeVulExportInfo
    WARNING = "warning"  # ExportWarning -> DescribeWarningExportInfo, DescribeHcExportInfo
    SUSP = "susp"  # ExportSuspEvents -> DescribeSuspEventExportInfo


# The status words of each poll view. Only documented words appear, except `failed` where the
# SDK documents none: it is the emulator's word for a lifecycle fault (specs/README.md).
STANDARD = {
    Phase.INIT: "init",
    Phase.EXPORTING: "exporting",
    Phase.SUCCESS: "success",
    Phase.FAILED: "failed",
}
HC = {  # DescribeHcExportInfo.ResultStatus documents exporting and success only
    Phase.INIT: "exporting",
    Phase.EXPORTING: "exporting",
    Phase.SUCCESS: "success",
    Phase.FAILED: "failed",
}
SUSP = {  # DescribeSuspEventExportInfo.ExportStatus: pending, exporting, success, failed
    Phase.INIT: "pending",
    Phase.EXPORTING: "exporting",
    Phase.SUCCESS: "success",
    Phase.FAILED: "failed",
}
SUCCESS_MESSAGE = "success"


@dataclass(frozen=True)
class Progress:
    phase: Phase
    current: int
    total: int
    percent: int
    changed_at: float  # when the export last changed (GmtModified)

    @property
    def finished(self) -> bool:
        return self.phase in (Phase.SUCCESS, Phase.FAILED)


def duration(total: int) -> float:
    """Emulated seconds from start to success."""
    return INIT_SECONDS + total / ROWS_PER_SECOND


def progress(
    created_at: float, now: float, total: int, fault: dict[str, Any], file_ready: bool
) -> Progress:
    """Where an export stands at `now`; success also waits for its file to exist."""
    elapsed = now - created_at
    if fault.get("outcome") == "stall":
        frozen = INIT_SECONDS + float(fault.get("progress_at", 0.5)) * total / ROWS_PER_SECOND
        elapsed = min(elapsed, frozen)
        if fault.get("seconds") is not None:
            elapsed = max(elapsed, now - created_at - float(fault["seconds"]))
    fail_at = INIT_SECONDS + total / (2 * ROWS_PER_SECOND)
    if elapsed < INIT_SECONDS:
        phase, current, at = Phase.INIT, 0, created_at
    elif fault.get("outcome") == "fail" and elapsed >= fail_at:
        phase, current, at = Phase.FAILED, total // 2, created_at + fail_at
    elif elapsed < duration(total) or not file_ready:
        phase = Phase.EXPORTING
        current = min(total - 1, int((elapsed - INIT_SECONDS) * ROWS_PER_SECOND))
        current = max(current, 0)
        at = created_at + min(elapsed, duration(total))
    else:
        phase, current, at = Phase.SUCCESS, total, created_at + duration(total)
    if phase is Phase.SUCCESS:
        percent = 100
    else:
        percent = int(100 * current / total) if total else 0
    return Progress(phase, current, total, percent, at)


def message(p: Progress, fault: dict[str, Any]) -> str:
    if p.phase is Phase.SUCCESS:
        return SUCCESS_MESSAGE
    if p.phase is Phase.FAILED:
        return str(fault.get("reason") or "export failed")
    return ""
