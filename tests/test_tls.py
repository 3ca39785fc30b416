"""HTTPS (`--tls`) through real sockets and unmodified clients (issue 15).

Client-side scenarios run in a fresh Python process each: the tea SDK caches one HTTP session
per host and protocol for the whole process, so a client that trusts the CA would otherwise
lend its session to one that must not.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(scope="module")
def tls(cache: Path) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(
        "--tls", "--clock", "manual", "--seed", "3", env={"XDG_CACHE_HOME": str(cache)}
    ) as proc:
        yield proc


@pytest.fixture()
def tls_control(tls: EmulatorProcess) -> Control:
    ctl = Control(f"http://127.0.0.1:{tls.port}")  # the TLS port serves plain HTTP too
    ctl.reset()
    requests.delete(f"{ctl.url}/_emulator/faults", timeout=5)
    return ctl


def run_client(code: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
    """Python code in a fresh process (see the module docstring); its stdout."""
    base = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


LIFECYCLE = f"""
    import os, sys, requests
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_dms_enterprise20181101.client import Client
    from alibabacloud_dms_enterprise20181101 import models as dm
    from emulator.testing.flows import create_export, watch
    from emulator.testing.process import Control
    port, ca_kw = sys.argv[1] if len(sys.argv) > 1 else os.environ["PORT"], os.environ.get("CA_KW")
    cfg = Config(access_key_id="{ALICE[0]}", access_key_secret="{ALICE[1]}", endpoint=f"127.0.0.1:{{port}}",
                 **({{"ca": ca_kw}} if ca_kw else {{}}))  # no protocol: the SDK's default, HTTPS
    client = Client(cfg)
    order = create_export(client, "select id, name from customers order by id")
    watch(client, Control(f"http://127.0.0.1:{{port}}"), order, {{"EXPORT_SUCCESS"}})
    link = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(order_id=order)).body.download_urlresult.url
    body = requests.get(link, timeout=10, verify=os.environ.get("SSL_CERT_FILE") or ca_kw).content
    print(link)
    print(len(body))
"""


def test_ca_is_generated_once_owner_only_and_served(tls: EmulatorProcess, cache: Path) -> None:
    ca = Path(tls.tls_ca())
    assert ca.parent == cache / "dms-emulator" and ca.is_file()
    assert tls.url == f"https://127.0.0.1:{tls.port}"
    key = ca.with_name("ca-key.pem")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    served = requests.get(f"{tls.url}/_emulator/tls/ca.pem", verify=str(ca), timeout=5)
    assert served.status_code == 200 and served.content == ca.read_bytes()
    first = ca.read_bytes()
    with EmulatorProcess("--tls", env={"XDG_CACHE_HOME": str(cache)}) as again:
        assert again.tls_ca() == str(ca)
        assert ca.read_bytes() == first, "the same CA on every start of the installation"
        r = requests.get(f"{again.url}/_emulator/health", verify=str(ca), timeout=5)
        assert r.status_code == 200


def test_server_certificate_names_loopback_and_product_hosts(tls: EmulatorProcess) -> None:
    import ast

    import alibabacloud_sas20181203.client as sas_client

    # the oracle: the region -> tds host map in the Sas SDK's client, read with the ast module
    tree = ast.parse(Path(sas_client.__file__).read_text(encoding="utf-8"))
    maps = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        and node.values
        and all(
            isinstance(v, ast.Constant) and str(v.value).startswith("tds.") for v in node.values
        )
    ]
    regions = [str(k.value) for k in maps[0].keys if isinstance(k, ast.Constant)]
    assert len(maps) == 1 and len(regions) > 10
    ctx = ssl.create_default_context(cafile=tls.tls_ca())
    with socket.create_connection(("127.0.0.1", tls.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            cert: Any = s.getpeercert()
    dns = {v for k, v in cert["subjectAltName"] if k == "DNS"}
    ips = {ipaddress.ip_address(v.strip()) for k, v in cert["subjectAltName"] if k == "IP Address"}
    assert {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")} <= ips
    assert {"localhost", "dms-enterprise.aliyuncs.com", "tds.aliyuncs.com"} <= dns
    for region in regions:
        assert f"dms-enterprise.{region}.aliyuncs.com" in dns
        assert f"tds.{region}.aliyuncs.com" in dns
    # a client that reaches us under a public name (hosts file) verifies that name
    for name in ("dms-enterprise.cn-hangzhou.aliyuncs.com", "localhost", "tds.aliyuncs.com"):
        with socket.create_connection(("127.0.0.1", tls.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as s:
                assert s.version() in ("TLSv1.2", "TLSv1.3")
    not_after = ssl.cert_time_to_seconds(cert["notAfter"])
    assert not_after > time.time() + 30 * 86400


def test_python_sdk_default_https_with_ssl_cert_file(
    tls: EmulatorProcess, tls_control: Control
) -> None:
    out = run_client(LIFECYCLE, {"PORT": str(tls.port), "SSL_CERT_FILE": tls.tls_ca()})
    link, size = out.split()
    assert link.startswith(f"https://127.0.0.1:{tls.port}/"), link
    assert int(size) > 0


def test_python_sdk_with_config_ca(tls: EmulatorProcess, tls_control: Control) -> None:
    out = run_client(LIFECYCLE, {"PORT": str(tls.port), "CA_KW": tls.tls_ca()})
    assert out.split()[0].startswith("https://")


def test_a_client_without_the_ca_fails_verification_promptly(tls: EmulatorProcess) -> None:
    t0 = time.monotonic()
    out = run_client(
        f"""
        from alibabacloud_tea_openapi.models import Config
        from alibabacloud_dms_enterprise20181101.client import Client
        from alibabacloud_dms_enterprise20181101 import models as dm
        c = Client(Config(access_key_id="{ALICE[0]}", access_key_secret="{ALICE[1]}",
                          endpoint="127.0.0.1:{tls.port}", read_timeout=20000))
        try:
            c.list_user_tenants(dm.ListUserTenantsRequest())
            print("verified?!")
        except Exception as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert "CERTIFICATE_VERIFY_FAILED" in out, out
    assert time.monotonic() - t0 < 15, "fails at the handshake, never a read timeout"
    time.sleep(0.3)
    assert "rejected the server certificate" in tls.logs()


