"""HealthRecord: a device's health told once, its last problem kept after recovery."""

from __future__ import annotations

import logging
import threading

import pytest

from drivers.base import Health
from drivers.status import HealthRecord


def test_a_problem_is_logged_once_and_kept_after_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = HealthRecord("in-1/scanner", threading.Lock())
    assert (record.health, record.detail, record.last_error) == (Health.DOWN, "not started", "")
    with caplog.at_level(logging.WARNING, logger="drivers.status"):
        assert record.set(Health.DOWN, "cannot open /dev/ttyUSB0")
        assert not record.set(Health.DOWN, "cannot open /dev/ttyUSB0")
        assert record.set(Health.OK, "open at 9600 baud")
    assert caplog.text.count("in-1/scanner: down: cannot open /dev/ttyUSB0") == 1
    assert record.health is Health.OK
    assert record.last_error == "cannot open /dev/ttyUSB0"


def test_a_quiet_state_is_recorded_but_neither_logged_nor_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = HealthRecord("in-1/camera", threading.Condition())
    record.set(Health.DEGRADED, "no frame for 2 s")
    with caplog.at_level(logging.WARNING, logger="drivers.status"):
        assert record.set(Health.DOWN, "stopped", quiet=True)
    assert "stopped" not in caplog.text
    assert (record.health, record.detail) == (Health.DOWN, "stopped")
    assert record.last_error == "no frame for 2 s"
