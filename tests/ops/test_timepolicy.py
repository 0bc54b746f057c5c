"""edge.timepolicy: the time a pass is judged at before NTP syncs. Winding the clock back must
never revive an expired pass; a synchronised clock is believed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from edge.app.settings import parse_settings
from edge.model import Instant
from edge.timepolicy import (
    PassTime,
    PassTimeBasis,
    TrustedTime,
    TrustedTimeKeeper,
    UnsyncedPolicy,
    earliest_possible_now,
    pass_time,
)
from tests.edge.test_settings import MINIMAL

BOOT = "boot-a"
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
TRUSTED = TrustedTime(wall=T0, boot_id=BOOT, mono_s=1000.0)


def at(wall: datetime, mono_s: float = 1000.0, *, synced: bool = False) -> Instant:
    return Instant(wall=wall, mono_s=mono_s, clock_synced=synced)


def test_a_synchronised_clock_is_believed_under_every_policy() -> None:
    moment = at(T0 - timedelta(days=3), synced=True)  # NTP stepped the clock back: believe it
    for policy in UnsyncedPolicy:
        assert pass_time(policy, moment, boot_id=BOOT, trusted=TRUSTED) == PassTime(
            moment.wall, PassTimeBasis.SYNCED
        )


def test_a_clock_wound_back_after_a_reboot_is_judged_at_the_last_trusted_time() -> None:
    wound_back = at(T0 - timedelta(days=30), mono_s=5.0)
    result = pass_time(
        UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED, wound_back, boot_id="boot-b", trusted=TRUSTED
    )
    assert result == PassTime(T0, PassTimeBasis.LAST_TRUSTED)


def test_in_the_same_boot_monotonic_time_carries_the_trusted_time_forward() -> None:
    # Synced at mono 1000 s; an hour later the wall clock was wound back a day.
    moment = at(T0 - timedelta(days=1), mono_s=1000.0 + 3600)
    result = pass_time(
        UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED, moment, boot_id=BOOT, trusted=TRUSTED
    )
    assert result.at == T0 + timedelta(hours=1)


def test_a_device_clock_ahead_of_the_trusted_time_is_used() -> None:
    ahead = at(T0 + timedelta(days=2), mono_s=5.0)
    result = pass_time(
        UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED, ahead, boot_id="boot-b", trusted=TRUSTED
    )
    assert result == PassTime(ahead.wall, PassTimeBasis.DEVICE)


def test_nothing_trusted_yet_means_the_device_time() -> None:
    moment = at(T0)
    result = pass_time(UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED, moment, boot_id=BOOT, trusted=None)
    assert result == PassTime(T0, PassTimeBasis.DEVICE)


def test_trust_device_and_deny_until_synced() -> None:
    wound_back = at(T0 - timedelta(days=30))
    assert pass_time(
        UnsyncedPolicy.TRUST_DEVICE, wound_back, boot_id=BOOT, trusted=TRUSTED
    ) == PassTime(wound_back.wall, PassTimeBasis.DEVICE)
    assert pass_time(
        UnsyncedPolicy.DENY_UNTIL_SYNCED, wound_back, boot_id=BOOT, trusted=TRUSTED
    ) == PassTime(None, PassTimeBasis.REFUSED)


@given(
    wind_back_s=st.floats(min_value=0, max_value=10 * 365 * 86400),
    elapsed_s=st.floats(min_value=0, max_value=30 * 86400),
    same_boot=st.booleans(),
    expires_after_s=st.floats(min_value=-365 * 86400, max_value=0),
)
def test_winding_the_clock_back_never_revives_an_expired_pass(
    wind_back_s: float, elapsed_s: float, same_boot: bool, expires_after_s: float
) -> None:
    """A pass that had expired when the time was last trusted stays expired."""
    expires = T0 + timedelta(seconds=expires_after_s)
    moment = at(
        T0 - timedelta(seconds=wind_back_s), mono_s=TRUSTED.mono_s + elapsed_s if same_boot else 1.0
    )
    judged = pass_time(
        UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED,
        moment,
        boot_id=BOOT if same_boot else "boot-b",
        trusted=TRUSTED,
    )
    assert judged.at is not None
    assert judged.at >= expires
    assert judged.at >= T0


def test_a_monotonic_clock_from_before_the_trusted_reading_is_not_trusted_forward() -> None:
    assert earliest_possible_now(TRUSTED, BOOT, mono_s=10.0) == T0


def test_trusted_time_round_trips_through_store_meta_and_rejects_junk() -> None:
    assert TrustedTime.from_meta(TRUSTED.to_meta()) == TRUSTED
    for junk in (
        None,
        "",
        "{",
        '{"wall": "x"}',
        '{"wall": "2026-01-01T00:00", "boot_id": "b", "mono_s": 1}',
    ):
        assert TrustedTime.from_meta(junk) is None  # the last: a naive time is no trusted time


def test_keeper_saves_synchronised_times_at_most_every_persist_interval() -> None:
    keeper = TrustedTimeKeeper(BOOT, None, persist_every_s=600)
    assert keeper.observe(at(T0, 1000.0)) is None  # not synchronised: nothing learnt
    assert keeper.latest is None
    first = keeper.observe(at(T0, 1000.0, synced=True))
    assert first == TrustedTime(T0, BOOT, 1000.0)
    later = at(T0 + timedelta(seconds=60), 1060.0, synced=True)
    assert keeper.observe(later) is None  # known at once, saved later
    assert keeper.latest == TrustedTime(later.wall, BOOT, 1060.0)
    assert keeper.observe(at(T0 + timedelta(seconds=601), 1601.0, synced=True)) is not None


def test_clock_policy_setting() -> None:
    default = parse_settings(MINIMAL, "t.toml")
    assert default.clock.unsynced_policy is UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED
    chosen = parse_settings(MINIMAL + '\n[clock]\nunsynced_policy = "deny_until_synced"\n', "t")
    assert chosen.clock.unsynced_policy is UnsyncedPolicy.DENY_UNTIL_SYNCED
