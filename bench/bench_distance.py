"""How far from the camera a phone-screen pass still reads, by camera resolution and token length.

The optical model (docs/camera.md): a pinhole camera with a 62° horizontal field of view in
every mode (a USB camera's 16:9 modes crop its 4:3 sensor vertically), so the focal length in
pixels is f = (width / 2) / tan(31°). The phone shows the symbol ``--symbol-mm`` wide (quiet
zone excluded); a version-v symbol has 17 + 4v modules, so at distance d a module spans
p = f · (symbol_mm / modules) / d pixels. Blur: the lens and demosaicing (σ 0.6 px) plus the
defocus of a fixed-focus lens set to ``--focus-cm``, whose blur circle is A · f · |1/d − 1/d_focus|
pixels across for an aperture of A mm (σ a third of it). Noise: Gaussian, σ 4 grey levels, then
JPEG at quality 80 (an MJPG USB stream). The screen: black 30, white 230, on a grey scene.

Each token is a string of the pass alphabet (Base45, QR alphanumeric mode) at EC level M, the
smallest symbol that holds it. A distance reads when drivers.qr.decode reads at least 2 of 3
renderings (each with its own noise and offset); the read distance is the farthest step that
reads before two steps in a row do not (steps of 2 cm from 10 cm). The symbol faces the camera
squarely, in focus-limited but otherwise clean light: real passes, tilted, moving and under
glare, read nearer (bench/bench_qr.py's set shows by how much).

    python bench/bench_distance.py [--symbol-mm 50] [--focus-cm 60] [--aperture-mm 1.0]
                                   [--lengths 187,198,222]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray

from drivers import qr
from drivers.sim.camera import qr_modules

Image = NDArray[np.uint8]
RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080))
# 187 and 198: typical KK2 resident passes (key ids hxy1, office-2026); 211 and 222: the same as
# KK1 (docs/passes.md, "KK2").
TOKEN_LENGTHS = (120, 160, 187, 198, 211, 222, 260)
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
HFOV_DEG = 62.0
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def token(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "KK2:" + "".join(rng.choice(BASE45) for _ in range(length - 4))


def module_pitch_px(width: int, symbol_mm: float, modules: int, distance_mm: float) -> float:
    focal_px = (width / 2) / math.tan(math.radians(HFOV_DEG / 2))
    return focal_px * symbol_mm / modules / distance_mm


def blur_sigma_px(width: int, distance_mm: float, focus_mm: float, aperture_mm: float) -> float:
    focal_px = (width / 2) / math.tan(math.radians(HFOV_DEG / 2))
    circle_px = aperture_mm * focal_px * abs(1 / distance_mm - 1 / focus_mm)
    return math.hypot(0.6, circle_px / 3)


def render(
    modules: NDArray[np.bool_],
    size: tuple[int, int],
    pitch_px: float,
    sigma_px: float,
    rng: np.random.Generator,
) -> Image:
    """The symbol (with its quiet zone) centred in a grey frame at ``pitch_px``, then the
    camera's blur, noise and JPEG."""
    width, height = size
    over = 8  # supersampling: draw at 8 px a module, then average down as a sensor does
    symbol = np.kron(np.where(modules, 30, 230).astype(np.uint8), np.ones((over, over), np.uint8))
    side = max(1, round(modules.shape[0] * pitch_px))
    if side >= min(width, height):
        side = min(width, height) - 2
    small = cv2.resize(symbol, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width), 120, dtype=np.float32)
    x0 = (width - side) // 2 + int(rng.integers(-3, 4))
    y0 = (height - side) // 2 + int(rng.integers(-3, 4))
    frame[y0 : y0 + side, x0 : x0 + side] = small
    frame = cv2.GaussianBlur(frame, (0, 0), sigma_px)
    frame = frame + rng.normal(0, 4.0, size=frame.shape)
    clipped = np.clip(frame, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", clipped, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def ours_reads(frame: Image, payload: str) -> bool:
    return payload in [scan.text for scan in qr.decode(frame, UNHURRIED)]


def zxing_reads(frame: Image, payload: str) -> bool:
    return payload in [b.text for b in zxingcpp.read_barcodes(frame, formats=_QR)]


# The read distance is a property of the optics and the decoder, not of how busy the machine is.
UNHURRIED = qr.DecodeOptions(budget_ms=math.inf, budget_ratio=math.inf)


def read_distance_cm(
    payload: str,
    size: tuple[int, int],
    args: argparse.Namespace,
    reads: Callable[[Image, str], bool],
) -> float:
    modules = qr_modules(payload)
    count = modules.shape[0] - 8  # without the quiet zone
    rng = np.random.default_rng([len(payload), size[0]])
    farthest, misses = 0.0, 0
    for distance_cm in range(10, 152, 2):
        distance_mm = distance_cm * 10.0
        pitch = module_pitch_px(size[0], args.symbol_mm, count, distance_mm)
        sigma = blur_sigma_px(size[0], distance_mm, args.focus_cm * 10, args.aperture_mm)
        hits = sum(reads(render(modules, size, pitch, sigma, rng), payload) for _ in range(3))
        misses = 0 if hits >= 2 else misses + 1
        if misses == 2:  # one unlucky step is noise; two in a row is the limit
            break
        if not misses:
            farthest = distance_cm
    return farthest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbol-mm", type=float, default=50.0, help="symbol width on screen")
    parser.add_argument("--focus-cm", type=float, default=60.0, help="fixed-focus distance")
    parser.add_argument("--aperture-mm", type=float, default=1.0, help="lens aperture diameter")
    parser.add_argument(
        "--lengths",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=TOKEN_LENGTHS,
        help="token lengths in characters, comma-separated",
    )
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    print(
        f"phone screen, symbol {args.symbol_mm:g} mm wide; {HFOV_DEG:g} deg field of view; "
        f"focus {args.focus_cm:g} cm, aperture {args.aperture_mm:g} mm; EC level M"
    )
    print("\nread distance, cm (ours / zxing-cpp alone); module pitch at 40 cm in brackets")
    header = "".join(f"{f'{w}x{h}':>22}" for w, h in RESOLUTIONS)
    print(f"  {'token':>6} {'version':>8} {'modules':>8}{header}")
    for length in args.lengths:
        payload = token(length, length)
        modules = qr_modules(payload).shape[0] - 8
        version = (modules - 17) // 4
        cells = ""
        for size in RESOLUTIONS:
            mine = read_distance_cm(payload, size, args, ours_reads)
            plain = read_distance_cm(payload, size, args, zxing_reads)
            pitch = module_pitch_px(size[0], args.symbol_mm, modules, 400.0)
            cells += f"{f'{mine:.0f} / {plain:.0f} [{pitch:.1f} px]':>22}"
        print(f"  {length:>6} {version:>8} {modules:>8}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
