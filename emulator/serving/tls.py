"""Certificates for `--tls`: one CA per installation, a fresh server certificate at every start.

The CA lives in the cache directory (`$XDG_CACHE_HOME/dms-emulator` or `~/.cache/dms-emulator`),
so a user trusts it once (`SSL_CERT_FILE`, `Config(ca=...)`, `NODE_EXTRA_CA_CERTS`) and every
later start is trusted too. Keys are EC P-256: generated in milliseconds (start-up stays quick)
and accepted by every client we document (Python, Node, Go, Java, curl). The server certificate
names loopback and the products' public host names, so an unmodified client whose default
endpoint resolves to the emulator (hosts file) verifies it.
"""

from __future__ import annotations

import datetime
import fcntl
import importlib.util
import ipaddress
import os
import re
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

CA_NAME = "dms-emulator local CA"
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"

# used when the Sas SDK (whose endpoint map names the regions) is not installed
FALLBACK_REGIONS = (
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "cn-shenzhen",
    "cn-hongkong",
    "ap-southeast-1",
)


class TlsError(Exception):
    """A certificate or key that cannot be used (message names the file)."""


@dataclass(frozen=True)
class TlsConfig:
    """What the listener loads: the user's own files (`--tls-cert/--tls-key`, `ca` None) or a
    pair generated at this start (kept in memory only; `ca` is the installation CA's PEM file)."""

    cert: str = ""
    key: str = ""
    generated: tuple[bytes, bytes] | None = None
    ca: str | None = None

    def context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])
        if self.generated is None:
            try:
                ctx.load_cert_chain(self.cert, self.key)
            except (OSError, ssl.SSLError) as exc:
                raise TlsError(
                    f"cannot load --tls-cert {self.cert} / --tls-key {self.key}: {exc}"
                ) from None
            return ctx
        # ssl loads only from files: a private directory that lives for the call
        with tempfile.TemporaryDirectory(prefix="dms-emulator-tls-") as tmp:
            cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert.write_bytes(self.generated[0])
            _write_private(key, self.generated[1])
            ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def ca_pem(self) -> bytes | None:
        return Path(self.ca).read_bytes() if self.ca else None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dms-emulator"


def sdk_regions() -> list[str]:
    """Region ids of the Sas SDK's endpoint map (the only product map the SDKs ship); read as
    text so start-up does not import the SDK."""
    spec = importlib.util.find_spec("alibabacloud_sas20181203")
    if spec is None or not spec.origin:
        return list(FALLBACK_REGIONS)
    try:
        text = (Path(spec.origin).parent / "client.py").read_text(encoding="utf-8")
    except OSError:
        return list(FALLBACK_REGIONS)
    found = re.findall(r"'([a-z0-9-]+)':\s*'tds\.", text)
    return sorted(set(found)) or list(FALLBACK_REGIONS)


def host_names(extra: list[str] | None = None) -> list[str]:
    """Every DNS name the server certificate covers, besides the loopback addresses."""
    names = ["localhost", "dms-enterprise.aliyuncs.com", "tds.aliyuncs.com"]
    for region in sdk_regions():
        names += [f"dms-enterprise.{region}.aliyuncs.com", f"tds.{region}.aliyuncs.com"]
    for name in extra or []:
        if name and name not in names and not _is_ip(name) and name not in ("0.0.0.0", "::"):
            names.append(name)
    return names


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _write_private(path: Path, data: bytes) -> None:
    """Atomically, readable by the owner only (a concurrent start never sees half a key)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_public(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    os.fchmod(fd, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ensure_certificates(directory: Path | None = None, hosts: list[str] | None = None) -> TlsConfig:
    """The installation's CA (created on first use) and a server certificate issued by it now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    d = directory or cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    now = datetime.datetime.now(datetime.timezone.utc)
    with open(d / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two first starts at once make one CA, not two
        ca_path, ca_key_path = d / CA_FILE, d / CA_KEY_FILE
        if ca_path.exists() and ca_key_path.exists():
            ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
            ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
            os.chmod(ca_key_path, 0o600)
        else:
            ca_key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dms-emulator"),
                    x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                ]
            )
            ca_cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(ca_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=True,
                        crl_sign=True,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(
                    x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
                )
                .sign(ca_key, hashes.SHA256())
            )
            _write_private(
                ca_key_path,
                ca_key.private_bytes(  # type: ignore[union-attr]
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
            _write_public(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM))
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in host_names(hosts)]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
        for h in hosts or []:
            if _is_ip(h) and h not in ("127.0.0.1", "::1", "0.0.0.0", "::"):
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
    return TlsConfig(
        generated=(
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        ),
        ca=str(ca_path),
    )
