"""decode(frame) -> list[Scan]: the one QR decoder used by the camera, the benchmark and the tests.

zxing-cpp reads the whole frame first: it is both the cheapest and the strongest decoder
(bench/bench_qr.py, hardware.md). Only when it reads nothing does anything else run, and only
where something QR-like is: a symbol zxing located but could not decode, or a region that, at a
quarter of the frame's size, changes across and down in nearly every pixel, as a symbol too
small for zxing to locate does. A frame with neither (what a gate camera sees all day) costs one
zxing pass and a look at a 320×180 thumbnail. Each candidate is cropped, sharpened and enlarged
so that a module spans a few pixels, and read by zxing again; the dearer steps (contrast
equalisation, then pyzbar as the second decoder) run only on the best candidate, and only once a
symbol has been located there. Every frame stops at its time budget.

Text is what the symbol declares (drivers.frames.code_text.symbol_text): its ECI, else ASCII,
UTF-8 or the standard's defaults; a payload that is not text by that rule is a Scan with empty
text (unreadable, which the lane denies), never a guessed text. pyzbar and OpenCV transcode by
their own guesses, so their reads count only when ASCII (every pass is).

No decoder exception escapes: OpenCV raises on payloads that are not UTF-8 and on some Chinese
text, and any engine may choke on a strange frame; such a frame is a bad frame, not a crash.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray
from pyzbar import pyzbar  # type: ignore[import-untyped]
from pyzbar.pyzbar_error import PyZbarError  # type: ignore[import-untyped]

from drivers.base import Scan
from drivers.frames.code_text import symbol_text

Frame = NDArray[np.uint8]
Gray = NDArray[np.uint8]
Box = tuple[int, int, int, int]  # x, y, width, height in pixels of the (cropped) grey frame

# Errors an engine raises on a frame it cannot handle. OpenCV raises cv2.error (and, from its
# text API, UnicodeDecodeError); pyzbar raises PyZbarError; the bindings raise ValueError or
# RuntimeError on odd buffers.
ENGINE_ERRORS: Final = (cv2.error, PyZbarError, UnicodeDecodeError, ValueError, RuntimeError)

_QR: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
# The largest QR symbol (version 40-L) holds 2,953 bytes: every payload a symbol can carry is
# judged as text, none refused for its size (the lane bounds the text it verifies).
QR_MAX_BYTES: Final = 2953


class Engine(StrEnum):
    """A QR decoding library."""

    ZXING = "zxing"  # zxing-cpp: fastest and strongest on gate frames (bench/bench_qr.py)
    PYZBAR = "pyzbar"  # ZBar: the second opinion; reads some blurred symbols zxing misses
    OPENCV = "opencv"  # OpenCV's QRCodeDetector: slow, weak; for comparison only


class Step(StrEnum):
    """One cascade step: how a candidate region is prepared, and which engine reads it."""

    UPSCALE_SHARPEN = "upscale_sharpen"  # zxing on the region upscaled and unsharp-masked
    EQUALISE = "equalise"  # zxing on the upscaled region after CLAHE (low contrast, glare)
    SECOND_DECODER = "second_decoder"  # pyzbar on the upscaled, sharpened region
    INVERTED = "inverted"  # pyzbar on the inverted region (pyzbar reads dark-on-light only)
    OPENCV = "opencv"  # OpenCV's bytes API on the upscaled region


DEFAULT_CASCADE: Final = (Step.UPSCALE_SHARPEN, Step.EQUALISE, Step.SECOND_DECODER)


@dataclass(frozen=True, slots=True)
class Roi:
    """A region of interest as fractions of the frame (0..1), e.g. the middle of a wide view."""

    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0

    def __post_init__(self) -> None:
        if not (0 <= self.x < 1 and 0 <= self.y < 1 and self.width > 0 and self.height > 0):
            raise ValueError(f"region of interest out of the frame: {self}")
        if self.x + self.width > 1.0 + 1e-9 or self.y + self.height > 1.0 + 1e-9:
            raise ValueError(f"region of interest out of the frame: {self}")

    def crop(self, image: Gray) -> Gray:
        height, width = image.shape[:2]
        x0, y0 = round(self.x * width), round(self.y * height)
        x1 = min(width, round((self.x + self.width) * width))
        y1 = min(height, round((self.y + self.height) * height))
        return image[y0:y1, x0:x1]


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How hard to try on one frame. The defaults suit a 640×480 or 1280×720 gate camera."""

    primary: Engine = Engine.ZXING
    cascade: tuple[Step, ...] = DEFAULT_CASCADE
    budget_ms: float = 30.0  # a frame's cascade stops here; the next frame is a fresh chance
    # ... and no cascade step starts once the frame has cost this many times its first zxing
    # pass: a frame that reads nothing costs about as much as a few that read at once.
    budget_ratio: float = 2.0
    roi: Roi | None = None
    max_candidates: int = 2
    upscale_target_px: int = 600  # a candidate is enlarged towards this size (long side) ...
    max_upscale: float = 4.0  # ... by at most this factor
    energy_threshold: int = 12  # thumbnail change (0-255) across and down that marks a candidate
    max_code_bytes: int = QR_MAX_BYTES  # longer payloads come back truncated, never as text


