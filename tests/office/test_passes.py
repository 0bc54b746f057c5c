"""sync/office/passes.py: passes issued per household with the office key read at each use,
bound to the community, recorded and audited; the printable sheet; revocation published as the
community's full list, which a real gate subscribed on a real Mosquitto applies and then
refuses the pass as revoked; keys documents held to the gates' trust rules."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge import keys
from edge.model import PassKind, Verdict, VerifyReason
from edge.passes import verify
from sync.contract import DownlinkDocument, DownlinkKind, RevocationsBody
from sync.downlink import sign_document
from sync.office import audit, passes, roster
from sync.office.accounts import Officer, Role
from sync.office.context import NoSigningKey, OfficeContext
from sync.receiver.db import Query, ReceiverDb
from tests.office.conftest import COMMUNITY, T0
from tests.office.gate_rig import OFFICE_KID, SyncedGate, office_settings_for
from tests.sync.rig import Mosquitto, free_port, serving, wait_until

ZONE = ZoneInfo("Asia/Shanghai")
OFFICER = Officer(id="o-1", name="王芳", role=Role.OFFICER, communities=(COMMUNITY,))
SHEET = "unit,name\n3-2-501,张三\n3-2-501,李四\n3-2-502,王五\n".encode()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    keys.new_keypair(OFFICE_KID, tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def db(office_db: ReceiverDb) -> ReceiverDb:
    for ensure in (audit.ensure_schema, roster.ensure_schema, passes.ensure_schema):
        ensure(office_db)
    parsed = roster.parse_roster(SHEET)
    with office_db.writing() as q:
        roster.import_roster(q, community=COMMUNITY, rows=parsed.rows, now=T0)
    return office_db


def signer(key_dir: Path) -> passes.SigningKey:
    settings = office_settings_for(Path("unused.db"), broker_port=1883, key_dir=key_dir)
    return passes.office_signing_key(settings.office)


def _issue(q: Query, requests: Sequence[passes.PassRequest], key_dir: Path) -> list[str]:
    """``requests`` issued at T0 by the test officer, signed with the key in ``key_dir``."""
    return passes.issue_passes(
        q,
        community=COMMUNITY,
        requests=requests,
        signing_key=signer(key_dir),
        officer=OFFICER,
        now=T0,
        zone=ZONE,
    )


def issue_household(db: ReceiverDb, key_dir: Path, unit: str = "3-2-501") -> list[str]:
    with db.writing() as q:
        requests = passes.household_requests(
            q, community=COMMUNITY, units=[unit], kind=PassKind.RESIDENT, days=365, now=T0
        )
        return _issue(q, requests, key_dir)


def tokens(db: ReceiverDb, *pass_ids: str) -> list[str]:
    with db.reading() as q:
        within, params = q.in_list(list(pass_ids))
        rows = q.all(
            f"SELECT token FROM office_passes WHERE pass_id {within} ORDER BY pass_id", params
        )
    return [str(row[0]) for row in rows]


def _at_a_gate(
    token: str, public: Mapping[str, Ed25519PublicKey], now: datetime, community: str = COMMUNITY
) -> Verdict:
    """What gate n of ``community``, trusting ``public`` and revoking nothing, decides."""
    return verify(token, keys=public, revoked=frozenset(), community=community, gate="n", now=now)


@pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)
def test_a_household_gets_a_pass_per_resident_bound_to_its_community(
    db: ReceiverDb, key_dir: Path
) -> None:
    issued = issue_household(db, key_dir)
    assert issued == ["R-000001", "R-000002"]
    public = keys.load_public_dir(key_dir)
    now = T0 + timedelta(hours=1)
    for token, holder in zip(tokens(db, *issued), ["张*", "李*"], strict=True):
        good = _at_a_gate(token, public, now)
        assert good.valid
        assert good.claims is not None
        assert (good.claims.holder, good.claims.unit, good.claims.kind) == (
            holder,
            "3-2-501",
            PassKind.RESIDENT,
        )
        # Bound to the community: another community's gate refuses it.
        other = _at_a_gate(token, public, now, community="lhy")
        assert other.reason is VerifyReason.BAD_SIGNATURE
        # Valid to the end of the 365th day, in the office's zone.
        assert good.claims.expires.astimezone(ZONE).time().isoformat() == "00:00:00"
    with db.reading() as q:
        listed = passes.household_passes(q, COMMUNITY, "3-2-501")
        again = passes.household_requests(
            q, community=COMMUNITY, units=["3-2-501"], kind=PassKind.RESIDENT, days=365, now=T0
        )
    assert {row.holder for row in listed} == {"张*", "李*"}  # the list never holds a full name
    assert all(row.issued_by == "王芳" and row.state(T0) == "valid" for row in listed)
    assert again == []  # a resident with a good pass gets no second one in a bulk issue
    lines = audit.read(db, communities=None, action="pass.issue")
    assert len(lines) == 1
    assert "R-000001" in lines[0].detail
    assert lines[0].officer_name == "王芳"


def test_a_bad_request_issues_nothing(db: ReceiverDb, key_dir: Path) -> None:
    bad = [
        passes.PassRequest(unit="3-2-501", resident="张三"),
        passes.PassRequest(unit="3-2-501", resident="李四", kind=PassKind.VISITOR),
    ]
    with pytest.raises(ValueError, match="kind"), db.writing() as q:
        _issue(q, bad, key_dir)
    with db.reading() as q:
        assert q.scalar("SELECT count(*) FROM office_passes") == 0
    with pytest.raises(ValueError, match="days"):
        passes.check_request(passes.PassRequest(unit="3-2-501", resident="张三", days=0))


def test_the_key_is_read_from_its_file_at_each_use(
    db: ReceiverDb, key_dir: Path, tmp_path: Path
) -> None:
    settings = office_settings_for(Path("unused.db"), broker_port=1883)
    with pytest.raises(NoSigningKey), db.writing() as q:
        passes.issue_passes(
            q,
            community=COMMUNITY,
            requests=[passes.PassRequest("3-2-501", "张三")],
            signing_key=passes.office_signing_key(settings.office),
            officer=OFFICER,
            now=T0,
            zone=ZONE,
        )
    first = issue_household(db, key_dir, "3-2-501")
    # The office replaces its key file (same key id): the next pass is signed by the new key.
    (key_dir / f"{OFFICE_KID}.key").unlink()
    (key_dir / f"{OFFICE_KID}.pub").unlink()
    keys.new_keypair(OFFICE_KID, key_dir)
    second = issue_household(db, key_dir, "3-2-502")
    new_key = keys.load_public_dir(key_dir)
    later = T0 + timedelta(hours=1)
    assert _at_a_gate(tokens(db, *second)[0], new_key, later).valid
    assert not _at_a_gate(tokens(db, *first)[0], new_key, later).valid


def test_the_printable_sheet_has_each_card_with_the_full_name(
    db: ReceiverDb, key_dir: Path, tmp_path: Path
) -> None:
    issued = issue_household(db, key_dir)
    with db.writing() as q:
        passes.revoke(q, community=COMMUNITY, pass_ids=[issued[1]], officer=OFFICER, now=T0)
    with db.reading() as q:
        pdf = passes.sheet_pdf(q, COMMUNITY, issued, zone=ZONE)
        with pytest.raises(ValueError, match="revoked"):
            passes.sheet_pdf(q, COMMUNITY, [issued[1]], zone=ZONE)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None, "apt-get install poppler-utils"
    text = subprocess.run(
        [pdftotext, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "张三" in text  # the card prints the full name; the QR code carries 张*
    assert issued[0] in text
    assert issued[1] not in text  # the revoked pass is not printed


@pytest.mark.parametrize("office_db", ["sqlite", "postgresql"], indirect=True)
def test_the_published_list_keeps_ids_the_office_did_not_issue(
    db: ReceiverDb, key_dir: Path
) -> None:
    issued = issue_household(db, key_dir)
    # A list published earlier from the command line, with an id the office never issued.
    _, key = keys.load_private(key_dir / f"{OFFICE_KID}.key")
    earlier = DownlinkDocument(
        type=DownlinkKind.REVOCATIONS,
        community=COMMUNITY,
        version=1,
        issued_at=T0,
        body=RevocationsBody(pass_ids=["P-CLI-1", issued[0]]).model_dump(),
    )
    db.record_downlink(
        community=COMMUNITY,
        kind="revocations",
        version=1,
        issued_at=T0,
        kid=OFFICE_KID,
        envelope=sign_document(earlier, key=key, kid=OFFICE_KID).decode(),
        now=T0,
    )
    with db.writing() as q:
        assert (
            passes.revoke(q, community=COMMUNITY, unit="3-2-501", officer=OFFICER, now=T0) == issued
        )
        assert passes.revoke(q, community=COMMUNITY, unit="3-2-501", officer=OFFICER, now=T0) == []
    body = passes.revocation_list(db, COMMUNITY, now=T0)
    # issued[0] was on the earlier list but is the office's and is revoked: it stays; the
    # CLI's id stays; both household passes are on it.
    assert body.pass_ids == sorted(["P-CLI-1", *issued])
    assert passes.revocations_pending(db, COMMUNITY, now=T0)
    # After they expire they drop out: a gate refuses them as expired anyway.
    after = T0 + timedelta(days=400)
    assert passes.revocation_list(db, COMMUNITY, now=after).pass_ids == ["P-CLI-1"]
    assert [line.action for line in audit.read(db, communities=[COMMUNITY])][:1] == ["pass.revoke"]


def test_a_keys_document_follows_the_trust_rules(key_dir: Path) -> None:
    keys.new_keypair("hxy2", key_dir)
    body = passes.keys_body(key_dir, revoke=["hxy0", "gate-south"], signing_kid=OFFICE_KID)
    assert set(body.keys) == {OFFICE_KID, "hxy2"}
    assert body.revoked == ["gate-south", "hxy0"]
    with pytest.raises(ValueError, match="signs the downlink"):
        passes.keys_body(key_dir, revoke=[OFFICE_KID], signing_kid=OFFICE_KID)
    with pytest.raises(ValueError, match="key folder"):
        passes.keys_body(key_dir, revoke=["hxy2"], signing_kid=OFFICE_KID)
    with pytest.raises(ValueError, match="key id"):
        passes.keys_body(key_dir, revoke=["bad id"], signing_kid=OFFICE_KID)


# ------------------------------------------------------------------ a real broker, a real gate


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    yield from serving(Mosquitto(tmp_path / "mosquitto"))


def test_a_revoked_pass_is_refused_by_a_gate_once_the_list_arrives(
    db: ReceiverDb, key_dir: Path, broker: Mosquitto, tmp_path: Path
) -> None:
    settings = office_settings_for(
        tmp_path / "receiver.db", broker_port=broker.port, key_dir=key_dir
    )
    context = OfficeContext(db=db, settings=settings, now=lambda: T0)
    issued = issue_household(db, key_dir)
    token = tokens(db, issued[0])[0]
    with closing(SyncedGate(tmp_path / "gate", broker.port, key_dir=key_dir)) as gate:
        now = datetime.now(UTC)
        before = gate.verdict(token, now)
        assert before.valid, before
        with db.writing() as q:
            passes.revoke(q, community=COMMUNITY, pass_ids=[issued[0]], officer=OFFICER, now=now)
        published = passes.publish_revocations(
            db, context.downlink(), community=COMMUNITY, officer=OFFICER, now=now
        )
        assert published.error is None
        assert published.document is not None
        assert published.document.version == 1
        wait_until(lambda: gate.store.revoked_ids() == {issued[0]}, 10, "the list applied")
        after = gate.verdict(token, now)
        assert after.reason is VerifyReason.REVOKED
        assert gate.verdict(tokens(db, issued[1])[0], now).valid
    assert not passes.revocations_pending(db, COMMUNITY, now=now)
    assert (
        "published revocations version 1"
        in audit.read(db, communities=None, action="downlink.revocations")[0].detail
    )


def test_publishing_without_a_broker_keeps_the_revocation_and_says_why(
    db: ReceiverDb, key_dir: Path, tmp_path: Path
) -> None:
    settings = office_settings_for(
        tmp_path / "receiver.db", broker_port=free_port(), key_dir=key_dir
    )
    context = OfficeContext(db=db, settings=settings, now=lambda: T0)
    issued = issue_household(db, key_dir)
    with db.writing() as q:
        passes.revoke(q, community=COMMUNITY, pass_ids=issued[:1], officer=OFFICER, now=T0)
    published = passes.publish_revocations(
        db, context.downlink(), community=COMMUNITY, officer=OFFICER, now=T0
    )
    assert published.document is None
    assert published.error
    # Version 1 was signed and recorded, then never reached the broker: the page offers it again.
    assert passes.undelivered(db, COMMUNITY, DownlinkKind.REVOCATIONS) == [1]
    assert passes.revocations_pending(db, COMMUNITY, now=T0)
    with db.reading() as q:
        row = passes.get_pass(q, COMMUNITY, issued[0])
    assert row is not None
    assert row.state(T0) == "revoked"
