"""The `dms-emulator` command. Every option also reads `DMS_EMULATOR_<OPTION>`; the command line wins."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from dataclasses import replace
from typing import Any

from emulator import __version__
from emulator.config import DEFAULT_THREADS, WORKER_THREADS, Settings, threads_for
from emulator.platform.accounts import AccountsError
from emulator.state.store import StateFileError, StoreVersionError

ENV = "DMS_EMULATOR_"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV + name.upper().replace("-", "_"), default)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


COMMANDS = ("serve", "faults", "journal", "sign", "state")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command; with `command`, the other commands are named (for help and usage errors)
    without their options: `serve` starts without building the parsers of the tools (issue 18)."""
    parser = argparse.ArgumentParser(prog="dms-emulator", description=__doc__)
    parser.add_argument("--version", action="version", version=f"dms-emulator {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator in the foreground")

    def option(flag: str, default: str | None, **kw: Any) -> None:
        """`--flag`, defaulting to DMS_EMULATOR_FLAG, then `default`. A string default goes through
        `type` like a typed value would, so a bad env value is a clean usage error, not a traceback."""
        serve.add_argument(flag, default=_env(flag[2:], default), **kw)

    option("--host", "127.0.0.1")
    option("--port", "8787", type=_int, help="0 picks a free port")
    option("--accounts", None, help="accounts file (default: the built-in fixtures/accounts.yaml)")
    option("--state", None, help="SQLite file for durable state (default: in memory)")
    option("--clock", "real", choices=("real", "manual"))
    serve.add_argument(
        "--scenario",
        action="append",
        default=None,
        help="fault scenario file or shipped scenario name (repeatable; env: comma-separated)",
    )
    option("--seed", None, type=_int, help="make ids, request ids and fault dice reproducible")
    option(
        "--threads",
        None,
        type=_int,
        help=f"request threads per process (default {DEFAULT_THREADS}; {WORKER_THREADS} per worker "
        "with --workers)",
    )
    option(
        "--workers",
        "1",
        type=_int,
        help="worker processes sharing one port, state, clock, nonces and faults",
    )
    option(
        "--link-ttl", "3600", type=_int, help="seconds (emulated clock) a download link stays valid"
    )
    option("--journal-size", "10000", type=_int, help="requests kept in the journal")
    option(
        "--nonce-capacity",
        "500000",
        type=_int,
        help="nonces remembered (15 minutes each) before the oldest are dropped",
    )
    option(
        "--retention",
        "604800",
        type=_int,
        help="seconds (emulated clock) result files are kept; older ones are deleted",
    )
    option(
        "--export-deadline",
        "300",
        type=_int,
        help="seconds of real time an export job may run before it ends as EXPORT_FAIL",
    )
    option("--log-level", "INFO")
    # control plane security and request bounds (emulator/admin/security.py)
    option("--control-token", None, help="require x-emulator-token on every /_emulator/ request")
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        help="a Host name the control plane accepts besides loopback ones (repeatable; env: comma-separated)",
    )
    option(
        "--control-max-body",
        str(64 * 1024 * 1024),
        type=_int,
        help="bytes a control-plane request may send",
    )
    option(
        "--journal-bytes", str(64 * 1024 * 1024), type=_int, help="total bytes the journal keeps"
    )
    option(
        "--header-fault-max-ms",
        "10000",
        type=_int,
        help="ms of latency or dribble one x-emulator-fault header may cost (0: header faults off)",
    )
    option("--console-max-rows", "200", type=_int, help="rows ExecuteScript returns per query")
    option(
        "--console-timeout",
        "60",
        type=_int,
        help="seconds one ExecuteScript statement may run before it is stopped",
    )
    serve.add_argument(
        "--tls",
        action="store_true",
        default=(_env("tls", "") or "").lower() in ("1", "true", "yes"),
        help="serve HTTPS on --port (plain HTTP there is served too)",
    )
    option("--tls-cert", None, help="your own server certificate (PEM; with --tls-key)")
    option("--tls-key", None, help="the private key of --tls-cert (PEM)")
    serve.add_argument(
        "--log-json",
        action="store_true",
        default=(_env("log_json", "") or "").lower() in ("1", "true", "yes"),
    )
    from emulator.cli import tools as cli_tools

    cli_tools.add_parsers(sub, command in (None, "faults", "journal", "sign"))
    state = sub.add_parser("state", help="export or import a --state file offline (JSON document)")
    if command not in (None, "state"):
        return parser
    state.add_argument("op", choices=("export", "import"))
    state.add_argument("file", help="the JSON document to write (export) or read (import)")
    state.add_argument("--state", required=True, help="the emulator's SQLite state file")
    return parser


