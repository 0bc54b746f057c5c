"""Honeywell scan engines in serial mode: software trigger commands (SYN T CR / SYN U CR).

The decoded text arrives as lines (drivers.frames.code_text), with the suffix configured on the
engine (CR by default on most serial configurations).
"""

from __future__ import annotations

from typing import Final

TRIGGER: Final = b"\x16T\r"  # 16 54 0D: start a scan
STOP: Final = b"\x16U\r"  # 16 55 0D: stop scanning
