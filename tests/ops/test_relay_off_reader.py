"""`kakou relay-off` reads the outputs without pydantic, yet takes exactly what the settings take:
plain values on its own, anything else through the settings' models."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, get_args

import pytest
from gpiozero.pins.mock import MockFactory
from hypothesis import given
from hypothesis import strategies as st

from edge.app import pins
from edge.app.outputs import validate_outputs
from tests.ops.conftest import free_port, write_sim_config

HEAVY = ("pydantic", "fastapi", "starlette", "jinja2", "sqlite_utils", "cv2", "numpy", "paho")


def test_relay_off_releases_the_relay_without_loading_pydantic_the_console_or_the_camera(
    tmp_path: Path,
) -> None:
    config = write_sim_config(
        tmp_path / "kakou.toml", state_dir=tmp_path / "state", port=free_port()
    )
    probe = (
        "import json, sys\n"
        "from edge.app.cli import main\n"
        "try:\n"
        f"    main(['relay-off', '--config', {str(config)!r}])\n"
        "except SystemExit as exit:\n"
        "    status = exit.code\n"
        f"print(json.dumps([status, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    *released, last = result.stdout.splitlines()
    assert released == ["in-1: relay on GPIO 17 released (energised when high)"]
    assert json.loads(last) == [0, []]


def test_a_value_only_the_settings_take_as_it_is_still_releases_the_relay(
    tmp_path: Path, mock_factory: MockFactory
) -> None:
    """A pin written as a string and a board's polarity as "off" are valid settings (pydantic
    coerces them): relay-off must honour them too, not leave that relay energised."""
    config = tmp_path / "kakou.toml"
    config.write_text(
        '[[lanes]]\nid = "in-1"\nrelay = { pin = "5", active_high = "off" }\n'
        '[gpio]\npin_factory = "mock"\n'
    )
    outputs = pins.read_outputs(config)
    assert outputs.lanes[0].relay == pins.RelayOutput(pin=5, active_high=False)

    factory_pin = mock_factory.pin(5)
    factory_pin.function = "output"
    factory_pin.state = False  # active low: energised
    pins.release_outputs(outputs, pin_factory=mock_factory)
    assert mock_factory.pin(5).state  # released: high


def test_a_wrong_pin_is_reported_with_the_file_and_the_field(tmp_path: Path) -> None:
    config = tmp_path / "kakou.toml"
    config.write_text('[[lanes]]\nid = "in-1"\nrelay = { pin = 99 }\n')
    with pytest.raises(
        ValueError, match=r"kakou\.toml: lanes\.0\.relay\.pin: .*less than or equal"
    ):
        pins.read_outputs(config)


def test_a_typo_beside_the_relay_pin_does_not_keep_the_relay_energised(
    tmp_path: Path, mock_factory: MockFactory
) -> None:
    """`kakou run` refuses the file, but the relay it last drove must still be released."""
    config = tmp_path / "kakou.toml"
    config.write_text('[[lanes]]\nid = "in-1"\nrelay = { pin = 17, open_secs = 3 }\n')
    outputs = pins.read_outputs(config)
    mock_factory.pin(17).function = "output"
    mock_factory.pin(17).state = True
    assert pins.release_outputs(outputs, pin_factory=mock_factory) == [
        "in-1: relay on GPIO 17 released (energised when high)"
    ]
    assert not mock_factory.pin(17).state


def test_the_pin_factory_table_and_the_settings_name_the_same_factories() -> None:
    assert set(pins.PIN_FACTORIES) == set(get_args(pins.PinFactoryName))


# What a TOML file can hold where a pin, a polarity, a name or a table is expected.
TOML_VALUES = st.one_of(
    st.sampled_from([-1, 0, 5, 17, 53, 54, 99, True, False, 17.0, 5.5, 0.0, 1.0]),
    st.sampled_from(["17", " 17", "1_7", "on", "off", "yes", "x", *sorted(pins.PIN_FACTORIES)]),
    st.integers(min_value=-3, max_value=60),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["pin", "green_pin", "typo"]), st.integers(0, 3), max_size=2),
)
# Where: (section, key), a lane's table and key, or the whole lanes list.
PLACES = st.sampled_from(
    [
        ("relay", "pin"),
        ("relay", "active_high"),
        ("indicator", "green_pin"),
        ("indicator", "red_pin"),
        ("indicator", "buzzer_pin"),
        ("lane", "id"),
        ("lane", "relay"),
        ("lane", "indicator"),
        ("gpio", "pin_factory"),
        ("document", "gpio"),
        ("document", "lanes"),
    ]
)


def a_valid_document() -> dict[str, Any]:
    return {
        "site": {"community": "demo"},
        "lanes": [
            {"id": "in-1", "relay": {"pin": 17, "open_s": 3.0}, "indicator": {}},
            {"id": "out-1", "relay": {"pin": 5, "active_high": False}},
        ],
        "gpio": {"pin_factory": "mock"},
    }


@given(st.lists(st.tuples(st.integers(0, 1), PLACES, TOML_VALUES), max_size=2))
def test_the_plain_reader_agrees_with_the_settings_models_whenever_it_answers(
    changes: list[tuple[int, tuple[str, str], object]],
) -> None:
    """Plain values are read here, the rest by the settings' models: the two never disagree, and
    what the models refuse the plain reader leaves to them, unless it is a key it never reads."""
    data = a_valid_document()
    for lane_index, (where, key), value in changes:
        lanes = data["lanes"]
        lane = lanes[lane_index] if isinstance(lanes, list) and lane_index < len(lanes) else {}
        if not isinstance(lane, dict):
            continue
        table = {
            "relay": lane.get("relay"),
            "indicator": lane.get("indicator"),
            "lane": lane,
            "gpio": data["gpio"],
            "document": data,
        }[where]
        if isinstance(table, dict):
            table[key] = value
    plain = pins.plain_outputs(data)
    try:
        validated: pins.GateOutputs | None = validate_outputs(data, "kakou.toml")
    except ValueError as exc:
        validated = None
        problems = str(exc).removeprefix("kakou.toml: ").split("; ")
    if validated is not None:
        assert plain in (None, validated)
    elif plain is not None:
        # Only a key it does not read, which the settings refuse (a typo beside a pin).
        assert all("Extra inputs are not permitted" in problem for problem in problems)
    if not changes:
        assert plain is not None


def test_the_example_configurations_are_read_without_the_settings_models() -> None:
    """The files gates start from hold plain values: relay-off reads them on its own."""
    for text in (
        (Path(__file__).parents[2] / "config" / "kakou.example.toml").read_text(encoding="utf-8"),
        pins.default_config_text(),
    ):
        data = tomllib.loads(text)
        plain = pins.plain_outputs(data)
        assert plain is not None
        assert plain == validate_outputs(data, "example")