def test_legacy_core_sdk_over_https(tls: EmulatorProcess, tls_control: Control) -> None:
    code = f"""
        import json, os
        from aliyunsdkcore.client import AcsClient
        from aliyunsdkcore.request import CommonRequest
        kw = {{"verify": os.environ["VERIFY"]}} if os.environ.get("VERIFY") else {{}}
        c = AcsClient("{ALICE[0]}", "{ALICE[1]}", "cn-hangzhou", **kw)
        r = CommonRequest(domain="127.0.0.1:{tls.port}", version="2018-11-01",
                          action_name="ListUserTenants")
        r.set_protocol_type("https")
        print(json.loads(c.do_action_with_exception(r))["TenantList"][0]["Tid"])
    """
    assert run_client(code, {"VERIFY": tls.tls_ca()}).strip() == "3000"
    assert run_client(code, {"ALIBABA_CLOUD_CA_BUNDLE": tls.tls_ca()}).strip() == "3000"


def test_plain_http_on_the_tls_port_is_answered_at_once(tls: EmulatorProcess) -> None:
    t0 = time.monotonic()
    r = requests.get(f"http://127.0.0.1:{tls.port}/_emulator/health", timeout=5)
    assert r.status_code == 200 and time.monotonic() - t0 < 1


def test_a_tls_handshake_on_the_plain_port_is_closed_at_once(emulator: EmulatorProcess) -> None:
    ctx = ssl.create_default_context()
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            ctx.wrap_socket(raw, server_hostname="localhost")
    assert time.monotonic() - t0 < 1
    time.sleep(0.3)
    log = emulator.logs()
    assert "TLS handshake from 127.0.0.1 on the plain-HTTP port" in log and "--tls" in log
    assert requests.get(f"{emulator.url}/_emulator/health", timeout=5).status_code == 200


def https_client(proc: EmulatorProcess, endpoint: str | None = None):  # type: ignore[no-untyped-def]
    """An in-process SDK client over HTTPS trusting the CA (Config(ca=...): no env needed)."""
    from alibabacloud_dms_enterprise20181101.client import Client
    from alibabacloud_tea_openapi.models import Config

    return Client(
        Config(
            access_key_id=ALICE[0],
            access_key_secret=ALICE[1],
            endpoint=endpoint or f"127.0.0.1:{proc.port}",
            protocol="https",
            ca=proc.tls_ca(),
        )
    )


@pytest.mark.parametrize("mode", ["reset", "empty", "truncated"])
def test_connection_faults_over_tls(tls: EmulatorProcess, tls_control: Control, mode: str) -> None:
    from Tea.exceptions import UnretryableException

    rule = {
        "match": {"action": "ListUserTenants"},
        "times": 1,
        "effect": {"type": "connection", "mode": mode},
    }
    tls_control.post("/faults", rule).raise_for_status()
    client = https_client(tls)
    with pytest.raises(UnretryableException):
        client.list_user_tenants(dm.ListUserTenantsRequest())
    assert client.list_user_tenants(dm.ListUserTenantsRequest()).body.success


def test_dribble_over_tls_is_complete(tls: EmulatorProcess, tls_control: Control) -> None:
    rule = {
        "match": {"action": "ListUserTenants"},
        "times": 1,
        "effect": {"type": "connection", "mode": "dribble", "bytes": 30, "interval_ms": 40},
    }
    tls_control.post("/faults", rule).raise_for_status()
    t0 = time.monotonic()
    body = https_client(tls).list_user_tenants(dm.ListUserTenantsRequest()).body
    assert body.success and body.tenant_list[0].tid == 3000
    assert time.monotonic() - t0 >= 0.08


