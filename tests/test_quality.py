"""Lint, format, types and the import layers are part of the suite, so CI holds them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["lint-imports"],
    ],
    ids=["ruff-check", "ruff-format", "mypy", "import-layers"],
)
def test_tool_is_clean(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_edge_and_sync_module_has_a_layer_and_no_import_is_excused() -> None:
    """A module left out of the layers contract would escape it unnoticed; an ignore_imports
    entry would excuse an import that breaks it. Neither is allowed (docs/architecture.md)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    assert not [c["name"] for c in contracts if c.get("ignore_imports")]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    placed = {module.strip() for layer in layers for module in layer.replace("|", ":").split(":")}
    top_level = {
        f"{package}.{path.stem if path.is_file() else path.name}"
        for package in ("edge", "sync")
        for path in (ROOT / package).iterdir()
        if (path.suffix == ".py" and not path.name.startswith("__"))
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert top_level - {"edge.defaults"} <= placed, sorted(top_level - placed)
