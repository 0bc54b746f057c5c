"""Voice prompts: the phrases, real Mandarin speech from espeak-ng, and a lane that never waits."""

from __future__ import annotations

import inspect
import re
import shutil
import threading
import time
import wave
from pathlib import Path
from typing import Any

import pytest

import edge.rule
from edge.app.boot import build_gate
from edge.app.settings import Settings, load_settings
from edge.bus import Prompted
from edge.model import Outcome
from edge.voice import PHRASES, Speaker, phrase_for
from tests.drivers.waiting import wait_until
from tests.tokens import sim_token

ESPEAK = shutil.which("espeak-ng")


def prompt(code: str, lane: str = "in-1") -> Prompted:
    return Prompted(lane=lane, step="measure", code=code)


def recording_command(folder: Path) -> list[str]:
    """espeak-ng for real, writing each phrase to a numbered WAV instead of the speaker."""
    assert ESPEAK is not None, "install espeak-ng (apt-get install espeak-ng)"
    script = 'n=$(ls "$2" | wc -l); exec espeak-ng -v cmn -w "$2/$n.wav" "$1"'
    return ["sh", "-c", script, "say", "{text}", str(folder)]


def test_phrases_for_what_a_resident_needs_to_hear() -> None:
    assert phrase_for(prompt("measure")) == "请测量体温"
    assert phrase_for(prompt("passed")) == "体温正常，请通行"
    assert phrase_for(prompt("passed_unmeasured")) == "请通行"  # an exit: nothing measured
    assert (
        phrase_for(prompt("passed"), english=True)
        == "体温正常，请通行。Temperature normal, please pass"
    )
    assert phrase_for(prompt("no_such_code")) is None


def test_every_phrase_answers_a_code_the_rule_really_prompts() -> None:
    """A phrase keyed by a misspelt code would never be heard: each key must be a code the
    rule puts in a Prompt (read from its source), or an outcome it prompts with."""
    source = inspect.getsource(edge.rule)
    prompted = set(re.findall(r'Prompt\(\s*(?:Step\.\w+|visit\.step),\s*"(\w+)"', source))
    prompted |= {outcome.value for outcome in Outcome} | {edge.rule.PASSED_UNMEASURED}
    assert set(PHRASES) <= prompted, set(PHRASES) - prompted
    assert {"measure", "measure_next", "fever_recheck", "denied"} <= prompted


def test_espeak_speaks_each_prompt_in_mandarin(tmp_path: Path) -> None:
    speaker = Speaker(recording_command(tmp_path))
    speaker.start()
    try:
        speaker.on_event(prompt("measure"))
        assert wait_until(lambda: len(speaker.spoken) == 1, 15)
        speaker.on_event(prompt("passed"))
        assert wait_until(lambda: len(speaker.spoken) == 2, 15)
    finally:
        speaker.stop()
    assert list(speaker.spoken) == ["请测量体温", "体温正常，请通行"]
    for wav_path in sorted(tmp_path.glob("*.wav")):
        with wave.open(str(wav_path)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert 0.5 < seconds < 6, (wav_path, seconds)  # real speech, not an empty file


def test_a_slow_speaker_never_holds_up_the_lane_and_says_the_newest_only() -> None:
    release = threading.Event()
    said: list[str] = []

    def slow(argv: list[str]) -> None:
        release.wait(5)
        said.append(argv[-1])

    speaker = Speaker(["say", "{text}"], runner=slow)
    speaker.start()
    try:
        speaker.on_event(prompt("measure"))  # being said, stuck
        assert wait_until(lambda: speaker._queue.empty(), 5)
        started = time.monotonic()
        for code in ("remeasure", "fever_recheck", "remeasure_now", "fever"):
            speaker.on_event(prompt(code))
        assert time.monotonic() - started < 0.1  # the lane's thread returned at once
        release.set()
        assert wait_until(lambda: len(said) == 3, 5)
    finally:
        speaker.stop()
    # The first, then only the two newest: the old prompts were dropped.
    assert said == ["请测量体温", "请复测体温", "体温异常，请在旁等候"]


def test_a_broken_command_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    speaker = Speaker(["/nonexistent/player", "{text}"])
    speaker.start()
    try:
        speaker.on_event(prompt("measure"))
        assert wait_until(lambda: speaker.failures == 1, 5)
        assert speaker.alive
    finally:
        speaker.stop()
    assert "not played" in caplog.text


def test_only_the_chosen_lanes_are_spoken() -> None:
    said: list[str] = []
    speaker = Speaker(["say", "{text}"], lanes=["in-1"], runner=lambda argv: said.append(argv[-1]))
    speaker.start()
    try:
        speaker.on_event(prompt("measure", lane="out-1"))
        speaker.on_event(prompt("passed", lane="in-1"))
        assert wait_until(lambda: said == ["体温正常，请通行"], 5)
    finally:
        speaker.stop()


def test_a_command_without_the_text_is_refused() -> None:
    with pytest.raises(ValueError, match="text"):
        Speaker(["espeak-ng"])
    data: dict[str, Any] = load_settings(None).model_dump(mode="json")
    data["voice"] = {"enabled": True, "command": ["aplay", "ding.wav"]}
    with pytest.raises(ValueError, match="text"):
        Settings.model_validate(data)


def test_a_gate_with_voice_on_speaks_a_whole_visit(tmp_path: Path) -> None:
    data = load_settings(None).model_dump(mode="json")
    data["site"]["state_dir"] = str(tmp_path / "state")
    data["console"]["enabled"] = False
    spoken = tmp_path / "spoken"
    spoken.mkdir()
    data["voice"] = {"enabled": True, "command": recording_command(spoken)}
    gate = build_gate(Settings.model_validate(data))
    try:
        assert gate.simulation is not None
        token = sim_token(gate.settings, "R-1", holder="王*", unit="1-1-101", valid_days=(-1, 1))
        gate.simulation.temperature("in-1", [36.6], 36.6)
        gate.simulation.present("in-1", token.encode())
        assert wait_until(lambda: len(list(spoken.glob("*.wav"))) >= 2, 20)
    finally:
        gate.stop()
    assert len(list(spoken.glob("*.wav"))) >= 2  # "请测量体温", then "体温正常，请通行"
