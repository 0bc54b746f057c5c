"""Passes the office issues to its households, their printable sheet, and their revocation.

Issuing signs each pass with the office's key (``[office] signing_key``, read from its file at
each use and never kept or logged), bound to the household's community, and records it in
``office_passes``: the pass id, the unit, the holder as the QR code carries it (masked), the
kind, the validity, the key id, who issued it, and the token, so a lost sheet can be printed
again. Revoking marks passes revoked (by whom, when), then publishes the community's **full**
revocation list as the next signed ``revocations`` downlink version: every revoked office pass
that has not expired yet, plus the ids an earlier list carried that the office never issued (a
list published from the command line), so no revocation is ever dropped by the console.

Every change is audited in the transaction that makes it (``sync.office.audit.record``).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import keys as key_files
from edge.model import PassKind
from edge.passes import (
    DEFAULT_FORMAT,
    check_field,
    decode_unverified,
    expiry_after_days,
    is_gate_key,
    issue,
    mask_holder,
)
from edge.passes_pdf import PassCard, render_cards_pdf
from sync.contract import DownlinkDocument, DownlinkKind, KeysBody, RevocationsBody
from sync.office import audit
from sync.office.accounts import Officer
from sync.office.context import DownlinkPublisher, NoSigningKey
from sync.receiver.db import Query, ReceiverDb
from sync.receiver.publishing import last_document
from sync.settings import OfficeSettings

log = logging.getLogger(__name__)

OFFICE_KINDS = (PassKind.RESIDENT, PassKind.TEMPORARY, PassKind.STAFF)
"""What the office issues; visitors and vehicles get their passes at the gate."""
MAX_DAYS = 3660
MAX_BULK = 5_000
"""Passes in one bulk issue: a community's households on a few hundred A4 pages."""
_PREFIX = {PassKind.RESIDENT: "R", PassKind.TEMPORARY: "T", PassKind.STAFF: "S"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS office_passes (
    community TEXT NOT NULL,
    pass_id TEXT NOT NULL,
    unit TEXT NOT NULL,
    holder TEXT NOT NULL,
    resident TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    not_before TEXT NOT NULL,
    expires TEXT NOT NULL,
    expires_us BIGINT NOT NULL,
    kid TEXT NOT NULL,
    token TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT,
    PRIMARY KEY (community, pass_id)
);
CREATE INDEX IF NOT EXISTS office_passes_by_unit ON office_passes (community, unit);
CREATE INDEX IF NOT EXISTS office_passes_revoked ON office_passes (community, revoked_at);
CREATE TABLE IF NOT EXISTS office_pass_numbers (
    community TEXT PRIMARY KEY,
    last_number BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS office_downlink_undelivered (
    community TEXT NOT NULL,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (community, kind, version)
)
"""


def ensure_schema(db: ReceiverDb) -> None:
    db.ensure_tables(SCHEMA)


def _us(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


# ------------------------------------------------------------------------------ the key


SigningKey = Callable[[], tuple[str, Ed25519PrivateKey]]
"""Returns (key id, private key), read from its file now: a key replaced on disk is used at once."""


def office_signing_key(office: OfficeSettings) -> SigningKey:
    """The key of ``[office] signing_key`` as ``signing_kid``; raises ``NoSigningKey`` when it is
    not configured, ``ValueError`` (naming the file, never its content) when it does not load."""

    def load() -> tuple[str, Ed25519PrivateKey]:
        if office.signing_key is None or office.signing_kid is None:
            raise NoSigningKey("set [office] signing_key and signing_kid to sign passes")
        _, key = key_files.load_private(office.signing_key)
        return office.signing_kid, key

    return load


# ------------------------------------------------------------------------------ issuing


@dataclass(frozen=True, slots=True)
class PassRequest:
    """One pass to issue: for a resident of a household (``resident`` their full name, which
    the card prints; the QR code gets it masked)."""

    unit: str
    resident: str
    kind: PassKind = PassKind.RESIDENT
    days: int = 365
    gates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PassRow:
    """A pass as the office lists it: the holder masked, as the QR code carries it."""

    community: str
    pass_id: str
    unit: str
    holder: str
    kind: PassKind
    not_before: datetime
    expires: datetime
    kid: str
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None
    revoked_by: str | None

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired``, ``pending`` (not valid yet) or ``valid``."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires:
            return "expired"
        return "pending" if now < self.not_before else "valid"


def check_request(request: PassRequest) -> None:
    """``ValueError`` naming the field for a request the contract or the office refuses."""
    if request.kind not in OFFICE_KINDS:
        raise ValueError(f"kind: the office issues {', '.join(OFFICE_KINDS)}")
    if not 1 <= request.days <= MAX_DAYS:
        raise ValueError(f"days: 1 to {MAX_DAYS}")
    check_field("unit", request.unit)
    check_field("holder", request.resident)
    for gate in request.gates:
        check_field("gate", gate)


def _next_numbers(q: Query, community: str, count: int) -> range:
    """Reserve ``count`` pass numbers for ``community`` in this transaction."""
    q.run(
        "INSERT INTO office_pass_numbers (community, last_number) VALUES (?, ?) "
        "ON CONFLICT (community) DO UPDATE SET "
        "last_number = office_pass_numbers.last_number + excluded.last_number",
        [community, count],
    )
    last = int(
        q.scalar("SELECT last_number FROM office_pass_numbers WHERE community = ?", [community])
    )
    return range(last - count + 1, last + 1)


def issue_passes(
    q: Query,
    *,
    community: str,
    requests: Sequence[PassRequest],
    signing_key: SigningKey,
    officer: Officer | None,
    now: datetime,
    zone: ZoneInfo,
) -> list[str]:
    """Sign one pass per request, valid from now to the end of its last day in the office's
    zone, record them and audit the issue, in ``q``'s transaction; returns the pass ids.

    Raises ``ValueError`` for a bad request (nothing is issued), ``NoSigningKey`` without a key.
    """
    if len(requests) > MAX_BULK:
        raise ValueError(f"at most {MAX_BULK} passes at once")
    for request in requests:
        check_request(request)
    if not requests:
        return []
    kid, key = signing_key()
    local_now = now.astimezone(zone).replace(microsecond=0)
    issued_by = "" if officer is None else officer.name
    rows = []
    pass_ids = []
    for number, request in zip(_next_numbers(q, community, len(requests)), requests, strict=True):
        pass_id = f"{_PREFIX[request.kind]}-{number:06d}"
        expires = expiry_after_days(local_now, request.days)
        holder = mask_holder(request.resident)
        token = issue(
            key,
            key_id=kid,
            community=community,
            pass_id=pass_id,
            kind=request.kind,
            holder=holder,
            unit=request.unit,
            not_before=local_now,
            expires=expires,
            issued_at=local_now,
            gates=request.gates,
            token_format=DEFAULT_FORMAT,
        )
        rows.append(
            [
                community,
                pass_id,
                request.unit,
                holder,
                request.resident,
                request.kind.value,
                local_now.isoformat(),
                expires.isoformat(),
                _us(expires),
                kid,
                token,
                now.isoformat(),
                issued_by,
            ]
        )
        pass_ids.append(pass_id)
    q.many(
        "INSERT INTO office_passes (community, pass_id, unit, holder, resident, kind, "
        "not_before, expires, expires_us, kid, token, issued_at, issued_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    units = sorted({request.unit for request in requests})
    audit.record(
        q,
        officer=officer,
        action="pass.issue",
        community=community,
        detail=f"{len(pass_ids)} pass(es) {_span(pass_ids)} for {_span(units)}, key {kid}",
        now=now,
    )
    log.info("issued %d pass(es) for %s with key %s", len(pass_ids), community, kid)
    return pass_ids


def _span(values: Sequence[str]) -> str:
    shown = ", ".join(values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def household_requests(
    q: Query,
    *,
    community: str,
    units: Sequence[str] | None,
    kind: PassKind,
    days: int,
    now: datetime,
    only_missing: bool = True,
) -> list[PassRequest]:
    """One request per resident of ``units`` (every household of the community when None);
    with ``only_missing``, only residents without a pass of ``kind`` that is still good."""
    params: list[object] = [community]
    sql = "SELECT unit, name FROM office_residents WHERE community = ?"
    if units is not None:
        if not units:
            return []
        within, values = q.in_list(list(units))
        sql += f" AND unit {within}"
        params += values
    residents = q.all(sql + " ORDER BY unit, created_at, name", params)
    covered: set[tuple[str, str]] = set()
    if only_missing:
        covered = {
            (str(unit), str(resident))
            for unit, resident in q.all(
                "SELECT unit, resident FROM office_passes WHERE community = ? AND kind = ? "
                "AND revoked_at IS NULL AND expires_us > ?",
                [community, kind.value, _us(now)],
            )
        }
    return [
        PassRequest(unit=str(unit), resident=str(name), kind=kind, days=days)
        for unit, name in residents
        if (str(unit), str(name)) not in covered
    ]


# ------------------------------------------------------------------------------ reading


_PASS_COLUMNS = (
    "community, pass_id, unit, holder, kind, not_before, expires, kid, issued_at, issued_by, "
    "revoked_at, revoked_by"
)


def _pass_row(row: Sequence[object]) -> PassRow:
    return PassRow(
        community=str(row[0]),
        pass_id=str(row[1]),
        unit=str(row[2]),
        holder=str(row[3]),
        kind=PassKind(str(row[4])),
        not_before=datetime.fromisoformat(str(row[5])),
        expires=datetime.fromisoformat(str(row[6])),
        kid=str(row[7]),
        issued_at=datetime.fromisoformat(str(row[8])),
        issued_by=str(row[9]),
        revoked_at=None if row[10] is None else datetime.fromisoformat(str(row[10])),
        revoked_by=None if row[11] is None else str(row[11]),
    )


def household_passes(q: Query, community: str, unit: str) -> list[PassRow]:
    return [
        _pass_row(row)
        for row in q.all(
            f"SELECT {_PASS_COLUMNS} FROM office_passes "  # noqa: S608  (a constant)
            "WHERE community = ? AND unit = ? ORDER BY issued_at DESC, pass_id DESC",
            [community, unit],
        )
    ]


def find_passes(
    q: Query, *, communities: Sequence[str], text: str = "", limit: int = 200
) -> list[PassRow]:
    """The newest passes of ``communities`` whose pass id or unit starts with ``text``."""
    if not communities:
        return []
    within, params = q.in_list(list(communities))
    sql = f"SELECT {_PASS_COLUMNS} FROM office_passes WHERE community {within}"  # noqa: S608
    if text.strip():
        prefix = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql += " AND (pass_id LIKE ? ESCAPE '\\' OR unit LIKE ? ESCAPE '\\')"
        params += [prefix, prefix]
    sql += " ORDER BY issued_at DESC, pass_id DESC LIMIT ?"
    return [_pass_row(row) for row in q.all(sql, [*params, limit])]


def get_pass(q: Query, community: str, pass_id: str) -> PassRow | None:
    row = q.one(
        f"SELECT {_PASS_COLUMNS} FROM office_passes "  # noqa: S608  (a constant)
        "WHERE community = ? AND pass_id = ?",
        [community, pass_id],
    )
    return None if row is None else _pass_row(row)


def ids_between(q: Query, community: str, first: str, last: str) -> list[str]:
    """The pass ids of one issue, ``first`` to ``last`` (one issue's numbers are consecutive,
    of one kind, so they sort as text), in order."""
    return [
        str(row[0])
        for row in q.all(
            "SELECT pass_id FROM office_passes WHERE community = ? AND pass_id >= ? "
            "AND pass_id <= ? ORDER BY pass_id LIMIT ?",
            [community, first, last, MAX_BULK],
        )
    ]


# ------------------------------------------------------------------------------ printing


def sheet_pdf(q: Query, community: str, pass_ids: Sequence[str], *, zone: ZoneInfo) -> bytes:
    """The printable A4 sheet (``edge.passes_pdf``, 8 cards a page) of these passes, in order:
    the QR code from the stored token, the holder's full name on the card. Revoked passes are
    left out; ``ValueError`` if none is left."""
    if not pass_ids:
        raise ValueError("no passes to print")
    within, params = q.in_list(list(pass_ids))
    rows = q.all(
        "SELECT pass_id, token, resident, holder FROM office_passes "  # noqa: S608
        f"WHERE community = ? AND revoked_at IS NULL AND pass_id {within}",
        [community, *params],
    )
    by_id = {str(row[0]): row for row in rows}
    cards = []
    for pass_id in pass_ids:
        row = by_id.get(pass_id)
        if row is None:
            continue
        claims = decode_unverified(str(row[1]), community=community)
        if claims is None:  # a stored token that no longer decodes: a bug, not input
            raise AssertionError(f"stored token of {pass_id} does not decode")
        cards.append(PassCard(token=str(row[1]), claims=claims, holder_name=str(row[2] or row[3])))
    if not cards:
        raise ValueError("every pass named is revoked or unknown")
    with _scratch() as path:
        drawn = render_cards_pdf(cards, path, tz=zone)
        if drawn != [card.token for card in cards]:
            raise AssertionError("the printed QR codes differ from the stored passes")
        return path.read_bytes()


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kakou-office-") as folder:
        yield Path(folder) / "passes.pdf"


# ------------------------------------------------------------------------------ revoking


def revoke(
    q: Query,
    *,
    community: str,
    pass_ids: Sequence[str] = (),
    unit: str | None = None,
    officer: Officer | None,
    now: datetime,
) -> list[str]:
    """Mark ``pass_ids`` (or every pass of ``unit``) revoked and audit it, in ``q``'s
    transaction; returns the ids newly revoked (one already revoked stays as it was)."""
    params: list[object] = [community]
    sql = "SELECT pass_id FROM office_passes WHERE community = ? AND revoked_at IS NULL"
    if unit is not None:
        sql += " AND unit = ?"
        params.append(unit)
    if pass_ids:
        within, values = q.in_list(list(pass_ids))
        sql += f" AND pass_id {within}"
        params += values
    elif unit is None:
        return []
    ids = [str(row[0]) for row in q.all(sql + " ORDER BY pass_id", params)]
    if not ids:
        return []
    within, values = q.in_list(ids)
    q.run(
        f"UPDATE office_passes SET revoked_at = ?, revoked_by = ? "  # noqa: S608
        f"WHERE community = ? AND pass_id {within}",
        [now.isoformat(), "" if officer is None else officer.name, community, *values],
    )
    what = f"household {unit}" if unit is not None and not pass_ids else _span(ids)
    audit.record(
        q,
        officer=officer,
        action="pass.revoke",
        community=community,
        detail=f"revoked {len(ids)} pass(es) of {what}: {_span(ids)}",
        now=now,
    )
    return ids


def revocation_list(db: ReceiverDb, community: str, *, now: datetime) -> RevocationsBody:
    """The community's full revocation list as the office would publish it now: its revoked
    passes that have not expired (an expired pass is refused as expired anyway), and every id
    the last published list carried that the office did not issue."""
    last = last_document(db, community, DownlinkKind.REVOCATIONS)
    earlier = set(last.body.get("pass_ids", [])) if last is not None else set()
    with db.reading() as q:
        revoked = {
            str(row[0])
            for row in q.all(
                "SELECT pass_id FROM office_passes WHERE community = ? "
                "AND revoked_at IS NOT NULL AND expires_us > ?",
                [community, _us(now)],
            )
        }
        if earlier:
            within, values = q.in_list(sorted(earlier))
            ours = {
                str(row[0])
                for row in q.all(
                    "SELECT pass_id FROM office_passes "  # noqa: S608
                    f"WHERE community = ? AND pass_id {within}",
                    [community, *values],
                )
            }
        else:
            ours = set()
    return RevocationsBody(pass_ids=sorted(revoked | (earlier - ours)))


def undelivered(db: ReceiverDb, community: str, kind: DownlinkKind) -> list[int]:
    """Versions of ``kind`` signed and recorded but never delivered to the broker (it was down),
    since the last one that was; a newer delivered version supersedes them."""
    with db.reading() as q:
        return [
            int(row[0])
            for row in q.all(
                "SELECT version FROM office_downlink_undelivered WHERE community = ? AND kind = ? "
                "ORDER BY version",
                [community, kind.value],
            )
        ]


def revocations_pending(db: ReceiverDb, community: str, *, now: datetime) -> bool:
    """Whether the gates may lack a revocation the office made: the last list did not reach
    the broker, or it lacks a pass revoked since (a pass that expired since may drop out
    without a new version)."""
    if undelivered(db, community, DownlinkKind.REVOCATIONS):
        return True
    last = last_document(db, community, DownlinkKind.REVOCATIONS)
    wanted = set(revocation_list(db, community, now=now).pass_ids)
    published = set(last.body.get("pass_ids", [])) if last is not None else set()
    return not wanted <= published


@dataclass(frozen=True, slots=True)
class Published:
    """What publishing gave: the document, or why there is none (the revocation is recorded
    either way; the downlink page offers to publish again)."""

    document: DownlinkDocument | None
    error: str | None = None


def publish_revocations(
    db: ReceiverDb,
    publish: DownlinkPublisher,
    *,
    community: str,
    officer: Officer | None,
    now: datetime,
) -> Published:
    """Publish the community's full revocation list as its next signed version, and audit it."""
    body = revocation_list(db, community, now=now)
    return _publish(
        db,
        publish,
        community,
        DownlinkKind.REVOCATIONS,
        body,
        officer,
        now,
        body_note=f"{len(body.pass_ids)} pass id(s)",
    )


def _publish(
    db: ReceiverDb,
    publish: DownlinkPublisher,
    community: str,
    kind: DownlinkKind,
    body: RevocationsBody | KeysBody,
    officer: Officer | None,
    now: datetime,
    *,
    body_note: str,
) -> Published:
    before = db.last_downlink_version(community, kind.value)
    try:
        document = publish(community=community, kind=kind, body=body, now=now)
    except NoSigningKey as exc:
        return Published(None, str(exc))
    except (OSError, ValueError) as exc:
        # The broker unreachable, the key file unreadable: the message names the file or the
        # host, never key material (edge.keys). A version recorded before the broker refused
        # is used up (publishing.py): remember it was never delivered.
        log.warning("publishing %s for %s failed: %s", kind, community, exc)
        after = db.last_downlink_version(community, kind.value)
        with db.writing() as q:
            if after > before:
                q.run(
                    "INSERT INTO office_downlink_undelivered (community, kind, version, "
                    "failed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [community, kind.value, after, now.isoformat()],
                )
            audit.record(
                q,
                officer=officer,
                action=f"downlink.{kind.value}.failed",
                community=community,
                detail=f"publishing {kind.value} failed: {str(exc)[:200]}",
                now=now,
            )
        return Published(None, f"{type(exc).__name__}: {exc}")
    with db.writing() as q:
        q.run(
            "DELETE FROM office_downlink_undelivered WHERE community = ? AND kind = ? "
            "AND version < ?",
            [community, kind.value, document.version],
        )
        audit.record(
            q,
            officer=officer,
            action=f"downlink.{kind.value}",
            community=community,
            detail=f"published {kind.value} version {document.version}: {body_note}",
            now=now,
        )
    return Published(document)


# ------------------------------------------------------------------------------ keys


def keys_body(key_dir: Path, *, revoke: Sequence[str], signing_kid: str | None) -> KeysBody:
    """The pass keys to trust (every ``*.pub`` in ``key_dir``) and the key ids to stop trusting,
    checked as the gates' trust rules will judge them (docs/mqtt.md, "Who signs"): the office's
    own downlink signer is never revoked by a document it signs, a key is not both trusted and
    revoked, and every id is a key id. ``ValueError`` says which rule a request breaks."""
    loaded = key_files.load_public_dir(key_dir)
    revoked = sorted(set(revoke))
    for kid in revoked:
        check_field("key_id", kid)
        if kid == signing_kid:
            raise ValueError(
                f"{kid} signs the downlink: rotate it on each gate ([mqtt] downlink_signers), "
                "then revoke it with the new key"
            )
        if kid in loaded:
            raise ValueError(f"{kid} is in the key folder: remove its .pub before revoking it")
    return KeysBody(
        keys={kid: key_files.public_pem_of(key).decode("ascii") for kid, key in loaded.items()},
        revoked=revoked,
    )


def publish_keys(
    db: ReceiverDb,
    publish: DownlinkPublisher,
    *,
    community: str,
    key_dir: Path,
    revoke: Sequence[str],
    signing_kid: str | None,
    officer: Officer | None,
    now: datetime,
) -> Published:
    """Key rotation: publish the keys document (the folder's pass keys trusted, ``revoke``
    revoked) as the next version; ``ValueError`` for a request the gates would refuse."""
    body = keys_body(key_dir, revoke=revoke, signing_kid=signing_kid)
    gate_keys = [kid for kid in body.revoked if is_gate_key(kid)]
    note = f"{len(body.keys)} key(s) trusted, revoked: {', '.join(body.revoked) or 'none'}"
    if gate_keys:
        note += f" (gate keys: {', '.join(gate_keys)})"
    return _publish(db, publish, community, DownlinkKind.KEYS, body, officer, now, body_note=note)
