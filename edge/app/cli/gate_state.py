"""What the commands that read a gate's state share: ``--config`` or ``--db``, and the gate's zone.

``--config`` names the gate's configuration, which gives the state directory (its database) and
the time zone; ``--db`` names a database file directly. Without either, the embedded default is
used (state in ./kakou-data), as `kakou run` would. Times are shown in the gate's time zone (the
policy in force, as the console shows them), never in this machine's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from edge.app.cli.options import CONFIG_OPTION, GATE_DB_OPTION
from edge.app.cli.run import load_or_exit
from edge.store import Store, StoreError, StoreNotFound

F = TypeVar("F", bound=Callable[..., Any])


def gate_state_options(func: F) -> F:
    """``--config FILE`` (the gate's configuration) and ``--db FILE`` (a database instead)."""
    return CONFIG_OPTION(GATE_DB_OPTION(func))


@dataclass(frozen=True)
class GateState:
    """An open gate database and the time zone its times are read in."""

    store: Store
    zone: ZoneInfo

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the gate's time zone; a naive one is taken as gate time."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)


@contextmanager
def open_gate_state(config_path: Path | None, db_path: Path | None) -> Iterator[GateState]:
    """Open an existing gate database (never create one); exit 2 when there is none.

    The zone is the policy in force: the office's last signed policy kept in the database, else
    the configuration's ``[policy] timezone`` (as the running gate does).
    """
    settings = load_or_exit(config_path)
    path = db_path if db_path is not None else settings.db_path
    try:
        # No integrity check here: the service runs it at start-up; a viewer should be quick.
        store = Store.open_existing(path, check_integrity=False)
    except StoreNotFound:
        click.echo(
            f"Error: no entry log at {path} (run from the gate's state directory, "
            "or give --config with the gate's configuration, or --db)",
            err=True,
        )
        raise SystemExit(2) from None
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    from edge.app.boot import in_force_policy  # the composition root; only once a store is open

    with store:
        yield GateState(store, in_force_policy(settings, store).zone())


@contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """End quietly when the reader of standard output goes away (``kakou entries | head -1``).

    As the ``signal`` module's documentation advises: point standard output at devnull so the
    interpreter's last flush cannot fail again. The reader chose to stop reading, so it exits 0.
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