def state_command(op: str, file: str, state_path: str) -> int:
    """The same document as GET/PUT /_emulator/state, without a running server."""
    import json

    from emulator.state.store import Store
    from emulator.wiring import STATE_TABLES

    try:
        store = Store(state_path, STATE_TABLES)
    except (StoreVersionError, Exception) as exc:
        return fail(f"state file {state_path}: {exc}")
    try:
        from emulator.admin import operations

        if op == "export":
            clock = store.get_meta("clock")
            # the control plane's document (without the link-signing secret, like GET /state)
            out = operations.state_document(
                store, json.loads(clock) if clock else None, [], secrets=False
            )
            with open(file, "w", encoding="utf-8") as f:
                json.dump(out, f, ensure_ascii=False)
            return 0
        try:
            with open(file, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as exc:
            return fail(f"{file}: cannot read a state document: {exc}")
        try:
            tables, clock_doc = operations.read_state_document(doc)
        except operations.Invalid as exc:
            return fail(f"{file}: not a dms-emulator state document: {exc}")
        try:
            store.load(operations.keep_secrets(store, tables))
        except Exception as exc:
            return fail(f"{file}: state not imported (nothing changed): {exc}")
        if clock_doc is not None:
            store.set_meta("clock", json.dumps(clock_doc))
        return 0
    finally:
        store.close()


def settings_from(args: argparse.Namespace) -> Settings:
    scenarios = args.scenario
    if scenarios is None:
        scenarios = [s for s in (_env("scenario") or "").split(",") if s]
    return replace(
        Settings(),
        host=args.host,
        port=args.port,
        accounts=args.accounts,
        state=args.state,
        clock=args.clock,
        scenarios=scenarios,
        seed=args.seed,
        threads=threads_for(args.threads, max(1, args.workers)),
        workers=max(1, args.workers),
        link_ttl=args.link_ttl,
        journal_size=max(1, args.journal_size),
        nonce_capacity=max(1, args.nonce_capacity),
        retention=max(1, args.retention),
        export_deadline=float(max(1, args.export_deadline)),
        log_level=args.log_level,
        log_json=args.log_json,
        tls=bool(args.tls or args.tls_cert),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        control_token=args.control_token or None,
        allowed_hosts=args.allowed_host
        if args.allowed_host is not None
        else [h for h in (_env("allowed_host") or "").split(",") if h],
        control_max_body=max(1024, args.control_max_body),
        journal_bytes=max(64 * 1024, args.journal_bytes),
        header_fault_max_ms=max(0, args.header_fault_max_ms),
        console_max_rows=max(1, args.console_max_rows),
        console_timeout=float(max(1, args.console_timeout)),
    )


def fail(message: str) -> int:
    print(f"dms-emulator: error: {message}", file=sys.stderr, flush=True)
    return 2


def serve(settings: Settings) -> int:
    import sys as _sys

    # request threads hand SQLite and locks back and forth; a short GIL switch interval keeps a
    # thread that waits for a lock from waiting a whole default 5 ms slice
    _sys.setswitchinterval(float(os.environ.get("DMS_EMULATOR_SWITCH_INTERVAL", "0.002")))
    from emulator.app import create_app
    from emulator.faults.scenarios import ScenarioError, load_scenario
    from emulator.serving.listener import Server
    from emulator.serving.logs import setup_logging
    from emulator.serving.startup import banner_for, scenario_path, tls_config
    from emulator.wiring import Emulator

    # certificate code loads only with --tls (issue 18: no work at start nobody asked for)
    tls_errors: tuple[type[Exception], ...] = ()
    if settings.tls:
        from emulator.serving.tls import TlsError

        tls_errors = (TlsError,)

    setup_logging(settings.log_level, settings.log_json)
    from emulator.admin.security import bind_warning

    warning = bind_warning(settings)
    if warning:
        print(f"dms-emulator: warning: {warning}", file=sys.stderr, flush=True)
    try:
        tls = tls_config(settings)
    except tls_errors as exc:
        return fail(str(exc))
    try:
        emu = Emulator(settings)
    except (AccountsError, StateFileError) as exc:
        return fail(str(exc))
    try:
        for path in settings.scenarios:
            load_scenario(emu.faults, scenario_path(path))
    except ScenarioError as exc:
        emu.close()
        return fail(str(exc))
    app = create_app(emulator=emu)
    banner = banner_for(settings, emu)
    # what start-up built lives as long as the process: out of the cyclic collector's sight, a
    # full collection no longer walks it (10 us of every signed read went to those, issue 18)
    gc.freeze()
    if settings.workers > 1:
        from emulator.serving.prefork import serve_workers

        app.extensions["dms_gateway"].built()  # the action modules load once, before the fork

        def after_fork(index: int) -> None:
            emu.rng.reseed(None if settings.seed is None else settings.seed * 1000 + index + 1)

        emu.jobs.wait_idle(60)  # resumed exports finish before the fork
        emu.store.release()  # no SQLite connection may cross a fork
        emu.runtime_db.release()
        try:
            serve_workers(
                app,
                settings.host,
                settings.port,
                settings.workers,
                settings.threads,
                after_fork,
                tls=tls,
                banner=banner,
            )
        except OSError as exc:
            emu.close()
            return fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
        emu.save_clock()
        emu.close()
        return 0
    try:
        server = Server(app, settings.host, settings.port, settings.threads, tls=tls)
    except tls_errors as exc:
        emu.close()
        return fail(str(exc))
    except OSError as exc:
        emu.close()
        return fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
    try:
        server.serve_forever(banner)
    finally:
        emu.save_clock()
        emu.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(given[0] if given and given[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command == "serve":
        # defaults from the environment skip argparse's choices check: check them here
        if args.clock not in ("real", "manual"):
            parser.error(f"--clock / DMS_EMULATOR_CLOCK: {args.clock!r} is not one of real, manual")
        if str(args.log_level).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            parser.error(
                f"--log-level / DMS_EMULATOR_LOG_LEVEL: {args.log_level!r} is not a log level"
            )
        if bool(args.tls_cert) != bool(args.tls_key):
            parser.error("--tls-cert and --tls-key go together")
        return serve(settings_from(args))
    if args.command == "state":
        return state_command(args.op, args.file, args.state)
    if args.command in ("faults", "journal", "sign"):
        from emulator.cli import tools as cli_tools

        return cli_tools.run(args)
    parser.error(f"unknown command {args.command}")
    return 2
