"""drivers.frames.gm65: the manual's frames, CRC vectors, command and reply parsing, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.frames import gm65

H = bytes.fromhex


@pytest.mark.parametrize(
    ("body", "crc"),
    [
        ("09 01 00 00 00", 0xDEC8),  # save settings (hardware.md, manual §8.4)
        ("00 01 00", 0x3331),  # the reply 02 00 00 01 00 33 31
        ("07 01 00 0A 01", 0xEE8A),  # manual §8.2: read 0x000A
        ("00 01 3E", 0xE4AC),  # manual §8.2: its reply, value 3E
        ("08 01 00 0A 3E", 0x4CCF),  # manual §8.3: write 3E to 0x000A
        ("08 02 00 2A 39 01", 0xA7EA),  # GM812 sheet: set 9600 baud
        ("07 01 00 2A 02", 0xD80F),  # GM812 sheet: read the baud registers
    ],
)
def test_crc16_xmodem_reproduces_vendor_frames(body: str, crc: int) -> None:
    assert gm65.crc16_xmodem(H(body)) == crc


def test_fixed_frames() -> None:
    assert H("7E 00 09 01 00 00 00 DE C8") == gm65.SAVE_SETTINGS
    assert H("7E 00 08 01 00 02 01 AB CD") == gm65.TRIGGER
    assert H("02 00 00 01 00 33 31") == gm65.ACK


def test_register_frames_match_the_manual_examples() -> None:
    assert gm65.read_register_frame(0x000A) == H("7E 00 07 01 00 0A 01 EE 8A")
    assert gm65.write_register_frame(0x000A, 0x3E) == H("7E 00 08 01 00 0A 3E 4C CF")
    assert gm65.encode_reply(b"\x3e") == H("02 00 00 01 3E E4 AC")


def test_command_frame_rejects_empty_data() -> None:
    with pytest.raises(ValueError, match="1 to 256"):
        gm65.command_frame(gm65.CommandType.WRITE, 0, b"")


def test_decode_commands_accepts_crc_and_ab_cd_and_skips_bad_crc() -> None:
    stream = (
        b"\x55"
        + H("7E 00 08 01 00 0A 3E 11 22")  # bad CRC: the module ignores it
        + gm65.TRIGGER
        + gm65.read_register_frame(0x0060)
        + H("7E 00 08")
    )
    commands, rest = gm65.decode_commands(stream)
    assert commands == [
        gm65.Command(gm65.CommandType.WRITE, 0x0002, b"\x01"),
        gm65.Command(gm65.CommandType.READ, 0x0060, b"\x01"),
    ]
    assert rest == H("7E 00 08")


def test_take_reply() -> None:
    reply, used = gm65.take_reply(H("02 00 00 01 3E E4 AC") + b"TEXT")
    assert reply == gm65.Reply(status=0, data=b"\x3e")
    assert reply.ok
    assert used == 7


def test_incomplete_reply_is_pending_and_a_corrupt_one_is_not_a_reply() -> None:
    assert gm65.take_reply(H("02 00 00 01 3E")) == (None, 0)
    assert gm65.reply_pending(H("02 00 00 01 3E"))
    assert gm65.reply_pending(b"\x02")
    assert gm65.take_reply(H("02 00 00 01 3E 00 00")) == (None, 0)
    assert not gm65.reply_pending(H("02 00 00 01 3E 00 00"))
    assert not gm65.reply_pending(b"HELLO")
    assert not gm65.reply_pending(b"")


def test_register_setting_changes_only_its_bits() -> None:
    setting = gm65.read_mode_setting(gm65.ReadMode.COMMAND)
    assert setting.address == 0x0000
    assert setting.apply(0b1101_0100) == 0b1101_0101
    assert setting.apply(0b1101_0111) == 0b1101_0101
    assert gm65.SETTINGS["tail_cr"].apply(0b1000_0000) == 0b1000_0001


def test_every_unverified_setting_is_marked() -> None:
    assert {name for name, s in gm65.SETTINGS.items() if not s.verified} == {
        "tail_cr",
        "utf8_output",
    }
    assert set(gm65.STARTUP_SETTINGS) <= set(gm65.SETTINGS)


addresses = st.integers(min_value=0, max_value=0xFFFF)
payloads = st.binary(min_size=1, max_size=256)


@given(st.binary(max_size=300))
def test_decoders_never_raise(buf: bytes) -> None:
    commands, rest = gm65.decode_commands(buf)
    assert all(len(c.data) >= 1 for c in commands)
    assert len(rest) <= len(buf)
    reply, used = gm65.take_reply(buf)
    assert (reply is None) == (used == 0)
    gm65.reply_pending(buf)


@given(st.sampled_from(list(gm65.CommandType)), addresses, payloads, st.booleans(), st.binary())
def test_command_round_trip(
    command_type: gm65.CommandType, address: int, data: bytes, checked: bool, junk: bytes
) -> None:
    frame = gm65.command_frame(command_type, address, data, checked=checked)
    commands, rest = gm65.decode_commands(junk.replace(b"\x7e", b"") + frame)
    assert commands == [gm65.Command(command_type, address, data)]
    assert rest == b""


@given(payloads, st.integers(min_value=0, max_value=255))
def test_reply_round_trip(data: bytes, status: int) -> None:
    reply, used = gm65.take_reply(gm65.encode_reply(data, status) + b"tail")
    assert reply == gm65.Reply(status=status, data=data)
    assert used == 6 + len(data)
