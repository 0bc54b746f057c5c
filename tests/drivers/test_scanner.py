"""drivers.scanner.SerialScanner against the simulated GM65 on a pty."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.base import Health, Scan
from drivers.frames import gm65
from drivers.scanner import SerialScanner
from drivers.sim.scanner import SimGm65, SimHoneywell
from tests.drivers.conftest import ScannerProbe, connected
from tests.drivers.waiting import wait_until

Attach = Callable[..., ScannerProbe]
MEGABYTE = 1 << 20


@pytest.fixture
def probe(attach_scanner: Attach) -> ScannerProbe:
    """The driver with its default options, connected."""
    return connected(attach_scanner())


def scans_after(probe: ScannerProbe, count: int, quiet_s: float = 0.25) -> list[Scan]:
    """Wait for ``count`` scans, then a little longer to catch any extra (there must be none)."""
    assert wait_until(lambda: len(probe.scans) >= count, timeout_s=5.0), probe.scans
    time.sleep(quiet_s)
    return probe.scans


def test_cr_tail(probe: ScannerProbe, sim_scanner: SimGm65) -> None:
    sim_scanner.present("KAKOU:pass:0001")
    assert scans_after(probe, 1) == [Scan("KAKOU:pass:0001", "scanner-1", raw_length=15)]


def test_lf_and_crlf_tails(probe: ScannerProbe, sim_scanner: SimGm65) -> None:
    sim_scanner.present("first", tail=b"\n")
    sim_scanner.present("second", tail=b"\r\n")
    scans_after(probe, 2)
    assert probe.texts == ["first", "second"]


def test_no_tail_ends_at_the_idle_gap(probe: ScannerProbe, sim_scanner: SimGm65) -> None:
    sim_scanner.present("no-tail-code", tail=b"")
    scans_after(probe, 1)
    assert probe.texts == ["no-tail-code"]


def test_a_megabyte_flood_is_one_truncated_scan_and_the_next_code_reads(
    probe: ScannerProbe, sim_scanner: SimGm65
) -> None:
    sim_scanner.present_huge(MEGABYTE)
    sim_scanner.present("NEXT")
    scans = scans_after(probe, 2)
    assert scans == [
        Scan("", "scanner-1", truncated=True, raw_length=MEGABYTE),
        Scan("NEXT", "scanner-1", raw_length=4),
    ]
    assert probe.driver.status().extra["truncated"] == "1"


def test_a_flood_without_tail_is_ended_by_the_idle_gap(
    probe: ScannerProbe, sim_scanner: SimGm65
) -> None:
    sim_scanner.present_huge(MEGABYTE, tail=b"")
    assert sim_scanner.wait_sent()
    scans_after(probe, 1)
    assert probe.scans == [Scan("", "scanner-1", truncated=True, raw_length=MEGABYTE)]
    sim_scanner.present("after")
    scans_after(probe, 2)
    assert probe.texts[-1] == "after"


def test_gbk_text_is_decoded(probe: ScannerProbe, sim_scanner: SimGm65) -> None:
    sim_scanner.encoding = "gbk"  # the GM65 factory encoding
    sim_scanner.present("访客通行证-3号楼")
    sim_scanner.encoding = "utf-8"
    sim_scanner.present("访客通行证-4号楼")
    scans_after(probe, 2)
    assert probe.texts == ["访客通行证-3号楼", "访客通行证-4号楼"]


def test_binary_junk_and_noise_never_stop_the_scanner(
    probe: ScannerProbe, sim_scanner: SimGm65
) -> None:
    sim_scanner.send_binary_junk(200)
    sim_scanner.send_noise(12)
    assert sim_scanner.wait_sent()
    time.sleep(0.2)  # the noise ends at an idle gap before the resident scans
    sim_scanner.present("GOOD")
    scans_after(probe, 3)
    assert probe.texts[-1] == "GOOD"
    assert all(isinstance(scan.text, str) for scan in probe.scans)
    assert probe.driver.status().health is Health.OK


def test_a_repeat_within_the_window_is_one_scan(
    attach_scanner: Attach, sim_scanner: SimGm65
) -> None:
    probe = connected(attach_scanner(reread_window_s=0.4))
    for _ in range(3):
        sim_scanner.present("SAME")
    sim_scanner.present("OTHER")
    scans_after(probe, 2)
    assert probe.texts == ["SAME", "OTHER"]
    assert probe.driver.status().extra["rereads"] == "2"
    time.sleep(0.5)
    sim_scanner.present("SAME")
    scans_after(probe, 3)
    assert probe.texts == ["SAME", "OTHER", "SAME"]


def test_start_up_configuration_sets_the_tail_and_saves(
    attach_scanner: Attach, sim_scanner: SimGm65
) -> None:
    assert sim_scanner.configured_tail == b""  # factory default: no tail
    probe = connected(attach_scanner(configure_gm65=True, gm65_read_mode=gm65.ReadMode.CONTINUOUS))
    assert wait_until(lambda: sim_scanner.saves == 1)
    assert sim_scanner.configured_tail == b"\r"
    assert sim_scanner.register(0x0000) == 0b1101_0110  # mode bits changed, the rest kept
    status = probe.driver.status()
    assert status.extra["config_applied"] == "tail_cr,utf8_output,read_mode_continuous"
    assert status.extra["config_unverified"] == "tail_cr,utf8_output"
    assert status.health is Health.OK
    sim_scanner.present("CONFIGURED", tail=sim_scanner.configured_tail)
    scans_after(probe, 1)
    assert probe.texts == ["CONFIGURED"]  # the replies were not taken for codes


def test_configuration_is_idempotent_across_a_replug(
    attach_scanner: Attach, sim_scanner: SimGm65
) -> None:
    probe = connected(attach_scanner(configure_gm65=True))
    assert wait_until(lambda: sim_scanner.saves == 1)
    sim_scanner.unplug()
    assert wait_until(lambda: probe.driver.status().health is Health.DOWN)
    sim_scanner.replug()
    assert wait_until(
        lambda: probe.driver.status().extra["config_unchanged"] == "tail_cr,utf8_output", 3.0
    )
    assert sim_scanner.saves == 1  # nothing changed, so no second EEPROM write


def test_a_module_that_ignores_commands_degrades_but_still_scans(
    attach_scanner: Attach, sim_scanner: SimGm65
) -> None:
    sim_scanner.answer_commands = False
    probe = connected(attach_scanner(configure_gm65=True, config_reply_timeout_s=0.2))
    assert wait_until(lambda: probe.driver.status().health is Health.DEGRADED)
    assert probe.driver.status().detail == "configuration: no reply to tail_cr within 0.2 s"
    sim_scanner.present("STILL-WORKS")
    scans_after(probe, 1)
    assert probe.texts == ["STILL-WORKS"]


def test_trigger_sends_the_command_and_its_ack_is_not_a_code(
    probe: ScannerProbe, sim_scanner: SimGm65
) -> None:
    assert probe.driver.trigger()
    assert wait_until(lambda: sim_scanner.triggers == 1)
    sim_scanner.present("TRIGGERED", tail=b"")  # the code follows the ack without a gap
    scans_after(probe, 1)
    assert probe.texts == ["TRIGGERED"]
    assert probe.driver.status().extra["replies"] == "1"


def test_line_scanners_have_no_trigger(attach_scanner: Attach, sim_scanner: SimGm65) -> None:
    probe = connected(attach_scanner(family="line"))
    assert not probe.driver.trigger()
    sim_scanner.present("LINE")
    scans_after(probe, 1)
    assert probe.texts == ["LINE"]


def test_unplug_and_replug_without_a_new_driver(probe: ScannerProbe, sim_scanner: SimGm65) -> None:
    sim_scanner.present("BEFORE")
    scans_after(probe, 1)
    sim_scanner.unplug()
    assert wait_until(lambda: probe.driver.status().health is Health.DOWN)
    assert not probe.driver.trigger()  # writing to an absent device is False, not an exception
    sim_scanner.replug()
    assert wait_until(lambda: probe.driver.status().health is Health.OK, timeout_s=3.0)
    sim_scanner.present("AFTER")
    scans_after(probe, 2)
    assert probe.texts == ["BEFORE", "AFTER"]


def test_a_silent_scanner_is_healthy_and_quiet(probe: ScannerProbe) -> None:
    time.sleep(0.2)
    assert probe.scans == []
    assert probe.driver.status().health is Health.OK


def test_honeywell_trigger_reads_the_code_in_front(tmp_path: Path) -> None:
    sim = SimHoneywell(link_path=tmp_path / "ttyHW")
    sim.start()
    scans: list[Scan] = []
    driver = SerialScanner("hw", sim.port, family="honeywell", reopen_min_s=0.05)
    driver.start(scans.append)
    try:
        assert wait_until(lambda: driver.status().health is Health.OK)
        sim.queue("HW-PASS-42")
        assert driver.trigger()
        assert wait_until(lambda: scans)
        assert [s.text for s in scans] == ["HW-PASS-42"]
        assert sim.triggers == 1
    finally:
        driver.stop()
        sim.stop()
