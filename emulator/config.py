"""Settings of one emulator instance (CLI options, env vars and the pytest plugin build these)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the tickets domain loads with the services, not with the settings
    from emulator.services.dms.domain.tickets import Durations


DEFAULT_THREADS = 8  # request threads of one process
# request threads per worker with --workers: more threads per process than this made two
# workers on two cores thrash (issue 18: 8 per worker 1.3x one process, 4 1.58x, 3 1.65-1.74x,
# 2 1.59-1.62x), while one process is fastest with 8 (its second core overlaps the sockets'
# system calls)
WORKER_THREADS = 3


def threads_for(threads: int | None, workers: int) -> int:
    """`--threads` as given, else the default for one process or for each of several."""
    if threads is not None:
        return max(1, threads)
    return DEFAULT_THREADS if workers <= 1 else WORKER_THREADS


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8787
    accounts: str | None = None
    state: str | None = None
    clock: str = "real"
    scenarios: list[str] = field(default_factory=list)
    seed: int | None = None
    log_level: str = "INFO"
    log_json: bool = False
    threads: int = DEFAULT_THREADS
    workers: int = 1  # processes; >1 shares state through SQLite files and shared memory
    link_ttl: int = 3600  # seconds a download link stays valid on the emulated clock
    journal_size: int = 10_000
    nonce_capacity: int = 500_000
    retention: int = 7 * 86400  # seconds (emulated) result files are kept
    export_deadline: float = 300.0  # seconds of real time an export job may run
    durations: Durations | None = None  # None: the defaults of `Durations`
    # serving (emulator/serving): HTTPS on --port; own certificate instead of the generated CA's
    tls: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    # control plane and request bounds (emulator/admin/security.py, README "Security")
    control_token: str | None = None  # x-emulator-token for every /_emulator/ request
    allowed_hosts: list[str] = field(default_factory=list)  # Host names besides loopback ones
    control_max_body: int = 64 * 1024 * 1024  # bytes a control-plane or console request may send
    journal_bytes: int = 64 * 1024 * 1024  # the journal's total byte budget
    header_fault_max_ms: int = 10_000  # latency or dribble one x-emulator-fault header may cost
    # the SQL console (ExecuteScript): rows per query, seconds per statement
    console_max_rows: int = 200
    console_timeout: float = 60.0
