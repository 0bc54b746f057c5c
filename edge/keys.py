"""Trust material on disk: Ed25519 key files and the pass revocation list.

A signing key lives on the office machine that prints passes (``DIR/KID.key``, mode 0600); gates
get only the public halves (``DIR/KID.pub``) and the revocation list. The key id is the file
name, so renaming a file is how a key is retired and nothing inside a key file needs parsing
beyond PEM.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.passes import KEY_ID_PATTERN, check_field

log = logging.getLogger(__name__)

PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"

# Where a trusted key came from (the store's ``trusted_keys.source``). Boot makes the configured
# ones follow the files exactly; downlink ones stay until the office revokes them.
CONFIG_SOURCE_PREFIX = "config:"
"""The trusted keys folder: ``config:KID.pub``."""
DOWNLINK_SOURCE_PREFIX = "downlink:"
"""A signed keys document: ``downlink:vVERSION``. Never a downlink signer (one leaked signer
must not be able to name another)."""
GATE_KEY_SOURCE = "gate-visitor-key"
"""This gate's own visitor key, made in state_dir/issuer while [visitors] is on."""
_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644


def new_keypair(kid: str, out_dir: Path | str) -> tuple[Path, Path]:
    """Create ``out_dir/KID.key`` (PKCS#8 PEM, 0600) and ``out_dir/KID.pub`` (SPKI PEM, 0644).

    Refuses with ``FileExistsError`` if either exists: overwriting a signing key would orphan
    every pass signed with it. The private file is created 0600 in the same system call that
    creates it, so there is no moment when another user could open it.
    """
    check_field("key_id", kid)
    out_dir = Path(out_dir)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path = out_dir / f"{kid}{PRIVATE_SUFFIX}"
    pub_path = out_dir / f"{kid}{PUBLIC_SUFFIX}"
    for path in (key_path, pub_path):  # a friendly message; O_EXCL below is the guarantee
        if path.exists():
            raise FileExistsError(f"{path} exists; refusing to overwrite, choose a new key id")
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = public_pem_of(private_key.public_key())
    _write_new(key_path, private_pem, _PRIVATE_MODE)
    try:
        _write_new(pub_path, public_pem, _PUBLIC_MODE)
    except BaseException:
        key_path.unlink()  # half a key pair is worse than none: the next attempt must not fail
        raise
    return key_path, pub_path


def public_pem_of(public_key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM, the form ``KID.pub`` files hold."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 over the raw key: short enough to read out over the
    phone when an operator compares a gate's key with the office's."""
    return hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:16]


def load_private(path: Path | str) -> tuple[str, Ed25519PrivateKey]:
    """Load ``KID.key``; returns (key id from the file name, key). Warns if others can read it.

    Raises ``ValueError`` if the name is not a valid key id or the file is not an unencrypted
    Ed25519 PKCS#8 PEM key. Neither errors nor warnings include key material.
    """
    path = Path(path)
    kid = _kid_from_name(path)
    with path.open("rb") as key_file:
        mode = stat.S_IMODE(os.fstat(key_file.fileno()).st_mode)
        pem = key_file.read()
    if mode & 0o077:
        log.warning(
            "private key %s is readable by group or others (mode %03o); run chmod 600 on it",
            path,
            mode,
        )
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:  # malformed PEM, or encrypted with a password
        raise ValueError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return kid, key


def load_public_pem(kid: str, pem: bytes) -> Ed25519PublicKey:
    """Parse one SubjectPublicKeyInfo PEM as the Ed25519 key ``kid``; ``ValueError`` if not."""
    check_field("key_id", kid)
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"key {kid!r}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"key {kid!r}: not an Ed25519 key")
    return key


def load_public_dir(key_dir: Path | str) -> dict[str, Ed25519PublicKey]:
    """Every ``*.pub`` in ``key_dir``, by key id. A bad file raises: a gate must not half-trust."""
    keys: dict[str, Ed25519PublicKey] = {}
    for pub_path in sorted(Path(key_dir).glob(f"*{PUBLIC_SUFFIX}")):
        kid = _kid_from_name(pub_path)
        try:
            keys[kid] = load_public_pem(kid, pub_path.read_bytes())
        except ValueError as exc:
            raise ValueError(f"{pub_path}: {exc}") from exc
    return keys


def load_revocations(path: Path | str) -> frozenset[str]:
    """Revoked pass ids: UTF-8 text, one id a line; '#' starts a comment, blank lines skipped.

    A malformed line raises ``ValueError`` naming it, rather than being skipped: a typo that
    silently un-revokes a lost pass is the failure this list exists to prevent.
    """
    path = Path(path)
    revoked: set[str] = set()
    text = path.read_text(encoding="utf-8-sig")
    for line_no, line in enumerate(text.splitlines(), start=1):
        pass_id = line.split("#", 1)[0].strip()
        if not pass_id:
            continue
        try:
            revoked.add(check_field("pass_id", pass_id))
        except ValueError as exc:
            raise ValueError(f"{path}:{line_no}: {exc}") from None
    return frozenset(revoked)


def _kid_from_name(path: Path) -> str:
    kid = path.stem
    if not KEY_ID_PATTERN.fullmatch(kid):
        raise ValueError(f"{path}: file name must be KID{path.suffix}, KID matching [A-Za-z0-9_-]")
    return kid


def _write_new(path: Path, content: bytes, mode: int) -> None:
    """Write a file that must not exist yet, created with ``mode`` (O_EXCL: never overwrite)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits from a public file's 0644
        written = 0
        while written < len(content):
            written += os.write(fd, content[written:])
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink()
        raise
    os.close(fd)
