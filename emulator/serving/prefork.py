"""`--workers N`: a supervisor pre-forks N processes that accept on one listening socket.

The supervisor only supervises: SIGTERM/SIGINT go on to every worker, a worker that dies is
replaced, and workers follow the supervisor when it dies, however it dies (PR_SET_PDEATHSIG,
plus a parent check for systems without it).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.serving.listener import (
    STOP_GRACE,
    Stack,
    WSGIApp,
    announce,
    listen_socket,
    raise_descriptor_limit,
    stop_on_signals,
    url_of,
)

if TYPE_CHECKING:
    from emulator.serving.tls import TlsConfig

log = logging.getLogger("emulator.serving.prefork")


def _exit_worker(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _die_with(parent: int) -> None:
    """A worker follows its supervisor: PR_SET_PDEATHSIG on Linux, a parent check elsewhere."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(0)

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(STOP_GRACE + 1)
                os._exit(0)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def serve_workers(
    app: WSGIApp,
    host: str,
    port: int,
    workers: int,
    threads: int,
    after_fork: Any = None,
    tls: TlsConfig | None = None,
    banner: Callable[[str], str] | None = None,
) -> None:
    """Pre-fork `workers` processes that all accept on one listening socket.

    The parent only supervises: SIGTERM/SIGINT are passed on to every worker, and the parent
    returns once they have exited. A worker that dies is replaced.
    """
    raise_descriptor_limit()
    sock = listen_socket(host, port)
    real_port = sock.getsockname()[1]
    children: dict[int, int] = {}
    supervisor = os.getpid()
    if tls is not None:
        tls.context()  # a bad --tls-cert fails here, once, not in every worker

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, _exit_worker)
            code = 0
            try:
                _die_with(supervisor)
                if after_fork:
                    after_fork(index)
                Stack(app, sock, threads, tls).run()
            except SystemExit:
                pass
            except BaseException:
                log.exception("worker %d failed", index)
                code = 1
            finally:
                os._exit(code)
        children[pid] = index

    for i in range(workers):
        spawn(i)
    stopping = False

    def stop() -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    stop_on_signals(stop)
    log.info("%d worker processes", workers)
    announce(url_of(host, real_port, tls is not None), tls, banner)
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        index = children.pop(pid, None)
        if index is not None and not stopping:
            log.error("worker %d exited; starting a new one", index)
            spawn(index)
    sock.close()
