"""The ``kakou`` command: a thin shell over the library; one module per sub-command."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kakou")
def main() -> None:
    """Kakou (卡口): the community entry checkpoint."""


def _register() -> None:
    # Sub-command modules import heavy libraries; they are attached here once.
    from edge.app.cli import doctor, entries, guards, ops, passes, run, server, sim

    for module in (run, passes, entries, sim, server, ops, doctor, guards):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
