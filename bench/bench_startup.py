"""Start-up time and memory of the short `kakou` commands: `kakou relay-off` (the unit's
ExecStopPost=, run after every stop and crash; target at most 0.25 s) and `kakou --version`.

Each command runs as its own process, as systemd runs it, many times; prints the median and p99
of wall time, of CPU time (user + system, less disturbed by other work on the machine) and of the
peak resident memory. relay-off drives gpiozero's MockFactory (the embedded simulated lane, and
the example configuration with pin_factory = "mock"), so it runs on any machine. The interpreter
alone (`python -c pass`) is the floor.

    python bench/bench_startup.py [--runs 41] [--kakou /opt/kakou/venv/bin/kakou]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def measure(command: list[str], runs: int) -> tuple[list[float], list[float], list[float]]:
    """Wall seconds, CPU seconds and peak RSS (MB) of ``runs`` fresh processes of ``command``."""
    walls, cpus, rss = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - started)
        assert process.stderr is not None
        errors = process.stderr.read()
        process.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed: {errors.decode(errors='replace')}")
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss.append(usage.ru_maxrss / 1024)
    return walls, cpus, rss


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=41)
    parser.add_argument(
        "--kakou", type=Path, default=Path(sys.executable).parent / "kakou", help="the command"
    )
    args = parser.parse_args()
    python = args.kakou.parent / "python"
    with tempfile.TemporaryDirectory() as folder:
        example = Path(folder) / "kakou.toml"
        text = (REPO / "config" / "kakou.example.toml").read_text(encoding="utf-8")
        example.write_text(text.replace('pin_factory = "lgpio"', 'pin_factory = "mock"'))
        assert 'pin_factory = "mock"' in example.read_text(encoding="utf-8")
        cases = {
            "python -c pass (the floor)": [str(python), "-c", "pass"],
            "kakou --version": [str(args.kakou), "--version"],
            "kakou relay-off (embedded sim lane)": [str(args.kakou), "relay-off"],
            "kakou relay-off --config example": [
                str(args.kakou),
                "relay-off",
                "--config",
                str(example),
            ],
        }
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"{args.kakou}, {args.runs} runs each, {os.cpu_count()} cores, load {load}")
        print(f"{'':38} {'wall ms':>15} {'CPU ms':>15} {'peak RSS MB':>15}")
        print(f"{'':38} {'median':>7} {'p99':>7} {'median':>7} {'p99':>7} {'median':>7} {'p99':>7}")
        for name, command in cases.items():
            measure(command, 2)  # warm the page cache and the bytecode cache
            walls, cpus, rss = measure(command, args.runs)
            print(
                f"{name:38} {statistics.median(walls) * 1000:7.0f} {p99(walls) * 1000:7.0f} "
                f"{statistics.median(cpus) * 1000:7.0f} {p99(cpus) * 1000:7.0f} "
                f"{statistics.median(rss):7.1f} {p99(rss):7.1f}"
            )


if __name__ == "__main__":
    main()
