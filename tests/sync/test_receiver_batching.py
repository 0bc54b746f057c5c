"""The receiver's transactions (sync/receiver/receiver.py): messages arriving close together
share one, bounded by a count and by a short wait, so a district's one-entry messages do not
each pay for a transaction and a lone message is not kept waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.mqtt import Received
from sync.receiver.db import open_db
from sync.receiver.receiver import Receiver
from tests.sync.conftest import server_settings

Handled = list[list[int]]
"""The mids of each transaction's messages, in order."""


def message(mid: int) -> Received:
    return Received(1, "kakou/v1/hxy/north/entries", b"{}", 1, False, mid)


@pytest.fixture
def make_receiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[float, int], tuple[Receiver, Handled]]]:
    """A receiver not connected to any broker, whose transactions are noted, not stored."""
    db = open_db(path=tmp_path / "receiver.db")

    def make(batch_wait_s: float, max_batch_messages: int) -> tuple[Receiver, Handled]:
        receiver = Receiver(
            server_settings(1883, max_batch_messages=max_batch_messages),
            db,
            batch_wait_s=batch_wait_s,
        )
        handled: Handled = []
        monkeypatch.setattr(
            receiver, "_handle", lambda messages: handled.append([m.mid for m in messages])
        )
        return receiver, handled

    yield make
    db.close()


def test_messages_already_waiting_share_transactions_up_to_the_count(
    make_receiver: Callable[[float, int], tuple[Receiver, Handled]],
) -> None:
    receiver, handled = make_receiver(0.01, 3)
    for mid in range(1, 6):
        receiver._events.put(message(mid))
    receiver._round()
    receiver._round()
    assert handled == [[1, 2, 3], [4, 5]]


def test_a_message_arriving_within_the_wait_joins_the_transaction(
    make_receiver: Callable[[float, int], tuple[Receiver, Handled]],
) -> None:
    """The count ends the wait: the second message closes the transaction at once."""
    receiver, handled = make_receiver(30.0, 2)
    receiver._events.put(message(1))
    threading.Timer(0.05, receiver._events.put, [message(2)]).start()
    started = time.monotonic()
    receiver._round()
    assert handled == [[1, 2]]
    assert time.monotonic() - started < 30.0


def test_a_message_arriving_after_the_wait_goes_in_the_next_transaction(
    make_receiver: Callable[[float, int], tuple[Receiver, Handled]],
) -> None:
    receiver, handled = make_receiver(0.01, 50)
    receiver._events.put(message(1))
    late = threading.Timer(1.0, receiver._events.put, [message(2)])
    late.start()
    receiver._round()
    late.join()
    receiver._round()
    assert handled == [[1], [2]]


def test_stopping_ends_the_wait_with_what_arrived(
    make_receiver: Callable[[float, int], tuple[Receiver, Handled]],
) -> None:
    receiver, handled = make_receiver(30.0, 50)
    receiver._events.put(message(1))
    receiver._events.put(None)
    started = time.monotonic()
    receiver._round()
    assert handled == [[1]]
    assert time.monotonic() - started < 30.0
