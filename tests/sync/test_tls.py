"""TLS and a password read from a file, on both ends, against a Mosquitto that demands them;
the password never appears in a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.bus import Bus
from edge.store import Store
from edge.store.outbox import pending_count
from sync.receiver.db import open_db
from sync.receiver.receiver import Receiver
from sync.runtime import SyncHandle
from sync.settings import ServerSettings
from tests.sync.conftest import COMMUNITY, GATE, Recorder, edge_settings
from tests.sync.rig import Mosquitto, make_tls, mosquitto_password_file, serving, wait_until

GATE_PASSWORD = "gate-Secret-7f3a9"
OFFICE_PASSWORD = "office-Secret-0c21"


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    tls = make_tls(tmp_path / "tls")
    passwords = mosquitto_password_file(
        tmp_path / "passwd", {"gate-north": GATE_PASSWORD, "office": OFFICE_PASSWORD}
    )
    yield from serving(Mosquitto(tmp_path / "mosquitto", tls=tls, password_file=passwords))


def _secret(tmp_path: Path, name: str, value: str) -> Path:
    path = tmp_path / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def start_gate(
    broker: Mosquitto, store: Store, tmp_path: Path, *, ca: Path, password: str
) -> SyncHandle:
    """The gate's sync as user gate-north, trusting ``ca``, its password read from a file."""
    handle = SyncHandle(
        edge_settings(
            broker.port,
            tls={"ca_file": str(ca)},
            username="gate-north",
            password_file=str(_secret(tmp_path, "gate-pw", password)),
        ),
        store=store,
        bus=Bus(),
        community=COMMUNITY,
        gate=GATE,
    )
    handle.start()
    return handle


def test_tls_and_passwords_from_files(
    secure_broker: Mosquitto,
    gate_store: Store,
    record: Recorder,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ca = tmp_path / "tls" / "ca.pem"
    db = open_db(path=tmp_path / "rx.db")
    receiver = Receiver(
        ServerSettings.model_validate(
            {
                "broker": {
                    "port": secure_broker.port,
                    "tls": {"ca_file": str(ca)},
                    "username": "office",
                    "password_file": str(_secret(tmp_path, "office-pw", OFFICE_PASSWORD)),
                    "reconnect_min_s": 0.2,
                    "reconnect_max_s": 1.0,
                },
                "database": {"path": str(tmp_path / "rx.db")},
            }
        ),
        db,
    )
    receiver.start()
    record(200)
    handle = start_gate(secure_broker, gate_store, tmp_path, ca=ca, password=GATE_PASSWORD)
    try:
        wait_until(lambda: pending_count(gate_store) == 0, 30, "the drain over TLS")
    finally:
        handle.stop()
        receiver.stop()
    assert db.counts()["entries"] == 200
    db.close()
    assert GATE_PASSWORD not in caplog.text
    assert OFFICE_PASSWORD not in caplog.text


def test_a_wrong_password_is_reported_not_logged(
    secure_broker: Mosquitto, gate_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-Password-19"
    handle = start_gate(
        secure_broker, gate_store, tmp_path, ca=tmp_path / "tls" / "ca.pem", password=wrong
    )
    try:
        wait_until(lambda: handle.status()["last_error"], 10, "the refusal")
        assert handle.status()["connected"] is False
        assert "refused" in handle.status()["last_error"] or "Not authorized" in caplog.text
    finally:
        handle.stop(timeout_s=2)
    assert wrong not in caplog.text


def test_an_untrusted_broker_certificate_is_refused(
    secure_broker: Mosquitto, gate_store: Store, tmp_path: Path
) -> None:
    other_ca = make_tls(tmp_path / "other")[0]
    handle = start_gate(secure_broker, gate_store, tmp_path, ca=other_ca, password=GATE_PASSWORD)
    try:
        wait_until(lambda: handle.status()["last_error"], 10, "the TLS failure")
        assert "certificate" in handle.status()["last_error"].lower()
        assert handle.status()["connected"] is False
    finally:
        handle.stop(timeout_s=2)