def test_console_over_tls(tls: EmulatorProcess) -> None:
    r = requests.get(f"{tls.url}/_emulator/ui/", verify=tls.tls_ca(), timeout=10)
    assert r.status_code == 200 and "<html" in r.text.lower()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_scheme_in_endpoint_verifies_and_links_work(
    tls: EmulatorProcess, tls_control: Control, scheme: str
) -> None:
    """`endpoint="http://127.0.0.1:PORT"`: the Host header carries the scheme and is signed."""
    from emulator.testing.flows import create_export, watch

    client = https_client(tls, endpoint=f"{scheme}://127.0.0.1:{tls.port}")
    order = create_export(client, "select id from customers order by id")
    watch(client, tls_control, order, {"EXPORT_SUCCESS"})
    link = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(order_id=order)
    ).body.download_urlresult.url
    assert link.startswith(f"{scheme}://127.0.0.1:{tls.port}/"), link
    r = requests.get(link, verify=tls.tls_ca(), timeout=10)
    assert r.status_code == 200 and r.content


def test_scheme_in_endpoint_on_the_plain_port(endpoint: str, control: Control) -> None:
    from emulator.testing.flows import create_export, watch
    from emulator.testing.sdk import dms

    client = dms(f"http://{endpoint}")
    order = create_export(client, "select id from customers order by id")
    watch(client, control, order, {"EXPORT_SUCCESS"})
    link = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(order_id=order)
    ).body.download_urlresult.url
    assert link.startswith(f"http://{endpoint}/") and "http://http" not in link
    assert requests.get(link, timeout=10).status_code == 200


def test_workers_over_tls(cache: Path) -> None:
    with EmulatorProcess(
        "--tls", "--workers", "2", "--clock", "manual", env={"XDG_CACHE_HOME": str(cache)}
    ) as proc:
        client = https_client(proc)
        for _ in range(6):  # new connections land on both workers
            client = https_client(proc)
            assert client.list_user_tenants(dm.ListUserTenantsRequest()).body.success
        r = requests.get(f"{proc.url}/_emulator/health", verify=proc.tls_ca(), timeout=5)
        assert r.json()["workers"] == 2


def test_own_certificate(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "my-own")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "c.pem", tmp_path / "k.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with EmulatorProcess(
        "--tls",
        "--tls-cert",
        str(cert_file),
        "--tls-key",
        str(key_file),
        env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    ) as proc:
        assert not any("tls ca certificate" in line for line in proc.output)
        r = requests.get(f"{proc.url}/_emulator/health", verify=str(cert_file), timeout=5)
        assert r.status_code == 200
        assert (
            requests.get(
                f"{proc.url}/_emulator/tls/ca.pem", verify=str(cert_file), timeout=5
            ).status_code
            == 404
        )
    assert not (tmp_path / "cache" / "dms-emulator" / "ca.pem").exists(), "no CA when not needed"


def test_the_public_host_name_verifies_once_it_resolves_to_the_emulator(
    tls: EmulatorProcess, tls_control: Control
) -> None:
    """The hosts-file recipe, with name resolution patched in the client process only."""
    out = run_client(
        f"""
        import socket
        real = socket.getaddrinfo
        def hosts_file(host, *a, **kw):  # what `127.0.0.1 dms-enterprise.aliyuncs.com` does
            return real("127.0.0.1" if host == "dms-enterprise.aliyuncs.com" else host, *a, **kw)
        socket.getaddrinfo = hosts_file
        import requests
        from alibabacloud_tea_openapi.models import Config
        from alibabacloud_dms_enterprise20181101.client import Client
        from alibabacloud_dms_enterprise20181101 import models as dm
        from emulator.testing.flows import create_export, watch
        from emulator.testing.process import Control
        c = Client(Config(access_key_id="{ALICE[0]}", access_key_secret="{ALICE[1]}",
                          endpoint="dms-enterprise.aliyuncs.com:{tls.port}"))
        order = create_export(c, "select id from customers")
        watch(c, Control("http://127.0.0.1:{tls.port}"), order, {{"EXPORT_SUCCESS"}})
        link = c.get_data_export_download_url(
            dm.GetDataExportDownloadURLRequest(order_id=order)).body.download_urlresult.url
        print(link, requests.get(link, timeout=10).status_code)
        """,
        {"SSL_CERT_FILE": tls.tls_ca(), "REQUESTS_CA_BUNDLE": tls.tls_ca()},
    )
    link, status = out.split()
    assert link.startswith(f"https://dms-enterprise.aliyuncs.com:{tls.port}/") and status == "200"