DEFAULT_OPTIONS: Final = DecodeOptions()


@dataclass(frozen=True, slots=True)
class Read:
    """One payload an engine read, and its text (None: not text, see code_text.symbol_text)."""

    payload: bytes
    text: str | None


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What one frame gave, and what it cost: for the camera's counters and the benchmark."""

    scans: list[Scan] = field(default_factory=list)
    stage: str = ""  # "primary", a Step value, or "" when nothing was read
    candidates: int = 0
    elapsed_ms: float = 0.0
    budget_exhausted: bool = False
    bad_frame: str = ""  # why the frame (or an engine on it) failed; empty when all went well


# --- the one public entry point ----------------------------------------------------------------


def decode(
    frame: Frame,
    options: DecodeOptions = DEFAULT_OPTIONS,
    *,
    source: str = "camera",
    clock: Callable[[], float] = time.perf_counter,
) -> list[Scan]:
    """Every distinct code readable in ``frame`` (BGR or grey), as Scans; never raises."""
    return decode_frame(frame, options, source=source, clock=clock).scans


def decode_frame(
    frame: Frame,
    options: DecodeOptions = DEFAULT_OPTIONS,
    *,
    source: str = "camera",
    clock: Callable[[], float] = time.perf_counter,
) -> DecodeResult:
    """Like decode(), with the stage that succeeded, the time spent and any bad-frame reason."""
    started_s = clock()
    gray, problem = to_gray(frame)
    if gray is None:
        return DecodeResult(bad_frame=problem)
    if options.roi is not None:
        gray = options.roi.crop(gray)
        if gray.size == 0:
            return DecodeResult(bad_frame="region of interest is empty")
    errors: list[str] = []
    if options.primary is Engine.ZXING:
        reads, detected = _zxing(gray, errors)
    else:
        reads, detected = _trusted(read_codes(gray, options.primary, errors)), []
    budget_s = options.budget_ms / 1000
    if not errors:  # a pass that raised took no measure of the frame: the fixed budget only
        budget_s = min(budget_s, (clock() - started_s) * options.budget_ratio)
    if reads or not options.cascade:
        return _result(reads, "primary", 0, started_s, clock, options, source, errors)
    boxes = _merge(detected + find_candidates(gray, options.energy_threshold), options)
    if not boxes:  # nothing QR-like: the frame a gate camera sees all day ends here
        return _result([], "", 0, started_s, clock, options, source, errors)
    # A symbol zxing located but could not read earns the whole cascade; a region that merely
    # looks like one gets the first (cheapest) step, unless that step locates a symbol in it.
    located = bool(detected) or bool(errors)  # an engine that failed told us nothing: try all
    prepared: dict[Box, _Prepared] = {}
    for round_index, step in enumerate(options.cascade):
        if round_index and not located:
            break
        # The first step tries every candidate; dearer ones only the most likely.
        for box in boxes if round_index == 0 else boxes[:1]:
            if clock() - started_s >= budget_s:
                return _result([], "", len(boxes), started_s, clock, options, source, errors, True)
            if box not in prepared:
                prepared[box] = _prepare(gray, box, options)
            reads, found = _run_step(step, prepared[box], errors)
            located = located or found
            if reads:
                return _result(
                    reads, step.value, len(boxes), started_s, clock, options, source, errors
                )
    return _result([], "", len(boxes), started_s, clock, options, source, errors)


# --- single engines (also what the benchmark compares) ------------------------------------------


def to_gray(frame: object) -> tuple[Gray | None, str]:
    """A grey uint8 image from a BGR, BGRA or grey frame; (None, why) for anything else."""
    if not isinstance(frame, np.ndarray):
        return None, f"not an image: {type(frame).__name__}"
    if frame.size == 0:
        return None, "empty image"
    if frame.dtype != np.uint8:
        return None, f"pixel type {frame.dtype}, expected uint8"
    if frame.ndim == 2:
        return frame, ""
    if frame.ndim == 3 and frame.shape[2] == 3:
        return _u8(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)), ""
    if frame.ndim == 3 and frame.shape[2] == 4:
        return _u8(cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)), ""
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0], ""
    return None, f"image shape {frame.shape} is not grey, BGR or BGRA"


