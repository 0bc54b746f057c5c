"""Key files and revocation lists on a real file system (tmp_path)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge import keys


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def strict_umask() -> Iterator[None]:
    """A umask of 077, as on a hardened office machine; restored afterwards."""
    previous = os.umask(0o077)
    yield
    os.umask(previous)


def test_new_keypair_writes_pem_files_with_their_modes(tmp_path: Path) -> None:
    key_path, pub_path = keys.new_keypair("hxy1", tmp_path / "keys")

    assert key_path == tmp_path / "keys" / "hxy1.key"
    assert pub_path == tmp_path / "keys" / "hxy1.pub"
    assert mode_of(key_path) == 0o600
    assert mode_of(pub_path) == 0o644
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8
    assert pub_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")  # SPKI
    kid, private_key = keys.load_private(key_path)
    public_key = keys.load_public_pem("hxy1", pub_path.read_bytes())
    assert kid == "hxy1"
    public_key.verify(private_key.sign(b"pass"), b"pass")  # the two halves belong together


def test_public_file_is_0644_even_under_a_strict_umask(tmp_path: Path, strict_umask: None) -> None:
    key_path, pub_path = keys.new_keypair("k1", tmp_path)
    assert mode_of(key_path) == 0o600
    assert mode_of(pub_path) == 0o644


def test_new_keypair_never_overwrites_a_key(tmp_path: Path) -> None:
    key_path, _ = keys.new_keypair("hxy1", tmp_path)
    original = key_path.read_bytes()

    with pytest.raises(FileExistsError):
        keys.new_keypair("hxy1", tmp_path)

    assert key_path.read_bytes() == original


def test_new_keypair_refuses_when_only_the_private_key_exists(tmp_path: Path) -> None:
    key_path, pub_path = keys.new_keypair("hxy1", tmp_path)
    original = key_path.read_bytes()
    pub_path.unlink()

    with pytest.raises(FileExistsError):
        keys.new_keypair("hxy1", tmp_path)

    assert key_path.read_bytes() == original
    assert not pub_path.exists()


def test_new_keypair_leaves_no_key_when_the_public_file_exists(tmp_path: Path) -> None:
    (tmp_path / "hxy1.pub").write_bytes(b"someone else's key")

    with pytest.raises(FileExistsError):
        keys.new_keypair("hxy1", tmp_path)

    assert not (tmp_path / "hxy1.key").exists()


@pytest.mark.parametrize("kid", ["", "../x", "a/b", "a b", "k" * 33, "钥匙", "k.1"])
def test_new_keypair_refuses_a_bad_key_id(tmp_path: Path, kid: str) -> None:
    with pytest.raises(ValueError, match="key id"):
        keys.new_keypair(kid, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_load_private_warns_when_others_can_read_it_without_logging_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_path, _ = keys.new_keypair("hxy1", tmp_path)
    key_path.chmod(0o644)
    pem_body = key_path.read_text().splitlines()[1]

    with caplog.at_level(logging.WARNING, logger="edge.keys"):
        kid, _ = keys.load_private(key_path)

    assert kid == "hxy1"
    assert "readable by group or others" in caplog.text
    assert "644" in caplog.text
    assert pem_body not in caplog.text


def test_load_private_is_quiet_for_a_0600_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_path, _ = keys.new_keypair("hxy1", tmp_path)
    with caplog.at_level(logging.WARNING, logger="edge.keys"):
        keys.load_private(key_path)
    assert caplog.records == []


def test_load_private_refuses_what_is_not_an_ed25519_key(tmp_path: Path) -> None:
    not_pem = tmp_path / "k1.key"
    not_pem.write_bytes(b"hello")
    not_pem.chmod(0o600)
    ec_key = tmp_path / "k2.key"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ec_key.chmod(0o600)
    _, pub_path = keys.new_keypair("k3", tmp_path)

    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        keys.load_private(not_pem)
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        keys.load_private(ec_key)
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        keys.load_private(pub_path)  # the public half, given by mistake


def test_load_private_needs_a_key_id_file_name(tmp_path: Path) -> None:
    key_path, _ = keys.new_keypair("hxy1", tmp_path)
    renamed = key_path.rename(tmp_path / "hxy 1.key")
    with pytest.raises(ValueError, match="file name"):
        keys.load_private(renamed)


def test_load_public_dir_reads_every_pub_file_only(tmp_path: Path) -> None:
    keys.new_keypair("hxy1", tmp_path)
    keys.new_keypair("hxy2", tmp_path)
    (tmp_path / "notes.txt").write_text("not a key")

    trusted = keys.load_public_dir(tmp_path)

    assert sorted(trusted) == ["hxy1", "hxy2"]
    assert keys.load_public_dir(tmp_path / "hxy1.key") == {}  # not a folder: nothing
    assert keys.load_public_dir(tmp_path / "empty") == {}


def test_load_public_dir_refuses_a_bad_file_by_name(tmp_path: Path) -> None:
    keys.new_keypair("hxy1", tmp_path)
    (tmp_path / "broken.pub").write_bytes(b"-----BEGIN PUBLIC KEY-----\nAAAA\n")
    with pytest.raises(ValueError, match=r"broken\.pub"):
        keys.load_public_dir(tmp_path)


def test_load_public_pem_refuses_another_algorithm() -> None:
    ec_public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        keys.load_public_pem("k1", ec_public)
    with pytest.raises(ValueError, match="key id"):
        keys.load_public_pem("k/1", ec_public)


def test_load_revocations_reads_ids_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "revoked.txt"
    path.write_text(
        "\ufeff# lost and stolen passes\n"
        "R-0001234\n"
        "\n"
        "  T-0000417   # reported lost 2026-03-02\n"
        "#R-9999999\n"
        "V-0031337\r\n",
        encoding="utf-8",
    )
    assert keys.load_revocations(path) == {"R-0001234", "T-0000417", "V-0031337"}


def test_load_revocations_refuses_a_malformed_line_by_number(tmp_path: Path) -> None:
    path = tmp_path / "revoked.txt"
    path.write_text("R-0001234\nR-0001235 R-0001236\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"revoked\.txt:2:"):
        keys.load_revocations(path)
