"""Resident memory of an idle gate: `kakou run` on the simulated lane (serial scanner and
thermometer simulators, MockFactory pins, console on), no camera. Target: at most 80 MB.

Starts the command as its own process with the embedded simulated configuration (state in a
temporary folder, console on a free port), waits until the console answers /api/v1/health, lets it
settle, then samples the process's RSS (VmRSS) and PSS (what it alone costs: shared pages split
among the processes sharing them) every half second, and prints the median and maximum. With
--imports, also the packages the running gate has loaded beyond the interpreter's own, from a
second run under `python -X importtime`.

    python bench/bench_idle_rss.py [--kakou /opt/kakou/venv/bin/kakou] [--settle 5] [--seconds 10]
"""

from __future__ import annotations

import argparse
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


def sim_config(folder: Path, port: int) -> Path:
    text = (REPO / "edge" / "defaults" / "sim.toml").read_text(encoding="utf-8")
    for old, new in {
        'state_dir = "kakou-data"': f'state_dir = "{folder / "state"}"',
        "port = 8080": f"port = {port}",
    }.items():
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


def loaded_packages(kakou: Path, folder: Path, settle_s: float) -> list[tuple[str, float]]:
    """Top-level packages a running gate imported, with their cumulative import time (ms)."""
    port = free_port()
    folder.mkdir()
    config = sim_config(folder, port)
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        port = free_port()
        config = sim_config(folder, port)
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
        print(f"{args.kakou} run, simulated lane, console on; {len(samples)} samples")
        print(f"RSS idle: median {statistics.median(rss):.1f} MB, max {max(rss):.1f} MB")
        print(f"PSS idle: median {statistics.median(pss):.1f} MB, max {max(pss):.1f} MB")
        if args.imports:
            print("top-level imports (cumulative import time, ms):")
            for package, ms in loaded_packages(args.kakou, folder / "imports", args.settle):
                if ms >= 5:
                    print(f"  {package:40} {ms:8.1f}")


if __name__ == "__main__":
    main()
