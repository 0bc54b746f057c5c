"""`kakou server`: the community receiver and its office tools (run, gaps, report, publish, acl,
the office console and its officers).

A thin shell over ``sync.receiver.service``, ``.reports`` and ``.publishing``, and
``sync.office`` (``office``, ``officer``). Settings come
from ``--config server.toml`` and/or flags (a flag wins over the file). Exit codes: 0 success,
1 ``gaps --check`` found something missing, 2 a usage or configuration error.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from edge import keys, logs
from edge.app.cli.options import EXISTING_FILE, FILE, LOG_LEVEL_OPTION, enum_option
from sync.contract import DownlinkKind, check_id
from sync.office import accounts, retention
from sync.office.accounts import AccountProblem, Officer, Role
from sync.office.app import ensure_schemas, start_office
from sync.receiver import publishing, reports, service
from sync.receiver.acl import broker_acl
from sync.receiver.db import ReceiverDb, ReceiverDbError
from sync.settings import (
    ServerSettings,
    SettingsFileError,
    load_server_settings,
    server_settings_from,
)

_FLAG_KEYS = {
    "host": "broker.host",
    "port": "broker.port",
    "username": "broker.username",
    "password_file": "broker.password_file",
    "db": "database.path",
    "dsn": "database.dsn",
    "dsn_file": "database.dsn_file",
    "group": "receiver.group",
    "name": "receiver.name",
    "timezone": "receiver.timezone",
}


def _settings_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every sub-command shares: the file and the flags that override it."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=EXISTING_FILE,
            help="server.toml (broker, database, receiver).",
        ),
        click.option("--host", help="Broker host."),
        click.option("--port", type=int, help="Broker port."),
        click.option("--username", help="Broker user name."),
        click.option(
            "--password-file", type=click.Path(path_type=Path), help="File with the password."
        ),
        click.option("--db", type=click.Path(path_type=Path), help="SQLite database file."),
        click.option("--dsn", help="PostgreSQL DSN without a password (else --dsn-file)."),
        click.option(
            "--dsn-file", type=click.Path(path_type=Path), help="File with a PostgreSQL DSN."
        ),
        click.option("--group", help="Shared subscription group."),
        click.option("--name", help="This receiver's name."),
        click.option("--timezone", help="Time zone of the report's days."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(config_path: Path | None, flags: dict[str, Any]) -> ServerSettings:
    overrides = {_FLAG_KEYS[name]: value for name, value in flags.items() if value is not None}
    try:
        if config_path is not None:
            return load_server_settings(config_path, overrides)
        return server_settings_from({}, overrides, source="(command line)")
    except SettingsFileError as exc:
        click.echo(f"kakou server: {len(exc.problems)} problem(s) in the settings:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)


def _open_database(settings: ServerSettings, *, must_exist: bool = False) -> ReceiverDb:
    path = settings.database.path
    if must_exist and path is not None and not path.is_file():
        # A typo in --db must not create an empty database and report "nothing missing".
        raise click.ClickException(f"no receiver database at {path}")
    try:
        return service.open_database(settings.database, receiver=settings.receiver.name)
    except (ReceiverDbError, OSError) as exc:
        raise click.ClickException(f"cannot open the receiver database: {exc}") from exc


def _flags(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: kwargs.pop(name) for name in list(kwargs) if name in _FLAG_KEYS}


DATABASE_USAGE = "(--db FILE | --dsn DSN | --dsn-file FILE | --config server.toml)"
"""The usage line's way of saying a reading command needs the receiver database."""


@contextmanager
def _receiver_database(
    config_path: Path | None, kwargs: dict[str, Any]
) -> Iterator[tuple[ServerSettings, ReceiverDb]]:
    """The settings and the existing receiver database the options name, closed after."""
    flags = _flags(kwargs)
    _need_database(config_path, flags)
    settings = _settings(config_path, flags)
    db = _open_database(settings, must_exist=True)
    try:
        yield settings, db
    finally:
        db.close()


def _need_database(config_path: Path | None, flags: dict[str, Any]) -> None:
    """Without a file or a database flag there is nothing to read: say what to give."""
    if config_path is None and not any(flags.get(name) for name in ("db", "dsn", "dsn_file")):
        raise click.UsageError(
            "which receiver database? Give --db FILE (SQLite), --dsn DSN or --dsn-file FILE "
            "(PostgreSQL), or --config server.toml with a [database] section."
        )


@click.group()
def server() -> None:
    """The community receiver: store the gates' entries, find gaps, report, publish."""


