"""Options and parameter callbacks more than one sub-command takes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=StrEnum)

# The kinds of path the commands take, each given to the command as a Path.
FILE = click.Path(path_type=Path, dir_okay=False)
EXISTING_FILE = click.Path(path_type=Path, dir_okay=False, exists=True)
OUTPUT_FILE = click.Path(path_type=Path, dir_okay=False, writable=True)
"""A file to write: refused when it exists and cannot be written."""
FOLDER = click.Path(path_type=Path, file_okay=False)
EXISTING_FOLDER = click.Path(path_type=Path, file_okay=False, exists=True)

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=FILE,
    help="Configuration file (TOML). Without it: the embedded simulated lane.",
)

GATE_DB_OPTION = click.option(
    "--db",
    "db_path",
    type=FILE,
    help="The gate's database file, instead of the one its configuration names.",
)


LOG_LEVEL_OPTION = click.option(
    "--log-level", default="INFO", show_default=True, help="Logging level."
)


def enum_option(
    *param_decls: str, default: E, help: str | None = None, case_sensitive: bool = True
) -> Callable[[F], F]:
    """An option taking one of the values of ``default``'s enum (the help lists them and the
    default) and giving the command the member."""
    enum = type(default)

    def member(ctx: click.Context, param: click.Parameter, value: str) -> E:
        return enum(value)  # click has checked it is one (in the enum's own case)

    return click.option(
        *param_decls,
        type=click.Choice([m.value for m in enum], case_sensitive=case_sensitive),
        default=default.value,
        show_default=True,
        callback=member,
        help=help,
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
