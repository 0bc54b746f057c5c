"""The README's commands are the ones CI runs, and every CLI command is documented."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import click

from edge.app.cli import COMMAND_MODULES, main

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_has_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    run_command, test_command = commands
    assert run_command.endswith("kakou run")
    # Running installs what the gate needs; only the test command asks for the test tool-chain.
    assert "--test" not in run_command
    assert test_command.startswith("bash .ci/bootstrap.sh --test && ")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    with click.Context(main) as ctx:
        names = main.list_commands(ctx)
    for name in names:
        assert f"kakou {name}" in readme, name


def test_every_command_is_found_where_the_lazy_table_says() -> None:
    """``kakou`` imports a sub-command's module only when it runs: the table must be whole."""
    with click.Context(main) as ctx:
        for name in main.list_commands(ctx):
            command = main.get_command(ctx, name)
            assert command is not None, name
            assert command.name == name
    package = importlib.import_module("edge.app.cli")
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"edge.app.cli.{info.name}")
        for command in getattr(module, "COMMANDS", []):  # a new command module must be listed
            assert COMMAND_MODULES.get(str(command.name)) == info.name, command.name
