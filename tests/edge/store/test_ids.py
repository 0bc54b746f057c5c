"""UUIDv7 ids (RFC 9562 §5.7): layout, ordering, and behaviour when the clock steps back."""

from __future__ import annotations

import re
import threading
import uuid

from edge.store.ids import Uuid7Generator, uuid7, uuid7_unix_ms

UUID7_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MS = 1_795_392_000_125  # 2026-11-23T00:00:00.125Z


def test_layout_version_variant_and_timestamp() -> None:
    value = Uuid7Generator().next(MS)
    assert UUID7_TEXT.match(str(value))
    assert value.version == 7
    assert value.variant == uuid.RFC_4122  # bits 64-65 are 0b10
    assert uuid7_unix_ms(value) == MS
    assert str(value).startswith(f"{MS:012x}"[:8])


def test_module_level_ids_are_uuid7() -> None:
    assert uuid7(MS).version == 7


def test_strictly_increasing_within_one_millisecond() -> None:
    generator = Uuid7Generator()
    ids = [generator.next(MS) for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid7_unix_ms(value) for value in ids} == {MS}
    # As text too: the database compares ids as strings.
    assert [str(value) for value in ids] == sorted(str(value) for value in ids)


def test_a_clock_stepping_back_does_not_reorder_ids() -> None:
    generator = Uuid7Generator()
    later = generator.next(MS + 60_000)
    after_step_back = generator.next(MS)
    assert after_step_back > later
    assert uuid7_unix_ms(after_step_back) == MS + 60_000
    assert uuid7_unix_ms(generator.next(MS + 120_000)) == MS + 120_000


def test_counter_overflow_borrows_the_next_millisecond() -> None:
    generator = Uuid7Generator()
    first = generator.next(MS)
    generator._counter = (1 << 42) - 1  # as if 2**41 ids had been made in this millisecond
    rolled = generator.next(MS)
    assert rolled > first
    assert uuid7_unix_ms(rolled) == MS + 1


def test_random_bits_differ_between_generators() -> None:
    assert Uuid7Generator().next(MS) != Uuid7Generator().next(MS)


def test_unique_and_ordered_per_thread_across_threads() -> None:
    generator = Uuid7Generator()
    made: list[list[uuid.UUID]] = [[] for _ in range(4)]

    def make(slot: int) -> None:
        for _ in range(2_000):
            made[slot].append(generator.next(MS))

    threads = [threading.Thread(target=make, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for slot in made for value in slot]
    assert len(set(every)) == 8_000
    assert all(slot == sorted(slot) for slot in made)
