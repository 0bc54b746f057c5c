"""`kakou keys` and `kakou pass`: make signing keys; issue, verify and print pass tokens.

A thin shell over ``edge.keys``, ``edge.passes`` and ``edge.passes_pdf``: options are checked
here with the library's own validators, so a bad value is a usage error naming its option.
Exit codes: 0 success (for ``verify``: the pass is valid), 1 the pass is not valid or the
household sheet has errors, 2 a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import keys, passes
from edge.app.cli.options import (
    EXISTING_FILE,
    EXISTING_FOLDER,
    FOLDER,
    OUTPUT_FILE,
    enum_option,
    iso_time,
)
from edge.model import PassClaims, PassKind
from edge.passes_pdf import (
    CardSigner,
    page_count,
    qr_text,
    qr_version,
    read_households,
    render_cards_pdf,
    split_gates,
    write_qr_png,
)

_OptionCallback = Callable[[click.Context, click.Parameter, str | None], str | None]


def _field(field: str) -> _OptionCallback:
    """An option callback that applies the token contract's rule for ``field``."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return passes.check_field(field, value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None

    return check


def _gates(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    gates = split_gates(value or "")
    for gate in gates:
        try:
            passes.check_field("gate", gate)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return gates


def _signing_key(key_path: Path) -> tuple[str, Ed25519PrivateKey]:
    try:
        return keys.load_private(key_path)
    except (ValueError, OSError) as exc:
        raise click.BadParameter(str(exc), param_hint="'--key'") from None


_KEY_OPTION = click.option(
    "--key",
    "key_path",
    required=True,
    type=EXISTING_FILE,
    help="The signing key, DIR/KID.key; its file name is the key id in every pass.",
)
_COMMUNITY_OPTION = click.option(
    "--community",
    required=True,
    callback=_field("community"),
    help="Community id: the pass's issuer, checked by every gate.",
)
_FULL_HOLDER_OPTION = click.option(
    "--full-holder",
    is_flag=True,
    help="Put the full name in the QR code instead of surname + '*' (anyone can read a QR).",
)


_FORMAT_OPTION = enum_option(
    "--format",
    "token_format",
    default=passes.DEFAULT_FORMAT,
    case_sensitive=False,
    help="Token contract: kk2 is a QR version smaller; kk1 for gates not yet upgraded to read it.",
)
# Every key id byte is 1.5 characters of every pass; up to 8 keeps typical KK2 passes in QR v8.
_SHORT_KEY_ID_CHARS = 8


def claims_lines(claims: PassClaims) -> list[str]:
    """The claims as ``name: value`` lines, times in this machine's time zone."""
    lines = [
        f"community: {claims.community}",
        f"pass_id: {claims.pass_id}",
        f"kind: {claims.kind.value}",
        f"holder: {claims.holder}",
        f"unit: {claims.unit}",
        f"gates: {', '.join(claims.gates) if claims.gates else 'all'}",
        f"not_before: {claims.not_before.astimezone().isoformat()}",
        f"expires: {claims.expires.astimezone().isoformat()}",
        f"issued_at: {claims.issued_at.astimezone().isoformat()}",
        f"key_id: {claims.key_id}",
    ]
    if claims.plate is not None:
        lines.append(f"plate: {claims.plate}")
    return lines


@click.group("keys")
def keys_group() -> None:
    """Ed25519 key pairs that sign passes."""


@keys_group.command("new")
@click.option(
    "--kid", required=True, callback=_field("key_id"), help="Key id: [A-Za-z0-9_-], short."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=FOLDER,
    help="Folder for KID.key (private, 0600) and KID.pub (public, for the gates).",
)
def keys_new(kid: str, out_dir: Path) -> None:
    """Create DIR/KID.key and DIR/KID.pub; print their paths. Never overwrites a key."""
    try:
        key_path, pub_path = keys.new_keypair(kid, out_dir)
    except (FileExistsError, NotADirectoryError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(str(key_path))
    click.echo(str(pub_path))
    if len(kid) > _SHORT_KEY_ID_CHARS:
        click.echo(
            f"note: key id {kid!r} adds {1.5 * len(kid):g} characters to every pass; "
            f"{_SHORT_KEY_ID_CHARS} or fewer keep typical passes in QR version 8 (docs/passes.md)",
            err=True,
        )


@click.group("pass")
def pass_group() -> None:
    """Issue, verify and print signed pass tokens (docs/passes.md)."""


@pass_group.command("issue")
@_KEY_OPTION
@_COMMUNITY_OPTION
@click.option("--pass-id", required=True, callback=_field("pass_id"), help="Unique pass id.")
@enum_option("--kind", default=PassKind.RESIDENT, case_sensitive=False)
@click.option("--holder", required=True, callback=_field("holder"), help="Holder's name.")
@click.option("--unit", required=True, callback=_field("unit"), help="Household, e.g. 3-2-501.")
@click.option(
    "--days",
    required=True,
    type=click.IntRange(min=1),
    help="Valid for this many calendar days, counting the first, to midnight after the last.",
)
@click.option("--gates", callback=_gates, help="Only these gates, e.g. north,east (default all).")
@click.option("--plate", callback=_field("plate"), help="Vehicle plate (vehicle passes).")
@click.option(
    "--not-before", callback=iso_time, help="Valid from (ISO 8601; default now, local time)."
)
@click.option(
    "--png", "png_path", type=OUTPUT_FILE, help="Also write the QR code to this PNG file."
)
@click.option("--qr/--no-qr", default=False, help="Also draw the QR code as text on stderr.")
@_FULL_HOLDER_OPTION
@_FORMAT_OPTION
def pass_issue(
    key_path: Path,
    community: str,
    pass_id: str,
    kind: PassKind,
    holder: str,
    unit: str,
    days: int,
    gates: tuple[str, ...],
    plate: str | None,
    not_before: datetime | None,
    png_path: Path | None,
    qr: bool,
    full_holder: bool,
    token_format: passes.TokenFormat,
) -> None:
    """Sign one pass and print its token (stdout, one line); details go to stderr."""
    key_id, private_key = _signing_key(key_path)
    now = datetime.now().astimezone()
    valid_from = not_before or now
    try:
        token = passes.issue(
            private_key,
            key_id=key_id,
            community=community,
            pass_id=pass_id,
            kind=kind,
            holder=holder if full_holder else passes.mask_holder(holder),
            unit=unit,
            not_before=valid_from,
            expires=passes.expiry_after_days(valid_from, days),
            issued_at=now,
            gates=gates,
            plate=plate,
            token_format=token_format,
        )
    except ValueError as exc:  # a combination no single option shows, e.g. vehicle, no plate
        raise click.UsageError(str(exc)) from None
    click.echo(token)
    claims = passes.decode_unverified(token, community=community)
    assert claims is not None  # issue() output always decodes; tests hold it to that
    last_day = (claims.expires - timedelta(seconds=1)).astimezone().date()
    click.echo(
        f"{claims.pass_id} {claims.kind.value} {claims.holder} {claims.unit}, valid "
        f"{claims.not_before.astimezone():%Y-%m-%d %H:%M} to {last_day} (end of day); "
        f"{token_format.value.upper()}, {len(token)} characters, QR version {qr_version(token)}",
        err=True,
    )
    if png_path is not None:
        write_qr_png(token, png_path)
        click.echo(f"QR code written to {png_path}", err=True)
    if qr:
        click.echo(qr_text(token), err=True, nl=False)


@pass_group.command("verify")
@click.option(
    "--keys",
    "keys_dir",
    required=True,
    type=EXISTING_FOLDER,
    help="Folder of trusted KID.pub files.",
)
@click.option("--community", required=True, help="This gate's community id.")
@click.option("--gate", help="This gate's id; omit to skip the gate check.")
@click.option(
    "--revoked",
    "revoked_path",
    type=EXISTING_FILE,
    help="Revocation list: one pass id a line, '#' comments.",
)
@click.option("--at", callback=iso_time, help="Check as at this time (default now).")
@click.argument("token")
@click.pass_context
def pass_verify(
    ctx: click.Context,
    keys_dir: Path,
    community: str,
    gate: str | None,
    revoked_path: Path | None,
    at: datetime | None,
    token: str,
) -> None:
    """Check TOKEN ('-' reads stdin) as a gate would; print 'valid' or the reason code first."""
    try:
        trusted = keys.load_public_dir(keys_dir)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param_hint="'--keys'") from None
    if not trusted:
        click.echo(f"warning: no *.pub keys in {keys_dir}; no pass can verify", err=True)
    revoked: frozenset[str] = frozenset()
    if revoked_path is not None:
        try:
            revoked = keys.load_revocations(revoked_path)
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(str(exc), ctx, param_hint="'--revoked'") from None
    if token == "-":
        token = sys.stdin.read().strip()
    verdict = passes.verify(
        token,
        keys=trusted,
        revoked=revoked,
        community=community,
        gate=gate,
        now=at or datetime.now().astimezone(),
    )
    click.echo("valid" if verdict.valid else str(verdict.reason))
    if not verdict.valid:
        click.echo(verdict.detail)
    if verdict.claims is not None:
        for line in claims_lines(verdict.claims):
            click.echo(line)
    ctx.exit(0 if verdict.valid else 1)


@pass_group.command("batch")
@_KEY_OPTION
@_COMMUNITY_OPTION
@click.argument("households", type=EXISTING_FILE)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=OUTPUT_FILE,
    help="The PDF to write (A4, cut along the dashed lines).",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=365,
    show_default=True,
    help="Validity for rows without a days cell.",
)
@_FULL_HOLDER_OPTION
@_FORMAT_OPTION
def pass_batch(
    key_path: Path,
    community: str,
    households: Path,
    out_path: Path,
    days: int,
    full_holder: bool,
    token_format: passes.TokenFormat,
) -> None:
    """Issue a pass per row of HOUSEHOLDS.csv and lay them out as printable cards.

    Columns: pass_id, holder, unit (required); kind, days, gates, plate (optional). UTF-8 or
    GBK, as Excel saves it. Any bad row stops the run before a PDF is written.
    """
    key_id, private_key = _signing_key(key_path)
    rows, errors = read_households(households, default_days=days)
    if errors:
        for error in errors:
            click.echo(f"{households}: {error}", err=True)
        raise click.ClickException(f"{len(errors)} problem(s) in {households}; no PDF written")
    if not rows:
        raise click.ClickException(f"{households} has no rows; no PDF written")
    signer = CardSigner(
        private_key,
        key_id=key_id,
        community=community,
        now=datetime.now().astimezone(),
        full_holder=full_holder,
        token_format=token_format,
    )
    cards = signer.cards(rows)
    try:
        printed = render_cards_pdf(cards, out_path)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out_path}: {exc}") from None
    if printed != [card.token for card in cards]:
        raise click.ClickException("the printed QR codes differ from the issued passes")
    click.echo(f"{out_path}: {len(cards)} passes on {page_count(len(cards))} page(s)")


COMMANDS: list[click.Command] = [keys_group, pass_group]
