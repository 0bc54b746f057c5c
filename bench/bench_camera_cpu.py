"""CPU the camera pipeline costs with no code in view: 1280×720 frames at 15 frames a second.

Runs drivers.camera.CameraScanner (its capture thread, newest-frame slot, decode thread and
watchdog) on a synthetic live source that delivers gate scenes without a code at 15 frames a
second, each frame arriving as an MJPG camera's does (JPEG bytes decoded to BGR, as OpenCV does
for a USB camera in MJPG mode), and prints this process's CPU time over wall time as a share of
one core: for every frame decoded, and for the default cap of 10 decoded frames a second.
Target (issue #14): at most 25 % of one core.

    python bench/bench_camera_cpu.py [--seconds 20] [--raw]
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np
import qr_images

from drivers.base import Scan
from drivers.camera import CameraScanner, Frame, FrameSource

FPS = 15.0


class SceneSource:
    """A live source of empty gate scenes (no code) at ``fps``, optionally as MJPG frames."""

    finite = False
    description = "synthetic 1280x720 scenes"

    def __init__(self, frames: list[bytes] | list[Frame], *, fps: float, mjpeg: bool) -> None:
        self.frame_interval_s = 1.0 / fps
        self._frames = frames
        self._mjpeg = mjpeg
        self._next = 0

    def read(self) -> Frame | None:
        item = self._frames[self._next % len(self._frames)]
        self._next += 1
        if self._mjpeg:
            assert isinstance(item, bytes)
            data = np.frombuffer(item, dtype=np.uint8)
            return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)
        assert isinstance(item, np.ndarray)
        return item

    def close(self) -> None:
        self._next = 0


def scenes(count: int, *, mjpeg: bool) -> list[bytes] | list[Frame]:
    frames = [
        qr_images.place_nothing(np.random.default_rng([11, i]), qr_images.HD) for i in range(count)
    ]
    if not mjpeg:
        return frames
    encoded = []
    for frame in frames:
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 80])
        assert ok
        encoded.append(data.tobytes())
    return encoded


def cpu_share(
    max_decode_fps: float, seconds: float, *, mjpeg: bool
) -> tuple[float, dict[str, str]]:
    """This process's CPU time over wall time while the camera runs, and its counters."""
    frames = scenes(8, mjpeg=mjpeg)
    scans: list[Scan] = []

    def opener() -> FrameSource:
        return SceneSource(frames, fps=FPS, mjpeg=mjpeg)

    camera = CameraScanner("bench", opener, max_decode_fps=max_decode_fps)
    camera.start(scans.append)
    time.sleep(1.0)  # warm-up: threads started, libraries loaded
    wall0, cpu0 = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    status = camera.status()
    camera.stop()
    assert not scans, "an empty scene must never give a scan"
    return cpu / wall, status.extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--raw", action="store_true", help="frames as BGR, no JPEG decoding")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    mjpeg = not args.raw
    print(
        f"CameraScanner, 1280x720 at {FPS:g} frames/s, no code in view, "
        f"{'MJPG frames decoded' if mjpeg else 'raw BGR frames'}, {args.seconds:g} s each"
    )
    print(f"  {'decoded frames/s':<22} {'CPU, % of one core':>18} {'decode ms (median)':>19}")
    for rate in (FPS, 10.0):
        share, extra = cpu_share(rate, args.seconds, mjpeg=mjpeg)
        label = f"{rate:g} (every frame)" if rate == FPS else f"{rate:g} (default cap)"
        print(f"  {label:<22} {100 * share:>17.1f}% {extra.get('decode_ms_median', '-'):>19}")
    print("  target: <= 25 % of one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
