"""A thin paho-mqtt 2.x wrapper: one MQTT v5 connection kept up by one network thread.

What it adds to paho, and why:

- A fresh paho ``Client`` for every connection. paho keeps unacknowledged QoS 1 messages in
  memory and replays them after a reconnect; our outbox is the record and the publisher decides
  what to send again, so each connection starts with paho's queue empty (hardware.md, MQTT).
- Explicit Session Expiry Interval and ``clean_start=False`` on every CONNECT: without the
  property an MQTT v5 session ends at disconnect even with clean start off.
- ``request_reconnect()``: the owner can drop a connection that is up but not making progress
  (no PUBACK), which paho alone would keep until its keepalive gives up.
- Every callback becomes one ``LinkEvent`` handed to the owner's function, tagged with the
  connection's generation, so a late PUBACK from an old connection is recognised and ignored.

The owner's ``on_event`` runs on the network thread: it must only enqueue.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from drivers.threads import Backoff, Worker
from sync.settings import BrokerSettings

log = logging.getLogger(__name__)

_LOOP_TIMEOUT_S = 0.05
_CLOSE_GRACE_S = 2.0


@dataclass(frozen=True, slots=True)
class Connected:
    generation: int
    session_present: bool
    receive_maximum: int | None


@dataclass(frozen=True, slots=True)
class Disconnected:
    generation: int
    reason: str


@dataclass(frozen=True, slots=True)
class Published:
    """The broker's PUBACK for ``mid``; ``ok`` is False for a failure reason code."""

    generation: int
    mid: int
    ok: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Received:
    generation: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int


LinkEvent = Connected | Disconnected | Published | Received


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the link sends for its owner without being asked each time: the will the
    broker publishes when the link dies, or one sent just before a clean disconnect (the
    retained 'offline' status is both)."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


