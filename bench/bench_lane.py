"""Lane benchmark: decision latency and durable entries per second, through the real lane.

Decision latency is measured from the moment the last input of a visit (the temperature
reading) is handed to the lane until the relay is commanded — which includes the rule, the
durable SQLite commit (WAL, synchronous=FULL) and the relay call. Throughput is entries per
second through the whole lane (scan → verify → history → rule → commit → relay) for exits,
which skip the measure step. The same runs with synchronous=NORMAL give the cost of durability.

Run: .venv/bin/python bench/bench_lane.py [--visits N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory

from drivers.base import DeviceStatus, Health, Reading, ReadingListener, Scan
from drivers.gpio import GpioIndicator, GpioRelay
from edge import passes
from edge.bus import Bus
from edge.clock import SystemClock
from edge.lane import Lane, TrustMaterial
from edge.model import Direction, PassKind, Step
from edge.policy import Policy
from edge.rule import LaneContext
from edge.store import Store


class TimedRelay(GpioRelay):
    """The real gpiozero relay on MockFactory, noting when each pulse is commanded."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.pulsed = threading.Event()
        self.pulsed_at = 0.0

    def pulse(self, seconds: float) -> None:
        super().pulse(seconds)
        self.pulsed_at = time.perf_counter()
        self.pulsed.set()


class HandThermometer:
    """A thermometer the benchmark reads for: requests are ignored, readings are injected."""

    def start(self, on_reading: ReadingListener) -> None: ...
    def request(self) -> None: ...
    def stop(self) -> None: ...
    def status(self) -> DeviceStatus:
        return DeviceStatus("bench", Health.OK)


def _tokens(key: Ed25519PrivateKey, count: int, kind: PassKind) -> list[str]:
    now = datetime.now(UTC)
    return [
        passes.issue(
            key,
            key_id="bench",
            community="hxy",
            pass_id=f"R-{i:07d}",
            kind=kind,
            holder="王*",
            unit=f"{i % 12 + 1}-{i % 4 + 1}-{i % 1700 + 101}",
            not_before=now - timedelta(days=1),
            expires=now + timedelta(days=365),
            issued_at=now - timedelta(days=1),
        )
        for i in range(count)
    ]


def _lane(db: Path, direction: Direction, key: Ed25519PrivateKey, synchronous: str) -> Lane:
    store = Store.open(db, community="hxy", gate="north")
    store._db.execute(f"PRAGMA synchronous={synchronous}")  # the NORMAL comparison only
    factory = MockFactory()
    ctx = LaneContext(lane="in-1", gate="north", direction=direction, policy=Policy())
    trust = TrustMaterial(keys={"bench": key.public_key()}, revoked=frozenset())
    lane = Lane(
        ctx,
        community="hxy",
        store=store,
        clock=SystemClock(assume_synced=True),
        trust=lambda: trust,
        relay=TimedRelay(17, pin_factory=factory),
        indicator=GpioIndicator(green_pin=27, red_pin=22, buzzer_pin=23, pin_factory=factory),
        bus=Bus(),
        boot_id="bench",
        thermometer=HandThermometer(),
    )
    lane.start()
    return lane


def _wait_for(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("lane did not get there")
        time.sleep(0.0002)


def decision_latency(visits: int, synchronous: str) -> list[float]:
    key = Ed25519PrivateKey.generate()
    tokens = _tokens(key, visits, PassKind.RESIDENT)
    with tempfile.TemporaryDirectory() as tmp:
        lane = _lane(Path(tmp) / "kakou.db", Direction.IN, key, synchronous)
        relay = lane._relay
        assert isinstance(relay, TimedRelay)
        latencies_ms: list[float] = []
        try:
            for token in tokens:
                lane.submit_scan(Scan(text=token, source="bench")).result(timeout=5)
                _wait_for(lambda: lane.state.step is Step.MEASURE)
                relay.pulsed.clear()
                started = time.perf_counter()
                lane.submit_reading(Reading(value_c=36.6, sensor="bench"))
                if not relay.pulsed.wait(timeout=5):
                    raise TimeoutError("no relay command")
                latencies_ms.append((relay.pulsed_at - started) * 1000)
                relay.release()
        finally:
            lane.stop()
    return latencies_ms


def throughput(visits: int, synchronous: str) -> float:
    key = Ed25519PrivateKey.generate()
    tokens = _tokens(key, visits, PassKind.RESIDENT)
    with tempfile.TemporaryDirectory() as tmp:
        lane = _lane(Path(tmp) / "kakou.db", Direction.OUT, key, synchronous)
        try:
            started = time.perf_counter()
            futures = [lane.submit_scan(Scan(text=t, source="bench")) for t in tokens]
            recorded = sum(len(f.result(timeout=60).entries) for f in futures)
            elapsed = time.perf_counter() - started
        finally:
            lane.stop()
    assert recorded == visits, recorded
    return visits / elapsed


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=500)
    args = parser.parse_args()
    print(f"lane benchmark, {args.visits} visits per run, one lane, this machine")
    print("\ndecision latency: last input (reading) -> relay command, incl. durable commit")
    medians = {}
    for sync in ("FULL", "NORMAL"):
        lat = decision_latency(args.visits, sync)
        medians[sync] = statistics.median(lat)
        print(
            f"  synchronous={sync:<6} median {statistics.median(lat):6.2f} ms"
            f"   p99 {_p(lat, 0.99):6.2f} ms   max {max(lat):6.2f} ms"
        )
    print(f"  cost of durability (FULL/NORMAL median): {medians['FULL'] / medians['NORMAL']:.2f}x")
    print("\ndurable entries per second through the whole lane (scan -> verify -> commit -> relay)")
    for sync in ("FULL", "NORMAL"):
        rates = [throughput(args.visits, sync) for _ in range(3)]
        print(f"  synchronous={sync:<6} median {statistics.median(rates):7.0f} entries/s")


if __name__ == "__main__":
    main()
