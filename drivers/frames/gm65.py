"""GM65-family QR scanner command protocol (GM65, GM60-S, GM812), TTL UART 9600 8N1 by default.

Host → module: ``7E 00 TYPE LEN ADDR_H ADDR_L DATA… CRC_H CRC_L``; TYPE 07 read, 08 write, 09 save
to EEPROM; LEN counts the DATA bytes (00 means 256); CRC is CRC-16/XMODEM over TYPE..DATA, or the
literal ``AB CD`` which tells the module to skip the check.
Module → host: ``02 00 STATUS LEN DATA… CRC_H CRC_L``, STATUS 00 = success, CRC over STATUS..DATA.
A frame with a bad CRC gets no reply, and a command not complete 400 ms after ``7E 00`` is dropped,
so a frame must be written in one piece.

The decoded code text itself arrives unframed on the same line; see drivers.frames.code_text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Final

HEADER: Final = b"\x7e\x00"
NO_CHECK: Final = b"\xab\xcd"
REPLY_HEADER: Final = b"\x02\x00"


class CommandType(IntEnum):
    READ = 0x07
    WRITE = 0x08
    SAVE = 0x09


class ReadMode(IntEnum):
    """Register 0x0000 bits 1-0 (GM65 manual §8.5)."""

    MANUAL = 0b00  # the module's button (factory default)
    COMMAND = 0b01  # scan once per TRIGGER frame
    CONTINUOUS = 0b10
    SENSOR = 0b11  # scan when the image changes ("induction")


def crc16_xmodem(data: bytes) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0, no reflection), the checksum of GM65 frames."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def command_frame(command_type: int, address: int, data: bytes, *, checked: bool = True) -> bytes:
    """Build ``7E 00 TYPE LEN ADDR DATA CRC``; ``checked=False`` sends ``AB CD`` for the CRC."""
    if not 1 <= len(data) <= 256:
        raise ValueError("a GM65 command carries 1 to 256 data bytes")
    body = bytes((command_type, len(data) & 0xFF)) + address.to_bytes(2, "big") + data
    check = crc16_xmodem(body).to_bytes(2, "big") if checked else NO_CHECK
    return HEADER + body + check


def read_register_frame(address: int, count: int = 1) -> bytes:
    """Ask for ``count`` register bytes starting at ``address``."""
    return command_frame(CommandType.READ, address, bytes((count & 0xFF,)))


def write_register_frame(address: int, value: int) -> bytes:
    """Write one register byte."""
    return command_frame(CommandType.WRITE, address, bytes((value,)))


# 7E 00 09 01 00 00 00 DE C8: store the registers in EEPROM so they survive a power cycle.
SAVE_SETTINGS: Final = command_frame(CommandType.SAVE, 0x0000, b"\x00")
# Register 0x0002 = 01 starts one scan in command mode; the manual prints it with AB CD.
TRIGGER: Final = command_frame(CommandType.WRITE, 0x0002, b"\x01", checked=False)


@dataclass(frozen=True, slots=True)
class Command:
    """One host command as the module sees it (used by the simulator)."""

    command_type: int
    address: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """The module's answer: STATUS 00 and the register bytes read (or 00 for a write/save)."""

    status: int
    data: bytes

    @property
    def ok(self) -> bool:
        return self.status == 0


def encode_reply(data: bytes, status: int = 0) -> bytes:
    """Build ``02 00 STATUS LEN DATA CRC`` as the module sends it."""
    body = bytes((status, len(data) & 0xFF)) + data
    return REPLY_HEADER + body + crc16_xmodem(body).to_bytes(2, "big")


ACK: Final = encode_reply(b"\x00")  # 02 00 00 01 00 33 31


def decode_commands(buf: bytes) -> tuple[list[Command], bytes]:
    """Complete, valid host commands in ``buf`` and the tail that may still become one.

    Frames with a wrong CRC are skipped, as the module gives them no reply. Never raises.
    """
    commands: list[Command] = []
    pos = 0
    while True:
        start = buf.find(HEADER, pos)
        if start < 0:
            keep = 1 if buf.endswith(HEADER[:1]) and len(buf) > pos else 0
            return commands, buf[len(buf) - keep :]
        if len(buf) - start < 4:
            return commands, buf[start:]
        count = buf[start + 3] or 256
        end = start + 6 + count + 2
        if len(buf) < end:
            return commands, buf[start:]
        body = buf[start + 2 : end - 2]
        check = buf[end - 2 : end]
        if check == NO_CHECK or crc16_xmodem(body).to_bytes(2, "big") == check:
            address = int.from_bytes(body[2:4], "big")
            commands.append(Command(command_type=body[0], address=address, data=body[4:]))
            pos = end
        else:
            pos = start + 1


def take_reply(buf: bytes) -> tuple[Reply | None, int]:
    """The reply at the very start of ``buf`` and how many bytes it used; (None, 0) if none.

    Replies share the line with scanned text, so only a complete frame with a good CRC counts;
    use :func:`reply_pending` to tell whether the bytes may still grow into one.
    """
    if not buf.startswith(REPLY_HEADER) or len(buf) < 4:
        return None, 0
    count = buf[3] or 256
    end = 4 + count + 2
    if len(buf) < end:
        return None, 0
    body = buf[2 : end - 2]
    if crc16_xmodem(body).to_bytes(2, "big") != buf[end - 2 : end]:
        return None, 0
    return Reply(status=body[0], data=body[2:]), end


def reply_pending(buf: bytes) -> bool:
    """True when ``buf`` is the incomplete start of what may be a reply frame."""
    if len(buf) < 4:
        return REPLY_HEADER.startswith(buf[:2]) and len(buf) > 0
    return buf.startswith(REPLY_HEADER) and len(buf) < 4 + (buf[3] or 256) + 2


@dataclass(frozen=True, slots=True)
class RegisterSetting:
    """Bits to set in one register byte, applied read-modify-write so other bits stay."""

    name: str
    address: int
    mask: int
    value: int
    verified: bool

    def apply(self, current: int) -> int:
        return (current & ~self.mask & 0xFF) | (self.value & self.mask)


def read_mode_setting(mode: ReadMode) -> RegisterSetting:
    """Register 0x0000 bits 1-0 select the read mode (GM65 manual §8.5, zone bit list)."""
    return RegisterSetting(f"read_mode_{mode.name.lower()}", 0x0000, 0x03, int(mode), True)


# Verify on the first unit. Only register 0x0000 is confirmed by the GM65 manual (§8.5). The tail
# bit (0x0060 bit 0: append the tail, CR unless bits 6-5 choose CRLF/TAB) comes from public
# configuration code for GM65-family modules. No public source confirmed the output-encoding
# register: the 0x000D bits 3-2 entry below is a placeholder, so the scanner decodes UTF-8 first
# and falls back to GBK (the factory encoding) whatever this write achieves.
SETTINGS: Final[Mapping[str, RegisterSetting]] = MappingProxyType(
    {
        "tail_cr": RegisterSetting("tail_cr", 0x0060, 0x01, 0x01, verified=False),
        "utf8_output": RegisterSetting("utf8_output", 0x000D, 0x0C, 0x04, verified=False),
        "read_mode_command": read_mode_setting(ReadMode.COMMAND),
        "read_mode_continuous": read_mode_setting(ReadMode.CONTINUOUS),
        "read_mode_sensor": read_mode_setting(ReadMode.SENSOR),
    }
)

# What the scanner applies when start-up configuration is switched on without a list.
STARTUP_SETTINGS: Final = ("tail_cr", "utf8_output")