@server.command("run")
@_settings_options
@LOG_LEVEL_OPTION
def run(config_path: Path | None, log_level: str, **kwargs: Any) -> None:
    """Receive the gates' entries until SIGTERM (several receivers may share one group)."""
    logs.configure(log_level)
    settings = _settings(config_path, _flags(kwargs))
    beside = (lambda: start_office(settings)) if settings.office.enabled else None
    try:
        code = service.run_server(settings, beside=beside)
    except ReceiverDbError as exc:
        raise click.ClickException(f"cannot open the receiver database: {exc}") from exc
    except OSError as exc:  # the office console could not listen
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@server.command("office")
@_settings_options
@LOG_LEVEL_OPTION
def office(config_path: Path | None, log_level: str, **kwargs: Any) -> None:
    """Serve only the office console ([office] in server.toml) until SIGTERM, no receiver."""
    logs.configure(log_level)
    settings = _settings(config_path, _flags(kwargs))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop_office = start_office(settings)
    except (ReceiverDbError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        stop.wait()
    finally:
        stop_office()


@server.command("gaps", options_metavar=f"{DATABASE_USAGE} [OPTIONS]")
@_settings_options
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@click.option("--check", is_flag=True, help="Exit 1 if anything is missing or not yet received.")
def gaps(config_path: Path | None, as_json: bool, check: bool, **kwargs: Any) -> None:
    """Missing seq ranges per gate log, and what gates reported but did not send yet.

    Needs the receiver database: --db, --dsn, --dsn-file or --config."""
    with _receiver_database(config_path, kwargs) as (_, db):
        found = db.gaps()
    click.echo(reports.gaps_json(found) if as_json else reports.format_gaps(found))
    if check and reports.has_gaps(found):
        sys.exit(1)


def _day(ctx: click.Context, param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23", ctx, param) from None


@server.command("report", options_metavar=f"--day DATE {DATABASE_USAGE} [OPTIONS]")
@_settings_options
@click.option(
    "--day",
    required=True,
    callback=_day,
    metavar="DATE",
    help="The office day, e.g. 2026-11-23 (in --timezone, else the receiver's).",
)
@click.option("--csv", "csv_path", type=FILE, help="Write CSV here.")
def report(config_path: Path | None, day: date, csv_path: Path | None, **kwargs: Any) -> None:
    """Per gate counts for one day: passed, denied, fevers, visitors (and more).

    Needs --day and the receiver database: --db, --dsn, --dsn-file or --config."""
    with _receiver_database(config_path, kwargs) as (settings, db):
        rows = reports.daily_report(db, day, settings.receiver.timezone)
    if csv_path is not None:
        csv_path.write_text(reports.report_csv(rows), encoding="utf-8")
        click.echo(f"wrote {len(rows)} gate(s) to {csv_path}")
    else:
        click.echo(reports.format_report(rows))


@server.command("prune", options_metavar=f"{DATABASE_USAGE} [OPTIONS]")
@_settings_options
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Keep this many days (default: [office] retention_days; unset keeps everything).",
)
def prune(config_path: Path | None, days: int | None, **kwargs: Any) -> None:
    """Delete entries older than the office's retention, keeping what the gaps view needs.

    The office console does this daily; this runs it now. Needs the receiver database."""
    with _receiver_database(config_path, kwargs) as (settings, db):
        result = retention.prune(
            db, days=days or retention.retention_days(settings), now=datetime.now(UTC)
        )
    if result.cutoff is None:
        click.echo("no [office] retention_days and no --days: everything is kept")
    else:
        click.echo(f"deleted {result.deleted} entries decided before {result.cutoff.isoformat()}")


@server.command("publish")
@click.argument("kind", type=click.Choice([kind.value for kind in DownlinkKind]))
@_settings_options
@click.option("--community", required=True, help="Community id the document is for.")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=EXISTING_FILE,
    help="Signing key KID.key (its public half must be trusted by the gates).",
)
@click.option(
    "--file",
    "source",
    required=True,
    type=click.Path(path_type=Path, exists=True),
    help="revocations: a pass id list; keys: a folder of *.pub; policy: a TOML file.",
)
@click.option("--revoke", multiple=True, help="keys: a key id to stop trusting (repeatable).")
@click.option("--version", type=int, help="Version number (default: one more than the last).")
def publish(
    kind: str,
    config_path: Path | None,
    community: str,
    key_path: Path,
    source: Path,
    revoke: tuple[str, ...],
    version: int | None,
    **kwargs: Any,
) -> None:
    """Sign a revocation list, trusted keys or policy and publish it (retained) to every gate."""
    settings = _settings(config_path, _flags(kwargs))
    downlink_kind = DownlinkKind(kind)
    try:
        check_id("community", community)
        kid, private_key = keys.load_private(key_path)
        if downlink_kind is DownlinkKind.REVOCATIONS:
            body: Any = publishing.revocations_body(source)
        elif downlink_kind is DownlinkKind.KEYS:
            body = publishing.keys_body(source, revoke)
        else:
            body = publishing.policy_body(source)
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from exc
    db = _open_database(settings)
    try:
        document = publishing.publish_downlink(
            settings,
            db,
            community=community,
            kind=downlink_kind,
            body=body,
            key=private_key,
            kid=kid,
            version=version,
        )
    except (ValueError, ConnectionError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.close()
    click.echo(f"published {kind} version {document.version} for {community}, signed by {kid}")


@server.command("acl")
@click.option("--community", required=True, help="Community id of the gates.")
@click.option("--gate", "gates", multiple=True, required=True, help="A gate id (repeatable).")
@click.option(
    "--receiver",
    "receivers",
    multiple=True,
    required=True,
    help="A receiver's broker user name (repeatable); it also publishes the downlink.",
)
@click.option("--out", type=FILE, help="Write here, not to stdout.")
def acl(
    community: str, gates: tuple[str, ...], receivers: tuple[str, ...], out: Path | None
) -> None:
    """Print the Mosquitto ACL file: user gate-<gate> may publish only its own topics."""
    try:
        text = broker_acl(community, gates, receivers)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(
            f"wrote the ACL of {len(gates)} gate(s) and {len(receivers)} receiver(s) to {out}"
        )


# ------------------------------------------------------------------------------- officers


@server.group("officer")
def officer() -> None:
    """The office console's accounts: add, list, disable, enable, reset-secret."""


@contextmanager
def _officer_database(config_path: Path | None, kwargs: dict[str, Any]) -> Iterator[ReceiverDb]:
    """The receiver database with the office's tables, closed after; an account problem in the
    block is the command's error message."""
    flags = _flags(kwargs)
    _need_database(config_path, flags)
    db = _open_database(_settings(config_path, flags))
    try:
        ensure_schemas(db)
        yield db
    except AccountProblem as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.close()


def _read_secret(secret_file: Path | None) -> str:
    """From the file's first line, or asked twice without echo; never a command-line value
    (it would stay in the shell's history and the process list)."""
    if secret_file is not None:
        lines = secret_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    secret: str = click.prompt(
        "password (10 characters or more)", hide_input=True, confirmation_prompt=True
    )
    return secret


def _account(db: ReceiverDb, name: str) -> Officer:
    found = accounts.named(db, name)
    if found is None:
        raise click.ClickException(f"no officer named {name!r}")
    return found


_SECRET_FILE = click.option(
    "--secret-file",
    type=EXISTING_FILE,
    help="Read the password from this file's first line instead of asking.",
)


@officer.command("add")
@_settings_options
@click.argument("officer_name", metavar="NAME")
@enum_option(
    "--role", default=Role.OFFICER, help="admin: also manages accounts and reads the audit log."
)
@click.option(
    "--community",
    "communities",
    multiple=True,
    help="A community the officer sees (repeatable); '*' for every community.",
)
@_SECRET_FILE
def officer_add(
    config_path: Path | None,
    officer_name: str,
    role: Role,
    communities: tuple[str, ...],
    secret_file: Path | None,
    **kwargs: Any,
) -> None:
    """Create an officer's account; asks for the password twice."""
    try:
        scope = accounts.parse_communities(communities)
    except AccountProblem as exc:
        raise click.UsageError(str(exc)) from exc
    with _officer_database(config_path, kwargs) as db:
        made = accounts.add(
            db,
            name=officer_name,
            role=role,
            communities=scope,
            secret=_read_secret(secret_file),
            by=None,
            now=datetime.now(UTC),
        )
    click.echo(f"added {made.role.value} {made.name} ({made.communities_text})")


@officer.command("list")
@_settings_options
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
def officer_list(config_path: Path | None, as_json: bool, **kwargs: Any) -> None:
    """Every account, disabled ones too."""
    with _officer_database(config_path, kwargs) as db:
        found = accounts.every(db)
    for one in found:
        state = "active" if one.active else "disabled"
        if as_json:
            communities = None if one.communities is None else list(one.communities)
            line = {"name": one.name, "role": one.role.value, "communities": communities}
            click.echo(json.dumps({**line, "state": state}, ensure_ascii=False))
        else:
            click.echo(f"{one.name}\t{one.role.value}\t{one.communities_text}\t{state}")


def _set_active(config_path: Path | None, name: str, active: bool, kwargs: dict[str, Any]) -> None:
    with _officer_database(config_path, kwargs) as db:
        target = _account(db, name)
        accounts.set_active(db, target.id, active=active, by=None, now=datetime.now(UTC))
    click.echo(f"{'enabled' if active else 'disabled'} {name}")


@officer.command("disable")
@_settings_options
@click.argument("officer_name", metavar="NAME")
def officer_disable(config_path: Path | None, officer_name: str, **kwargs: Any) -> None:
    """Stop an account signing in; its sessions end at once."""
    _set_active(config_path, officer_name, False, kwargs)


@officer.command("enable")
@_settings_options
@click.argument("officer_name", metavar="NAME")
def officer_enable(config_path: Path | None, officer_name: str, **kwargs: Any) -> None:
    """Let a disabled account sign in again."""
    _set_active(config_path, officer_name, True, kwargs)


@officer.command("reset-secret")
@_settings_options
@click.argument("officer_name", metavar="NAME")
@_SECRET_FILE
def officer_reset_secret(
    config_path: Path | None, officer_name: str, secret_file: Path | None, **kwargs: Any
) -> None:
    """Set a new password (asked twice); the account's sessions end and a lock-out lifts."""
    with _officer_database(config_path, kwargs) as db:
        target = _account(db, officer_name)
        accounts.reset_secret(
            db, target.id, _read_secret(secret_file), by=None, now=datetime.now(UTC)
        )
    click.echo(f"new password set for {officer_name}; their sessions have ended")


COMMANDS: list[click.Command] = [server]
