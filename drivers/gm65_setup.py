"""Gm65Setup: the GM65 start-up register configuration as a small state machine.

Each setting is applied read-modify-write (``07`` read, then ``08`` write only if the bits
differ), because a register byte holds several settings and a blind write could, for example,
switch the output interface away from the UART. If anything changed the sequence ends with the
``09`` save, so the module keeps the settings across power cycles. The machine does no I/O and
reads no clock: the scanner feeds it replies and the time, and sends the frames it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum, auto

from drivers.frames import gm65
from drivers.frames.gm65 import RegisterSetting, Reply


class _Step(Enum):
    IDLE = auto()
    READING = auto()
    WRITING = auto()
    SAVING = auto()
    DONE = auto()


class Gm65Setup:
    """Drives the register reads, writes and the save; reports what it applied or why it stopped."""

    def __init__(self, settings: Sequence[RegisterSetting], reply_timeout_s: float = 0.5) -> None:
        self._settings = tuple(settings)
        self._reply_timeout_s = reply_timeout_s
        self._step = _Step.IDLE
        self._index = 0
        self._deadline_s = 0.0
        self.applied: list[str] = []
        self.unchanged: list[str] = []
        self.failure = ""

    @property
    def done(self) -> bool:
        return self._step is _Step.DONE

    @property
    def active(self) -> bool:
        return self._step not in (_Step.IDLE, _Step.DONE)

    def begin(self, now_s: float) -> bytes | None:
        """Start (again, after a reopen); returns the first frame to send, if any."""
        self._index = 0
        self.applied, self.unchanged, self.failure = [], [], ""
        return self._read_next(now_s)

    def on_reply(self, reply: Reply, now_s: float) -> bytes | None:
        """Feed a reply from the module; returns the next frame to send, if any."""
        if not self.active:
            return None
        if not reply.ok or not reply.data:
            self._fail(f"module refused {self._current_name()} (status {reply.status})")
            return None
        if self._step is _Step.READING:
            setting = self._settings[self._index]
            current = reply.data[0]
            wanted = setting.apply(current)
            if wanted == current:
                self.unchanged.append(setting.name)
                self._index += 1
                return self._read_next(now_s)
            self._wait(_Step.WRITING, now_s)
            return gm65.write_register_frame(setting.address, wanted)
        if self._step is _Step.WRITING:
            self.applied.append(self._settings[self._index].name)
            self._index += 1
            return self._read_next(now_s)
        self._step = _Step.DONE  # the save was acknowledged
        return None

    def on_tick(self, now_s: float) -> None:
        """A module that does not answer within the timeout ends the sequence (not a GM65?)."""
        if self.active and now_s >= self._deadline_s:
            self._fail(f"no reply to {self._current_name()} within {self._reply_timeout_s} s")

    def _read_next(self, now_s: float) -> bytes | None:
        if self._index < len(self._settings):
            self._wait(_Step.READING, now_s)
            return gm65.read_register_frame(self._settings[self._index].address)
        if self.applied:
            self._wait(_Step.SAVING, now_s)
            return gm65.SAVE_SETTINGS
        self._step = _Step.DONE
        return None

    def _wait(self, step: _Step, now_s: float) -> None:
        self._step = step
        self._deadline_s = now_s + self._reply_timeout_s

    def _fail(self, reason: str) -> None:
        self.failure = reason
        self._step = _Step.DONE

    def _current_name(self) -> str:
        if self._step is _Step.SAVING:
            return "save"
        return self._settings[self._index].name
