"""The broker ACL (sync/receiver/acl.py, `kakou server acl`) on a real Mosquitto with a password
file made by mosquitto_passwd, tried with real paho clients: a gate publishes and reads only its
own topics, the receiver account reads every gate and publishes acks and the downlink, and the
real gate and receiver do their work within it. Then config/mosquitto.example.conf itself runs:
its TLS listener keeps TLS, with certificates made here, and only paths and ports are swapped.

What Mosquitto 2 really does, asserted below: an unauthorised QoS 1 PUBLISH from an MQTT v5
client gets PUBACK reason 0x87 (Not authorized); from MQTT 3.1.1 a plain PUBACK, and the message
is dropped; a SUBSCRIBE to a topic the account may not read is granted, but nothing on it is
delivered.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from edge.app.cli import main
from edge.bus import Bus
from edge.store import Store
from edge.store.outbox import pending_count
from sync.contract import (
    MAX_PAYLOAD_BYTES,
    Channel,
    DownlinkKind,
    downlink_topic,
    entries_share_filter,
    gate_topic,
)
from sync.mqtt import publish_once
from sync.receiver.acl import broker_acl, gate_username
from sync.receiver.db import open_db
from sync.receiver.receiver import Receiver
from sync.runtime import SyncHandle
from sync.settings import BrokerSettings, ServerSettings, SyncSettings
from tests.sync.conftest import COMMUNITY, Recorder
from tests.sync.rig import (
    ROOT,
    Mosquitto,
    free_port,
    make_tls,
    mosquitto_password_file,
    serving,
    sync_settings,
    wait_until,
)

NOT_AUTHORIZED = 0x87
NO_SUBSCRIBERS = 0x10  # accepted, but nobody subscribed yet (a success code, below 0x80)
PASSWORDS = {"gate-north": "north-Pw-1", "gate-south": "south-Pw-2", "receiver": "rx-Pw-3"}
NORTH_ENTRIES = gate_topic(COMMUNITY, "north", Channel.ENTRIES)
SOUTH_ENTRIES = gate_topic(COMMUNITY, "south", Channel.ENTRIES)
NORTH_ACK = gate_topic(COMMUNITY, "north", Channel.ACK)
SOUTH_ACK = gate_topic(COMMUNITY, "south", Channel.ACK)
KEYS = downlink_topic(COMMUNITY, DownlinkKind.KEYS)


class Client:
    """A paho client of one account that records PUBACK reason codes, SUBACKs and messages."""

    def __init__(
        self,
        port: int,
        user: str | None,
        *,
        password: str | None = None,
        protocol: int = paho.MQTTv5,
        ca: Path | None = None,
    ) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.granted: list[list[int]] = []
        self.connack: list[str] = []
        self._pubacks: dict[int, int] = {}
        self._done = threading.Condition()
        self._client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-{user}-{protocol}-{free_port()}",
            protocol=protocol,
        )
        if user is not None:
            self._client.username_pw_set(user, password or PASSWORDS[user])
        if ca is not None:
            self._client.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self.disconnects = 0
        self._client.on_message = lambda client, userdata, message: self.messages.append(
            (message.topic, message.payload)
        )
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        wait_until(lambda: bool(self.connack), 10, f"the CONNACK of {user}")

    def _on_connect(self, client: object, userdata: object, *args: object) -> None:
        self.connack.append(str(args[1]))

    def _on_publish(
        self, client: object, userdata: object, mid: int, reason: object, *_: object
    ) -> None:
        with self._done:
            self._pubacks[mid] = int(getattr(reason, "value", 0))
            self._done.notify_all()

    def _on_subscribe(
        self, client: object, userdata: object, mid: int, codes: list[object], *_: object
    ) -> None:
        self.granted.append([int(getattr(code, "value", -1)) for code in codes])

    def _on_disconnect(self, *args: object) -> None:
        self.disconnects += 1

    @property
    def connected(self) -> bool:
        return self.connack == ["Success"]

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        """Publish at QoS 1 and return the PUBACK's reason code (0: accepted)."""
        mid = self._client.publish(topic, payload, qos=1, retain=retain).mid
        with self._done:
            assert self._done.wait_for(lambda: mid in self._pubacks, 10), f"no PUBACK for {topic}"
            return self._pubacks.pop(mid)

    def publish_unanswered(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 without waiting: a broker that refuses the packet sends no PUBACK."""
        self._client.publish(topic, payload, qos=1)

    def subscribe(self, *topics: str) -> None:
        before = len(self.granted)
        for topic in topics:
            self._client.subscribe(topic, qos=1)
        wait_until(lambda: len(self.granted) == before + len(topics), 10, "the SUBACKs")

    def received(self, topic: str) -> list[bytes]:
        return [payload for found, payload in list(self.messages) if found == topic]

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def accounts(tmp_path: Path) -> tuple[Path, Path]:
    """The password file (mosquitto_passwd) and the ACL file for gates north and south."""
    passwords = mosquitto_password_file(tmp_path / "kakou.passwd", PASSWORDS)
    acl = tmp_path / "kakou.acl"
    acl.write_text(broker_acl(COMMUNITY, ["north", "south"], ["receiver"]))
    return passwords, acl


@pytest.fixture
def acl_broker(tmp_path: Path, accounts: tuple[Path, Path]) -> Iterator[Mosquitto]:
    """A plain TCP listener with the same password file and ACL as a site's broker."""
    passwords, acl = accounts
    yield from serving(Mosquitto(tmp_path / "mosquitto", password_file=passwords, acl_file=acl))


@pytest.fixture
def connect() -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(port: int, user: str | None, **options: object) -> Client:
        client = Client(port, user, **options)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_a_gate_publishes_only_its_own_topics(
    acl_broker: Mosquitto, connect: Callable[..., Client]
) -> None:
    receiver = connect(acl_broker.port, "receiver")
    receiver.subscribe(entries_share_filter("kakou-receivers"), f"kakou/v1/{COMMUNITY}/#")
    north = connect(acl_broker.port, "gate-north")
    assert north.publish(SOUTH_ENTRIES, b"forged by north") == NOT_AUTHORIZED
    assert north.publish(KEYS, b"forged keys") == NOT_AUTHORIZED
    assert north.publish(NORTH_ACK, b"forged ack of its own") == NOT_AUTHORIZED
    assert north.publish(gate_topic(COMMUNITY, "south", Channel.STATUS), b"x") == NOT_AUTHORIZED
    assert north.publish("kakou/v1/other/north/entries", b"other community") == NOT_AUTHORIZED
    assert north.publish(NORTH_ENTRIES, b"north's batch") == 0
    assert north.publish(gate_topic(COMMUNITY, "north", Channel.STATUS), b"online") == 0
    assert north.publish(f"{gate_topic(COMMUNITY, 'north', Channel.ALERTS)}/fever", b"a") == 0
    # The shared and the plain subscription each get north's batch; nothing forged arrives
    # (the alert, published last, arriving means everything before it was delivered or not).
    alert = f"{gate_topic(COMMUNITY, 'north', Channel.ALERTS)}/fever"
    wait_until(lambda: bool(receiver.received(alert)), 10, "north's alert")
    assert len(receiver.received(NORTH_ENTRIES)) == 2
    topics = {topic for topic, _ in receiver.messages}
    assert topics == {NORTH_ENTRIES, gate_topic(COMMUNITY, "north", Channel.STATUS), alert}


def test_mqtt_3_gets_a_plain_puback_and_the_message_is_dropped(
    acl_broker: Mosquitto, connect: Callable[..., Client]
) -> None:
    receiver = connect(acl_broker.port, "receiver")
    receiver.subscribe(f"kakou/v1/{COMMUNITY}/+/entries")
    north = connect(acl_broker.port, "gate-north", protocol=paho.MQTTv311)
    assert north.publish(SOUTH_ENTRIES, b"forged by north") == 0  # v3 has no reason code
    south = connect(acl_broker.port, "gate-south", protocol=paho.MQTTv311)
    assert south.publish(SOUTH_ENTRIES, b"south's batch") == 0
    wait_until(lambda: bool(receiver.received(SOUTH_ENTRIES)), 10, "south's batch")
    assert receiver.received(SOUTH_ENTRIES) == [b"south's batch"]


def test_a_gate_reads_only_its_own_ack_and_the_downlink(
    acl_broker: Mosquitto, connect: Callable[..., Client]
) -> None:
    receiver = connect(acl_broker.port, "receiver")
    assert receiver.publish(NORTH_ACK, b"ack for north", retain=True) == NO_SUBSCRIBERS
    assert receiver.publish(SOUTH_ACK, b"ack for south", retain=True) == NO_SUBSCRIBERS
    assert receiver.publish(KEYS, b"signed keys", retain=True) == NO_SUBSCRIBERS
    assert receiver.publish(NORTH_ENTRIES, b"receiver posing as north") == NOT_AUTHORIZED
    north = connect(acl_broker.port, "gate-north")
    north.subscribe(SOUTH_ACK, f"kakou/v1/{COMMUNITY}/+/ack", f"kakou/v1/{COMMUNITY}/downlink/+")
    assert north.granted == [[1], [1], [1]]  # granted: the ACL is applied at delivery
    south = connect(acl_broker.port, "gate-south")
    south.subscribe(SOUTH_ACK)
    wait_until(lambda: bool(south.received(SOUTH_ACK)), 10, "south's ack")
    wait_until(lambda: bool(north.received(KEYS)), 10, "the downlink at north")
    assert north.received(NORTH_ACK) == [b"ack for north"]
    assert north.received(SOUTH_ACK) == []  # delivered to south, above, but never to north
    assert {topic for topic, _ in north.messages} == {NORTH_ACK, KEYS}


def test_anonymous_and_wrong_passwords_are_refused(
    acl_broker: Mosquitto, connect: Callable[..., Client]
) -> None:
    assert connect(acl_broker.port, "gate-north").connected
    assert not connect(acl_broker.port, None).connected
    assert not connect(acl_broker.port, "gate-north", password=PASSWORDS["receiver"]).connected


def test_the_gate_and_receiver_work_within_the_acl(
    acl_broker: Mosquitto, gate_store: Store, record: Recorder, tmp_path: Path
) -> None:
    """Entries, status and its last will, the ack back, a downlink only from the receiver."""
    secrets = {}
    for user, password in PASSWORDS.items():
        secrets[user] = tmp_path / f"{user}.pw"
        secrets[user].write_text(password)
    broker: dict[str, object] = {"port": acl_broker.port, "reconnect_min_s": 0.2}
    db = open_db(path=tmp_path / "rx.db")
    receiver = Receiver(
        ServerSettings.model_validate(
            {
                "broker": {**broker, "username": "receiver", "password_file": secrets["receiver"]},
                "database": {"path": str(tmp_path / "rx.db")},
            }
        ),
        db,
    )
    receiver.start()
    record(300)
    handle = SyncHandle(
        SyncSettings.model_validate(
            sync_settings(
                acl_broker.port,
                username=gate_username("north"),
                password_file=str(secrets["gate-north"]),
            )
        ),
        store=gate_store,
        bus=Bus(),
        community=COMMUNITY,
        gate="north",
    )
    handle.start()
    try:
        wait_until(lambda: pending_count(gate_store) == 0, 30, "the drain through the ACL")
        wait_until(lambda: handle.status()["clock_offset_s"] is not None, 10, "an ack")
    finally:
        handle.stop()
        receiver.stop()
    assert db.counts()["entries"] == 300
    (log,) = db.gaps()
    assert (log.gate, log.contiguous_seq) == ("north", 300)
    db.close()
    as_gate = BrokerSettings.model_validate(
        {**broker, "username": "gate-north", "password_file": secrets["gate-north"]}
    )
    with pytest.raises(ConnectionError, match="Not authorized"):
        publish_once(as_gate, client_id="forger", topic=KEYS, payload=b"{}", retain=True)
    as_office = as_gate.model_copy(
        update={"username": "receiver", "password_file": secrets["receiver"]}
    )
    publish_once(as_office, client_id="office", topic=KEYS, payload=b"{}", retain=True)


def test_kakou_server_acl_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "kakou.acl"
    args = ["server", "acl", "--community", COMMUNITY, "--gate", "north", "--gate", "south"]
    result = CliRunner().invoke(main, [*args, "--receiver", "receiver", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == broker_acl(COMMUNITY, ["north", "south"], ["receiver"])
    printed = CliRunner().invoke(main, [*args, "--receiver", "receiver"])
    assert printed.output == out.read_text()
    clash = CliRunner().invoke(main, [*args, "--receiver", "gate-north"])
    assert clash.exit_code == 2
    assert "account names used twice: gate-north" in clash.output


@pytest.mark.parametrize(
    ("community", "gates", "receivers", "problem"),
    [
        ("hxy", ["downlink"], ["receiver"], "reserved"),
        ("hxy", ["north", "north"], ["receiver"], "used twice: gate-north"),
        ("hxy", ["north"], ["gate-north"], "used twice: gate-north"),
        ("hxy", ["no/slash"], ["receiver"], "gate id"),
        ("hxy", ["north"], ["%u"], "receiver account id"),
        ("h#y", ["north"], ["receiver"], "community id"),
        ("hxy", [], ["receiver"], "at least one gate"),
    ],
)
def test_the_acl_refuses_ids_that_would_widen_it(
    community: str, gates: list[str], receivers: list[str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        broker_acl(community, gates, receivers)


# ---------------------------------------------------------------------- the example config


def answer_to_plain_connect(port: int) -> bytes:
    """The first bytes a listener sends back to an MQTT 3.1.1 CONNECT in plain TCP."""
    connect = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"  # clean session, no id
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(connect)
        try:
            return sock.recv(16)
        except ConnectionResetError:
            return b""


def site_config(example: str, values: dict[str, list[str]]) -> str:
    """The example with each named directive's value replaced, in order of appearance; fails
    if the example does not have exactly those directives (so it cannot drift unnoticed)."""
    left = {name: list(found) for name, found in values.items()}
    lines = []
    for line in example.splitlines():
        name = line.split(" ", 1)[0]
        if name in left:
            assert left[name], f"the example has more {name} lines than expected"
            line = f"{name} {left[name].pop(0)}"
        lines.append(line)
    assert all(not found for found in left.values()), f"the example lacks: {left}"
    # The tests run as root on files only root may read: keep the broker's user.
    return "\n".join([*lines, "user root", ""])


EXAMPLE = ROOT / "config" / "mosquitto.example.conf"


@dataclass(frozen=True)
class Site:
    """The example config running: its TLS listener for gates, its local one for receivers."""

    tls_port: int
    local_port: int
    ca: Path


@pytest.fixture
def site(tmp_path: Path, accounts: tuple[Path, Path]) -> Iterator[Site]:
    """config/mosquitto.example.conf itself, with only paths and ports swapped."""
    example = EXAMPLE.read_text()
    ca, cert, key = make_tls(tmp_path / "tls")
    passwords, acl = accounts
    tls_port, local_port = free_port(), free_port()
    config = tmp_path / "site.conf"
    config.write_text(
        site_config(
            example,
            {
                "pid_file": [str(tmp_path / "mosquitto.pid")],
                "password_file": [str(passwords)],
                "acl_file": [str(acl)],
                "listener": [f"{tls_port} 127.0.0.1", f"{local_port} 127.0.0.1"],
                "cafile": [str(ca)],
                "certfile": [str(cert)],
                "keyfile": [str(key)],
                "persistence_location": [f"{tmp_path}/"],
                "log_dest": ["stderr"],  # the rig reads the log to see it running
            },
        )
    )
    server = Mosquitto(tmp_path / "site", port=tls_port)
    server.start_with(config)
    try:
        yield Site(tls_port, local_port, ca)
    finally:
        server.kill()


def test_the_example_config_runs_with_tls_and_the_acl(
    site: Site, connect: Callable[..., Client]
) -> None:
    example = EXAMPLE.read_text()
    assert "allow_anonymous false" in example
    assert "per_listener_settings false" in example
    receiver = connect(site.local_port, "receiver")
    receiver.subscribe(entries_share_filter("kakou-receivers"))
    assert not connect(site.local_port, None).connected
    assert not connect(site.tls_port, None, ca=site.ca).connected
    north = connect(site.tls_port, "gate-north", ca=site.ca)
    assert north.connected
    assert north.publish(SOUTH_ENTRIES, b"forged over TLS") == NOT_AUTHORIZED
    assert north.publish(NORTH_ENTRIES, json.dumps({"over": "tls"}).encode()) == 0
    wait_until(lambda: bool(receiver.received(NORTH_ENTRIES)), 10, "north's batch")
    assert [topic for topic, _ in receiver.messages] == [NORTH_ENTRIES]
    # Plain MQTT gets a CONNACK (refused: no account) only from the local listener.
    assert answer_to_plain_connect(site.local_port)[:1] == b"\x20"
    assert answer_to_plain_connect(site.tls_port)[:1] != b"\x20"


def test_the_example_config_disconnects_a_gate_sending_more_than_the_contract_allows(
    site: Site, connect: Callable[..., Client]
) -> None:
    """A gate account publishing 20 MB of garbage is cut off by the broker: nothing reaches the
    receiver. MQTT 3.1.1, because a v5 client is told the limit in the CONNACK and would refuse
    to send; an attacker's client need not."""
    receiver = connect(site.local_port, "receiver")
    receiver.subscribe(entries_share_filter("kakou-receivers"))
    north = connect(site.tls_port, "gate-north", ca=site.ca, protocol=paho.MQTTv311)
    largest = b"[" + b" " * (MAX_PAYLOAD_BYTES - 2) + b"]"  # what a receiver still reads
    assert north.publish(NORTH_ENTRIES, largest) == 0
    wait_until(lambda: bool(receiver.received(NORTH_ENTRIES)), 20, "the largest batch")

    north.publish_unanswered(NORTH_ENTRIES, b"\x00" * (20 * 1024 * 1024))
    wait_until(lambda: north.disconnects > 0, 20, "the broker to cut north off")
    north.close()  # paho would reconnect and send it again, to be cut off again
    # A message published after the cut-off arrives; the 20 MB never did.
    south = connect(site.tls_port, "gate-south", ca=site.ca)
    assert south.publish(SOUTH_ENTRIES, b"after") == 0
    wait_until(lambda: bool(receiver.received(SOUTH_ENTRIES)), 10, "south's later message")
    assert [len(p) for p in receiver.received(NORTH_ENTRIES)] == [MAX_PAYLOAD_BYTES]
