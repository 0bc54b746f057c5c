"""Passes on paper: QR symbols, the household sheet an office fills in, and A4 sheets of cards.

The office exports a household list from Excel, ``kakou pass batch`` turns it into one printable
PDF, and residents (many of them elderly) carry the card. So the QR symbol is large (40 mm, error
correction M), the card repeats in large type what the guard needs, and labels are in Chinese
with English.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import qrcode
import qrcode.constants
import qrcode.image.pure
import qrcode.util
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from edge.model import PassClaims, PassKind
from edge.passes import (
    DEFAULT_FORMAT,
    TokenFormat,
    check_field,
    decode_unverified,
    expiry_after_days,
    issue,
    mask_holder,
)

# ---------------------------------------------------------------------------------------------
# QR symbols


def make_qr(token: str) -> qrcode.QRCode:
    """The QR symbol for a token: EC level M, alphanumeric mode, smallest version that fits.

    Level M survives about 15 % damage, which a worn card in a wallet needs; alphanumeric mode
    is what makes Base45 compact (docs/passes.md).
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(qrcode.util.QRData(token, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=True)
    return qr


def qr_version(token: str) -> int:
    """The QR version (1-40) a token needs at EC level M; 8 (49 × 49 modules) for a typical pass."""
    return int(make_qr(token).version)


def write_qr_png(token: str, path: Path | str, *, module_px: int = 10) -> None:
    """Write the token's QR symbol as a PNG (pure-Python PNG writer, no imaging library)."""
    qr = make_qr(token)
    qr.box_size = module_px
    image = qr.make_image(image_factory=qrcode.image.pure.PyPNGImage)
    with Path(path).open("wb") as png_file:
        image.save(png_file)


def dark_runs(matrix: Sequence[Sequence[bool | None]]) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules, row by row."""
    for row, modules in enumerate(matrix):
        column = 0
        while column < len(modules):
            if not modules[column]:
                column += 1
                continue
            start = column
            while column < len(modules) and modules[column]:
                column += 1
            yield row, start, column - start


def qr_svg(token: str) -> str:
    """The token's QR symbol as a small SVG: one path of dark modules, crisp at any size.

    For screens (a visitor's pass on the guard's tablet) and printing from the browser; the
    quiet zone is part of the drawing, so the symbol scans even on a busy page.
    """
    matrix = make_qr(token).get_matrix()
    size = len(matrix)
    runs = [f"M{x} {y}h{length}v1h-{length}z" for y, x, length in dark_runs(matrix)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def qr_text(token: str) -> str:
    """The QR symbol drawn with block characters, light modules solid, for dark terminals."""
    out = io.StringIO()
    make_qr(token).print_ascii(out=out, invert=True)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The household sheet

SHEET_COLUMNS = ("pass_id", "holder", "unit", "kind", "days", "gates", "plate")
_REQUIRED_COLUMNS = ("pass_id", "holder", "unit")
# Excel users type lists with ASCII or full-width commas, the enumeration comma, or spaces.
_GATE_SEPARATORS = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    """One pass to print, as the office wrote it; ``holder`` is the full name for the card."""

    line_no: int
    pass_id: str
    holder: str
    unit: str
    kind: PassKind
    days: int
    gates: tuple[str, ...] = ()
    plate: str | None = None


@dataclass(frozen=True, slots=True)
class SheetError:
    """A problem in the household sheet, by the line number a spreadsheet user sees."""

    line_no: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.message}"


def decode_sheet(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without Excel's BOM), else GB 18030.

    Chinese Excel saves "CSV" in the ANSI code page, GBK, which GB 18030 extends; UTF-8 is tried
    first because GBK would also "decode" many UTF-8 files into nonsense.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValueError("the sheet is neither UTF-8 nor GBK text; save it as CSV UTF-8") from None


def parse_households(
    text: str, *, default_days: int
) -> tuple[list[HouseholdRow], list[SheetError]]:
    """Rows from a CSV with a header row; every bad row is reported, none is silently skipped.

    Columns: pass_id, holder, unit (required); kind (default resident), days (default
    ``default_days``), gates (comma or space separated), plate. Blank lines are ignored.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [], [SheetError(1, "the sheet is empty; the first line must name the columns")]
    columns = [name.strip().lower() for name in header]
    header_errors = [
        SheetError(1, f"unknown column {name!r}; columns are {', '.join(SHEET_COLUMNS)}")
        for name in columns
        if name not in SHEET_COLUMNS
    ]
    header_errors += [
        SheetError(1, f"missing column {name!r}")
        for name in _REQUIRED_COLUMNS
        if name not in columns
    ]
    header_errors += [
        SheetError(1, f"column {name!r} appears twice")
        for name in sorted(set(columns))
        if columns.count(name) > 1
    ]
    if header_errors:
        return [], header_errors

    rows: list[HouseholdRow] = []
    errors: list[SheetError] = []
    first_line_of: dict[str, int] = {}
    end_of_previous = reader.line_num
    try:
        for cells in reader:
            # A quoted cell may hold a newline, so a record starts after the previous one ends.
            line_no, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                errors.append(SheetError(line_no, f"{len(cells)} cells but {len(columns)} columns"))
                continue
            fields = dict(zip(columns, (cell.strip() for cell in cells), strict=False))
            row, row_errors = _parse_row(line_no, fields, default_days=default_days)
            errors += row_errors
            if row is None:
                continue
            if row.pass_id in first_line_of:
                first = first_line_of[row.pass_id]
                errors.append(
                    SheetError(line_no, f"pass_id {row.pass_id!r} already on line {first}")
                )
                continue
            first_line_of[row.pass_id] = line_no
            rows.append(row)
    except csv.Error as exc:  # e.g. a NUL byte: the rest of the file cannot be trusted
        errors.append(SheetError(reader.line_num, f"not readable as CSV: {exc}"))
    return rows, errors


def read_households(
    path: Path | str, *, default_days: int
) -> tuple[list[HouseholdRow], list[SheetError]]:
    """``parse_households`` on a file, decoded by ``decode_sheet``."""
    try:
        text = decode_sheet(Path(path).read_bytes())
    except ValueError as exc:
        return [], [SheetError(1, str(exc))]
    return parse_households(text, default_days=default_days)


def split_gates(text: str) -> tuple[str, ...]:
    """Gate ids from a list typed by a person: commas (ASCII or full-width), '、', ';' or spaces."""
    return tuple(gate for gate in _GATE_SEPARATORS.split(text) if gate)


def parse_kind(text: str) -> PassKind:
    """A pass kind from its name, any case; ``ValueError`` listing the names otherwise."""
    try:
        return PassKind(text.strip().lower())
    except ValueError:
        names = ", ".join(kind.value for kind in PassKind)
        raise ValueError(f"kind must be one of {names}, got {text!r}") from None


def _parse_row(
    line_no: int, fields: dict[str, str], *, default_days: int
) -> tuple[HouseholdRow | None, list[SheetError]]:
    problems: list[str] = []

    def checked(field: str, column: str) -> str:
        value = fields.get(column, "")
        if not value:
            problems.append(f"{column} is empty")
            return value
        try:
            return check_field(field, value)
        except ValueError as exc:
            problems.append(str(exc))
            return value

    pass_id = checked("pass_id", "pass_id")
    holder = checked("holder", "holder")
    unit = checked("unit", "unit")
    kind = PassKind.RESIDENT
    if fields.get("kind"):
        try:
            kind = parse_kind(fields["kind"])
        except ValueError as exc:
            problems.append(str(exc))
    days = default_days
    if fields.get("days"):
        try:
            days = int(fields["days"])
        except ValueError:
            days = 0
        if days < 1:
            problems.append(f"days must be a whole number of at least 1, got {fields['days']!r}")
    gates = split_gates(fields.get("gates", ""))
    for gate in gates:
        try:
            check_field("gate", gate)
        except ValueError as exc:
            problems.append(str(exc))
    plate = fields.get("plate") or None
    if plate is not None:
        try:
            check_field("plate", plate)
        except ValueError as exc:
            problems.append(str(exc))
    elif kind is PassKind.VEHICLE:
        problems.append("a vehicle pass needs a plate")
    if problems:
        return None, [SheetError(line_no, problem) for problem in problems]
    row = HouseholdRow(line_no, pass_id, holder, unit, kind, days, gates, plate)
    return row, []


# ---------------------------------------------------------------------------------------------
# Cards


@dataclass(frozen=True, slots=True)
class PassCard:
    """A signed pass ready to print: the token for the QR, its claims, the name for the card."""

    token: str
    claims: PassClaims
    holder_name: str


@dataclass(frozen=True, slots=True)
class CardSigner:
    """How the office signs passes for cards: its key, its community and the time of issue.

    Each pass is valid from ``now`` to the end of its last day. The QR gets ``mask_holder`` of
    the name unless ``full_holder``; the card prints it in full, since the card is in its
    holder's hands anyway.
    """

    private_key: Ed25519PrivateKey
    key_id: str
    community: str
    now: datetime
    full_holder: bool = False
    token_format: TokenFormat = DEFAULT_FORMAT

    def token(self, row: HouseholdRow) -> str:
        """``row``'s signed pass token."""
        return issue(
            self.private_key,
            key_id=self.key_id,
            community=self.community,
            pass_id=row.pass_id,
            kind=row.kind,
            holder=row.holder if self.full_holder else mask_holder(row.holder),
            unit=row.unit,
            not_before=self.now,
            expires=expiry_after_days(self.now, row.days),
            issued_at=self.now,
            gates=row.gates,
            plate=row.plate,
            token_format=self.token_format,
        )

    def cards(self, rows: Iterable[HouseholdRow]) -> list[PassCard]:
        """One signed card per row, in order."""
        cards: list[PassCard] = []
        for row in rows:
            token = self.token(row)
            claims = decode_unverified(token, community=self.community)  # KK2 does not carry it
            if claims is None:  # issue() produced something its own decoder refuses: a bug
                raise AssertionError(f"issued token for {row.pass_id} does not decode")
            cards.append(PassCard(token=token, claims=claims, holder_name=row.holder))
        return cards


KIND_TITLES: dict[PassKind, tuple[str, str]] = {
    PassKind.RESIDENT: ("住户通行证", "Resident pass"),
    PassKind.TEMPORARY: ("临时通行证", "Temporary pass"),
    PassKind.VISITOR: ("访客通行证", "Visitor pass"),
    PassKind.STAFF: ("工作人员通行证", "Staff pass"),
    PassKind.VEHICLE: ("车辆通行证", "Vehicle pass"),
}
# One colour per kind so a guard tells a visitor's card from a resident's at arm's length.
_KIND_COLOURS: dict[PassKind, Color] = {
    PassKind.RESIDENT: HexColor("#1E5631"),
    PassKind.TEMPORARY: HexColor("#B34700"),
    PassKind.VISITOR: HexColor("#124E8C"),
    PassKind.STAFF: HexColor("#5B2A86"),
    PassKind.VEHICLE: HexColor("#37474F"),
}
_INK = HexColor("#1A1A1A")
_MUTED = HexColor("#666666")
_CUT_LINE = HexColor("#9E9E9E")

# Fonts that reportlab can embed (TrueType outlines). Noto CJK ships CFF outlines, which
# reportlab cannot embed, so it is tried last and skipped if it fails.
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
_CID_FALLBACK_FONT = "STSong-Light"  # Adobe's CID font: not embedded, the viewer supplies it

PAGE_MARGIN_MM = 10.0
CARD_COLUMNS = 2
CARD_ROWS = 4
QR_SYMBOL_MM = 40.0  # the symbol without its quiet zone; 35 mm or more for older hands and eyes
_QUIET_ZONE_MODULES = 4


def cjk_font(candidates: Sequence[str] = CJK_FONT_CANDIDATES) -> str:
    """Register and return a font with Chinese glyphs: the first embeddable TTF/TTC found, else
    reportlab's built-in STSong-Light (which PDF viewers render from their own CJK fonts)."""
    registered = pdfmetrics.getRegisteredFontNames()
    for path in candidates:
        name = f"Kakou-{Path(path).stem}"
        if name in registered:
            return name
        if not os.path.exists(path):
            continue
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        except (TTFError, OSError):  # e.g. CFF outlines, or a broken file: try the next
            continue
        return name
    if _CID_FALLBACK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(_CID_FALLBACK_FONT))
    return _CID_FALLBACK_FONT


