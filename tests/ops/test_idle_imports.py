"""An idle gate without a camera holds only what it serves with: the PDF and QR image stack
(reportlab, qrcode, Pillow: 7 MB) loads when a pass is shown or printed, the camera stack never
(bench/bench_idle_rss.py measures the memory)."""

from __future__ import annotations

import json
import subprocess
import sys

# Not numpy: sqlite-utils imports it whenever it is installed (as with the camera extra).
ON_DEMAND = ("reportlab", "qrcode", "PIL", "openpyxl", "cv2", "zxingcpp", "pyzbar", "psycopg")
SERVING = ("fastapi", "jinja2", "edge.console.app", "edge.lane")

BUILD_AND_SERVE = """
import json, sys, tempfile
from pathlib import Path
from edge.app import boot
from edge.console.app import create_app
from tests.settings import sim_settings
settings = sim_settings(Path(tempfile.mkdtemp()))
gate = boot.build_gate(settings)
try:
    app = create_app(gate.console_context(), settings.console)
    loaded = [m for m in sys.argv[1:] if m in sys.modules]
finally:
    gate.stop()
print(json.dumps(loaded))
"""


def test_an_idle_gate_loads_no_pdf_qr_image_or_camera_stack() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BUILD_AND_SERVE, *ON_DEMAND, *SERVING],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded == list(SERVING)  # the gate and its console were built, and nothing more
