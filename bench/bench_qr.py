"""QR decoding on gate-realistic frames: reads, wrong reads and cost, side by side.

Compares zxing-cpp, pyzbar and OpenCV (each alone, as a caller would use it: the frame as the
camera gives it, QR only) with drivers.qr.decode (ours) on the set bench/qr_images.py generates
(passes on cards and phones in front of a 1280×720 camera, with tilt, blur, motion, glare, low
contrast, noise, JPEG, moiré, inverted codes and occlusion), and on frames with no code (what a
gate camera sees nearly all day). A read counts only when the text is exactly the pass token; any
other text is a wrong read. Each frame is decoded by every reader in turn, each timed as the best
of ``--repeat`` runs, so that machine load hits them alike; cost is given as the ratio to
zxing-cpp on the same frame (median and 95th percentile of the per-frame ratios).

Targets (issue #14): empty frame <= 1.3x zxing-cpp; a frame with a code median <= 1.5x, p95
<= 3x; reads every frame zxing-cpp reads; on every class at least the best single library;
zero wrong reads.

    python bench/bench_qr.py [--count 200] [--empty 60] [--size 1280x720] [--seed 2026]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

import cv2
import numpy as np
import qr_images
import zxingcpp
from pyzbar import pyzbar  # type: ignore[import-untyped]

from drivers import qr

Image = qr_images.Image
Reader = Callable[[Image], list[str]]
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
PITCH_BANDS = ((0.0, 1.5), (1.5, 2.0), (2.0, 2.5), (2.5, 3.0), (3.0, 4.0), (4.0, 99.0))


def zxing_alone(frame: Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(frame, formats=_QR)]


def pyzbar_alone(frame: Image) -> list[str]:
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    symbols = pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])
    return [bytes(s.data).decode("utf-8", "replace") for s in symbols]


_DETECTOR = cv2.QRCodeDetector()


def opencv_alone(frame: Image) -> list[str]:
    try:
        payload, _points, _straight = _DETECTOR.detectAndDecodeBytes(frame)
    except cv2.error:
        return []
    return [bytes(payload).decode("utf-8", "replace")] if payload else []


def ours(frame: Image) -> list[str]:
    return [scan.text for scan in qr.decode(frame)]


READERS: dict[str, Reader] = {
    "zxing-cpp": zxing_alone,
    "pyzbar": pyzbar_alone,
    "opencv": opencv_alone,
    "ours": ours,
}


@dataclass
class Run:
    """One reader over one set: what it read, what it read wrong, and each frame's time."""

    name: str
    read: set[str] = field(default_factory=set)
    wrong: set[str] = field(default_factory=set)
    times_ms: dict[str, float] = field(default_factory=dict)


def measure(samples: list[qr_images.Sample], repeat: int) -> dict[str, Run]:
    """Every reader on every frame, interleaved per frame (the order rotates), best of repeat."""
    runs = {name: Run(name) for name in READERS}
    for reader in READERS.values():
        reader(samples[0].image)  # warm-up: first calls load libraries and build detectors
    names = list(READERS)
    for index, sample in enumerate(samples):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            best_s, texts = float("inf"), []
            for _ in range(repeat):
                started = time.perf_counter()
                texts = READERS[name](sample.image)
                best_s = min(best_s, time.perf_counter() - started)
            run = runs[name]
            run.times_ms[sample.name] = best_s * 1000
            if sample.payload is not None and sample.payload in texts:
                run.read.add(sample.name)
            elif any(text and text != sample.payload for text in texts):
                run.wrong.add(sample.name)
    return runs


def ratios(run: Run, reference: Run) -> list[float]:
    return sorted(run.times_ms[k] / reference.times_ms[k] for k in run.times_ms)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def print_overall(runs: dict[str, Run], total: int, title: str) -> None:
    zx = runs["zxing-cpp"]
    print(f"\n{title}")
    head = f"{'read':>9} {'rate':>7} {'wrong':>5} " if total else ""
    print(f"  {'decoder':<10} {head}{'median ms':>9} {'p95 ms':>7} {'x zxing':>8} {'p95 x':>6}")
    for run in runs.values():
        times = list(run.times_ms.values())
        cells = ""
        if total:
            cells = f"{len(run.read):>4}/{total:<4} {100 * len(run.read) / total:>6.1f}% "
            cells += f"{len(run.wrong):>5} "
        r = ratios(run, zx)
        print(
            f"  {run.name:<10} {cells}{statistics.median(times):>9.2f} {p95(times):>7.2f} "
            f"{statistics.median(r):>8.2f} {p95(r):>6.2f}"
        )


