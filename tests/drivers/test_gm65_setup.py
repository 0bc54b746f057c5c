"""drivers.gm65_setup: read-modify-write configuration, driven by replies and time only."""

from __future__ import annotations

from drivers.frames import gm65
from drivers.gm65_setup import Gm65Setup

TAIL = gm65.SETTINGS["tail_cr"]
MODE = gm65.read_mode_setting(gm65.ReadMode.CONTINUOUS)


def value(byte: int) -> gm65.Reply:
    return gm65.Reply(status=0, data=bytes((byte,)))


def test_changes_are_written_then_saved() -> None:
    setup = Gm65Setup([TAIL, MODE], reply_timeout_s=0.5)
    assert setup.begin(0.0) == gm65.read_register_frame(0x0060)
    assert setup.on_reply(value(0x00), 0.1) == gm65.write_register_frame(0x0060, 0x01)
    assert setup.on_reply(value(0x00), 0.2) == gm65.read_register_frame(0x0000)
    assert setup.on_reply(value(0b1101_0100), 0.3) == gm65.write_register_frame(0, 0b1101_0110)
    assert setup.on_reply(value(0x00), 0.4) == gm65.SAVE_SETTINGS
    assert setup.active
    assert setup.on_reply(value(0x00), 0.5) is None
    assert setup.done
    assert setup.applied == ["tail_cr", "read_mode_continuous"]
    assert setup.failure == ""


def test_settings_already_in_place_are_neither_written_nor_saved() -> None:
    setup = Gm65Setup([TAIL], reply_timeout_s=0.5)
    setup.begin(0.0)
    assert setup.on_reply(value(0x81), 0.1) is None
    assert setup.done
    assert (setup.applied, setup.unchanged) == ([], ["tail_cr"])


def test_no_reply_within_the_timeout_ends_the_sequence() -> None:
    setup = Gm65Setup([TAIL, MODE], reply_timeout_s=0.5)
    setup.begin(10.0)
    setup.on_tick(10.4)
    assert setup.active
    setup.on_tick(10.5)
    assert setup.done
    assert setup.failure == "no reply to tail_cr within 0.5 s"


def test_a_refusal_ends_the_sequence() -> None:
    setup = Gm65Setup([TAIL], reply_timeout_s=0.5)
    setup.begin(0.0)
    assert setup.on_reply(gm65.Reply(status=1, data=b"\x00"), 0.1) is None
    assert setup.failure == "module refused tail_cr (status 1)"


def test_replies_after_the_end_are_ignored_and_begin_restarts() -> None:
    setup = Gm65Setup([TAIL], reply_timeout_s=0.5)
    assert setup.on_reply(value(0), 0.0) is None
    setup.begin(0.0)
    setup.on_tick(1.0)
    assert setup.begin(2.0) == gm65.read_register_frame(0x0060)
    assert setup.failure == ""


def test_nothing_to_do() -> None:
    setup = Gm65Setup([], reply_timeout_s=0.5)
    assert setup.begin(0.0) is None
    assert setup.done
