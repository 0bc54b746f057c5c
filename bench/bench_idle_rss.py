"""Resident memory of an idle gate: `kakou run` on the simulated lane (serial scanner and
thermometer simulators, MockFactory pins, console on). Targets: at most 80 MB without a camera,
150 MB with a camera lane.

Starts the command as its own process with the embedded simulated configuration (state in a
temporary folder, console on a free port), waits until the console answers /api/v1/health, lets it
settle, then samples the process's RSS (VmRSS) and PSS (what it alone costs: shared pages split
among the processes sharing them) every half second, and prints the median and maximum. With
--imports, also the packages the running gate has loaded beyond the interpreter's own, from a
second run under `python -X importtime`.

With --camera the lane also has a camera: a 1280x720 MJPG video file of the gate with nobody in
view, looped (written with this interpreter's OpenCV; the gate decodes it as it would a USB
camera's frames, at most 10 a second). The gate itself needs the camera extra.

    python bench/bench_idle_rss.py [--kakou /opt/kakou/venv/bin/kakou] [--camera] [--settle 5]
        [--seconds 10] [--imports]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KB_PER_MB = 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def empty_scene_video(path: Path, seconds: float = 2.0, fps: float = 15.0) -> Path:
    """An HD video of the gate with nobody in view: what a camera lane sees most of the day."""
    import cv2
    import numpy as np
    from qr_images import HD, place_nothing

    rng = np.random.default_rng([5, 5])
    scene = place_nothing(rng, HD)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (HD.width, HD.height))
    for _ in range(round(seconds * fps)):
        noise = rng.normal(0, 3, scene.shape)  # sensor noise: no two frames alike
        writer.write(np.clip(scene + noise, 0, 255).astype(np.uint8))
    writer.release()
    return path


def sim_config(folder: Path, port: int, camera: Path | None = None) -> Path:
    text = (REPO / "edge" / "defaults" / "sim.toml").read_text(encoding="utf-8")
    replacements = {
        'state_dir = "kakou-data"': f'state_dir = "{folder / "state"}"',
        "port = 8080": f"port = {port}",
    }
    if camera is not None:
        thermometer = 'thermometer = { kind = "sim", ambient_c = 20.0 }'
        replacements[thermometer] = (
            f'{thermometer}\ncamera = {{ kind = "camera", source = "{camera}", loop = true }}'
        )
    for old, new in replacements.items():
        assert old in text, f"the embedded default no longer has {old!r}"
        text = text.replace(old, new)
    path = folder / "kakou.toml"
    path.write_text(text, encoding="utf-8")
    return path


def memory_kb(pid: int) -> tuple[int, int]:
    """RSS and PSS of process ``pid``, in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    pss = next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return rss, pss


def start(command: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise SystemExit(f"kakou run exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"the console never answered:\n{log.read_text()}") from None
            time.sleep(0.3)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def loaded_packages(
    kakou: Path, folder: Path, settle_s: float, camera: Path | None
) -> list[tuple[str, float]]:
    """Top-level packages a running gate imported, with their cumulative import time (ms)."""
    port = free_port()
    folder.mkdir()
    config = sim_config(folder, port, camera)
    python = kakou.parent / "python"
    code = "import sys; from edge.app.cli import main; sys.exit(main())"
    log = folder / "importtime.log"
    process = start(
        [str(python), "-X", "importtime", "-c", code, "run", "--config", str(config)], port, log
    )
    time.sleep(settle_s)
    stop(process)
    packages: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith(" ") and not name.startswith("  "):  # top level: one space
            try:
                packages[name.strip()] = int(cumulative) / 1000
            except ValueError:
                continue
    return sorted(packages.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kakou", type=Path, default=Path(sys.executable).parent / "kakou")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before sampling")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of sampling")
    parser.add_argument("--imports", action="store_true", help="list the packages loaded")
    parser.add_argument("--camera", action="store_true", help="a camera lane on a video file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        port = free_port()
        camera = empty_scene_video(folder / "gate.avi") if args.camera else None
        config = sim_config(folder, port, camera)
        process = start([str(args.kakou), "run", "--config", str(config)], port, folder / "log")
        try:
            time.sleep(args.settle)
            samples = []
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                samples.append(memory_kb(process.pid))
                time.sleep(0.5)
        finally:
            stop(process)
        rss = [value / KB_PER_MB for value, _ in samples]
        pss = [value / KB_PER_MB for _, value in samples]
        lane = (
            "simulated lane with a camera (HD video, nobody in view)"
            if camera
            else "simulated lane"
        )
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"{args.kakou} run, {lane}, console on; {len(samples)} samples")
        print(f"load average during the run (1, 5, 15 min): {load}; {os.cpu_count()} cores")
        print(f"RSS idle: median {statistics.median(rss):.1f} MB, max {max(rss):.1f} MB")
        print(f"PSS idle: median {statistics.median(pss):.1f} MB, max {max(pss):.1f} MB")
        if args.imports:
            print("top-level imports (cumulative import time, ms):")
            for package, ms in loaded_packages(args.kakou, folder / "imports", args.settle, camera):
                if ms >= 5:
                    print(f"  {package:40} {ms:8.1f}")


if __name__ == "__main__":
    main()
