"""Probe devices once each and report what answers: the library behind `kakou doctor`.

A volunteer wiring a gate needs one answer per device: is it there, and what does it read? Each
probe starts the real driver, waits for it to open, asks for one reading (a thermometer) or
listens briefly (a scanner or camera: no code in front of it is fine), and stops it again.
GPIO devices (relay, indicator, door contact) are opened on their pins, read and closed: a relay
and an indicator open released and off, so the check never opens the gate.
Probes run side by side, so the whole check takes as long as the slowest device.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from drivers.base import DeviceStatus, Health, Reading, Scan, Scanner, Thermometer

Probe = Callable[[], "ProbeResult"]
_Item_co = TypeVar("_Item_co", covariant=True)
_Item = TypeVar("_Item")
_Pins = TypeVar("_Pins", bound="_Closable")

PREVIEW_CHARS = 24  # a pass token is a credential: show its start and length, never all of it


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One device's row in the doctor's table."""

    name: str
    kind: str  # scanner | thermometer | camera | relay | indicator | door
    model: str
    port: str
    health: Health
    reading: str = ""  # what the device read, if anything
    detail: str = ""  # the driver's status detail or the error


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the configuration says about a device, for the table."""

    name: str
    kind: str
    model: str
    port: str

    def result(self, health: Health, reading: str = "", detail: str = "") -> ProbeResult:
        return ProbeResult(self.name, self.kind, self.model, self.port, health, reading, detail)


def _wait_open(status: Callable[[], DeviceStatus], timeout_s: float) -> DeviceStatus:
    """The device's status once it is no longer DOWN, or its last status at the timeout."""
    deadline = time.monotonic() + timeout_s
    current = status()
    while current.health is Health.DOWN and time.monotonic() < deadline:
        time.sleep(0.02)
        current = status()
    return current


def describe_reading(reading: Reading) -> str:
    parts = [f"{reading.value_c:.2f} °C"]
    raw = [
        f"{label} {value:.2f} °C"
        for label, value in (("object", reading.object_c), ("ambient", reading.ambient_c))
        if value is not None
    ]
    if raw:
        parts.append(f"({', '.join(raw)})")
    return " ".join(parts)


def describe_scan(scan: Scan) -> str:
    if scan.truncated:
        return f"code too long ({scan.raw_length} bytes)"
    text = scan.text.replace("\r", " ").replace("\n", " ")
    preview = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"
    return f"code seen: {preview} ({len(scan.text)} chars)"


class _Listened(Protocol[_Item_co]):
    """What a probe needs of a device: start it with a listener, read its status, stop it."""

    def start(self, listener: Callable[[_Item_co], None], /) -> None: ...
    def status(self) -> DeviceStatus: ...
    def stop(self) -> None: ...


def _probe_open(
    device: _Listened[_Item],
    info: DeviceInfo,
    open_timeout_s: float,
    then: Callable[[list[_Item], threading.Event], ProbeResult],
) -> ProbeResult:
    """Start the device and wait for it to open; DOWN if it cannot, else ``then``'s result.

    ``then`` gets what the device has reported so far and an event set at its first report.
    The device is stopped again either way.
    """
    arrivals: list[_Item] = []
    arrived = threading.Event()

    def on_arrival(item: _Item) -> None:
        arrivals.append(item)
        arrived.set()

    device.start(on_arrival)
    try:
        status = _wait_open(device.status, open_timeout_s)
        if status.health is Health.DOWN:
            return info.result(Health.DOWN, detail=status.detail)
        return then(arrivals, arrived)
    finally:
        device.stop()


def probe_thermometer(
    thermometer: Thermometer,
    info: DeviceInfo,
    *,
    open_timeout_s: float = 2.0,
    reading_timeout_s: float = 2.5,
) -> ProbeResult:
    """Open the thermometer and ask for one measurement; DOWN if it cannot open or stays silent."""

    def measure(readings: list[Reading], arrived: threading.Event) -> ProbeResult:
        thermometer.request()
        if not arrived.wait(reading_timeout_s):
            detail = f"no reading within {reading_timeout_s:g} s ({thermometer.status().detail})"
            return info.result(Health.DOWN, detail=detail)
        status = thermometer.status()
        return info.result(status.health, describe_reading(readings[0]), status.detail)

    return _probe_open(thermometer, info, open_timeout_s, measure)


def probe_scanner(
    scanner: Scanner,
    info: DeviceInfo,
    *,
    open_timeout_s: float = 2.0,
    listen_s: float = 1.0,
) -> ProbeResult:
    """Open a scanner or camera and listen briefly; open with no code seen is healthy."""

    def listen(scans: list[Scan], arrived: threading.Event) -> ProbeResult:
        arrived.wait(listen_s)
        status = scanner.status()
        if scans:
            return info.result(status.health, describe_scan(scans[0]), status.detail)
        frames = status.extra.get("frames")
        seen = f"open, {frames} frames, no code seen" if frames else "open, no code seen"
        return info.result(status.health, seen, status.detail)

    return _probe_open(scanner, info, open_timeout_s, listen)


class _Closable(Protocol):
    def close(self) -> None: ...


def probe_pins(
    open_device: Callable[[], _Pins], info: DeviceInfo, describe: Callable[[_Pins], str]
) -> ProbeResult:
    """Claim a GPIO device's pins, say what it reads (``describe``), and let them go again;
    DOWN with the reason when the pins cannot be had (busy, no GPIO chip, no permission)."""
    try:
        device = open_device()
    except Exception as exc:  # any pin factory's error: the table names it, the check goes on
        return info.result(Health.DOWN, detail=f"cannot open: {exc}")
    try:
        return info.result(Health.OK, describe(device))
    finally:
        device.close()


def run_probes(probes: Sequence[Probe]) -> list[ProbeResult]:
    """Run every probe at once; results in the order given."""
    results: list[ProbeResult | None] = [None] * len(probes)

    def run(index: int, probe: Probe) -> None:
        results[index] = probe()

    threads = [
        threading.Thread(target=run, args=(i, probe), name=f"doctor-{i}", daemon=True)
        for i, probe in enumerate(probes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = [i for i, result in enumerate(results) if result is None]
    if missing:
        raise RuntimeError(f"probes {missing} ended without a result")
    return [result for result in results if result is not None]


def format_table(results: Sequence[ProbeResult]) -> str:
    """A plain-text table: one row per device, widths fitted to the content."""
    header = ("DEVICE", "KIND", "MODEL", "PORT", "STATUS", "READING / ERROR")
    rows = [
        (
            r.name,
            r.kind,
            r.model,
            r.port,
            str(r.health),
            r.reading if r.health is not Health.DOWN else r.detail,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    down = sum(r.health is Health.DOWN for r in results)
    lines.append(f"{len(results)} device(s), {down} down")
    return "\n".join(lines)


def exit_code(results: Sequence[ProbeResult]) -> int:
    """0 when no device is down, else 1."""
    return 1 if any(r.health is Health.DOWN for r in results) else 0
