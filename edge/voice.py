"""Voice prompts on the gate's speaker: each step and verdict spoken to the resident.

Many residents are elderly and do not read a screen in the rain; a spoken "请测量体温" or
"体温正常，请通行" works for them. The lane publishes prompts on the bus; this listener turns the
ones a resident needs into a phrase and plays it with a configured command (espeak-ng by
default, or any player) on its own thread. A slow or missing speaker never slows the lane: the
queue holds the newest phrases only, and a failed command is logged, never raised.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import subprocess
from collections import deque
from collections.abc import Callable, Sequence

from pydantic import Field, model_validator

from drivers.threads import Worker
from edge.bus import Prompted
from edge.configmodel import ConfigModel

log = logging.getLogger(__name__)

QUEUE_SIZE = 2  # a stale prompt is worse than none: the resident has moved on
SAY_TIMEOUT_S = 10.0
TEXT_PLACEHOLDER = "{text}"

# Prompt codes the rule publishes (edge.rule Prompt) → what the resident hears.
PHRASES: dict[str, tuple[str, str]] = {
    "answer_questions": ("请回答工作人员的问题", "Please answer the guard's questions"),
    "measure": ("请测量体温", "Please take your temperature"),
    "measure_next": ("请下一位测量体温", "Next person, please take your temperature"),
    "remeasure": ("请重新测量体温", "Please measure again"),
    "fever_recheck": ("体温偏高，请稍候复测", "Temperature high, please wait to measure again"),
    "remeasure_now": ("请复测体温", "Please take your temperature again"),
    "passed": ("体温正常，请通行", "Temperature normal, please pass"),
    "passed_unmeasured": ("请通行", "Please pass"),
    "overridden": ("请通行", "Please pass"),
    "fever": ("体温异常，请在旁等候", "Temperature high, please wait aside"),
    "denied": ("禁止通行，请联系值守人员", "Entry refused, please see the guard"),
}

Runner = Callable[[list[str]], None]


class VoiceSettings(ConfigModel):
    """Spoken prompts on the gate's speaker for residents who do not read the screen."""

    enabled: bool = False
    """Speak each step and verdict."""
    command: list[str] = Field(
        default=["espeak-ng", "-v", "cmn", "-s", "150", "{text}"], min_length=1
    )
    """Program and arguments that say one phrase; '{text}' is replaced by it. espeak-ng speaks
    Mandarin as 'cmn'; any player of pre-recorded files works too.
    """
    english: bool = False
    """Say each phrase in English after Chinese."""
    lanes: list[str] = Field(default_factory=list)
    """Lanes whose prompts are spoken; empty: every lane."""

    @model_validator(mode="after")
    def _has_text(self) -> VoiceSettings:
        if not any("{text}" in part for part in self.command):
            raise ValueError("voice command needs a '{text}' argument")
        return self


def phrase_for(event: Prompted, *, english: bool = False) -> str | None:
    """The words for a prompt, or None when it is nothing a resident needs to hear."""
    words = PHRASES.get(event.code)
    if words is None:
        return None
    zh, en = words
    return f"{zh}。{en}" if english else zh


def run_command(argv: list[str]) -> None:
    """Play one phrase; the command's own failure is the caller's to log."""
    # The program comes from the gate's own configuration, the text from PHRASES above.
    subprocess.run(argv, check=True, capture_output=True, timeout=SAY_TIMEOUT_S)  # noqa: S603


class Speaker:
    """Speaks lane prompts through ``command`` (``{text}`` is replaced by the phrase)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        lanes: Sequence[str] = (),
        english: bool = False,
        runner: Runner = run_command,
    ) -> None:
        if not command or not any(TEXT_PLACEHOLDER in part for part in command):
            raise ValueError(f"the voice command needs a {TEXT_PLACEHOLDER} argument")
        self._command = list(command)
        self._lanes = frozenset(lanes)
        self._english = english
        self._runner = runner
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._worker = Worker("voice", self._run)
        self.spoken: deque[str] = deque(maxlen=50)
        self.failures = 0

    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        if not self._worker.alive:
            return
        self._drop_oldest()
        self._queue.put(None)
        self._worker.stop(timeout_s)

    @property
    def alive(self) -> bool:
        return self._worker.alive

    def on_event(self, event: Prompted) -> None:
        """Bus listener for prompts: never blocks the lane that published."""
        if self._lanes and event.lane not in self._lanes:
            return
        text = phrase_for(event, english=self._english)
        if text is None:
            return
        try:
            self._queue.put_nowait(text)
        except queue.Full:
            self._drop_oldest()
            # If another publisher filled it again meanwhile, this phrase is the stale one.
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(text)

    def _drop_oldest(self) -> None:
        with contextlib.suppress(queue.Empty):
            self._queue.get_nowait()

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            argv = [part.replace(TEXT_PLACEHOLDER, text) for part in self._command]
            try:
                self._runner(argv)
            except (OSError, subprocess.SubprocessError) as exc:
                self.failures += 1
                log.warning("voice prompt %r not played: %s", text, exc)
                continue
            self.spoken.append(text)
