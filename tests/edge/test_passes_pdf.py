"""Household sheets, QR symbols and the printable A4 cards."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import qrcode.constants
import qrcode.util
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge import passes, passes_pdf
from edge.model import PassKind
from edge.passes_pdf import (
    CardSigner,
    HouseholdRow,
    PassCard,
    SheetError,
    decode_sheet,
    make_qr,
    parse_households,
    read_households,
    render_cards_pdf,
)

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=CHINA)
SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(b"kakou test signing key, not real")

TEN_HOUSEHOLDS = """pass_id,holder,unit,kind,days,gates,plate
R-0001234,张三,3-2-501,resident,,,
R-0001235,李四,3-2-501,,,,
R-0001236,欧阳娜娜,5-1-1202,resident,365,,
T-0000417,王小明,7-3-302,temporary,30,,
V-0031337,Zhang Wei,3-2-501,visitor,1,north,
S-0000012,赵敏,物业中心,staff,365,"north, east",
C-0000088,陈晨,7-3-302,vehicle,365,,京A12345
R-0001237,刘洋,12-4-1802,,,,
R-0001238,周杰,1-1-101,,,,
R-0001239,吴桐,2-3-903,,,,
"""


def parsed(text: str, default_days: int = 365) -> tuple[list[HouseholdRow], list[str]]:
    rows, errors = parse_households(text, default_days=default_days)
    return rows, [str(error) for error in errors]


def test_sheet_rows_with_defaults_gates_and_plates() -> None:
    rows, errors = parsed(TEN_HOUSEHOLDS, default_days=200)

    assert errors == []
    assert len(rows) == 10
    assert rows[0] == HouseholdRow(2, "R-0001234", "张三", "3-2-501", PassKind.RESIDENT, 200)
    assert rows[1].kind is PassKind.RESIDENT  # empty kind cell
    assert rows[3].days == 30
    assert rows[5].gates == ("north", "east")
    assert rows[6].plate == "京A12345"


def test_sheet_needs_only_the_three_required_columns() -> None:
    rows, errors = parsed(" Pass_ID , Holder ,UNIT\nR-1,张三,3-2-501\n\n,,\n")
    assert errors == []
    assert [(row.pass_id, row.line_no) for row in rows] == [("R-1", 2)]


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        ("", ["line 1: the sheet is empty; the first line must name the columns"]),
        ("pass_id,holder\n", ["line 1: missing column 'unit'"]),
        ("pass_id,holder,unit,name\n", ["line 1: unknown column 'name'; columns are "]),
        ("pass_id,holder,unit,unit\n", ["line 1: column 'unit' appears twice"]),
        ("pass_id,holder,unit\nR-1,张三\n", ["line 2: unit is empty"]),
        ("pass_id,holder,unit\nR-1,张三,1,extra\n", ["line 2: 4 cells but 3 columns"]),
        ("pass_id,holder,unit,days\nR-1,张三,1,ten\n", ["line 2: days must be a whole number"]),
        ("pass_id,holder,unit,kind\nR-1,张三,1,tourist\n", ["line 2: kind must be one of"]),
        ("pass_id,holder,unit,kind\nR-1,张三,1,vehicle\n", ["line 2: a vehicle pass needs"]),
        ("pass_id,holder,unit,gates\nR-1,张三,1,north gate#2\n", ["line 2: gate 'gate#2'"]),
        ("pass_id,holder,unit\nR 1,张三,1\n", ["line 2: pass_id 'R 1' must match"]),
        (
            'pass_id,holder,unit\nR-1,"张\n三",1\nR-2,李四,\n',
            ["line 2: holder must not contain control characters", "line 4: unit is empty"],
        ),
    ],
)
def test_sheet_errors_name_their_line(sheet: str, expected: list[str]) -> None:
    rows, errors = parsed(sheet)
    assert rows == []
    assert len(errors) == len(expected)
    for error, start in zip(errors, expected, strict=True):
        assert error.startswith(start), error


def test_sheet_refuses_a_pass_id_used_twice() -> None:
    rows, errors = parsed("pass_id,holder,unit\nR-1,张三,1\nR-1,李四,2\n")
    assert [row.holder for row in rows] == ["张三"]
    assert errors == ["line 3: pass_id 'R-1' already on line 2"]


def test_sheet_reports_every_bad_row_not_just_the_first() -> None:
    sheet = "pass_id,holder,unit,days\nR-1,,1,0\nR-2,李四,2,\nR-3,王五,,\n"
    rows, errors = parsed(sheet)
    assert [row.pass_id for row in rows] == ["R-2"]
    assert errors == [
        "line 2: holder is empty",
        "line 2: days must be a whole number of at least 1, got '0'",
        "line 4: unit is empty",
    ]


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"], ids=lambda name: name
)
def test_sheet_in_every_encoding_excel_writes(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "households.csv"
    path.write_bytes(TEN_HOUSEHOLDS.encode(encoding))
    rows, errors = read_households(path, default_days=365)
    assert errors == []
    assert rows[2].holder == "欧阳娜娜"
    assert rows[0].pass_id == "R-0001234"  # no BOM glued to the first column name


def test_sheet_that_is_no_text_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "households.xlsx"
    path.write_bytes(b"PK\x03\x04\xff\xff\x80")
    rows, errors = read_households(path, default_days=365)
    assert rows == []
    assert errors == [
        SheetError(1, "the sheet is neither UTF-8 nor GBK text; save it as CSV UTF-8")
    ]
    with pytest.raises(ValueError, match="neither UTF-8 nor GBK"):
        decode_sheet(b"\xff")


def test_split_gates_accepts_what_people_type() -> None:
    assert passes_pdf.split_gates("north, east，south、west;  ") == (
        "north",
        "east",
        "south",
        "west",
    )
    assert passes_pdf.split_gates("") == ()


def test_qr_symbol_is_alphanumeric_at_level_m() -> None:
    token = cards_for(TEN_HOUSEHOLDS)[0].token
    qr = make_qr(token)
    assert qr.error_correction == qrcode.constants.ERROR_CORRECT_M
    assert [chunk.mode for chunk in qr.data_list] == [qrcode.util.MODE_ALPHA_NUM]
    assert qr.version <= 8
    assert passes_pdf.qr_version(token) == qr.version


def cards_for(sheet: str) -> list[PassCard]:
    rows, errors = parse_households(sheet, default_days=365)
    assert errors == []
    return CardSigner(SIGNING_KEY, key_id="hxy1", community="hxy", now=NOW).cards(rows)


def test_cards_carry_masked_names_in_the_qr_and_full_names_on_paper() -> None:
    cards = cards_for(TEN_HOUSEHOLDS)
    assert [card.holder_name for card in cards][:3] == ["张三", "李四", "欧阳娜娜"]
    assert [card.claims.holder for card in cards][:3] == ["张*", "李*", "欧*"]
    assert cards[4].claims.holder == "Zhang W."
    first = cards[0].claims
    assert first.not_before == NOW
    assert first.expires == datetime(2027, 3, 1, tzinfo=CHINA)  # to the end of the last day
    verdict = passes.verify(
        cards[6].token,
        keys={"hxy1": SIGNING_KEY.public_key()},
        revoked=frozenset(),
        community="hxy",
        gate="north",
        now=NOW,
    )
    assert verdict.valid
    assert verdict.claims is not None
    assert verdict.claims.plate == "京A12345"


@pytest.mark.parametrize("token_format", list(passes.TokenFormat))
def test_cards_name_their_community_in_either_contract(token_format: passes.TokenFormat) -> None:
    """A KK2 token does not carry its community; the card, signed for it, still prints it."""
    rows, errors = parse_households(TEN_HOUSEHOLDS, default_days=365)
    assert errors == []
    signer = CardSigner(
        SIGNING_KEY, key_id="hxy1", community="hxy", now=NOW, token_format=token_format
    )
    cards = signer.cards(rows)
    prefix = "KK1:" if token_format is passes.TokenFormat.KK1 else "KK2:"
    assert all(card.token.startswith(prefix) for card in cards)
    assert {card.claims.community for card in cards} == {"hxy"}


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def test_ten_cards_make_two_a4_pages_with_the_issued_tokens(tmp_path: Path) -> None:
    cards = cards_for(TEN_HOUSEHOLDS)
    out = tmp_path / "passes.pdf"

    drawn = render_cards_pdf(cards, out, tz=CHINA)

    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 2  # 8 cards a page
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # A4 in points
    assert drawn == [card.token for card in cards]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["passes.pdf"]  # no temp left


def test_chinese_font_is_embedded_when_one_is_installed(tmp_path: Path) -> None:
    out = tmp_path / "passes.pdf"
    render_cards_pdf(cards_for(TEN_HOUSEHOLDS), out)
    font = passes_pdf.cjk_font()
    if font == "STSong-Light":
        assert b"/STSong-Light" in out.read_bytes()  # the viewer's CJK font fills in
    else:
        assert b"/FontFile2" in out.read_bytes()  # an embedded TrueType subset


def test_without_an_embeddable_font_the_builtin_cid_font_is_used(tmp_path: Path) -> None:
    not_a_font = tmp_path / "broken.ttf"
    not_a_font.write_bytes(b"not a font")
    font = passes_pdf.cjk_font(candidates=(str(tmp_path / "missing.ttc"), str(not_a_font)))
    assert font == "STSong-Light"

    out = tmp_path / "passes.pdf"
    cards = cards_for(TEN_HOUSEHOLDS)[:2]
    assert render_cards_pdf(cards, out, font=font) == [card.token for card in cards]
    assert b"/STSong-Light" in out.read_bytes()  # named, for the viewer to supply


def test_a_failed_render_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = cards_for(TEN_HOUSEHOLDS)
    calls: list[int] = []

    def fail_on_the_ninth_card(*args: object, **kwargs: object) -> str:
        calls.append(1)
        if len(calls) == 9:
            raise OSError("disk full")
        return cards[len(calls) - 1].token

    monkeypatch.setattr(passes_pdf, "_draw_card", fail_on_the_ninth_card)
    out = tmp_path / "passes.pdf"
    with pytest.raises(OSError, match="disk full"):
        render_cards_pdf(cards, out)
    assert list(tmp_path.iterdir()) == []


def test_render_refuses_an_empty_batch(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no cards"):
        render_cards_pdf([], tmp_path / "passes.pdf")


PDFTOPPM = shutil.which("pdftoppm")
ZBARIMG = shutil.which("zbarimg")


def test_printed_qr_codes_scan_back_to_the_issued_tokens(tmp_path: Path) -> None:
    """Render the PDF at a modest printer resolution and read every QR code back."""
    assert PDFTOPPM is not None, "pdftoppm missing: .ci/bootstrap.sh installs poppler-utils"
    assert ZBARIMG is not None, "zbarimg missing: .ci/bootstrap.sh installs zbar-tools"
    cards = cards_for(TEN_HOUSEHOLDS)
    out = tmp_path / "passes.pdf"
    render_cards_pdf(cards, out)
    subprocess.run([PDFTOPPM, "-r", "150", "-png", str(out), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2

    scanned: list[str] = []
    for page in pages:
        result = subprocess.run(
            [ZBARIMG, "--raw", "-q", str(page)], capture_output=True, text=True, check=False
        )
        scanned += result.stdout.splitlines()  # tokens may hold spaces, never newlines
    assert sorted(scanned) == sorted(card.token for card in cards)
