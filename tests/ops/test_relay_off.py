"""`kakou relay-off` (the unit's ExecStopPost=): every relay left energised by a dead process is
driven released, honouring active_high, on gpiozero's MockFactory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from gpiozero import DigitalOutputDevice
from gpiozero.pins.mock import MockFactory

from edge.app import pins
from edge.app.cli import main
from edge.app.settings import Settings
from tests.ops.conftest import KAKOU, free_port, write_sim_config
from tests.settings import sim_settings

OUT_LANE = {
    "id": "out-1",
    "direction": "out",
    # A relay board that energises on a low input: released means HIGH.
    "relay": {"pin": 5, "active_high": False},
    "indicator": {"green_pin": 6, "red_pin": 13, "buzzer_pin": 19},
}


def two_lanes(tmp_path: Path) -> Settings:
    base = sim_settings(tmp_path / "state").model_dump(mode="json")
    return sim_settings(tmp_path / "state", lanes=[base["lanes"][0], OUT_LANE])


def left_energised(factory: MockFactory, pin: int, level: bool) -> None:
    """What a killed process leaves behind: an output line held at the energising level."""
    mock_pin = factory.pin(pin)
    mock_pin.function = "output"
    mock_pin.state = level
    mock_pin.clear_states()


def assert_states(factory: MockFactory, pin: int, expected: list[bool]) -> None:
    """gpiozero's assert_states passes silently on a shorter history: check the length too."""
    mock_pin = factory.pin(pin)
    assert len(mock_pin.states) == len(expected), mock_pin.states
    mock_pin.assert_states(expected)


def test_relay_off_releases_relays_left_energised(
    tmp_path: Path, mock_factory: MockFactory
) -> None:
    settings = two_lanes(tmp_path)
    left_energised(mock_factory, 17, True)  # active high: energised = high
    left_energised(mock_factory, 5, False)  # active low: energised = low
    left_energised(mock_factory, 23, True)  # the buzzer, stuck sounding

    lines = pins.release_outputs(settings, pin_factory=mock_factory)

    assert_states(mock_factory, 17, [True, False])
    assert_states(mock_factory, 5, [False, True])
    assert_states(mock_factory, 23, [True, False])
    assert lines == [
        "in-1: relay on GPIO 17 released (energised when high)",
        "out-1: relay on GPIO 5 released (energised when low)",
    ]


def test_a_relay_already_released_stays_released(tmp_path: Path, mock_factory: MockFactory) -> None:
    pins.release_outputs(two_lanes(tmp_path), pin_factory=mock_factory)
    assert not mock_factory.pin(17).state
    assert mock_factory.pin(5).state
    assert not any(state.state for state in mock_factory.pin(17).states)


def test_one_failing_pin_does_not_stop_the_other_lanes(
    tmp_path: Path, mock_factory: MockFactory
) -> None:
    left_energised(mock_factory, 5, False)
    holder = DigitalOutputDevice(17, pin_factory=mock_factory)  # pin 17 is taken
    try:
        with pytest.raises(RuntimeError, match="in-1: relay on GPIO 17 NOT released") as caught:
            pins.release_outputs(two_lanes(tmp_path), pin_factory=mock_factory)
    finally:
        holder.close()
    assert "out-1: relay on GPIO 5 released" in str(caught.value)
    assert mock_factory.pin(5).state  # the other lane's relay was still released


def test_relay_off_command_exits_0_and_says_what_it_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mock_factory: MockFactory
) -> None:
    monkeypatch.setattr(pins, "make_pin_factory", lambda name: mock_factory)
    left_energised(mock_factory, 17, True)
    config = write_sim_config(tmp_path / "kakou.toml", state_dir=tmp_path / "state", port=8080)
    result = CliRunner().invoke(main, ["relay-off", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output == "in-1: relay on GPIO 17 released (energised when high)\n"
    assert_states(mock_factory, 17, [True, False])


def test_relay_off_command_exits_1_when_a_relay_could_not_be_driven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mock_factory: MockFactory
) -> None:
    monkeypatch.setattr(pins, "make_pin_factory", lambda name: mock_factory)
    config = write_sim_config(tmp_path / "kakou.toml", state_dir=tmp_path / "state", port=8080)
    holder = DigitalOutputDevice(17, pin_factory=mock_factory)
    try:
        result = CliRunner().invoke(main, ["relay-off", "--config", str(config)])
    finally:
        holder.close()
    assert result.exit_code == 1
    assert "NOT released" in result.output


def test_relay_off_with_a_broken_configuration_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "kakou.toml"
    config.write_text("[site]\ncommunity = 'x'\n")
    result = subprocess.run(
        [KAKOU, "relay-off", "--config", config], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "cannot read the outputs" in result.stderr
    assert "lanes" in result.stderr


def test_a_mistake_elsewhere_in_the_configuration_never_keeps_a_relay_energised(
    tmp_path: Path,
) -> None:
    """relay-off reads [gpio] and the lanes' outputs only: a typo in [policy] or an unknown
    section (which `kakou run` refuses) must not stop it releasing the locks."""
    config = write_sim_config(
        tmp_path / "kakou.toml", state_dir=tmp_path / "state", port=free_port()
    )
    config.write_text(config.read_text() + "\n[policy.quota]\nexits = 'many'\n[typo]\nx = 1\n")
    result = subprocess.run(
        [KAKOU, "relay-off", "--config", config], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "relay on GPIO 17 released" in result.stdout


def test_relay_off_runs_as_its_own_process(tmp_path: Path) -> None:
    """What systemd runs: a fresh process that builds the configured factory from scratch."""
    config = write_sim_config(
        tmp_path / "kakou.toml", state_dir=tmp_path / "state", port=free_port()
    )
    result = subprocess.run(
        [KAKOU, "relay-off", "--config", config],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "in-1: relay on GPIO 17 released (energised when high)\n"
