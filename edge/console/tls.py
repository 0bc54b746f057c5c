"""A certificate for serving the console over HTTPS on the guard post's LAN.

A gate has no public name a certificate authority would vouch for, so the install makes a
self-signed certificate naming the gate's host name, ``host.local`` and its LAN addresses. A
guard's phone trusts it once (docs/console.md: open ``/console.crt`` and install it, after
comparing the SHA-256 fingerprint the installer printed); from then on the browser warns if
anything else answers in the gate's name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_DAYS = 3650  # a gate is serviced rarely; a certificate expiring at 7 a.m. locks guards out


def self_signed(
    names: Sequence[str],
    addresses: Sequence[str] = (),
    *,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) for ``names`` and IP ``addresses`` (P-256, SHA-256)."""
    if not names:
        raise ValueError("a certificate needs at least one name")
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    alternatives += [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))  # a phone whose clock runs a little behind
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem


def fingerprint(cert_pem: bytes) -> str:
    """The SHA-256 fingerprint as phones show it: 32 hex pairs joined by colons."""
    digest = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)