def read_codes(gray: Gray, engine: Engine, errors: list[str] | None = None) -> list[bytes]:
    """The payloads one engine reads from the whole image (no cascade); never raises."""
    errors = errors if errors is not None else []
    if engine is Engine.ZXING:
        return [read.payload for read in _zxing(gray, errors)[0]]
    if engine is Engine.PYZBAR:
        return _pyzbar(gray, errors)
    return _opencv(gray, errors)


def _zxing(
    gray: Gray, errors: list[str], *, try_downscale: bool = True
) -> tuple[list[Read], list[Box]]:
    """What zxing decoded, and the boxes of symbols it found but could not decode."""
    try:
        barcodes = zxingcpp.read_barcodes(
            gray,
            formats=_QR,
            try_downscale=try_downscale,
            text_mode=zxingcpp.TextMode.HexECI,  # the transmitted data: ECIs and raw bytes
            return_errors=True,
        )
    except ENGINE_ERRORS as exc:
        errors.append(f"zxing: {exc!r}")
        return [], []
    reads = [Read(bytes(b.bytes), _declared_text(b.text)) for b in barcodes if b.valid]
    detected = [] if reads else [_position_box(b.position) for b in barcodes]
    return reads, detected


def _declared_text(hex_transmission: str) -> str | None:
    try:
        return symbol_text(bytes.fromhex(hex_transmission))
    except ValueError:
        return None


def _trusted(payloads: list[bytes]) -> list[Read]:
    """Reads of the engines that transcode by their own charset guess: ASCII only."""
    return [Read(payload, payload.decode("ascii")) for payload in payloads if payload.isascii()]


def _position_box(position: zxingcpp.Position) -> Box:
    corners = (
        position.top_left,
        position.top_right,
        position.bottom_right,
        position.bottom_left,
    )
    xs, ys = [p.x for p in corners], [p.y for p in corners]
    return min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1


def _pyzbar(gray: Gray, errors: list[str]) -> list[bytes]:
    try:
        symbols = pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])
    except ENGINE_ERRORS as exc:
        errors.append(f"pyzbar: {exc!r}")
        return []
    return [bytes(symbol.data) for symbol in symbols]


@functools.cache
def _opencv_detector() -> cv2.QRCodeDetector:
    """One detector per process: building one costs more than a decode."""
    return cv2.QRCodeDetector()


def _opencv(gray: Gray, errors: list[str]) -> list[bytes]:
    detector = _opencv_detector()
    try:
        # detectAndDecodeBytes: the text API raises on payloads that are not UTF-8.
        payload, _points, _straight = detector.detectAndDecodeBytes(gray)
    except ENGINE_ERRORS as exc:
        errors.append(f"opencv: {exc!r}")
        return []
    return [bytes(payload)] if payload else []


# --- the cascade ---------------------------------------------------------------------------------


def find_candidates(gray: Gray, threshold: int = 12, limit: int = 3) -> list[Box]:
    """Regions a QR symbol may fill, even one too small for zxing to locate.

    On a thumbnail at a quarter of the frame's size (two exact halvings, each a cheap box
    filter), a symbol's modules still make neighbouring pixels differ both across and down,
    where a wall, a door edge or a face changes in one direction or not at all. Costs about
    0.1 ms at 1280×720; a frame with nothing over ``threshold`` stops at one comparison.
    """
    if min(gray.shape[:2]) < 16:
        return []
    quarter = _halve(_halve(gray))
    across = cv2.absdiff(quarter[:-1, 1:], quarter[:-1, :-1])
    down = cv2.absdiff(quarter[1:, :-1], quarter[:-1, :-1])
    energy = cv2.blur(cv2.min(across, down), (3, 3))
    if int(energy.max()) < threshold:
        return []
    _, mask = cv2.threshold(energy, threshold - 1, 255, cv2.THRESH_BINARY)
    contours, _hierarchy = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[tuple[float, Box]] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        area = cv2.contourArea(contour)
        if min(w, h) < 8 or max(w, h) > 3 * min(w, h) or area < 0.3 * w * h:
            continue  # too small to hold a symbol, a line or an edge, or a sparse outline
        found.append((area, (x * 4, y * 4, w * 4, h * 4)))
    found.sort(reverse=True)
    return [box for _area, box in found[:limit]]