def page_count(cards: int) -> int:
    """A4 pages needed for this many cards."""
    return -(-cards // (CARD_COLUMNS * CARD_ROWS))


def render_cards_pdf(
    cards: Sequence[PassCard],
    out_path: Path | str,
    *,
    tz: tzinfo | None = None,
    font: str | None = None,
) -> list[str]:
    """Write A4 pages of pass cards (2 × 4 a page, with cut lines); return the tokens drawn.

    The returned list is read back from the QR data actually drawn, in order, so a caller can
    check the print against what it issued. Dates print in ``tz`` (default: local time). The
    file appears whole or not at all: pages go to a temporary file that is renamed at the end.
    """
    if not cards:
        raise ValueError("no cards to print")
    font = font or cjk_font()
    out_path = Path(out_path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", dir=out_path.parent or ".")
    os.close(fd)
    drawn: list[str] = []
    try:
        canvas = Canvas(tmp_name, pagesize=A4)
        canvas.setTitle(f"Kakou passes: {cards[0].claims.community}")
        canvas.setCreator("Kakou")
        per_page = CARD_COLUMNS * CARD_ROWS
        pages = page_count(len(cards))
        for page_start in range(0, len(cards), per_page):
            page_cards = cards[page_start : page_start + per_page]
            _draw_cut_lines(canvas)
            page = page_start // per_page + 1
            _draw_page_footer(canvas, font, cards[0].claims.community, page, pages)
            for slot, card in enumerate(page_cards):
                column, row = slot % CARD_COLUMNS, slot // CARD_COLUMNS
                drawn.append(_draw_card(canvas, card, column, row, font=font, tz=tz))
            canvas.showPage()
        canvas.save()
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return drawn


def _card_size_pt() -> tuple[float, float]:
    page_w, page_h = A4
    margin = PAGE_MARGIN_MM * mm
    return (page_w - 2 * margin) / CARD_COLUMNS, (page_h - 2 * margin) / CARD_ROWS


def _draw_cut_lines(canvas: Canvas) -> None:
    """Dashed lines along every card edge, running into the margins so a guillotine lines up."""
    page_w, page_h = A4
    margin = PAGE_MARGIN_MM * mm
    card_w, card_h = _card_size_pt()
    canvas.saveState()
    canvas.setStrokeColor(_CUT_LINE)
    canvas.setLineWidth(0.4)
    canvas.setDash(3, 2)
    for column in range(CARD_COLUMNS + 1):
        x = margin + column * card_w
        canvas.line(x, margin / 3, x, page_h - margin / 3)
    for row in range(CARD_ROWS + 1):
        y = margin + row * card_h
        canvas.line(margin / 3, y, page_w - margin / 3, y)
    canvas.restoreState()


def _draw_card(
    canvas: Canvas, card: PassCard, column: int, row: int, *, font: str, tz: tzinfo | None
) -> str:
    """Draw one card in its grid slot (row 0 at the top); return the token in its QR symbol."""
    claims = card.claims
    card_w, card_h = _card_size_pt()
    margin = PAGE_MARGIN_MM * mm
    left = margin + column * card_w
    bottom = A4[1] - margin - (row + 1) * card_h
    inset = 4 * mm  # keeps ink clear of a slightly crooked cut
    title_zh, title_en = KIND_TITLES[claims.kind]

    # Header band: the kind in the kind's colour, the community on the right.
    band_h = 9 * mm
    band_top = bottom + card_h - 3.5 * mm
    canvas.setFillColor(_KIND_COLOURS[claims.kind])
    canvas.roundRect(left + inset, band_top - band_h, card_w - 2 * inset, band_h, 1.5 * mm, 0, 1)
    canvas.setFillColor(white)
    baseline = band_top - band_h / 2 - 4.2
    canvas.setFont(font, 13)
    canvas.drawString(left + inset + 3 * mm, baseline, title_zh)
    title_w = pdfmetrics.stringWidth(title_zh, font, 13)
    canvas.setFont(font, 8.5)
    canvas.drawString(left + inset + 3 * mm + title_w + 2 * mm, baseline + 0.5, title_en)
    canvas.drawRightString(left + card_w - inset - 3 * mm, baseline + 0.5, claims.community)

    # The QR symbol, its quiet zone (4 modules, ISO/IEC 18004) left white below the band.
    qr = make_qr(card.token)
    symbol_pt = QR_SYMBOL_MM * mm
    module_pt = symbol_pt / qr.modules_count
    quiet_pt = _QUIET_ZONE_MODULES * module_pt
    symbol_left = left + inset + 1 * mm
    symbol_top = band_top - band_h - quiet_pt
    _draw_qr_modules(canvas, qr.modules, symbol_left, symbol_top - symbol_pt, module_pt)
    token_drawn = str(qr.data_list[0].data.decode("ascii"))

    # Fields to the right, label above value, centred on the symbol; largest what a guard
    # compares first (name and household).
    last_day = (claims.expires - timedelta(seconds=1)).astimezone(tz).date()
    first_day = claims.not_before.astimezone(tz).date()
    fields: list[tuple[str, str, float]] = [
        ("持证人 Holder", card.holder_name, 16),
        ("房号 Unit", claims.unit, 16),
        ("有效期 Valid", f"{first_day.isoformat()} 至 {last_day.isoformat()}", 9.5),
    ]
    if claims.plate:
        fields.append(("车牌 Plate", claims.plate, 12))
    if claims.gates:
        fields.append(("门岗 Gates", " ".join(claims.gates), 9.5))
    fields.append(("编号 Pass ID", claims.pass_id, 9.5))
    label_pt, label_gap_pt = 6.5, 2.5
    text_top = band_top - band_h - 2 * mm
    text_bottom = bottom + 6 * mm  # clear of the footer line
    content_h = sum(label_pt + label_gap_pt + size for _, _, size in fields)
    # Fields spread up to 2.6 mm apart, closer when a plate or gate list adds a fifth.
    field_gap_pt = min(2.6 * mm, (text_top - text_bottom - content_h) / (len(fields) - 1))
    block_h = content_h + field_gap_pt * (len(fields) - 1)
    text_left = symbol_left + symbol_pt + quiet_pt
    text_w = left + card_w - inset - text_left
    y = text_top - (text_top - text_bottom - block_h) / 2
    for label, value, size in fields:
        y -= label_pt
        canvas.setFillColor(_MUTED)
        canvas.setFont(font, label_pt)
        canvas.drawString(text_left, y, label)
        y -= label_gap_pt + size * 0.8  # cap height, roughly, for the value's baseline
        fitted, fitted_size = _fit_text(value, font, size, text_w)
        canvas.setFillColor(_INK)
        canvas.setFont(font, fitted_size)
        canvas.drawString(text_left, y, fitted)
        y -= size * 0.2 + field_gap_pt

    # Footer: what to do with the card.
    canvas.setFillColor(_MUTED)
    canvas.setFont(font, 6.5)
    canvas.drawCentredString(
        left + card_w / 2,
        bottom + 3.2 * mm,
        "进出请出示本码 Show this code at the gate  ·  遗失请告知物业 Report a lost card",
    )
    return token_drawn


def _draw_page_footer(canvas: Canvas, font: str, community: str, page: int, pages: int) -> None:
    """Cutting instructions and a page count in the bottom margin."""
    canvas.setFillColor(_MUTED)
    canvas.setFont(font, 7)
    canvas.drawString(  # left-aligned: the middle cut line runs down the page's centre
        PAGE_MARGIN_MM * mm + 2 * mm,
        PAGE_MARGIN_MM * mm / 2 - 2,
        f"沿虚线裁剪 Cut along the dashed lines  ·  {community}  ·  {page} / {pages}",
    )


def _draw_qr_modules(
    canvas: Canvas, matrix: list[list[bool | None]], x0: float, y0: float, module_pt: float
) -> None:
    """Fill the dark modules as one path of row runs, so no hairline seams show between them."""
    size = len(matrix)
    path = canvas.beginPath()
    for r, c, length in dark_runs(matrix):
        y = y0 + (size - 1 - r) * module_pt
        path.rect(x0 + c * module_pt, y, length * module_pt, module_pt)
    canvas.saveState()
    canvas.setFillColor(black)  # full black: scanners need the contrast, not a softer ink
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def _fit_text(text: str, font: str, size: float, width_pt: float) -> tuple[str, float]:
    """Shrink ``text`` to fit ``width_pt`` (no smaller than 6 pt), then cut it with an ellipsis."""
    while size > 6 and pdfmetrics.stringWidth(text, font, size) > width_pt:
        size -= 0.5
    while len(text) > 1 and pdfmetrics.stringWidth(text, font, size) > width_pt:
        text = text[:-2] + "…"
    return text, size
