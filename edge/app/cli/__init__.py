"""The ``kakou`` command: a thin shell over the library; one module per sub-command."""

from __future__ import annotations

import importlib

import click

# Sub-command name → the module defining it. A module is imported only when its command runs,
# so `kakou relay-off` (systemd's ExecStopPost=) or `kakou --version` loads neither the console,
# sync nor the camera stack.
COMMAND_MODULES: dict[str, str] = {
    "run": "run",
    "config": "run",
    "keys": "passes",
    "pass": "passes",
    "entries": "entries",
    "sim": "sim",
    "server": "server",
    "relay-off": "ops",
    "db": "ops",
    "doctor": "doctor",
    "guard": "guards",
    "console": "console",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are looked up in ``COMMAND_MODULES`` when first used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f"{__name__}.{COMMAND_MODULES[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kakou")
def main() -> None:
    """Kakou (卡口): the community entry checkpoint."""
