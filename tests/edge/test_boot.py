"""The composition root: build_gate from settings, trust material in, an orderly stop out.

Every gate here is the real thing on gpiozero's MockFactory (injected, fresh per test): pty
simulators, the serial drivers, the lanes and a SQLite file in tmp_path.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory

from edge import keys
from edge.app import boot
from edge.app.boot import Gate, build_gate
from edge.app.settings import Settings, load_settings
from edge.bus import BusEvent, PolicyReceived
from edge.lane import start_mode
from edge.model import Entry, GateMode, Outcome, VerifyReason
from edge.policy import Policy
from sync.subscriber import META_POLICY
from tests.drivers.waiting import wait_until
from tests.tokens import signed_token

GUARD = "guard-07"
WAIT_S = 5.0
OUT_LANE: dict[str, Any] = {
    "id": "out-1",
    "direction": "out",
    "relay": {"pin": 5, "open_s": 30.0},
    "indicator": {"green_pin": 6, "red_pin": 13, "buzzer_pin": 19},
}


def make_settings(state_dir: Path, **changes: Any) -> Settings:
    """The embedded default, console off, state in ``state_dir``; validated like a file."""
    data = load_settings(None).model_dump(mode="json")
    data["site"]["state_dir"] = str(state_dir)
    data["console"]["enabled"] = False
    for section, value in changes.items():
        if isinstance(value, dict):
            data[section] = {**data[section], **value}
        else:
            data[section] = value
    return Settings.model_validate(data)


@contextmanager
def running_gate(settings: Settings, *, start: bool = True) -> Iterator[Gate]:
    """``build_gate``, and its orderly stop whatever the block did."""
    gate = build_gate(settings, start=start)
    try:
        yield gate
    finally:
        gate.stop()


@pytest.fixture
def pin_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockFactory]:
    """A fresh MockFactory per test, handed to build_gate in place of the configured one."""
    factory = MockFactory()
    monkeypatch.setattr(boot, "make_pin_factory", lambda name: factory)
    yield factory
    factory.reset()
    factory.close()


def open_fds() -> list[str]:
    fd_dir = Path("/proc/self/fd")
    found = []
    for fd in os.listdir(fd_dir):
        try:
            found.append(os.readlink(fd_dir / fd))
        except OSError:
            continue  # the listing's own descriptor, already gone
    return sorted(found)


def threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def no_new_fds(before: list[str]) -> bool:
    """Nothing opened since ``before`` is still open (others may have closed theirs)."""
    return not Counter(open_fds()) - Counter(before)


def wait_entry(gate: Gate, events: list[BusEvent], count: int) -> list[Entry]:
    assert wait_until(lambda: len([e for e in events if e.topic == "entry"]) >= count, WAIT_S)
    return [e.data["entry"] for e in events if e.topic == "entry"]


# --------------------------------------------------------------------------- trust material


def test_build_creates_the_sim_issuer_key_readable_by_its_owner_only(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    settings = make_settings(tmp_path / "state")
    old_umask = os.umask(0)  # even with nothing masked, the private key is created 0600
    try:
        gate = build_gate(settings, start=False)
    finally:
        os.umask(old_umask)
    try:
        keys_dir = settings.state_path(settings.passes.trusted_keys_dir)
        private = keys_dir / "sim.key"
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert (keys_dir / "sim.pub").is_file()
        # The simulator's issuer, and the gate's own visitor key (docs/visitors.md).
        assert set(gate.store.trusted_keys()) == {"sim", "gate-north"}
        visitor_key = settings.site.state_dir / "issuer" / "gate-north.key"
        assert stat.S_IMODE(visitor_key.stat().st_mode) == 0o600
        kid, key = keys.load_private(private)
        assert kid == "sim"
        assert gate.store.trusted_keys()["sim"].public_bytes_raw() == (
            key.public_key().public_bytes_raw()
        )
    finally:
        gate.stop()


def test_without_visitor_registration_the_gate_makes_no_key(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    settings = make_settings(tmp_path / "state", visitors={"enabled": False})
    with running_gate(settings, start=False) as gate:
        assert set(gate.store.trusted_keys()) == {"sim"}
        assert gate.desk is None
        assert not (settings.site.state_dir / "issuer").exists()


def test_a_restart_with_the_same_keys_changes_no_trust(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    settings = make_settings(tmp_path / "state")
    build_gate(settings, start=False).stop()
    with running_gate(settings, start=False) as gate:
        changes = gate.store.trust_report().changes
        assert sorted((c.kid, c.action) for c in changes) == [
            ("gate-north", "added"),
            ("sim", "added"),
        ]


def test_trusted_keys_and_revocations_from_the_state_dir_reach_the_lane(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    state = tmp_path / "state"
    key_path, _ = keys.new_keypair("office-2026", state / "keys")
    (state / "revoked.txt").write_text("# lost passes\nR-0002\nR-0009  # stolen\n")
    settings = make_settings(state, passes={"revocations_file": "revoked.txt"})
    with running_gate(settings) as gate:
        events: list[BusEvent] = []
        gate.bus.subscribe(events.append)
        assert set(gate.store.trusted_keys()) == {"office-2026", "sim", "gate-north"}
        assert {"R-0002", "R-0009"} <= gate.store.revoked_ids()
        _, office_key = keys.load_private(key_path)
        sim = gate.simulation
        assert sim is not None

        sim.present("in-1", _token(office_key, "R-0002").encode())
        (revoked,) = wait_entry(gate, events, 1)
        assert revoked.draft.outcome is Outcome.DENIED
        assert revoked.draft.reasons == (VerifyReason.REVOKED.value,)

        sim.temperature("in-1", [36.6], None)
        sim.present("in-1", _token(office_key, "R-0003").encode())
        _, passed = wait_entry(gate, events, 2)
        assert (passed.draft.outcome, passed.draft.key_id) == (Outcome.PASSED, "office-2026")


def _token(key: Ed25519PrivateKey, pass_id: str) -> str:
    return signed_token(
        key, key_id="office-2026", community="demo", pass_id=pass_id, holder="李*", unit="1-1-101"
    )


# ------------------------------------------------------------------------------- stopping


def test_stop_releases_every_relay_closes_the_store_and_leaves_nothing_running(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    settings = make_settings(tmp_path / "state", lanes=[{"id": "in-1"}, OUT_LANE])
    threads_before, fds_before = threads(), open_fds()

    gate = build_gate(settings)
    relay_in, relay_out = pin_factory.pin(17), pin_factory.pin(5)
    held = gate.lanes["in-1"].set_mode(GateMode.EMERGENCY, GUARD, "fire alarm")
    pulsed = gate.lanes["out-1"].override(GUARD, "ambulance crew")  # opens for 30 s
    assert held.result(timeout=WAIT_S).entries
    assert pulsed.result(timeout=WAIT_S).entries
    assert relay_in.state
    assert relay_out.state
    assert len(threads()) > len(threads_before)
    assert str(settings.db_path) in open_fds()

    gate.stop()

    assert not relay_in.state
    assert not relay_out.state
    assert not any(path.startswith(str(settings.db_path)) for path in open_fds())
    assert not Path(f"{settings.db_path}-wal").exists()  # last connection closed: checkpointed
    assert wait_until(lambda: threads() <= threads_before, timeout_s=WAIT_S)
    assert wait_until(lambda: no_new_fds(fds_before), timeout_s=WAIT_S)
    gate.stop()  # a second stop is harmless


def test_a_build_that_fails_half_way_undoes_what_it_started(
    tmp_path: Path, pin_factory: MockFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "state", lanes=[{"id": "in-1"}, OUT_LANE])
    threads_before, fds_before = threads(), open_fds()
    real_thermometer = boot._thermometer

    def thermometer(lane: Any, url: str | None) -> Any:
        if lane.id == "out-1":  # the first lane is running by now
            raise RuntimeError("thermometer port vanished")
        return real_thermometer(lane, url)

    monkeypatch.setattr(boot, "_thermometer", thermometer)
    with pytest.raises(RuntimeError, match="vanished"):
        build_gate(settings)
    assert pin_factory.pin(17).states[-1].state is False
    assert wait_until(lambda: threads() <= threads_before, timeout_s=WAIT_S)
    assert wait_until(lambda: no_new_fds(fds_before), timeout_s=WAIT_S)


def test_a_bad_revocations_file_stops_the_build_and_closes_the_store(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "revoked.txt").write_text("R-0001\nnot a pass id!\n")
    settings = make_settings(state, passes={"revocations_file": "revoked.txt"})
    fds_before = open_fds()
    with pytest.raises(ValueError, match=r"revoked\.txt:2"):
        build_gate(settings)
    assert no_new_fds(fds_before)


# ------------------------------------------------------------------------------ restarting


def test_a_second_build_on_the_same_state_dir_continues_the_sequence(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    settings = make_settings(tmp_path / "state")
    key_path = settings.state_path(settings.passes.trusted_keys_dir) / "sim.key"

    with running_gate(settings) as first:
        lane = first.lanes["in-1"]
        lane.set_mode(GateMode.LOCKDOWN, GUARD, "outbreak").result(timeout=WAIT_S)
        lane.set_mode(GateMode.NORMAL, GUARD, "lifted").result(timeout=WAIT_S)
    key_bytes = key_path.read_bytes()

    with running_gate(settings) as second:
        result = second.lanes["in-1"].set_mode(GateMode.LOCKDOWN, GUARD, "again")
        (entry,) = result.result(timeout=WAIT_S).entries
        assert entry.seq == 3
        assert [e.seq for e in second.store.entries(limit=10)] == [1, 2, 3]
        assert [e.draft.guard_note for e in second.store.entries(limit=10)] == [
            "outbreak",
            "lifted",
            "again",
        ]
    assert key_path.read_bytes() == key_bytes  # the issuer key is made once, never replaced


def test_the_office_policy_kept_from_the_downlink_is_in_force_after_a_restart(
    tmp_path: Path, pin_factory: MockFactory
) -> None:
    settings = make_settings(tmp_path / "state")
    office = Policy.model_validate({"fever": {"threshold_c": 37.0}})
    with running_gate(settings) as gate:
        assert gate.lanes["in-1"].ctx.policy.fever.threshold_c == 37.3
        gate.store.set_meta(META_POLICY, office.model_dump_json())
        gate.bus.publish(PolicyReceived(version=3, policy=office))  # as sync.subscriber does
        assert wait_until(lambda: gate.lanes["in-1"].ctx.policy.fever.threshold_c == 37.0)
    with running_gate(settings) as again:
        assert again.lanes["in-1"].ctx.policy.fever.threshold_c == 37.0


def test_an_unreadable_stored_policy_falls_back_to_the_file(
    tmp_path: Path, pin_factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path / "state")
    gate = build_gate(settings, start=False)
    gate.store.set_meta(META_POLICY, '{"fever": {"threshold_c": "hot"}}')
    gate.stop()
    with running_gate(settings, start=False) as again:
        assert again.lanes["in-1"].ctx.policy == settings.policy
        assert "stored office policy is unreadable" in caplog.text


def test_a_lockdown_survives_a_restart_and_an_emergency_does_not(
    tmp_path: Path, pin_factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A power cut must not lift a lockdown; a gate must not come back held open."""
    settings = make_settings(tmp_path / "state")
    with running_gate(settings) as gate:
        lane = gate.lanes["in-1"]
        lane.set_mode(GateMode.LOCKDOWN, GUARD, "区里通知封闭管理").result(timeout=WAIT_S)
    with running_gate(settings) as again:
        assert again.lanes["in-1"].snapshot()["mode"] == "lockdown"
        assert "resuming lockdown mode" in caplog.text
        again.lanes["in-1"].set_mode(GateMode.EMERGENCY, GUARD, "火警").result(timeout=WAIT_S)
    with running_gate(settings) as third:
        snapshot = third.lanes["in-1"].snapshot()
        assert (snapshot["mode"], snapshot["relay_energised"]) == ("normal", False)


@pytest.mark.parametrize(
    ("policy_mode", "last_mode", "expected"),
    [
        (GateMode.NORMAL, None, GateMode.NORMAL),
        (GateMode.NORMAL, GateMode.LOCKDOWN, GateMode.LOCKDOWN),
        (GateMode.NORMAL, GateMode.EMERGENCY, GateMode.NORMAL),
        (GateMode.LOCKDOWN, GateMode.NORMAL, GateMode.LOCKDOWN),
        (GateMode.EMERGENCY, GateMode.NORMAL, GateMode.EMERGENCY),  # configured on purpose
    ],
)
def test_the_start_mode(
    policy_mode: GateMode, last_mode: GateMode | None, expected: GateMode
) -> None:
    assert start_mode(policy_mode, last_mode) is expected
