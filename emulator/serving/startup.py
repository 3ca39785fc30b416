"""What `serve` works out before it listens: the TLS material, scenario names, the banner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.config import Settings
    from emulator.serving.tls import TlsConfig
    from emulator.wiring import Emulator


def tls_config(settings: Settings) -> TlsConfig | None:
    """None without --tls; the user's pair with --tls-cert/--tls-key; else the generated one."""
    if not settings.tls:
        return None
    from emulator.serving.tls import TlsConfig, TlsError  # certificate code only with --tls

    if settings.tls_cert or settings.tls_key:
        for flag, path in (("--tls-cert", settings.tls_cert), ("--tls-key", settings.tls_key)):
            if not path or not os.path.isfile(path):
                raise TlsError(f"{flag} {path}: no such file")
        config = TlsConfig(cert=str(settings.tls_cert), key=str(settings.tls_key))
        config.context()  # unreadable or mismatched: a clear error now, not at the first client
        return config
    from emulator.serving.tls import ensure_certificates

    try:
        return ensure_certificates(hosts=[settings.host])
    except OSError as exc:
        raise TlsError(f"cannot create the TLS certificates: {exc}") from None


def scenario_path(value: str) -> str:
    """A scenario file, or the name of a shipped scenario (as the plugin and control plane take)."""
    if os.path.exists(value) or os.sep in value or value.endswith((".yaml", ".yml", ".json")):
        return value
    from emulator.faults.scenarios import shipped_scenario

    return str(shipped_scenario(value))


def banner_for(settings: Settings, emu: Emulator) -> Callable[[str], str]:
    """The stderr lines a new user needs: where to point the client, the console, the keys."""

    def banner(url: str) -> str:
        authority = url.split("://", 1)[1]
        scheme = url.split("://", 1)[0]
        lines = [
            f"dms-emulator: DMS Enterprise 2018-11-01 and Sas 2018-12-03 on {url}",
            f"  endpoint  {authority}"
            + (
                "  (Python: Config(endpoint=..., protocol='http'))"
                if scheme == "http"
                else "  (https; plain http is served on the same port)"
            ),
            f"  console   {url}/_emulator/ui/",
        ]
        if settings.tls and not settings.tls_cert:
            ca = emu_ca_path()
            lines.append(f"  CA        {ca}  (SSL_CERT_FILE={ca}, or Config(ca=...))")
        if settings.accounts is None:
            lines.append("  built-in accounts (fixtures/accounts.yaml):")
            for tenant in emu.accounts.tenants.values():
                for user in tenant.users:
                    lines.append(
                        f"    tid {tenant.tid} {user.name:<6} {user.role:<5} "
                        f"{user.access_key_id} / {user.access_key_secret}"
                    )
        return "\n".join(lines)

    return banner


def emu_ca_path() -> Path:
    from emulator.serving.tls import CA_FILE, cache_dir

    return cache_dir() / CA_FILE
