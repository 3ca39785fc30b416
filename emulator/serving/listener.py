"""Running the app on waitress: a production WSGI server, pure Python, threaded, quick to start,
and able to bind port 0 and tell us the real port. SIGINT/SIGTERM stop it cleanly (exit 0)."""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from flask import Flask
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.task import WSGITask

from emulator.serving.netfaults import ENV_SOCKET


class _SocketTask(WSGITask):
    """Puts the connection's socket in the environ, for connection faults (netfaults.py)."""

    def get_environment(self) -> dict[str, Any]:
        env = super().get_environment()
        env[ENV_SOCKET] = self.channel.socket
        return env


class _Channel(HTTPChannel):
    task_class = _SocketTask


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(
                {
                    k: v
                    for k, v in fields.items()
                    if k not in ("string_to_sign", "canonical_request")
                }
            )
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("waitress").setLevel(logging.WARNING)


class Server:
    """A waitress server that can run in the foreground (CLI) or a thread (tests, plugin)."""

    def __init__(self, app: Flask, host: str, port: int, threads: int = 16):
        self.app = app
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="dms-emulator",
            channel_timeout=120,
            connection_limit=1000,
            clear_untrusted_proxy_headers=True,
        )
        self._server.channel_class = _Channel  # type: ignore[union-attr]
        self.host = host
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        def stop(signum: int, frame: Any) -> None:
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1` dumps every thread
        print(f"dms-emulator listening on {self.url}", flush=True)
        self._server.run()

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._server.run, name="dms-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every open connection; the loop ends when its map is empty."""
        from waitress import wasyncore

        self._server.close()
        self._server.task_dispatcher.shutdown()  # type: ignore[union-attr]
        wasyncore.close_all(self._server._map)  # type: ignore[union-attr]
        if self._thread:
            self._thread.join(timeout=5)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    # every worker wakes for a new connection and all but one lose the race to accept it: on a
    # blocking socket the losers would sit inside accept(), freezing their event loops
    sock.setblocking(False)
    return sock


def _exit_worker(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def serve_workers(
    app: Flask, host: str, port: int, workers: int, threads: int, after_fork: Any = None
) -> None:
    """Pre-fork `workers` processes that all accept on one listening socket.

    The parent only supervises: SIGTERM/SIGINT are passed on to every worker, and the parent
    returns once they have exited. A worker that dies is replaced.
    """
    sock = _listen(host, port)
    real_port = sock.getsockname()[1]
    children: dict[int, int] = {}

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, _exit_worker)
            code = 0
            try:
                if after_fork:
                    after_fork(index)
                server = create_server(
                    app,
                    sockets=[sock],
                    threads=threads,
                    ident="dms-emulator",
                    channel_timeout=120,
                    connection_limit=1000,
                )
                server.channel_class = _Channel  # type: ignore[union-attr]
                server.run()
            except SystemExit:
                pass
            except BaseException:
                logging.getLogger("emulator.serving.listener").exception("worker %d failed", index)
                code = 1
            finally:
                os._exit(code)
        children[pid] = index

    for i in range(workers):
        spawn(i)
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("emulator.serving.listener").info("%d worker processes", workers)
    print(f"dms-emulator listening on http://{shown}:{real_port}", flush=True)
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        index = children.pop(pid, None)
        if index is not None and not stopping:
            logging.getLogger("emulator.serving.listener").error(
                "worker %d exited; starting a new one", index
            )
            spawn(index)
    sock.close()
