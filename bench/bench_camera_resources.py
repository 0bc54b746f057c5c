"""Resident memory and CPU of the gate service with the camera pipeline running.

Builds the simulated gate as `kakou run` does (lanes, serial simulators, store; console off) in
a process of its own, then starts a CameraScanner on a generated video file (or image folder)
of a pass carried up to the camera between empty frames, looping, decoding at most 10 frames a
second. Samples that process's resident memory and CPU use and prints them. Target: at most 150 MB
resident; CPU is reported for 10 decoded frames per second (share of one core).

    python bench/bench_camera_resources.py [--seconds 20] [--source video|folder]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import psutil
import qr_images

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.base import Scan
from drivers.camera import CameraScanner
from edge.app.boot import build_gate
from tests.settings import sim_settings

MB = 1024 * 1024


def clip_frames() -> tuple[list[qr_images.Image], float]:
    """A pass approaching the camera, then two seconds of nobody there."""
    video = qr_images.approach_video()
    empty = qr_images.place_nothing(np.random.default_rng([3, 3]))
    return [*video.frames, *[empty] * round(2 * video.fps)], video.fps


def write_source(kind: str, folder: Path) -> Path:
    frames, fps = clip_frames()
    if kind == "folder":
        images = folder / "frames"
        images.mkdir()
        for index, frame in enumerate(frames):
            cv2.imwrite(str(images / f"{index:04d}.jpg"), frame)
        return images
    path = folder / "gate.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 480))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def measure(source: Path, kind: str, seconds: float, fps: float) -> int:
    """The service itself, in a process of its own (no benchmark data in its memory)."""
    process = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="kakou-bench-") as tmp:
        rss_start = process.memory_info().rss
        gate = build_gate(sim_settings(Path(tmp) / "state"))
        time.sleep(1.0)
        rss_gate = process.memory_info().rss
        scans: list[Scan] = []
        lock = threading.Lock()

        def on_scan(scan: Scan) -> None:
            with lock:
                scans.append(scan)

        camera = CameraScanner(
            "in-1/camera",
            source,
            max_decode_fps=fps,
            source_fps=15.0 if kind == "folder" else None,
            loop=True,
            reread_window_s=1.0,
        )
        camera.start(on_scan)
        try:
            time.sleep(2.0)  # warm-up: libraries loaded, first frames decoded
            decoded_before = int(camera.status().extra.get("decoded", "0"))
            cpu_before = process.cpu_times()
            wall_before = time.monotonic()
            rss_samples = []
            while time.monotonic() - wall_before < seconds:
                time.sleep(0.5)
                rss_samples.append(process.memory_info().rss)
            cpu_after = process.cpu_times()
            wall_s = time.monotonic() - wall_before
            status = camera.status()
        finally:
            camera.stop()
            gate.stop()
    cpu_s = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    decoded = int(status.extra.get("decoded", "0")) - decoded_before
    print(
        f"camera pipeline on a looping {kind} source, cap {fps:g} decoded frames/s, "
        f"{wall_s:.0f} s measured, inside the simulated gate service (OpenCV {cv2.__version__})"
    )
    extra = status.extra
    rss_median_mb = statistics.median(rss_samples) / MB
    print(
        f"  resident memory: after imports {rss_start / MB:.0f} MB, gate running "
        f"{rss_gate / MB:.0f} MB, with the camera: median {rss_median_mb:.0f} MB, "
        f"max {max(rss_samples) / MB:.0f} MB (target <= 150 MB)"
    )
    print(
        f"  decoded {decoded / wall_s:.1f} frames/s, decode median "
        f"{extra.get('decode_ms_median')} ms; frames captured {extra.get('frames')}, dropped "
        f"{extra.get('dropped')}, scans {extra.get('scans', '0')}, "
        f"rereads {extra.get('rereads', '0')}"
    )
    print(
        f"  CPU: {100 * cpu_s / wall_s:.1f} % of one core for the whole service "
        f"({cpu_s:.1f} s CPU in {wall_s:.1f} s)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--source", choices=("video", "folder"), default="video")
    parser.add_argument("--fps", type=float, default=10.0, help="decoded frames per second")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's side
    args = parser.parse_args(argv)
    if args.measure is not None:
        return measure(args.measure, args.source, args.seconds, args.fps)
    with tempfile.TemporaryDirectory(prefix="kakou-bench-source-") as tmp:
        source = write_source(args.source, Path(tmp))
        command = [sys.executable, __file__, "--measure", str(source)]
        command += ["--source", args.source, "--seconds", str(args.seconds), "--fps", str(args.fps)]
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
