"""The lane shell: a real SQLite store, gpiozero MockFactory outputs and, for whole visits, the
real serial drivers against the pty simulators.

What is proved here is the shell's own promise, not the rule's (tests/edge/test_rule.py): an
entry is durable before the relay moves, a store that fails keeps the gate shut and loses
nothing, bad input and failing listeners never stop the worker, and every way out releases the
relay.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory, MockPin

from drivers.base import DeviceStatus, Health, Reading, ReadingListener, Scan
from drivers.frames.code_text import decode_text
from drivers.gpio import GpioIndicator, GpioRelay
from drivers.scanner import SerialScanner
from drivers.sim.scanner import SimGm65
from drivers.sim.thermometer import SimGyMcu90614
from drivers.thermometer import SerialThermometer
from edge.bus import Bus, BusEvent
from edge.clock import SystemClock
from edge.lane import MAX_SCAN_CHARS, OFFICE, ActionResult, Lane, TrustMaterial
from edge.model import (
    STORE_FAILED,
    Direction,
    Entry,
    EntryDraft,
    GateMode,
    Outcome,
    PassKind,
    VerifyReason,
)
from edge.policy import Policy
from edge.rule import LaneContext, Reason, Reject
from edge.store import Store
from edge.timepolicy import TrustedTime, UnsyncedPolicy
from tests.clock import FakeClock
from tests.drivers.waiting import wait_until
from tests.tokens import signed_token

COMMUNITY = "demo"
GATE = "north"
LANE = "in-1"
KID = "office-2026"
GUARD = "guard-07"
RELAY_PIN = 17
WAIT_S = 5.0


# ------------------------------------------------------------------------------ helpers


@dataclass
class BusLog:
    """Every event the lane announced, with a way to wait for the one a test expects."""

    events: list[BusEvent] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, event: BusEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, topic: str, **data: Any) -> list[BusEvent]:
        return [
            e
            for e in self.events
            if e.topic == topic and all(e.data.get(k) == v for k, v in data.items())
        ]

    def wait_for(self, topic: str, count: int = 1, **data: Any) -> list[BusEvent]:
        with self._cond:
            found = self._cond.wait_for(lambda: len(self.of(topic, **data)) >= count, WAIT_S)
        assert found, f"no {count}× {topic} {data} on the bus; saw {self.events}"
        return self.of(topic, **data)

    def entries(self) -> list[Entry]:
        return [e.data["entry"] for e in self.of("entry")]


class HandThermometer:
    """A thermometer the test reads for: counts requests, delivers what the test says."""

    def __init__(self) -> None:
        self.requests = 0
        self._on_reading: ReadingListener | None = None

    def start(self, on_reading: ReadingListener) -> None:
        self._on_reading = on_reading

    def request(self) -> None:
        self.requests += 1

    def stop(self) -> None:
        self._on_reading = None

    def status(self) -> DeviceStatus:
        return DeviceStatus(name="hand", health=Health.OK)

    def deliver(self, value_c: float) -> None:
        assert self._on_reading is not None
        self._on_reading(Reading(value_c=value_c, sensor="hand"))


class FlakyStore(Store):
    """The real store, with a switch that makes writes fail like a full or failing disk."""

    failing = False

    def record_entry(self, draft: EntryDraft, **kwargs: Any) -> Entry:
        if self.failing:
            raise sqlite3.OperationalError("disk I/O error")
        return super().record_entry(draft, **kwargs)


class HistoryCountingStore(Store):
    """The real store, counting the pass-history reads the policy checks rest on."""

    history_reads = 0

    def last_passed_direction(self, pass_id: str) -> Direction | None:
        self.history_reads += 1
        return super().last_passed_direction(pass_id)

    def household_exits(self, household: str, since: datetime) -> int:
        self.history_reads += 1
        return super().household_exits(household, since)


@dataclass
class Rig:
    """One lane with its store, relay, indicator and bus, as boot wires them."""

    lane: Lane
    store: Store
    relay: GpioRelay
    relay_pin: MockPin
    bus_log: BusLog
    key: Ed25519PrivateKey

    def scan(self, text: str) -> ActionResult:
        return self.lane.submit_scan(Scan(text=text, source="test")).result(timeout=WAIT_S)

    def token(self, pass_id: str, kind: PassKind = PassKind.RESIDENT, **changes: Any) -> str:
        return issue(self.key, pass_id, kind, **changes)

    def stored(self) -> list[Entry]:
        return self.store.entries(limit=1000)

    def relay_ever_energised(self) -> bool:
        return any(state.state for state in self.relay_pin.states)

    def seqs_on_disk(self) -> list[int]:
        """What another connection sees committed, the way a reader after a power cut would."""
        with closing(sqlite3.connect(self.store.path)) as con:
            return [row[0] for row in con.execute("SELECT seq FROM entries ORDER BY seq")]


def issue(
    key: Ed25519PrivateKey,
    pass_id: str,
    kind: PassKind = PassKind.RESIDENT,
    *,
    valid_days: tuple[float, float] = (-30, 30),
) -> str:
    return signed_token(
        key,
        key_id=KID,
        community=COMMUNITY,
        pass_id=pass_id,
        kind=kind,
        holder="王*",
        valid_days=valid_days,
    )


NO_MEASURE = Policy(measure_directions=())
"""A policy with no measure step, for tests about the shell rather than the thermometer."""


RigFactory = Callable[..., Rig]


@pytest.fixture
def pin_factory(mock_factory: MockFactory) -> MockFactory:
    """The lane's pins: tests/conftest.py's MockFactory, under the name the lane tests use."""
    return mock_factory


@pytest.fixture
def make_rig(tmp_path: Path, pin_factory: MockFactory) -> Iterator[RigFactory]:
    """Build and start a lane; everything is stopped and closed after the test."""
    cleanups: list[Callable[[], None]] = []

    def build(
        *,
        policy: Policy | None = None,
        thermometer: Any = None,
        store_class: type[Store] = Store,
        open_s: float = 3.0,
        tick_s: float = 0.1,
        trust: Callable[[], TrustMaterial] | None = None,
        clock: Any = None,
        db_path: Path | None = None,
        **lane_options: Any,
    ) -> Rig:
        key = Ed25519PrivateKey.generate()
        store = store_class.open(db_path or tmp_path / "kakou.db", community=COMMUNITY, gate=GATE)
        cleanups.append(store.close)
        relay = GpioRelay(RELAY_PIN, pin_factory=pin_factory)
        relay_pin = pin_factory.pin(RELAY_PIN)
        cleanups.append(relay.close)
        indicator = GpioIndicator(green_pin=27, red_pin=22, buzzer_pin=23, pin_factory=pin_factory)
        cleanups.append(indicator.close)
        bus = Bus()
        bus_log = BusLog()
        bus.subscribe(bus_log)
        material = TrustMaterial(keys={KID: key.public_key()}, revoked=frozenset())
        ctx = LaneContext(
            lane=LANE,
            gate=GATE,
            direction=Direction.IN,
            policy=policy if policy is not None else Policy(),
            open_s=open_s,
        )
        lane = Lane(
            ctx,
            community=COMMUNITY,
            store=store,
            clock=clock or SystemClock(assume_synced=True),
            trust=trust or (lambda: material),
            relay=relay,
            indicator=indicator,
            bus=bus,
            boot_id="test-boot",
            thermometer=thermometer,
            tick_s=tick_s,
            **lane_options,
        )
        lane.start()
        cleanups.append(lane.stop)
        return Rig(lane, store, relay, relay_pin, bus_log, key)

    yield build
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.fixture
def sim_thermometer(tmp_path: Path) -> Iterator[tuple[SimGyMcu90614, SerialThermometer]]:
    """The simulated GY-MCU90614 on a pty, with the real serial driver attached to it."""
    sim = SimGyMcu90614(link_path=tmp_path / "ttyTHERMO", ambient_c=20.0)
    sim.start()
    driver = SerialThermometer(f"{LANE}/thermometer", sim.port, model="gy-mcu90614")
    yield sim, driver
    driver.stop()
    sim.stop()


# ------------------------------------------------------------------ durability and order


def test_resident_visit_commits_entry_before_the_relay_is_energised(
    make_rig: RigFactory,
    sim_thermometer: tuple[SimGyMcu90614, SerialThermometer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim, driver = sim_thermometer
    rig = make_rig(thermometer=driver, open_s=0.2)
    order: list[str] = []
    store_record = rig.store.record_entry
    relay_pulse = rig.relay.pulse

    def record_entry(draft: EntryDraft, **kwargs: Any) -> Entry:
        order.append("record")
        entry = store_record(draft, **kwargs)
        order.append(f"committed seq {entry.seq}")
        return entry

    def pulse(seconds: float) -> None:
        assert not rig.relay.is_energised
        order.append(f"pulse {seconds}s, on disk {rig.seqs_on_disk()}")
        relay_pulse(seconds)

    monkeypatch.setattr(rig.store, "record_entry", record_entry)
    monkeypatch.setattr(rig.relay, "pulse", pulse)

    sim.present([36.6])
    scanned = rig.scan(rig.token("R-0001"))
    assert scanned == ActionResult(rejected=None, entries=())  # the visit goes on to measure

    relay_event = rig.bus_log.wait_for("relay", action="pulse")[0]
    assert order == ["record", "committed seq 1", "pulse 0.2s, on disk [1]"]
    (entry,) = rig.stored()
    assert relay_event.data["entry_id"] == entry.id
    assert entry.draft.outcome is Outcome.PASSED
    assert entry.draft.pass_id == "R-0001"
    assert [t.body_c for t in entry.draft.temperatures] == [36.6]
    # The pulse energised the pin, and the relay's timer released it again.
    assert wait_until(lambda: not rig.relay.is_energised)
    assert [s.state for s in rig.relay_pin.states] == [False, True, False]


def test_store_failure_keeps_gate_shut_and_the_entry_is_stored_when_the_store_recovers(
    make_rig: RigFactory,
) -> None:
    rig = make_rig(policy=NO_MEASURE, store_class=FlakyStore, open_s=0.2)
    store = rig.store
    assert isinstance(store, FlakyStore)
    store.failing = True

    result = rig.scan(rig.token("R-0001"))
    assert result.entries == ()  # nothing stored, so nothing to open for
    assert result.rejected is not None  # the guard is told, not shown "accepted"
    assert result.rejected.code == "store_failed"
    alarm = rig.bus_log.wait_for("alarm", kind="store_failed")[0]
    assert alarm.lane == LANE
    denied = rig.scan("not a pass")
    assert denied.entries == ()  # queued behind the first unsaved entry, in order
    assert rig.lane.snapshot()["unsaved_entries"] == 2

    # Many retries (one a tick) while the disk still fails: nothing stored, nothing opened.
    assert not wait_until(lambda: rig.seqs_on_disk(), timeout_s=0.5)
    assert rig.lane.snapshot()["unsaved_entries"] == 2
    assert not rig.relay_ever_energised()
    assert not rig.bus_log.of("relay")

    store.failing = False
    assert wait_until(lambda: rig.lane.snapshot()["unsaved_entries"] == 0)
    first, second = rig.stored()
    # The gate never opened for R-0001: its entry says so, with the rule's decision.
    assert (first.seq, first.draft.outcome, first.draft.pass_id) == (1, Outcome.DENIED, "R-0001")
    assert first.draft.reasons == (STORE_FAILED, "decided_passed")
    assert (second.seq, second.draft.outcome) == (2, Outcome.DENIED)
    assert second.draft.reasons == (VerifyReason.BAD_ENCODING.value,)
    assert [e.id for e in rig.bus_log.entries()] == [first.id, second.id]
    # Storing an entry late never opens the gate late: that person's moment has passed.
    assert not rig.relay_ever_energised()

    rig.scan(rig.token("R-0002"))
    rig.bus_log.wait_for("relay", action="pulse")
    assert rig.seqs_on_disk() == [1, 2, 3]  # gap-free across the failure
    assert rig.relay_ever_energised()
    assert rig.lane.alive


@pytest.mark.parametrize(
    ("checks", "reads"),
    [({}, 0), ({"anti_passback": True}, 1), ({"quota": {"enabled": True}}, 0)],
)
def test_a_valid_pass_reads_only_the_history_its_policy_checks(
    make_rig: RigFactory, checks: dict[str, Any], reads: int
) -> None:
    """Anti-passback needs the pass's last direction, the exit quota the household's exits
    (on an exit lane only: this lane is an entrance); with neither, the store is not asked."""
    policy = Policy.model_validate({**NO_MEASURE.model_dump(mode="json"), **checks})
    rig = make_rig(policy=policy, store_class=HistoryCountingStore, open_s=0.2)
    store = rig.store
    assert isinstance(store, HistoryCountingStore)
    rig.scan(rig.token("R-0001"))
    (entry,) = rig.stored()
    assert entry.draft.outcome is Outcome.PASSED
    assert store.history_reads == reads


def test_an_override_after_a_denial_points_at_the_denied_entry(make_rig: RigFactory) -> None:
    """The guard lets in the resident whose pass just expired: the overridden entry carries the
    person and the refusal, names the denied entry by its id, and the gate opens once."""
    rig = make_rig(policy=NO_MEASURE, open_s=0.2)
    denied_result = rig.scan(rig.token("R-0042", valid_days=(-60, -1)))
    (denied,) = denied_result.entries
    assert denied.draft.outcome is Outcome.DENIED
    result = rig.lane.override(GUARD, "known resident, renewal pending").result(timeout=WAIT_S)
    (overridden,) = result.entries
    assert overridden.draft.outcome is Outcome.OVERRIDDEN
    assert (overridden.draft.pass_id, overridden.draft.holder) == ("R-0042", "王*")
    assert VerifyReason.EXPIRED.value in overridden.draft.reasons
    assert overridden.extra["overrides"] == denied.id
    pulses = rig.bus_log.wait_for("relay", action="pulse")
    assert [p.data["entry_id"] for p in pulses] == [overridden.id]


def test_a_fever_is_still_raised_when_its_entry_cannot_be_stored(make_rig: RigFactory) -> None:
    """The store failing keeps the gate shut; it must not also hide a fever from the guard."""
    thermometer = HandThermometer()
    quick_recheck = Policy.model_validate({"fever": {"recheck_after_s": 0.0}})
    rig = make_rig(policy=quick_recheck, thermometer=thermometer, store_class=FlakyStore)
    store = rig.store
    assert isinstance(store, FlakyStore)
    rig.scan(rig.token("R-0001"))
    thermometer.deliver(38.6)
    assert wait_until(lambda: rig.lane.snapshot()["step"] == "hold")
    store.failing = True
    thermometer.deliver(38.7)  # the confirming re-measure: a fever, and its entry fails
    rig.bus_log.wait_for("alarm", kind="store_failed")
    (fever,) = rig.bus_log.wait_for("alarm", kind="fever")
    assert fever.lane == LANE
    assert not rig.relay_ever_energised()
    store.failing = False
    assert wait_until(lambda: rig.lane.snapshot()["unsaved_entries"] == 0)
    (entry,) = rig.stored()
    assert entry.draft.outcome is Outcome.FEVER


def test_an_entry_stored_by_the_retry_in_its_own_visit_opens_the_gate(
    make_rig: RigFactory,
) -> None:
    # tick_s of an hour: the only retry is the one the next entry triggers.
    rig = make_rig(policy=NO_MEASURE, store_class=FlakyStore, tick_s=3600, open_s=0.2)
    store = rig.store
    assert isinstance(store, FlakyStore)
    store.failing = True
    assert rig.scan(rig.token("R-0001")).entries == ()
    store.failing = False

    result = rig.scan(rig.token("R-0002"))
    first, second = rig.stored()
    assert [e.draft.pass_id for e in (first, second)] == ["R-0001", "R-0002"]
    assert [e.seq for e in (first, second)] == [1, 2]
    # R-0002's entry is durable, so the gate opens for R-0002 (and for it only).
    assert result.entries == (second,)
    pulses = rig.bus_log.wait_for("relay", action="pulse")
    assert [p.data["entry_id"] for p in pulses] == [second.id]


def test_a_closed_store_never_energises_the_relay_and_raises_the_alarm(
    make_rig: RigFactory,
) -> None:
    rig = make_rig(policy=NO_MEASURE)
    rig.store.close()

    assert rig.scan("KK1:garbage").entries == ()
    rig.bus_log.wait_for("alarm", kind="store_failed")
    # A valid pass (this policy reads no pass history) is decided, then cannot be stored.
    held = rig.scan(rig.token("R-0001"))
    assert held.rejected is not None
    assert held.rejected.code == "store_failed"
    rig.lane.override(GUARD, "resident known to the guard").result(timeout=WAIT_S)
    assert not wait_until(rig.relay_ever_energised, timeout_s=0.3)
    assert rig.lane.alive
    assert rig.lane.snapshot()["unsaved_entries"] == 3


def test_entries_after_an_unsaved_one_in_the_same_step_are_kept_too(
    make_rig: RigFactory,
) -> None:
    """A mode change during a visit ends the visit, then records the change: with the store
    failing both are kept, and the emergency that never held the gate open says so."""
    rig = make_rig(store_class=FlakyStore)  # the default policy measures: the visit waits
    store = rig.store
    assert isinstance(store, FlakyStore)
    rig.scan(rig.token("R-0001"))
    store.failing = True
    changed = rig.lane.set_mode(GateMode.EMERGENCY, GUARD, "fire drill").result(timeout=WAIT_S)
    assert changed.rejected is not None
    assert changed.rejected.code == "store_failed"
    assert rig.lane.snapshot()["unsaved_entries"] == 2
    assert not wait_until(rig.relay_ever_energised, timeout_s=0.3)

    store.failing = False
    assert wait_until(lambda: rig.lane.snapshot()["unsaved_entries"] == 0)
    visit, mode = rig.stored()
    assert (visit.draft.outcome, visit.draft.reasons) == (
        Outcome.ABANDONED,
        (Reason.MODE_CHANGED.value,),
    )
    assert (mode.draft.outcome, mode.draft.reasons) == (
        Outcome.MODE_CHANGE,
        (STORE_FAILED, "mode_emergency"),
    )


# ------------------------------------------------------------------- the worker survives


def test_a_failing_bus_listener_does_not_stop_the_lane(
    make_rig: RigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    rig = make_rig(policy=NO_MEASURE, open_s=0.2)
    broken_calls: list[str] = []

    def broken(event: BusEvent) -> None:
        broken_calls.append(event.topic)
        raise RuntimeError("listener bug")

    rig.lane._bus.subscribe(broken)
    for number in (1, 2):
        result = rig.scan(rig.token(f"R-000{number}"))
        assert [e.draft.outcome for e in result.entries] == [Outcome.PASSED]
    assert rig.seqs_on_disk() == [1, 2]
    assert len(rig.bus_log.wait_for("relay", count=2, action="pulse")) == 2
    assert "entry" in broken_calls
    assert "relay" in broken_calls
    assert "listener bug" in caplog.text
    assert rig.lane.alive


def test_an_error_handling_one_input_fails_that_input_only(make_rig: RigFactory) -> None:
    material = TrustMaterial(keys={}, revoked=frozenset())
    loads: list[int] = []

    def trust() -> TrustMaterial:
        loads.append(1)
        if len(loads) > 1:
            raise OSError("keys folder unreadable")
        return material

    rig = make_rig(policy=NO_MEASURE, trust=trust)
    with pytest.raises(OSError, match="keys folder unreadable"):
        rig.lane.reload_trust().result(timeout=WAIT_S)
    assert rig.lane.alive
    # The old trust material stays: a pass from an unknown key is still denied, and logged.
    result = rig.scan(rig.token("R-0001"))
    assert [e.draft.reasons for e in result.entries] == [(VerifyReason.UNKNOWN_KEY.value,)]


# ---------------------------------------------------------------------------- bad input

_JUNK = bytes(range(256)) * 2


@pytest.mark.parametrize(
    ("scan", "reason"),
    [
        (Scan(text="hello, gate", source="test"), VerifyReason.BAD_ENCODING),
        (Scan(text="KK1:%%%", source="test"), VerifyReason.BAD_ENCODING),
        (Scan(text=decode_text(_JUNK, ("utf-8", "gbk")), source="test"), VerifyReason.BAD_ENCODING),
        (Scan(text="", source="test", truncated=True, raw_length=1 << 20), VerifyReason.TOO_LARGE),
        (Scan(text="KK1:" + "A" * (1 << 20), source="test"), VerifyReason.TOO_LARGE),
    ],
    ids=["text", "bad-base45", "binary-junk", "truncated-1mb", "untruncated-1mb"],
)
def test_bad_scans_are_denied_entries_and_the_lane_carries_on(
    make_rig: RigFactory, scan: Scan, reason: VerifyReason
) -> None:
    rig = make_rig(policy=NO_MEASURE, open_s=0.2)
    result = rig.lane.submit_scan(scan).result(timeout=WAIT_S)
    (entry,) = result.entries
    assert entry.draft.outcome is Outcome.DENIED
    assert entry.draft.reasons == (reason.value,)
    assert entry.draft.pass_id is None
    assert not rig.relay_ever_energised()
    assert rig.lane.alive
    # The next person with a good pass goes through.
    assert [e.draft.outcome for e in rig.scan(rig.token("R-0001")).entries] == [Outcome.PASSED]
    assert rig.bus_log.wait_for("relay", action="pulse")[0].data["seq"] == 2


def test_junk_through_the_real_scanner_driver_is_denied(
    make_rig: RigFactory, tmp_path: Path
) -> None:
    rig = make_rig(policy=NO_MEASURE)
    sim = SimGm65(link_path=tmp_path / "ttySCANNER")
    sim.start()
    scanner = SerialScanner(f"{LANE}/scanner", sim.port, family="gm65")

    def on_scan(scan: Scan) -> None:  # as boot forwards them: the scan's future is not awaited
        rig.lane.submit_scan(scan)

    scanner.start(on_scan)
    try:
        assert wait_until(lambda: scanner.status().health is Health.OK)
        sim.send_binary_junk(64)
        rig.bus_log.wait_for("entry")
        sim.present_huge(1 << 20)
        rig.bus_log.wait_for("entry", count=2)
        sim.present("not a pass at all")
        rig.bus_log.wait_for("entry", count=3)
    finally:
        scanner.stop()
        sim.stop()
    reasons = [e.draft.reasons for e in rig.stored()]
    assert reasons == [
        (VerifyReason.BAD_ENCODING.value,),
        (VerifyReason.TOO_LARGE.value,),
        (VerifyReason.BAD_ENCODING.value,),
    ]
    assert all(e.draft.outcome is Outcome.DENIED for e in rig.stored())
    assert not rig.relay_ever_energised()
    assert rig.lane.alive
    assert MAX_SCAN_CHARS < 1 << 20


# ----------------------------------------------------------------------- guard actions


def test_answers_are_refused_or_move_the_visit_on(make_rig: RigFactory) -> None:
    thermometer = HandThermometer()
    rig = make_rig(thermometer=thermometer, open_s=0.2)
    lane = rig.lane

    idle = lane.answer({"travel_14d": "no"}, GUARD).result(timeout=WAIT_S)
    assert idle == ActionResult(Reject("not_asking", "no visit is waiting for answers"), ())

    assert rig.scan(rig.token("T-0001", PassKind.TEMPORARY)) == ActionResult(None, ())
    assert lane.snapshot()["step"] == "ask"
    missing = lane.answer({"travel_14d": "no"}, GUARD).result(timeout=WAIT_S)
    assert missing.rejected is not None
    assert (missing.rejected.code, missing.rejected.detail) == ("answers_missing", "symptoms")
    assert missing.entries == ()

    answered = lane.answer({"travel_14d": "no", "symptoms": "no"}, GUARD).result(timeout=WAIT_S)
    assert answered == ActionResult(None, ())
    assert lane.snapshot()["step"] == "measure"
    assert wait_until(lambda: thermometer.requests >= 1)
    thermometer.deliver(36.5)
    (entry,) = rig.bus_log.wait_for("entry")
    stored = entry.data["entry"]
    assert stored.draft.outcome is Outcome.PASSED
    assert stored.draft.answers == (("travel_14d", "no"), ("symptoms", "no"))
    rig.bus_log.wait_for("relay", action="pulse", entry_id=stored.id)


def test_override_and_cancel_return_their_entries_or_the_refusal(make_rig: RigFactory) -> None:
    thermometer = HandThermometer()
    rig = make_rig(thermometer=thermometer, open_s=0.2)
    lane = rig.lane

    no_visit = lane.cancel(GUARD).result(timeout=WAIT_S)
    assert no_visit.rejected is not None
    assert no_visit.rejected.code == "no_visit"

    rig.scan(rig.token("R-0001"))
    no_reason = lane.override(GUARD, "   ").result(timeout=WAIT_S)
    assert no_reason.rejected is not None
    assert no_reason.rejected.code == "reason_required"
    assert no_reason.entries == ()
    cancelled = lane.cancel(GUARD).result(timeout=WAIT_S)
    (abandoned,) = cancelled.entries
    assert abandoned.draft.outcome is Outcome.ABANDONED
    assert abandoned.draft.reasons == (Reason.GUARD_CANCELLED.value,)
    assert abandoned.draft.guard_id == GUARD
    assert not rig.relay_ever_energised()

    rig.scan(rig.token("R-0002"))
    overridden = lane.override(GUARD, "thermometer broken, handheld 36.4").result(timeout=WAIT_S)
    assert overridden.rejected is None
    (entry,) = overridden.entries
    assert entry.draft.outcome is Outcome.OVERRIDDEN
    assert entry.draft.guard_note == "thermometer broken, handheld 36.4"
    assert rig.bus_log.wait_for("relay", action="pulse")[0].data["entry_id"] == entry.id
    assert [e.seq for e in rig.stored()] == [1, 2]


def test_emergency_mode_holds_the_relay_open_and_leaving_it_releases(
    make_rig: RigFactory,
) -> None:
    rig = make_rig(policy=NO_MEASURE, open_s=0.1)
    lane = rig.lane

    same = lane.set_mode(GateMode.NORMAL, GUARD, "shift change").result(timeout=WAIT_S)
    assert same.rejected is not None
    assert same.rejected.code == "same_mode"

    emergency = lane.set_mode(GateMode.EMERGENCY, GUARD, "fire alarm").result(timeout=WAIT_S)
    (changed,) = emergency.entries
    assert changed.draft.outcome is Outcome.MODE_CHANGE
    assert changed.draft.reasons == ("mode_emergency",)
    assert rig.relay.is_energised
    free_exit = rig.scan(rig.token("R-0001", valid_days=(-30, -1)))  # even an expired pass
    assert [e.draft.outcome for e in free_exit.entries] == [Outcome.PASSED]
    assert Reason.EMERGENCY_FREE_EXIT.value in free_exit.entries[0].draft.reasons
    # Held, not pulsed: still energised well after open_s.
    assert not wait_until(lambda: not rig.relay.is_energised, timeout_s=0.4)
    assert lane.snapshot()["relay_energised"] is True

    normal = lane.set_mode(GateMode.NORMAL, GUARD, "all clear").result(timeout=WAIT_S)
    assert [e.draft.reasons for e in normal.entries] == [("mode_normal",)]
    assert not rig.relay.is_energised
    assert not rig.relay_pin.state


@pytest.mark.parametrize("how", ["pulse", "emergency"])
def test_stop_releases_the_relay_even_while_it_is_open(make_rig: RigFactory, how: str) -> None:
    rig = make_rig(policy=NO_MEASURE, open_s=30.0)
    if how == "pulse":
        rig.lane.override(GUARD, "delivery").result(timeout=WAIT_S)
    else:
        rig.lane.set_mode(GateMode.EMERGENCY, GUARD, "fire alarm").result(timeout=WAIT_S)
    assert rig.relay.is_energised
    rig.lane.stop()
    assert not rig.relay_pin.state
    assert not rig.relay.is_energised
    assert not rig.lane.alive


# ------------------------------------------------------------------- manual measurement


def test_without_a_thermometer_the_guard_is_prompted_and_a_manual_reading_decides(
    make_rig: RigFactory,
) -> None:
    rig = make_rig(thermometer=None, open_s=0.2)
    rig.scan(rig.token("R-0001"))
    prompt = rig.bus_log.wait_for("prompt", code="manual")[0]
    assert prompt.data["step"] == "measure"
    assert not rig.bus_log.of("entry")

    rig.lane.submit_reading(Reading(value_c=36.4, sensor=f"handheld:{GUARD}", manual=True))
    (event,) = rig.bus_log.wait_for("entry")
    entry = event.data["entry"]
    assert entry.draft.outcome is Outcome.PASSED
    assert Reason.MANUAL_READING.value in entry.draft.reasons
    assert [t.reading.manual for t in entry.draft.temperatures] == [True]
    rig.bus_log.wait_for("relay", action="pulse", entry_id=entry.id)


# ------------------------------------------------------------------ the unsynchronised clock


def _unsynced_clock(days_behind: float) -> FakeClock:
    """A Pi after a power cut (or a wound-back clock): wall time behind, NTP not synced."""
    return FakeClock(
        wall=datetime.now(UTC) - timedelta(days=days_behind), mono_s=50.0, clock_synced=False
    )


def test_deny_until_synced_judges_no_pass_before_ntp(make_rig: RigFactory) -> None:
    rig = make_rig(
        policy=NO_MEASURE,
        clock=_unsynced_clock(0),
        unsynced_policy=UnsyncedPolicy.DENY_UNTIL_SYNCED,
    )
    (entry,) = rig.scan(rig.token("R-0001")).entries
    assert entry.draft.outcome is Outcome.DENIED
    assert entry.draft.reasons == (VerifyReason.CLOCK_UNSYNCED.value,)
    assert entry.draft.clock_synced is False
    assert not rig.relay_ever_energised()


def test_winding_the_clock_back_does_not_revive_an_expired_pass(make_rig: RigFactory) -> None:
    trusted = TrustedTime(wall=datetime.now(UTC), boot_id="earlier-boot", mono_s=10.0)
    rig = make_rig(
        policy=NO_MEASURE,
        clock=_unsynced_clock(60),
        unsynced_policy=UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED,
        trusted_time=lambda: trusted,
    )
    expired_a_week_ago = rig.token("R-0002", valid_days=(-90, -7))
    (entry,) = rig.scan(expired_a_week_ago).entries
    assert entry.draft.outcome is Outcome.DENIED
    assert entry.draft.reasons == (VerifyReason.EXPIRED.value,)
    assert not rig.relay_ever_energised()


def test_trusting_the_device_clock_is_what_the_default_policy_prevents(
    make_rig: RigFactory,
) -> None:
    rig = make_rig(
        policy=NO_MEASURE, clock=_unsynced_clock(60), unsynced_policy=UnsyncedPolicy.TRUST_DEVICE
    )
    (entry,) = rig.scan(rig.token("R-0003", valid_days=(-90, -7))).entries
    assert entry.draft.outcome is Outcome.PASSED  # the wound-back clock fooled this policy


def test_a_new_policy_waits_for_the_visit_in_progress_then_holds(make_rig: RigFactory) -> None:
    """The office lowers the fever line while someone stands at the thermometer: that person
    is judged by the policy their visit began under, the next one by the new."""
    thermometer = HandThermometer()
    rig = make_rig(thermometer=thermometer, open_s=0.2)
    lane = rig.lane
    stricter = Policy.model_validate({"fever": {"threshold_c": 37.0}})
    rig.scan(rig.token("R-0001"))
    assert lane.snapshot()["step"] == "measure"
    lane.set_policy(stricter).result(timeout=WAIT_S)
    assert lane.ctx.policy.fever.threshold_c == 37.3  # not in the middle of a visit
    assert not rig.bus_log.of("policy_applied")
    thermometer.deliver(37.1)  # normal under the old line
    (first,) = rig.bus_log.wait_for("entry")
    assert first.data["entry"].draft.outcome is Outcome.PASSED
    rig.bus_log.wait_for("policy_applied")
    assert lane.ctx.policy.fever.threshold_c == 37.0
    rig.scan(rig.token("R-0002"))
    thermometer.deliver(37.1)  # over the new line: held for the re-measure
    assert wait_until(lambda: lane.snapshot()["step"] == "hold")


def test_an_office_policy_that_changes_the_mode_switches_the_lane(make_rig: RigFactory) -> None:
    """A district lockdown ordered by the office reaches the gate without a guard; a guard's
    later change stands until the office changes its mode again; emergency stays on site."""
    rig = make_rig(policy=NO_MEASURE)
    lane = rig.lane

    def modes() -> list[tuple[str, str | None]]:
        entries = rig.store.entries(outcome=Outcome.MODE_CHANGE, limit=100)
        return [(e.draft.reasons[0], e.draft.guard_id) for e in entries]

    lockdown = NO_MEASURE.model_copy(update={"mode": GateMode.LOCKDOWN})
    lane.set_policy(lockdown).result(timeout=WAIT_S)
    assert lane.snapshot()["mode"] == "lockdown"
    assert modes() == [("mode_lockdown", OFFICE)]
    (refused,) = rig.scan(rig.token("R-0001")).entries  # lockdown: staff passes only
    assert refused.draft.outcome is Outcome.DENIED

    lane.set_policy(lockdown).result(timeout=WAIT_S)  # the same order again: nothing new
    lane.set_mode(GateMode.NORMAL, GUARD, "区里通知解除").result(timeout=WAIT_S)
    lane.set_policy(lockdown.model_copy(update={"anti_passback": True})).result(timeout=WAIT_S)
    assert lane.snapshot()["mode"] == "normal"  # the office did not change its mode: the guard's
    assert modes() == [("mode_lockdown", OFFICE), ("mode_normal", GUARD)]

    lane.set_mode(GateMode.EMERGENCY, GUARD, "fire alarm").result(timeout=WAIT_S)
    lane.set_policy(NO_MEASURE).result(timeout=WAIT_S)  # the office ends its lockdown
    assert lane.snapshot()["mode"] == "emergency"  # held open until the guard says otherwise
    assert len(modes()) == 3
    lane.set_mode(GateMode.NORMAL, GUARD, "all clear").result(timeout=WAIT_S)
    lane.set_policy(lockdown).result(timeout=WAIT_S)
    assert lane.snapshot()["mode"] == "lockdown"
    assert modes()[-1] == ("mode_lockdown", OFFICE)
