"""What each command loads: `kakou relay-off` (systemd's ExecStopPost=, after every stop and
crash) and `kakou --version` stay small, and the camera stack loads only for a camera lane."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CAMERA_STACK = ("cv2", "zxingcpp", "pyzbar")
SERVING_STACK = ("fastapi", "uvicorn", "paho", "edge.console.app", "sync.runtime", "edge.app.boot")


def loaded_after(code: str, watch: tuple[str, ...]) -> list[str]:
    """Which of ``watch`` a fresh interpreter has imported after running ``code``."""
    probe = (
        f"import json, sys\n{code}\nprint(json.dumps([m for m in {watch!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(result.stdout.splitlines()[-1]))


def test_the_kakou_command_imports_no_sub_command_to_start() -> None:
    code = "from edge.app.cli import main"
    assert loaded_after(code, ("pydantic", "sqlite_utils", *SERVING_STACK, *CAMERA_STACK)) == []


def test_relay_off_loads_neither_the_console_sync_nor_the_camera() -> None:
    code = (
        "from edge.app.cli import main\n"
        "import click\n"
        "with click.Context(main) as ctx: main.get_command(ctx, 'relay-off')\n"
        "import edge.app.pins"
    )
    assert loaded_after(code, (*SERVING_STACK, *CAMERA_STACK)) == []


@pytest.mark.parametrize("with_camera", [False, True], ids=["serial-scanner", "camera-lane"])
def test_the_camera_stack_loads_only_for_a_camera_lane(with_camera: bool) -> None:
    code = (
        "from edge.app import boot\n"
        "from tests.settings import sim_settings\n"
        "from pathlib import Path\n"
        "import tempfile\n"
        "lane = sim_settings(Path(tempfile.mkdtemp())).lanes[0]\n"
    )
    if with_camera:
        code += (
            "from edge.app.settings import LaneSettings\n"
            "data = lane.model_dump(mode='json')\n"
            "data['camera'] = {'kind': 'camera', 'source': tempfile.mkdtemp()}\n"
            "lane = LaneSettings.model_validate(data)\n"
        )
    code += "boot.build_camera(lane, sim_settings(Path(tempfile.mkdtemp())), save_frames=False)"
    assert loaded_after(code, CAMERA_STACK) == (list(CAMERA_STACK) if with_camera else [])