def _halve(image: Gray) -> Gray:
    """Half the size by 2×2 averaging; even sizes take OpenCV's fast path."""
    height, width = image.shape[:2]
    even = image[: height // 2 * 2, : width // 2 * 2]
    return _u8(cv2.resize(even, (width // 2, height // 2), interpolation=cv2.INTER_AREA))


def _merge(boxes: Sequence[Box], options: DecodeOptions) -> list[Box]:
    """Candidates in order (zxing's detections first), dropping near-duplicates."""
    merged: list[Box] = []
    for box in boxes:
        if any(_overlap(box, kept) > 0.6 for kept in merged):
            continue
        merged.append(box)
    return merged[: options.max_candidates]


def _overlap(a: Box, b: Box) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    smaller = min(a[2] * a[3], b[2] * b[3])
    return inter / smaller if smaller else 0.0


@dataclass
class _Prepared:
    """A candidate region, sharpened and enlarged once; the plain enlargement made on demand."""

    region: Gray
    scale: float
    sharpened: Gray
    _upscaled: Gray | None = None

    @property
    def upscaled(self) -> Gray:
        if self._upscaled is None:
            self._upscaled = _enlarge(self.region, self.scale)
        return self._upscaled


def _prepare(gray: Gray, box: Box, options: DecodeOptions) -> _Prepared:
    x, y, w, h = box
    margin_x, margin_y = max(8, w // 5), max(8, h // 5)  # the quiet zone, and a little more
    height, width = gray.shape[:2]
    x0, y0 = max(0, x - margin_x), max(0, y - margin_y)
    x1, y1 = min(width, x + w + margin_x), min(height, y + h + margin_y)
    region = gray[y0:y1, x0:x1]
    scale = min(options.max_upscale, max(1.0, options.upscale_target_px / max(region.shape)))
    # Unsharp masking at the camera's resolution, then enlarging: the same as sharpening the
    # enlargement with a blur as wide as the scale, at a fraction of the cost.
    blurred = cv2.GaussianBlur(region, (0, 0), 1.0)
    sharpened = _u8(cv2.addWeighted(region, 2.0, blurred, -1.0, 0))
    return _Prepared(region, scale, _enlarge(sharpened, scale))


def _enlarge(image: Gray, scale: float) -> Gray:
    if scale == 1.0:
        return image
    return _u8(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC))


_CLAHE: Final = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))


def _run_step(step: Step, region: _Prepared, errors: list[str]) -> tuple[list[Read], bool]:
    """What a step reads from a region, and whether it located a symbol there."""
    if step is Step.UPSCALE_SHARPEN:
        reads, located = _zxing(region.sharpened, errors, try_downscale=False)
        return reads, bool(located)
    if step is Step.EQUALISE:
        equalised = _u8(_CLAHE.apply(region.upscaled))
        reads, located = _zxing(equalised, errors, try_downscale=False)
        return reads, bool(located)
    if step is Step.SECOND_DECODER:
        return _trusted(_pyzbar(region.sharpened, errors)), False
    if step is Step.INVERTED:
        return _trusted(_pyzbar(_u8(cv2.bitwise_not(region.sharpened)), errors)), False
    return _trusted(_opencv(region.upscaled, errors)), False


def _u8(image: cv2.typing.MatLike) -> Gray:
    """OpenCV's result typed as what it is (8-bit in, 8-bit out); no copy."""
    return np.asarray(image, dtype=np.uint8)


# --- results ---------------------------------------------------------------------------------


def _result(
    reads: list[Read],
    stage: str,
    candidates: int,
    started_s: float,
    clock: Callable[[], float],
    options: DecodeOptions,
    source: str,
    errors: list[str],
    exhausted: bool = False,
) -> DecodeResult:
    scans: list[Scan] = []
    seen: set[bytes] = set()
    for read in reads:
        if read.payload in seen or not read.payload:
            continue
        seen.add(read.payload)
        scans.append(to_scan(read, source, options))
    return DecodeResult(
        scans=scans,
        stage=stage if scans else "",
        candidates=candidates,
        elapsed_ms=(clock() - started_s) * 1000,
        budget_exhausted=exhausted,
        bad_frame="; ".join(errors),
    )


def to_scan(read: Read, source: str, options: DecodeOptions = DEFAULT_OPTIONS) -> Scan:
    """A Scan as the serial scanner makes one: bounded length; empty text when unreadable."""
    length = len(read.payload)
    if length > options.max_code_bytes:
        return Scan(text="", source=source, truncated=True, raw_length=length)
    return Scan(text=read.text or "", source=source, raw_length=length)
