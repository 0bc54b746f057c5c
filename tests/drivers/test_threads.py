"""The shared background-thread life cycle: start, stop, joins, and errors that end no watch."""

from __future__ import annotations

import logging
import threading

import pytest

from drivers.threads import Backoff, Periodic, Worker
from tests.drivers.waiting import wait_until


def test_a_worker_runs_until_told_to_stop() -> None:
    laps: list[int] = []

    def run() -> None:
        while not worker.wait(0.01):
            laps.append(1)

    worker = Worker("test-loop", run)
    assert worker.start()
    assert wait_until(lambda: len(laps) >= 3)
    assert worker.alive
    assert not worker.stopping
    assert worker.stop()
    assert not worker.alive
    assert worker.stopping


def test_start_twice_runs_one_thread_and_stop_is_idempotent() -> None:
    release = threading.Event()
    worker = Worker("test-once", lambda: release.wait(5.0))
    assert worker.start()
    assert not worker.start()
    names = [thread.name for thread in threading.enumerate()]
    assert names.count("test-once") == 1
    release.set()
    assert worker.stop()
    assert worker.stop()
    assert not worker.alive


def test_stop_before_start_is_harmless() -> None:
    worker = Worker("test-never", lambda: None)
    assert worker.stop()
    assert not worker.alive


def test_a_stopped_worker_starts_again_with_a_fresh_stop_event() -> None:
    def run() -> None:
        worker.wait(5.0)

    worker = Worker("test-again", run)
    worker.start()
    assert worker.stop()
    assert worker.start()
    assert not worker.stopping
    assert worker.alive
    assert worker.stop()


def test_stop_reports_a_thread_that_does_not_end(caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()
    worker = Worker("test-stuck", lambda: release.wait(5.0))
    worker.start()
    with caplog.at_level(logging.ERROR, logger="drivers.threads"):
        assert not worker.stop(timeout_s=0.05)
    assert "test-stuck: thread did not stop" in caplog.text
    release.set()
    assert worker.stop()


def test_a_crash_is_logged_and_told_to_the_owner(caplog: pytest.LogCaptureFixture) -> None:
    crashes: list[Exception] = []

    def run() -> None:
        raise RuntimeError("port on fire")

    worker = Worker("test-crash", run, on_crash=crashes.append)
    with caplog.at_level(logging.ERROR, logger="drivers.threads"):
        worker.start()
        assert wait_until(lambda: crashes and not worker.alive)
    assert [str(exc) for exc in crashes] == ["port on fire"]
    assert "test-crash: thread failed" in caplog.text


def test_a_periodic_task_runs_at_once_then_every_interval() -> None:
    calls: list[int] = []
    periodic = Periodic("test-every", lambda: calls.append(1), interval_s=0.01)
    periodic.start()
    assert wait_until(lambda: len(calls) >= 3)
    assert periodic.stop()
    settled = len(calls)
    assert not periodic.alive
    assert len(calls) == settled


def test_a_long_interval_waits_and_stop_wakes_it() -> None:
    calls: list[int] = []
    periodic = Periodic("test-hourly", lambda: calls.append(1), interval_s=3600.0)
    periodic.start()
    assert wait_until(lambda: calls == [1])
    assert periodic.alive  # waiting for the next hour, not running again
    assert calls == [1]
    assert periodic.stop(timeout_s=2.0)
    assert calls == [1]


def test_a_raising_task_is_logged_and_the_schedule_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def task() -> None:
        calls.append(1)
        if len(calls) <= 2:
            raise OSError("status query failed")

    periodic = Periodic("test-watch", task, interval_s=0.01)
    with caplog.at_level(logging.ERROR, logger="drivers.threads"):
        periodic.start()
        assert wait_until(lambda: len(calls) >= 4)
    assert periodic.alive
    assert periodic.stop()
    assert caplog.text.count("test-watch failed; trying again") == 2


def test_a_periodic_joins_for_twice_its_interval_by_default() -> None:
    assert Periodic("test-default", lambda: None, interval_s=1.5).join_timeout_s == 3.0
    assert Periodic("test-set", lambda: None, 3600.0, join_timeout_s=10.0).join_timeout_s == 10.0


def test_rounds_back_to_back_pause_after_an_error_only() -> None:
    calls: list[int] = []
    failed = threading.Event()

    def task() -> None:
        calls.append(1)
        if len(calls) == 3:
            failed.set()
            raise ConnectionError("database down")

    rounds = Periodic("test-rounds", task, 0.0, after_error_s=3600.0, join_timeout_s=2.0)
    rounds.start()
    assert failed.wait(3.0)
    assert rounds.alive  # pausing an hour after the error, not running rounds
    assert len(calls) == 3
    assert rounds.stop()
    assert len(calls) == 3


def test_a_backoff_doubles_up_to_its_longest_and_starts_over_once_reset() -> None:
    backoff = Backoff(min_s=0.2, max_s=1.0)
    assert [backoff.next_s() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_s() == 0.2
    assert backoff.next_s() == 0.4
