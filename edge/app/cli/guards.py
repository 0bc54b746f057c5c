"""`kakou guard`: guard accounts for the console (add, list, disable, enable, remove, reset-pin,
passwd). A thin shell over GuardBook; every change is audited as made on the gate itself."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edge.app.cli.gate_state import gate_state_options, open_gate_state
from edge.app.cli.options import enum_option
from edge.store.guards import AccountRefused, Guard, GuardBook, Role


@click.group()
def guard() -> None:
    """Guard accounts for signing in to the console."""


@guard.command("add")
@click.option("--name", required=True, help="Account name the guard types to sign in.")
@enum_option(
    "--role", default=Role.GUARD, help="admin may also manage accounts and read the audit log."
)
@click.option(
    "--pin-stdin",
    is_flag=True,
    help="Read the PIN or password from standard input (for scripts) instead of prompting.",
)
@gate_state_options
def add(
    name: str, role: Role, pin_stdin: bool, config_path: Path | None, db_path: Path | None
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
            created = GuardBook(gate.store).add(name, role, secret, now=datetime.now(UTC))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"added {created.role.value} {created.name} ({created.id})")


@guard.command("list")
@gate_state_options
def list_guards(config_path: Path | None, db_path: Path | None) -> None:
    """Print the guard accounts with their state (active, disabled, removed)."""
    with open_gate_state(config_path, db_path) as gate:
        for account in GuardBook(gate.store).all():
            click.echo(f"{account.id}\t{account.role.value}\t{account.name}\t{account.state.value}")


def _secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    secret: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return secret


def _named(book: GuardBook, name: str) -> Guard:
    account = book.account_named(name)
    if account is None:
        raise click.ClickException(f"no account named {name!r} (kakou guard list shows them)")
    return account


def _account_change(action: str, help_text: str) -> click.Command:
    """``kakou guard disable|enable|remove NAME``: the same shell around one GuardBook call."""

    @click.command(action, help=help_text)
    @click.argument("name")
    @gate_state_options
    def command(name: str, config_path: Path | None, db_path: Path | None) -> None:
        with open_gate_state(config_path, db_path) as gate:
            book = GuardBook(gate.store)
            target = _named(book, name)
            change = getattr(book, action)
            try:
                changed: Guard = change(target.id, by=None, now=datetime.now(UTC))
            except AccountRefused as exc:
                raise click.ClickException(f"{action} {name}: {exc}") from exc
        click.echo(f"{changed.name} ({changed.id}) is {changed.state.value}")

    return command


for _action, _help in (
    ("disable", "Stop an account signing in; its sessions and duty end (enable undoes it)."),
    ("enable", "Let a disabled account sign in again."),
    ("remove", "Remove an account for good; the audit log and ledgers keep its name."),
):
    guard.add_command(_account_change(_action, _help))


@guard.command("reset-pin")
@click.argument("name")
@click.option("--pin-stdin", is_flag=True, help="Read the new PIN from standard input.")
@gate_state_options
def reset_pin(name: str, pin_stdin: bool, config_path: Path | None, db_path: Path | None) -> None:
    """Set a new PIN or password for an account (it is signed out everywhere)."""
    with open_gate_state(config_path, db_path) as gate:
        book = GuardBook(gate.store)
        target = _named(book, name)
        secret = _secret("New PIN or password", pin_stdin)
        try:
            book.reset_secret(target.id, secret, by=None, now=datetime.now(UTC))
        except ValueError as exc:  # WeakSecret and AccountRefused
            raise click.ClickException(str(exc)) from exc
    click.echo(f"new PIN set for {target.name}; their sessions have ended")


@guard.command("audit")
@click.option("--name", help="Only what this account did, or what was done to it.")
@click.option("--action", help="Only this action (e.g. sign_in_failed, guard_removed).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@gate_state_options
def audit(
    name: str | None,
    action: str | None,
    limit: int,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """Print the audit log, newest first, in gate time."""
    with open_gate_state(config_path, db_path) as gate:
        book = GuardBook(gate.store)
        guard_id = _named(book, name).id if name else None
        names = {account.id: account.name for account in book.all()}
        for record in book.audit_log(limit=limit, action=action, guard_id=guard_id):
            who = names.get(record.guard_id or "", record.guard_id or "(gate)")
            at = gate.local(record.at).strftime("%Y-%m-%d %H:%M:%S")
            detail = " ".join(f"{key}={value}" for key, value in sorted(record.detail.items()))
            click.echo(f"{at}\t{who}\t{record.action}\t{record.lane or '-'}\t{detail}")


COMMANDS = [guard]
