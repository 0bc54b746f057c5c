"""Options and parameter callbacks more than one sub-command takes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Configuration file (TOML). Without it: the embedded simulated lane.",
)

GATE_DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The gate's database file, instead of the one its configuration names.",
)


LOG_LEVEL_OPTION = click.option(
    "--log-level", default="INFO", show_default=True, help="Logging level."
)


def iso_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO 8601 date or time; one without an offset is this machine's local time."""
    moment = naive_iso_time(ctx, param, value)
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.astimezone()


def naive_iso_time(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    """An ISO 8601 date or time; one without an offset stays naive, for the command to place
    (a gate's commands read it as gate time)."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2026-03-01 or 2026-03-01T08:00)",
            ctx,
            param,
        ) from None
