"""`kakou guard`: guard accounts for the console (add, list). A thin shell over GuardBook."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edge.app.cli.gate_state import gate_state_options, open_gate_state
from edge.store.guards import GuardBook, Role


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
@gate_state_options
def add(
    name: str, role: str, pin_stdin: bool, config_path: Path | None, db_path: Path | None
) -> None:
    """Create a guard account; the PIN is asked twice and never shown or stored in clear.

    A guard's PIN or password needs at least 6 characters, an admin's at least 10."""
    # The database first: nobody should type a PIN twice to learn it was the wrong folder.
    with open_gate_state(config_path, db_path) as gate:
        if pin_stdin:
            secret = sys.stdin.readline().rstrip("\n")
        else:
            secret = click.prompt("PIN or password", hide_input=True, confirmation_prompt=True)
        try:
            created = GuardBook(gate.store).add(name, Role(role), secret, now=datetime.now(UTC))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"added {created.role.value} {created.name} ({created.id})")


@guard.command("list")
@gate_state_options
def list_guards(config_path: Path | None, db_path: Path | None) -> None:
    """Print the guard accounts."""
    with open_gate_state(config_path, db_path) as gate:
        for account in GuardBook(gate.store).all():
            click.echo(f"{account.id}\t{account.role.value}\t{account.name}")


COMMANDS = [guard]
