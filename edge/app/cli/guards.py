"""`kakou guard`: guard accounts for the console (add, list). A thin shell over GuardBook."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edge.app.cli.options import GATE_DB_OPTION
from edge.store import Store, StoreError, StoreNotFound
from edge.store.guards import GuardBook, Role


def _open(db_path: Path) -> Store:
    try:
        return Store.open_existing(db_path, check_integrity=False)
    except StoreNotFound:
        click.echo(
            f"Error: no entry log at {db_path} (start the gate once, or pass --db)", err=True
        )
        raise SystemExit(2) from None
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def guard() -> None:
    """Guard accounts for signing in to the console."""


@guard.command("add")
@click.option("--name", required=True, help="Account name the guard types to sign in.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.GUARD.value,
    show_default=True,
    help="admin may also manage accounts and read the audit log.",
)
@click.option(
    "--pin-stdin",
    is_flag=True,
    help="Read the PIN or password from standard input (for scripts) instead of prompting.",
)
@GATE_DB_OPTION
def add(name: str, role: str, pin_stdin: bool, db_path: Path) -> None:
    """Create a guard account; the PIN is asked twice and never shown or stored in clear.

    A guard's PIN or password needs at least 6 characters, an admin's at least 10."""
    if pin_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = click.prompt("PIN or password", hide_input=True, confirmation_prompt=True)
    with _open(db_path) as store:
        try:
            created = GuardBook(store).add(name, Role(role), secret, now=datetime.now(UTC))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"added {created.role.value} {created.name} ({created.id})")


@guard.command("list")
@GATE_DB_OPTION
def list_guards(db_path: Path) -> None:
    """Print the guard accounts."""
    with _open(db_path) as store:
        for account in GuardBook(store).all():
            click.echo(f"{account.id}\t{account.role.value}\t{account.name}")


COMMANDS = [guard]
