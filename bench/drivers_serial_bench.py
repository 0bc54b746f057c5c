"""Figures for the serial drivers: codec throughput and request→reading latency over a pty.

Run: .venv/bin/python bench/drivers_serial_bench.py
Prints numbers only; nothing here asserts a timing.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from drivers.base import Reading
from drivers.frames import gy_mcu90614
from drivers.frames.code_text import split_codes
from drivers.sim.thermometer import SimGyMcu90614
from drivers.thermometer import SerialThermometer


def bench_gy_decode(frames: int = 20_000) -> None:
    stream = b"".join(gy_mcu90614.encode_reading(36.5 + i % 50 / 100, 21.0) for i in range(frames))
    started = time.perf_counter()
    results, _ = gy_mcu90614.decode(stream)
    elapsed_s = time.perf_counter() - started
    print(
        f"gy-mcu90614 decode: {len(results)} frames in {elapsed_s * 1000:.1f} ms "
        f"({len(results) / elapsed_s:,.0f} frames/s)"
    )


def bench_split_flood(size: int = 1 << 20, chunk: int = 4096) -> None:
    flood = b"A" * size + b"\r"
    started = time.perf_counter()
    rest, dropping, codes = b"", 0, 0
    for pos in range(0, len(flood), chunk):
        split = split_codes(rest + flood[pos : pos + chunk], dropping=dropping)
        rest, dropping, codes = split.rest, split.dropping, codes + len(split.codes)
    elapsed_s = time.perf_counter() - started
    print(
        f"split_codes: 1 MiB flood in {chunk}-byte chunks -> {codes} truncated scan "
        f"in {elapsed_s * 1000:.1f} ms"
    )


def bench_request_latency(rounds: int = 200) -> None:
    with tempfile.TemporaryDirectory() as directory:
        sim = SimGyMcu90614(link_path=Path(directory) / "ttyBENCH")
        sim.start()
        arrived = threading.Event()
        received: list[Reading] = []

        def on_reading(reading: Reading) -> None:
            received.append(reading)
            arrived.set()

        driver = SerialThermometer("bench", sim.port, reopen_min_s=0.05)
        driver.start(on_reading)
        time.sleep(0.3)
        latencies_ms: list[float] = []
        for _ in range(rounds):
            arrived.clear()
            started = time.perf_counter()
            driver.request()
            if arrived.wait(1.0):
                latencies_ms.append((time.perf_counter() - started) * 1000)
        driver.stop()
        sim.stop()
    quantiles = statistics.quantiles(latencies_ms, n=100)
    print(
        f"request->reading over a pty: {len(latencies_ms)}/{rounds} answered, "
        f"median {statistics.median(latencies_ms):.2f} ms, p99 {quantiles[98]:.2f} ms"
    )


if __name__ == "__main__":
    bench_gy_decode()
    bench_split_flood()
    bench_request_latency()
