"""Configuration: the shipped files load, and every bad field is named with its file and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.app.settings import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
[site]
community = "hxy"
gate = "north"

[[lanes]]
id = "in-1"
scanner = { kind = "serial", url = "/dev/ttyUSB0" }
thermometer = { kind = "none" }
"""


def test_embedded_default_is_a_simulated_lane() -> None:
    settings = load_settings(None)
    assert settings.sim.enabled
    assert settings.gpio.pin_factory == "mock"
    assert [lane.scanner.kind for lane in settings.lanes] == ["sim"]
    assert settings.policy.fever.threshold_c == 37.3


def test_example_config_loads_and_is_a_real_gate() -> None:
    settings = load_settings(ROOT / "config" / "kakou.example.toml")
    assert not settings.sim.enabled
    assert settings.lanes[0].scanner.kind == "serial"
    assert settings.policy.fever.recheck_after_s >= 60


def test_minimal_config_takes_safe_defaults() -> None:
    settings = parse_settings(MINIMAL, "gate.toml")
    assert settings.lanes[0].relay.active_high is True
    assert settings.gpio.pin_factory == "lgpio"
    assert settings.console.host == "127.0.0.1"


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, "gate.toml")
    return info.value.problems


def test_every_problem_is_listed_with_file_and_field() -> None:
    text = MINIMAL.replace('gate = "north"', 'gate = "north gate!"') + (
        "\n[policy.fever]\nthreshold_c = 45\n[console]\nport = 99999\n"
    )
    problems = _problems(text)
    assert len(problems) == 3
    assert all(p.startswith("gate.toml: ") for p in problems)
    joined = "\n".join(problems)
    assert "site.gate" in joined
    assert "policy.fever.threshold_c" in joined
    assert "console.port" in joined


def test_unknown_key_is_refused() -> None:
    problems = _problems(MINIMAL + "\n[console]\nprot = 8080\n")
    assert "gate.toml: console.prot: unknown key in console; did you mean 'port'?" in problems


def test_bad_toml_names_the_line() -> None:
    problems = _problems("[site\ncommunity = 1")
    assert problems[0].startswith("gate.toml: not valid TOML")
    assert "line 1" in problems[0]


def test_missing_device_url_names_the_lane() -> None:
    problems = _problems(MINIMAL.replace(', url = "/dev/ttyUSB0"', ""))
    assert "gate.toml: lanes[0].scanner.url: required, but missing" in problems


def test_pins_used_twice_are_refused() -> None:
    text = (
        MINIMAL
        + '\n[[lanes]]\nid = "out-1"\ndirection = "out"\n'
        + ('scanner = { kind = "serial", url = "/dev/ttyUSB1" }\nthermometer = { kind = "none" }\n')
    )
    problems = _problems(text)
    assert any("GPIO 17 is used twice" in p for p in problems)


def test_every_cross_section_problem_is_reported_at_once_a_line_each() -> None:
    """A duplicate lane id, a pin used twice and simulated devices on real pins: all three, not
    the first only, so a volunteer fixes the file in one pass."""
    text = (
        MINIMAL
        + '\n[[lanes]]\nid = "in-1"\n'
        + 'scanner = { kind = "sim" }\nthermometer = { kind = "none" }\nrelay = { pin = 5 }\n'
        + "indicator = { green_pin = 6, red_pin = 13, buzzer_pin = 17 }\n"
    )
    problems = _problems(text)
    assert "gate.toml: lanes: lane id in-1 used more than once" in problems
    assert "gate.toml: lanes[1]: GPIO 17 is used twice (in-1 and in-1)" in problems
    assert "gate.toml: sim.enabled: simulated devices need [sim] enabled = true" in problems


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        (
            "[policy.timeouts]\nhold_sec = 30\n",
            "policy.timeouts.hold_sec: unknown key in policy.timeouts; did you mean 'hold_s'?",
        ),
        ("[console]\nport = 0\n", "console.port: must be at least 1, got 0"),
        ("[console]\nport = 'x'\n", "console.port: must be a whole number, got 'x'"),
        (
            "[gpio]\npin_factory = 'gpiod'\n",
            "gpio.pin_factory: 'gpiod' is not one of: mock, lgpio, rpigpio, pigpio or native",
        ),
        (
            "[clock]\nassume_synced = 'yes please'\n",
            "clock.assume_synced: must be true or false, got 'yes please'",
        ),
    ],
)
def test_problems_are_in_the_operators_words(snippet: str, problem: str) -> None:
    problems = _problems(MINIMAL + "\n" + snippet)
    assert f"gate.toml: {problem}" in problems
    assert not any("Input should" in p or "Extra inputs" in p for p in problems)


def test_a_lanes_pins_and_camera_timers_are_checked() -> None:
    lane = MINIMAL + (
        "door = { contact_pin = 54 }\n"
        'camera = { kind = "camera", source = "0", stale_after_s = 9, down_after_s = 3 }\n'
    )
    problems = _problems(lane)
    assert "gate.toml: lanes[0].door.contact_pin: must be at most 53, got 54" in problems
    assert "gate.toml: lanes[0].camera: down_after_s must be at least stale_after_s" in problems


def test_a_scanner_of_an_unknown_kind_names_the_kinds_there_are() -> None:
    problems = _problems(MINIMAL.replace('kind = "serial", url = "/dev/ttyUSB0"', 'kind = "gm65"'))
    assert "gate.toml: lanes[0].scanner: kind 'gm65' is not one of: sim, serial" in problems


def test_simulation_never_on_real_pins() -> None:
    text = MINIMAL + "\n[sim]\nenabled = true\n"
    assert any("pin_factory" in p for p in _problems(text))


def test_policy_error_names_the_question() -> None:
    text = MINIMAL + '\n[policy.kinds.visitor]\nquestions = ["nope"]\n'
    assert any("unknown questions ['nope']" in p for p in _problems(text))


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "missing.toml")
    assert "cannot read" in info.value.problems[0]
