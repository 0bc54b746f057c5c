"""systemd/compile_used.py, which install.sh runs in a new release's venv after installing with
pip --no-compile: every module the gate imports gets its bytecode, nothing else does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ops.conftest import REPO, write_file

PROBE = """
import importlib.util, json, sys
from pathlib import Path
site = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(site))
import used_dependency  # what a gate module would have imported
spec = importlib.util.spec_from_file_location("compile_used", sys.argv[2])
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)
tool.WHOLE = ("served_package",)  # as uvicorn: picks its parts by name only when it serves
compiled, missing = tool.compile_used(site)
print(json.dumps({"compiled": compiled, "missing": missing, "loaded": sorted(sys.modules)}))
"""


def test_what_is_imported_is_compiled_and_nothing_else(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    write_file(site / "used_dependency.py", "VALUE = 1\n")
    write_file(site / "unused_dependency.py", "VALUE = 2\n")
    served = site / "served_package"
    write_file(served / "__init__.py", "")
    write_file(served / "protocols" / "h11_impl.py", "VALUE = 3\n")

    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(site), str(REPO / "systemd" / "compile_used.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(result.stdout.splitlines()[-1])

    cached = sorted(path.name.split(".")[0] for path in (site / "__pycache__").iterdir())
    assert cached == ["used_dependency"]
    # A package of WHOLE is compiled with the modules nothing imported yet.
    assert [
        path.name.split(".")[0] for path in (served / "protocols" / "__pycache__").iterdir()
    ] == ["h11_impl"]
    assert report["compiled"] >= 1
    # Every command's modules and the configured pin factories were imported, so their
    # dependencies are compiled; the command's __main__ was not run.
    loaded = set(report["loaded"])
    assert {"edge.app.cli.ops", "edge.app.boot", "gpiozero.pins.lgpio", "fastapi"} <= loaded
    assert "edge.__main__" not in loaded
    assert "gpiozero.pins.pigpio" in report["missing"]  # no pigpio library here
