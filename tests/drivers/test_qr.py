"""drivers.qr on golden camera frames (tests/fixtures/qr, made by bench/qr_images.py --fixtures):
expected payloads, nothing from empty or torn codes, and no exception from any frame or engine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from drivers import qr
from drivers.qr import DecodeOptions, Engine, Roi, Step

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qr"
EXPECTED: dict[str, str | None] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
# What a frame reads must not depend on how busy the machine is: no time budget in these tests.
UNHURRIED = DecodeOptions(budget_ms=math.inf, budget_ratio=math.inf)


def load(name: str) -> qr.Frame:
    image = cv2.imread(str(FIXTURES / name), cv2.IMREAD_COLOR)
    assert image is not None, name
    return np.asarray(image, dtype=np.uint8)


def test_fixtures_are_few_and_small() -> None:
    files = [path for path in FIXTURES.iterdir() if path.suffix == ".jpg"]
    assert sorted(path.name for path in files) == sorted(EXPECTED)
    assert sum(path.stat().st_size for path in files) < 2 * 1024 * 1024


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_image_gives_exactly_its_payload(name: str) -> None:
    scans = qr.decode(load(name), UNHURRIED, source="cam-1")
    expected = EXPECTED[name]
    assert [scan.text for scan in scans] == ([] if expected is None else [expected])
    assert all(scan.source == "cam-1" and not scan.truncated for scan in scans)


def test_the_cascade_reads_what_no_single_engine_reads() -> None:
    frame = load("printed_far.jpg")
    gray, _ = qr.to_gray(frame)
    assert gray is not None
    assert all(qr.read_codes(gray, engine) == [] for engine in Engine)
    result = qr.decode_frame(frame, UNHURRIED)
    assert result.stage in {step.value for step in qr.DEFAULT_CASCADE}
    assert [scan.text for scan in result.scans] == [EXPECTED["printed_far.jpg"]]


def test_gbk_without_eci_is_unreadable_and_opencv_does_not_raise() -> None:
    frame = load("binary_gbk.jpg")
    gray, _ = qr.to_gray(frame)
    assert gray is not None
    # OpenCV's text API raises on this payload; its bytes API returns it (as Latin-1 re-encoded).
    assert len(qr.read_codes(gray, Engine.OPENCV)) == 1
    assert qr.read_codes(gray, Engine.ZXING) == ["通行证 B-0042".encode("gbk")]
    # No ECI says GBK, and the bytes are valid Latin-1 too: a scan, but never a guessed text.
    scans = qr.decode(frame)
    assert [(s.text, s.raw_length, s.truncated) for s in scans] == [("", 13, False)]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((480, 640, 3), np.float32), "pixel type"),
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        ("not an image", "not an image"),
    ],
)
def test_a_frame_that_is_not_an_image_is_a_bad_frame(frame: object, reason: str) -> None:
    result = qr.decode_frame(frame)  # type: ignore[arg-type]
    assert result.scans == []
    assert reason in result.bad_frame


def test_grey_bgra_and_single_channel_frames_all_decode() -> None:
    frame = load("printed_near.jpg")
    expected = [EXPECTED["printed_near.jpg"]]
    variants = [
        cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY),
        cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA),
        cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[:, :, None],
    ]
    for variant in variants:
        assert [s.text for s in qr.decode(np.asarray(variant, np.uint8))] == expected


def test_engine_exceptions_are_a_bad_frame_never_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def zxing_fails(*args: object, **kwargs: object) -> list[zxingcpp.Barcode]:
        raise RuntimeError("zxing choked")

    def pyzbar_fails(*args: object, **kwargs: object) -> list[object]:
        raise qr.PyZbarError("zbar choked")

    class FailingDetector:
        def detectAndDecodeBytes(self, image: object) -> tuple[bytes, None, None]:
            raise cv2.error("opencv choked")

    monkeypatch.setattr(qr.zxingcpp, "read_barcodes", zxing_fails)
    monkeypatch.setattr(qr.pyzbar, "decode", pyzbar_fails)
    monkeypatch.setattr(qr, "_opencv_detector", FailingDetector)
    options = DecodeOptions(cascade=(*qr.DEFAULT_CASCADE, Step.OPENCV), budget_ms=1000)
    result = qr.decode_frame(load("printed_far.jpg"), options)
    assert result.scans == []
    assert "zxing choked" in result.bad_frame
    gray, _ = qr.to_gray(load("printed_near.jpg"))
    assert gray is not None
    assert [qr.read_codes(gray, engine) for engine in Engine] == [[], [], []]


def test_the_cascade_stops_when_the_budget_is_spent() -> None:
    ticks = iter(range(1_000_000))

    def slow_clock() -> float:
        return float(next(ticks))  # every look at the clock costs a second

    result = qr.decode_frame(load("printed_far.jpg"), clock=slow_clock)
    assert result.scans == []
    assert result.budget_exhausted


def test_the_cascade_stops_at_a_multiple_of_the_first_pass() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 0.001  # every look at the clock: a millisecond later
        return now[0]

    # The first pass costs 1 ms on this clock; 2.0 times that is spent before the first step.
    result = qr.decode_frame(load("printed_far.jpg"), DecodeOptions(budget_ratio=2.0), clock=clock)
    assert (result.scans, result.budget_exhausted) == ([], True)
    generous = DecodeOptions(budget_ratio=100.0, budget_ms=math.inf)
    assert qr.decode_frame(load("printed_far.jpg"), generous, clock=clock).scans


def test_region_of_interest_limits_where_codes_are_read() -> None:
    frame = load("printed_near.jpg")
    assert qr.decode(frame, DecodeOptions(roi=Roi(0, 0, 1, 1)))
    blank_corner = Roi(0.0, 0.0, 0.05, 0.05)
    assert qr.decode(frame, DecodeOptions(roi=blank_corner)) == []
    with pytest.raises(ValueError, match="out of the frame"):
        Roi(0.5, 0.5, 0.6, 0.2)


def test_same_code_twice_in_a_frame_is_one_scan() -> None:
    frame = load("printed_near.jpg")
    doubled = np.hstack([frame, frame])
    assert len(qr.decode(doubled)) == 1


def test_an_oversized_payload_is_truncated_never_text() -> None:
    scan = qr.to_scan(qr.Read(b"A" * 5000, "A" * 5000), "cam")
    assert (scan.truncated, scan.text, scan.raw_length) == (True, "", 5000)
    # Every payload a QR symbol can hold (version 40-L: 2,953 bytes) is judged as text.
    assert qr.to_scan(qr.Read(b"A" * 2953, "A" * 2953), "cam").text == "A" * 2953
    assert qr.to_scan(qr.Read(b"\xff\xfe", None), "cam").text == ""


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 3, 4])),
    )
)
def test_random_images_never_raise(image: qr.Frame) -> None:
    result = qr.decode_frame(image)
    assert isinstance(result.scans, list)
