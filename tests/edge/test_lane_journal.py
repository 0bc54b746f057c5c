"""The lane's journal records about an entry carry its sequence number (KAKOU_SEQ), so
`journalctl KAKOU_SEQ=123` finds what happened to entry 123; sent through edge/logs.py's
JournalHandler to a real datagram socket."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import logs
from edge.model import Outcome
from edge.policy import Policy
from tests.drivers.waiting import wait_until
from tests.edge import test_lane
from tests.edge.test_lane import GATE, LANE, NO_MEASURE, HandThermometer, RigFactory
from tests.edge.test_logs import parse_datagram

# The lane rig of tests/edge/test_lane.py: a real lane, store, relay and indicator.
pin_factory = test_lane.pin_factory
make_rig = test_lane.make_rig


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[socket.socket]:
    """A datagram socket standing in for /run/systemd/journal/socket, fed by edge.lane's logger."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "journal.socket"))
    sock.settimeout(5)
    handler = logs.JournalHandler(GATE, path=tmp_path / "journal.socket")
    logger = logging.getLogger("edge.lane")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield sock
    logger.removeHandler(handler)
    logger.setLevel(level)
    handler.close()
    sock.close()


def received(journal: socket.socket) -> list[dict[str, str]]:
    """Every record the journal socket holds now."""
    records = []
    journal.setblocking(False)
    try:
        while True:
            records.append(parse_datagram(journal.recv(65536)))
    except BlockingIOError:
        return records
    finally:
        journal.settimeout(5)


def test_a_recorded_entry_is_in_the_journal_with_its_sequence_number(
    make_rig: RigFactory, journal: socket.socket
) -> None:
    rig = make_rig(policy=NO_MEASURE, open_s=0.1)
    rig.scan(rig.token("R-0001"))
    rig.scan("not a pass")
    first, second = sorted(rig.stored(), key=lambda entry: entry.seq)
    assert (first.seq, second.seq) == (1, 2)

    about = {record["KAKOU_SEQ"]: record for record in received(journal) if "KAKOU_SEQ" in record}
    assert sorted(about) == ["1", "2"]
    assert about["1"]["MESSAGE"] == f"lane {LANE}: entry 1 passed"
    assert about["2"]["MESSAGE"] == f"lane {LANE}: entry 2 denied"
    assert {record["KAKOU_LANE"] for record in about.values()} == {LANE}
    assert {record["KAKOU_GATE"] for record in about.values()} == {GATE}
    assert {record["PRIORITY"] for record in about.values()} == {"6"}


def test_a_fever_alarm_names_the_entry_it_is_about(
    make_rig: RigFactory, journal: socket.socket
) -> None:
    thermometer = HandThermometer()
    quick_recheck = Policy.model_validate({"fever": {"recheck_after_s": 0.0}})
    rig = make_rig(policy=quick_recheck, thermometer=thermometer)
    rig.scan(rig.token("R-0001"))
    thermometer.deliver(38.6)
    assert wait_until(lambda: rig.lane.snapshot()["step"] == "hold")
    thermometer.deliver(38.7)  # the confirming re-measure: a fever
    rig.bus_log.wait_for("alarm", kind="fever")
    (entry,) = rig.stored()
    assert entry.draft.outcome is Outcome.FEVER

    warnings = [record for record in received(journal) if record["PRIORITY"] == "4"]
    (alarm,) = [record for record in warnings if record["MESSAGE"].startswith("alarm fever")]
    assert alarm["KAKOU_SEQ"] == str(entry.seq)
    assert alarm["KAKOU_LANE"] == LANE
