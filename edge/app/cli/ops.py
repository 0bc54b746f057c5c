"""Operations commands: `kakou relay-off` (systemd's ExecStopPost=) and `kakou db migrate|purge`.

Thin shells: the work is ``edge.app.pins.release_outputs``, ``Store.open_existing`` (which
migrates) and ``edge.retention.run_retention``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edge.app.cli.options import CONFIG_OPTION, GATE_DB_OPTION

MIB = 1024 * 1024


@click.command("relay-off")
@CONFIG_OPTION
def relay_off(config_path: Path | None) -> None:
    """Force every lane's relay released (locked) and its LEDs and buzzer off.

    systemd runs this after every stop of kakou-edge, including a crash or a watchdog kill,
    when the process that held the pins could not release them. Exit status 0 only when every
    relay was driven released.
    """
    # Only [gpio] and the lanes' outputs are read: a mistake elsewhere in the file must never
    # leave a relay energised, and this runs after every stop (edge/app/pins.py).
    from edge.app.pins import read_outputs, release_outputs

    try:
        outputs = read_outputs(config_path)
    except ValueError as exc:
        click.echo(f"kakou relay-off: cannot read the outputs: {exc}", err=True)
        sys.exit(2)
    try:
        lines = release_outputs(outputs)
    except RuntimeError as exc:
        click.echo(f"kakou relay-off: {exc}", err=True)
        sys.exit(1)
    for line in lines:
        click.echo(line)


@click.group()
def db() -> None:
    """Maintain the gate's database: schema upgrade, retention."""


@db.command("migrate")
@CONFIG_OPTION
@GATE_DB_OPTION
def db_migrate(config_path: Path | None, db_path: Path | None) -> None:
    """Upgrade an existing database to this version's schema (the installer runs this).

    The service does the same at every start; running it at upgrade time shows a problem
    (a damaged file, a file from a newer version) before the gate is restarted. With
    --config the file is bound to the configured community and gate, as the service would;
    with only --db it keeps the identity it has (a file older than schema version 2 has none).
    """
    from edge.app.cli.run import load_or_exit  # the full settings: not for relay-off

    settings = load_or_exit(config_path) if config_path is not None or db_path is None else None
    if db_path is None:
        assert settings is not None  # loaded above whenever --db is not given
        db_path = settings.db_path
    from edge.store import Store, StoreError

    path = db_path
    if not path.is_file():
        click.echo(f"kakou db migrate: no database at {path}", err=True)
        sys.exit(1)
    try:
        if settings is not None:
            site = settings.site
            store = Store.open(path, community=site.community, gate=site.gate)
        else:
            store = Store.open_existing(path)
        with store:
            click.echo(
                f"{path}: schema version {store.schema_version()}, integrity {store.integrity}, "
                f"{store.entry_count()} entries of {store.community}/{store.gate}"
            )
            damaged = store.integrity != "ok"
    except StoreError as exc:
        hint = "" if settings is not None else " (give --config to bind it to the configured gate)"
        click.echo(f"kakou db migrate: {exc}{hint}", err=True)
        sys.exit(1)
    if damaged:
        sys.exit(1)


@db.command("purge")
@CONFIG_OPTION
def db_purge(config_path: Path | None) -> None:
    """Run one retention pass now: delete old acknowledged entries, check the size and disk."""
    from edge.app.cli.run import load_or_exit

    settings = load_or_exit(config_path)
    from edge.retention import run_retention
    from edge.store import Store, StoreError

    try:
        with Store.open_existing(settings.db_path, check_integrity=False) as store:
            report = run_retention(
                store,
                settings.retention,
                now=datetime.now(UTC),
                registrations_days=settings.visitors.keep_days,
            )
    except StoreError as exc:
        click.echo(f"kakou db purge: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"deleted {report.purged_expired} expired and {report.purged_for_size} for size, "
        f"{report.purged_registrations} ended visitor registrations; "
        f"database {report.db.used_bytes / MIB:.1f} MiB used "
        f"(budget {settings.retention.max_db_mb:.0f} MiB); "
        f"disk {report.disk.free_bytes / MIB:.0f} MiB free ({report.disk.free_percent:.1f} %)"
    )
    if report.over_budget:
        click.echo("warning: over budget; the rest waits for the receiver's acknowledgement")
    if report.disk_filling:
        click.echo("warning: disk filling")


COMMANDS: list[click.Command] = [relay_off, db]
