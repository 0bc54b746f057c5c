"""`kakou run` (the main job) and `kakou config check`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edge import logs
from edge.app.cli.options import CONFIG_OPTION, LOG_LEVEL_OPTION
from edge.app.settings import ConfigError, Settings, default_config_text, load_settings


def load_or_exit(config_path: Path | None) -> Settings:
    """Load settings, or print every problem (file: field: why) and exit 2."""
    try:
        return load_settings(config_path)
    except ConfigError as exc:
        click.echo(f"kakou: configuration has {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)


@click.command()
@CONFIG_OPTION
@LOG_LEVEL_OPTION
def run(config_path: Path | None, log_level: str) -> None:
    """Run the gate: lanes, devices, the durable log and the console."""
    settings = load_or_exit(config_path)
    # Under systemd: journal priorities and the gate's fields (edge/logs.py); else plain lines.
    logs.configure(log_level, gate=settings.site.gate)
    from edge.app.boot import run as run_gate

    sys.exit(run_gate(settings))


@click.group()
def config() -> None:
    """Check or show configuration."""


@config.command("check")
@CONFIG_OPTION
def config_check(config_path: Path | None) -> None:
    """Validate a configuration file without starting anything."""
    settings = load_or_exit(config_path)
    lanes = ", ".join(f"{lane.id} ({lane.direction.value})" for lane in settings.lanes)
    click.echo(f"ok: community {settings.site.community}, gate {settings.site.gate}, lanes {lanes}")


@config.command("default")
def config_default() -> None:
    """Print the embedded default configuration (the simulated lane)."""
    click.echo(default_config_text(), nl=False)


COMMANDS: list[click.Command] = [run, config]