def print_groups(runs: dict[str, Run], groups: dict[str, list[str]], title: str) -> list[str]:
    """Reads per group; returns the groups where ours reads fewer than the best library."""
    print(f"\n{title} (frames read; * ours below the best single library)")
    print(f"  {'group':<16}" + "".join(f"{name:>12}" for name in runs))
    short = []
    for group, names in groups.items():
        counts = {run.name: sum(n in run.read for n in names) for run in runs.values()}
        best = max(v for k, v in counts.items() if k != "ours")
        mark = "*" if counts["ours"] < best else " "
        if mark == "*":
            short.append(group)
        cells = "".join(f"{counts[name]:>8}/{len(names):<3}" for name in runs)
        print(f"  {group:<16}{cells}{mark}")
    return short


def by_class(samples: list[qr_images.Sample]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {"(all)": [s.name for s in samples]}
    groups["no fault"] = [s.name for s in samples if not set(s.tags) & set(qr_images.FAULTS)]
    for tag in (*qr_images.FAULTS, "small_modules", "inverted", "phone", "printed"):
        names = [s.name for s in samples if tag in s.tags]
        if names:
            groups[tag] = names
    return groups


def by_pitch(samples: list[qr_images.Sample]) -> dict[str, list[str]]:
    groups = {}
    for low, high in PITCH_BANDS:
        names = [s.name for s in samples if low <= s.module_px < high]
        label = f"{low:g}-{high:g} px" if high < 99 else f">={low:g} px"
        if names:
            groups[label] = names
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--empty", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--size", default="1280x720", help="camera frame size, e.g. 640x480")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per frame and reader")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # single-threaded: what one core of the Pi gives the decoder
    width, height = (int(v) for v in args.size.split("x"))
    camera = qr_images.Camera(width, height)
    # Distances over which a pass goes from easy to unreadable at this resolution.
    far_cm = 40.0 * width / 640
    started = time.perf_counter()
    samples = qr_images.generate(args.count, args.seed, camera, (15.0, far_cm))
    empties = [
        qr_images.Sample(
            f"empty-{i}", qr_images.place_nothing(np.random.default_rng([7, i]), camera), None, ()
        )
        for i in range(args.empty)
    ]
    print(
        f"{len(samples)} pass frames 15-{far_cm:.0f} cm and {len(empties)} empty frames, "
        f"{width}x{height}, seed {args.seed} (generated in {time.perf_counter() - started:.0f} s)"
        f"; zxing-cpp {metadata.version('zxing-cpp')}, OpenCV {cv2.__version__}, one thread, "
        f"best of {args.repeat}"
    )
    runs = measure(samples, args.repeat)
    print_overall(runs, len(samples), "frames with a pass")
    short = print_groups(runs, by_class(samples), "by degradation class")
    short += print_groups(runs, by_pitch(samples), "by module pitch (pixels per module)")
    empty_runs = measure(empties, args.repeat)
    print_overall(empty_runs, 0, f"{len(empties)} empty frames (BGR, as the camera gives them)")
    gray_empties = [
        qr_images.Sample(s.name, np.asarray(cv2.cvtColor(s.image, cv2.COLOR_BGR2GRAY)), None, ())
        for s in empties
    ]
    gray_runs = measure(gray_empties, args.repeat)
    print_overall(gray_runs, 0, f"{len(empties)} empty frames, grey (no conversion to pay)")

    mine, zx = runs["ours"], runs["zxing-cpp"]
    r, empty_r = ratios(mine, zx), ratios(gray_runs["ours"], gray_runs["zxing-cpp"])
    missed = sorted(zx.read - mine.read)
    checks = {
        "empty frame <= 1.3x zxing-cpp (grey)": statistics.median(empty_r) <= 1.3,
        "with a code: median <= 1.5x": statistics.median(r) <= 1.5,
        "with a code: p95 <= 3x": p95(r) <= 3.0,
        f"reads all zxing-cpp reads (missed {missed or 'none'})": not missed,
        f"every group >= best library (short: {short or 'none'})": not short,
        f"zero wrong reads ({len(mine.wrong)})": not mine.wrong,
    }
    print("\ntargets")
    for label, ok in checks.items():
        print(f"  {'MET    ' if ok else 'NOT MET'} {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
