"""`kakou console cert`: the HTTPS certificate for reaching the console from a phone on the LAN."""

from __future__ import annotations

import grp
import os
import socket
from pathlib import Path

import click

from edge.console.tls import DEFAULT_DAYS, fingerprint, self_signed


@click.group()
def console() -> None:
    """The guard console."""


@console.command("cert")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for console.crt and console.key (the installer uses /etc/kakou/tls).",
)
@click.option("--name", "names", multiple=True, help="A name phones use (default: this host).")
@click.option("--ip", "addresses", multiple=True, help="A LAN address phones use (repeatable).")
@click.option("--days", type=click.IntRange(1, 36500), default=DEFAULT_DAYS, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing certificate and key.")
@click.option(
    "--group",
    default=None,
    help="Let this group read the key (0640), e.g. kakou, the service's group; else 0600.",
)
def cert(
    out_dir: Path,
    names: tuple[str, ...],
    addresses: tuple[str, ...],
    days: int,
    force: bool,
    group: str | None,
) -> None:
    """Make a self-signed certificate for the console (key 0600) and print its fingerprint.

    Guards' phones trust it once (docs/console.md, "Reaching the console from a phone").
    """
    host = socket.gethostname().lower()
    chosen = list(names) or [host, f"{host}.local"]
    try:
        cert_pem, key_pem = self_signed(chosen, addresses, days=days)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out_dir / "console.crt", out_dir / "console.key"
    if not force and (cert_path.exists() or key_path.exists()):
        raise click.ClickException(f"{cert_path} or {key_path} exists; --force replaces them")
    key_path.unlink(missing_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as key_file:
        if group is not None:
            try:
                os.fchown(key_file.fileno(), -1, grp.getgrnam(group).gr_gid)
            except (KeyError, PermissionError) as exc:
                key_path.unlink()
                raise click.ClickException(f"cannot give the key to group {group}: {exc}") from exc
            os.fchmod(key_file.fileno(), 0o640)
        key_file.write(key_pem)
    cert_path.write_bytes(cert_pem)
    cert_path.chmod(0o644)
    click.echo(f"certificate {cert_path} for {', '.join([*chosen, *addresses])}")
    click.echo(f"SHA-256 fingerprint {fingerprint(cert_pem)}")
    click.echo("in [console]:")
    click.echo(f'  tls_cert = "{cert_path}"')
    click.echo(f'  tls_key = "{key_path}"')


COMMANDS = [console]
