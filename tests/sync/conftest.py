"""Fixtures for the sync tests: a real Mosquitto per test, one real PostgreSQL per session, a
cuttable TCP proxy, gate stores with a crowd of entries, receivers and their databases."""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.bus import Bus
from edge.store import Store
from sync.receiver.db import ReceiverDb, open_db
from sync.receiver.receiver import Receiver
from sync.runtime import SyncHandle
from sync.settings import ServerSettings, SyncSettings
from tests.sync.rig import (
    T0,
    Mosquitto,
    PostgresServer,
    TcpProxy,
    crowd_draft,
    postgres_server,
    serving,
    spawned_count,
    sweep_processes,
    sync_settings,
    wait_until,
)

COMMUNITY = "hxy"
GATE = "north"


@pytest.fixture(scope="session", autouse=True)
def _no_process_outlives_the_session() -> Iterator[None]:
    """The last line of defence: every child the rig started (brokers, PostgreSQL, gate and
    receiver processes) is dead when the session ends, whatever failed."""
    yield
    sweep_processes()


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test() -> Iterator[None]:
    """Set up first, so torn down last: after the test's own fixtures have stopped what they
    started, kill any child begun during the test that still runs (a test that failed before
    its ``finally``), so it does not load the machine for the rest of the run."""
    mark = spawned_count()
    yield
    left = sweep_processes(mark, session_wide=False)
    if left:
        warnings.warn(f"killed processes the test left running: {left}", stacklevel=1)


@pytest.fixture(autouse=True)
def _sync_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sync")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of this test's own, on a free port, with persistence in tmp_path.

    ``start`` kills its process if the broker does not come up; after the test it is killed
    whatever the test did with it (stopped, restarted, or left running when it failed).
    """
    yield from serving(Mosquitto(tmp_path / "mosquitto"))


@pytest.fixture
def proxy(broker: Mosquitto) -> Iterator[TcpProxy]:
    link = TcpProxy(broker.port)
    yield link
    link.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, started by the tests themselves on a free port."""
    with postgres_server() as server:
        yield server


_db_numbers = itertools.count()


@pytest.fixture
def pg_dsn(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres.create_database(f"kakou_{next(_db_numbers)}_{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def receiver_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReceiverDb]:
    """The receiver database, once on SQLite and once on the real PostgreSQL."""
    if request.param == "sqlite":
        db = open_db(path=tmp_path / "receiver.db", receiver="receiver-1")
    else:
        db = open_db(dsn=request.getfixturevalue("pg_dsn"), receiver="receiver-1")
    yield db
    db.close()


@pytest.fixture
def gate_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "gate" / "kakou.db", community=COMMUNITY, gate=GATE)
    yield store
    store.close()


Recorder = Callable[[int], list[str]]


@pytest.fixture
def record(gate_store: Store) -> Recorder:
    """Record ``n`` crowd entries in the gate store; returns their ids."""
    rng = random.Random(7)
    made = itertools.count()

    def record_entries(count: int) -> list[str]:
        ids = []
        for _ in range(count):
            at = T0 + timedelta(seconds=next(made))
            ids.append(
                gate_store.record_entry(crowd_draft(rng, at), boot_id="b", recorded_at=at).id
            )
        return ids

    return record_entries


def edge_settings(port: int, **changes: object) -> SyncSettings:
    return SyncSettings.model_validate(sync_settings(port, **changes))


def server_settings(port: int, db: Path | None = None, **receiver: object) -> ServerSettings:
    return ServerSettings.model_validate(
        {
            "broker": {
                "port": port,
                "keepalive_s": 5,
                "reconnect_min_s": 0.2,
                "reconnect_max_s": 1.0,
            },
            "database": {"path": str(db or "unused.db")},
            "receiver": {"max_batch_messages": 50, **receiver},
        }
    )


@pytest.fixture
def start_receiver() -> Iterator[Callable[..., Receiver]]:
    """Start in-process receivers (stopped at the end of the test)."""
    started: list[Receiver] = []

    def start(port: int, db: ReceiverDb, **receiver: object) -> Receiver:
        instance = Receiver(server_settings(port, **receiver), db)
        instance.start()
        started.append(instance)
        wait_until(lambda: instance.connected, 10, "the receiver to connect")
        time.sleep(0.2)  # its SUBACK: before the first subscription the broker queues nothing
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
def start_edge(gate_store: Store) -> Iterator[Callable[..., SyncHandle]]:
    """Start the gate's sync in-process on ``gate_store`` (stopped at the end of the test)."""
    started: list[SyncHandle] = []

    def start(port: int, bus: Bus | None = None, **changes: object) -> SyncHandle:
        handle = SyncHandle(
            edge_settings(port, **changes),
            store=gate_store,
            bus=bus or Bus(),
            community=COMMUNITY,
            gate=GATE,
        )
        handle.start()
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


class Watcher:
    """A plain MQTT v5 subscriber collecting what arrives on some topics."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self._client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5
        )
        self._client.on_message = lambda client, userdata, message: self.messages.append(message)
        self._client.connect("127.0.0.1", port)
        for topic in topics:
            self._client.subscribe(topic, qos=1)
        self._client.loop_start()

    def payloads(self, topic_part: str) -> list[dict[str, object]]:
        return [json.loads(m.payload) for m in list(self.messages) if topic_part in m.topic]

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def watcher_factory() -> Callable[..., Watcher]:
    made: list[Watcher] = []

    def make(port: int, *topics: str) -> Watcher:
        watcher = Watcher(port, *topics)
        made.append(watcher)
        return watcher

    yield make  # type: ignore[misc]
    for watcher in made:
        watcher.close()
