"""Options and parameter callbacks more than one sub-command takes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

DEFAULT_DB_PATH = Path("kakou-data/kakou.db")
"""The running service's database, relative to its working (state) directory."""

GATE_DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_DB_PATH,
    show_default=True,
    help="The gate's database (its entry log).",
)


def iso_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO 8601 date or time; one without an offset is this machine's local time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2026-03-01 or 2026-03-01T08:00)",
            ctx,
            param,
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()