class MqttLink:
    """Keeps one MQTT v5 connection to the broker, reconnecting with backoff until stopped."""

    def __init__(
        self,
        broker: BrokerSettings,
        *,
        client_id: str,
        on_event: Callable[[LinkEvent], None],
        subscriptions: Sequence[tuple[str, int]] = (),
        will: Outgoing | None = None,
        manual_ack: bool = False,
        name: str = "mqtt",
    ) -> None:
        self._broker = broker
        self._client_id = client_id
        self._on_event = on_event
        self._subscriptions = list(subscriptions)
        self._will = will
        self._manual_ack = manual_ack
        self._name = name
        self._lock = threading.Lock()
        self._client: paho.Client | None = None
        self._generation = 0
        self._connected = False
        self._reconnect_reason: str | None = None
        self._final: list[Outgoing] = []
        self._network = Worker(name, self._run, join_timeout_s=5.0, on_crash=self._crashed)
        self.connects = 0
        self.last_error: str | None = None

    # ------------------------------------------------------------------------ owner's API

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def generation(self) -> int:
        return self._generation

    def start(self) -> None:
        self._network.start()

    def stop(self, final: Sequence[Outgoing] = (), timeout_s: float = 5.0) -> None:
        """Send ``final`` messages if connected, disconnect cleanly and end the thread."""
        self._final = list(final)
        self._network.stop(timeout_s)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> int:
        """Hand a message to the connection; its mid, or -1 if there is no connection now."""
        with self._lock:
            client = self._client if self._connected else None
        if client is None:
            return -1
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return -1
        return int(info.mid)

    def ack(self, generation: int, mid: int, qos: int = 1) -> bool:
        """Acknowledge a received message (manual ack); False if its connection is gone."""
        with self._lock:
            client = self._client if self._connected and generation == self._generation else None
        if client is None:
            return False
        return client.ack(mid, qos) == MQTTErrorCode.MQTT_ERR_SUCCESS

    def request_reconnect(self, reason: str) -> None:
        """Drop the current connection (the network thread does it) and connect again."""
        self._reconnect_reason = reason

    # --------------------------------------------------------------------- network thread

    def _run(self) -> None:
        try:
            self._connect_loop()
        finally:
            self._set_connected(None, False)

    def _crashed(self, exc: Exception) -> None:
        """The network thread raised (it is logged): the owner sees the link stay down."""
        self.last_error = "network thread failed"

    def _connect_loop(self) -> None:
        backoff = Backoff(self._broker.reconnect_min_s, self._broker.reconnect_max_s)
        while not self._network.stopping:
            if self._connect_once():
                backoff.reset()
                if self._network.stopping:
                    return
            # Jitter so that forty gates do not all reconnect in the same instant.
            wait_s = backoff.next_s() * random.uniform(0.8, 1.2)
            if self._network.wait(wait_s):
                return

    def _connect_once(self) -> bool:
        """One connection from CONNECT to its end; True if the broker accepted it."""
        self._reconnect_reason = None
        client = self._new_client()
        generation = self._generation + 1
        accepted = threading.Event()
        self._bind_callbacks(client, generation, accepted)
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._broker.session_expiry_s
        try:
            client.connect(
                self._broker.host,
                self._broker.port,
                keepalive=self._broker.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ValueError) as exc:  # refused, unreachable, DNS, TLS (ssl.SSLError)
            self._note_error(f"cannot connect to {self._broker.host}:{self._broker.port}: {exc}")
            return False
        with self._lock:
            self._client = client
            self._generation = generation
        started_s = time.monotonic()
        reason = "connection lost"
        while True:
            if self._network.stopping:
                self._close_cleanly(client)
                reason = "stopped"
                break
            if self._reconnect_reason is not None:
                reason = self._reconnect_reason
                log.warning("%s: dropping the connection: %s", self._name, reason)
                self._drop(client)
                break
            rc = client.loop(timeout=_LOOP_TIMEOUT_S)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                reason = f"connection lost ({paho.error_string(rc)})"
                break
            if (
                not accepted.is_set()
                and time.monotonic() - started_s > self._broker.connect_timeout_s
            ):
                reason = "no CONNACK in time"
                self._drop(client)
                break
        was_connected = self._connected
        self._set_connected(None, False)
        if was_connected:
            log.warning("%s: disconnected: %s", self._name, reason)
            self._on_event(Disconnected(generation, reason))
        return accepted.is_set()

    def _new_client(self) -> paho.Client:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=paho.MQTTv5,
            manual_ack=self._manual_ack,
        )
        client.connect_timeout = self._broker.connect_timeout_s
        client.max_inflight_messages_set(0)  # 0 = no paho limit: the owner keeps its own window
        client.max_queued_messages_set(0)
        if self._broker.tls is not None:
            tls = self._broker.tls
            client.tls_set(
                ca_certs=None if tls.ca_file is None else str(tls.ca_file),
                certfile=None if tls.cert_file is None else str(tls.cert_file),
                keyfile=None if tls.key_file is None else str(tls.key_file),
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if self._broker.username is not None:
            # Read at every connect so a rotated credential is picked up; never logged.
            client.username_pw_set(self._broker.username, self._broker.read_password())
        if self._will is not None:
            client.will_set(
                self._will.topic, self._will.payload, qos=self._will.qos, retain=self._will.retain
            )
        return client

    def _bind_callbacks(
        self, client: paho.Client, generation: int, accepted: threading.Event
    ) -> None:
        def on_connect(
            client: paho.Client,
            userdata: Any,
            flags: paho.ConnectFlags,
            reason_code: ReasonCode,
            properties: Properties | None,
        ) -> None:
            if reason_code.is_failure:
                self._note_error(f"broker refused the connection: {reason_code}")
                return
            receive_maximum = getattr(properties, "ReceiveMaximum", None)
            for topic, qos in self._subscriptions:
                client.subscribe(topic, qos=qos)
            self.connects += 1
            self.last_error = None
            accepted.set()
            self._set_connected(client, True)
            log.info(
                "%s: connected to %s:%d (session %s)",
                self._name,
                self._broker.host,
                self._broker.port,
                "resumed" if flags.session_present else "new",
            )
            self._on_event(
                Connected(
                    generation,
                    bool(flags.session_present),
                    None if receive_maximum is None else int(receive_maximum),
                )
            )

        def on_subscribe(
            client: paho.Client,
            userdata: Any,
            mid: int,
            reason_codes: list[ReasonCode],
            properties: Properties | None,
        ) -> None:
            for code in reason_codes:
                if code.is_failure:
                    self._note_error(f"broker refused a subscription: {code}")

        def on_publish(
            client: paho.Client,
            userdata: Any,
            mid: int,
            reason_code: ReasonCode,
            properties: Properties | None,
        ) -> None:
            self._on_event(Published(generation, mid, not reason_code.is_failure, str(reason_code)))

        def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
            self._on_event(
                Received(
                    generation,
                    message.topic,
                    bytes(message.payload),
                    int(message.qos),
                    bool(message.retain),
                    int(message.mid),
                )
            )

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_publish = on_publish
        client.on_message = on_message

    def _set_connected(self, client: paho.Client | None, connected: bool) -> None:
        with self._lock:
            self._connected = connected
            if not connected:
                self._client = None

    def _close_cleanly(self, client: paho.Client) -> None:
        """Send the final messages and a DISCONNECT (so the broker does not fire the will)."""
        if self._connected:
            for message in self._final:
                client.publish(
                    message.topic, message.payload, qos=message.qos, retain=message.retain
                )
            client.disconnect()
            deadline_s = time.monotonic() + _CLOSE_GRACE_S
            while time.monotonic() < deadline_s:
                if client.loop(timeout=_LOOP_TIMEOUT_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
        self._drop(client)

    @staticmethod
    def _drop(client: paho.Client) -> None:
        """Close the socket at once: a stuck link may never let a DISCONNECT through."""
        sock = client.socket()
        if isinstance(sock, socket.socket | ssl.SSLSocket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _note_error(self, message: str) -> None:
        if message != self.last_error:
            log.warning("%s: %s", self._name, message)
        self.last_error = message


def publish_once(
    broker: BrokerSettings,
    *,
    client_id: str,
    topic: str,
    payload: bytes,
    retain: bool,
    timeout_s: float = 15.0,
) -> None:
    """Connect, publish one QoS 1 message, wait for its PUBACK, disconnect (for commands).

    Raises ``ConnectionError`` if the broker cannot be reached or refuses the message in time.
    """
    done = threading.Event()
    outcome: list[str] = []

    def on_event(event: LinkEvent) -> None:
        if isinstance(event, Connected):
            mid = link.publish(topic, payload, qos=1, retain=retain)
            if mid < 0:
                outcome.append("connection lost before publishing")
                done.set()
        elif isinstance(event, Published):
            if not event.ok:
                outcome.append(f"broker refused the message: {event.reason}")
            done.set()

    link = MqttLink(
        broker.model_copy(update={"session_expiry_s": 0}),
        client_id=client_id,
        on_event=on_event,
        name="publish",
    )
    link.start()
    try:
        if not done.wait(timeout_s):
            detail = link.last_error or "no PUBACK"
            raise ConnectionError(f"could not publish to {broker.host}:{broker.port}: {detail}")
        if outcome:
            raise ConnectionError(outcome[0])
    finally:
        link.stop()
