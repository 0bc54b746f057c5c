"""Simulated crowds: what make_crowd promises about its people, and a whole simulated gate
(real ptys, real serial drivers, real lane and SQLite) deciding every one of them as expected."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.base import Reading
from edge import passes, simulation
from edge.app.boot import Gate, build_gate
from edge.app.settings import Settings, load_settings
from edge.bus import BusEvent
from edge.model import Outcome, PassKind, VerifyReason
from edge.policy import Policy, judge_reading
from edge.rule import Reason
from edge.simulation import Issuer, Person
from edge.store import Store

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
COMMUNITY = "demo"
GATE = "north"
CROWD_TIMEOUT_S = 90.0

# What each category must be: outcome, reason code in the entry, and how its pass verifies.
EXPECTED: dict[str, tuple[Outcome, str | None, VerifyReason | None]] = {
    "resident": (Outcome.PASSED, None, None),
    "temporary_questions": (Outcome.PASSED, None, None),
    "cold_morning": (Outcome.PASSED, None, None),
    "fever": (Outcome.FEVER, Reason.FEVER.value, None),
    "fever_not_confirmed": (Outcome.PASSED, Reason.FEVER_NOT_CONFIRMED.value, None),
    "expired": (Outcome.DENIED, VerifyReason.EXPIRED.value, VerifyReason.EXPIRED),
    "revoked": (Outcome.DENIED, VerifyReason.REVOKED.value, VerifyReason.REVOKED),
    "forged": (Outcome.DENIED, VerifyReason.BAD_SIGNATURE.value, VerifyReason.BAD_SIGNATURE),
    "unknown_key": (Outcome.DENIED, VerifyReason.UNKNOWN_KEY.value, VerifyReason.UNKNOWN_KEY),
    "garbage": (Outcome.DENIED, VerifyReason.BAD_ENCODING.value, VerifyReason.BAD_ENCODING),
    "walks_away": (Outcome.ABANDONED, Reason.SUPERSEDED.value, None),
}


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer(community=COMMUNITY, key_id="sim", key=Ed25519PrivateKey.generate())


def _judged(values_c: tuple[float, ...]) -> list[tuple[bool, bool]]:
    """(plausible, fever) for each reading, as the rule's own policy judges it."""
    policy = Policy()
    return [
        (m.plausible, m.fever)
        for m in (judge_reading(policy, Reading(value_c=v, sensor="sim"), NOW) for v in values_c)
    ]


# ---------------------------------------------------------------------------- make_crowd


def test_a_crowd_is_the_same_for_the_same_seed(issuer: Issuer) -> None:
    first = simulation.make_crowd(120, seed=7, issuer=issuer, now=NOW, first_number=5)
    again = simulation.make_crowd(120, seed=7, issuer=issuer, now=NOW, first_number=5)
    other = simulation.make_crowd(120, seed=8, issuer=issuer, now=NOW, first_number=5)
    assert first == again
    assert [p.category for p in first[0]] != [p.category for p in other[0]]
    numbered = [passes.decode_unverified(p.token) for p in first[0] if p.category != "garbage"]
    assert [c.pass_id for c in numbered if c is not None] == [
        f"S-{5 + i:06d}" for i, p in enumerate(first[0]) if p.category != "garbage"
    ]


def test_every_person_is_what_their_category_says(issuer: Issuer) -> None:
    seen: Counter[str] = Counter()
    keys = {issuer.key_id: issuer.key.public_key()}
    for seed in range(6):
        people, revoke = simulation.make_crowd(150, seed=seed, issuer=issuer, now=NOW)
        revoked_people = [p for p in people if p.category == "revoked"]
        assert len(revoke) == len(revoked_people)
        for person in people:
            seen[person.category] += 1
            outcome, reason, verify_reason = EXPECTED[person.category]
            assert (person.expected, person.expected_reason) == (outcome, reason), person
            verdict = passes.verify(
                person.token,
                keys=keys,
                revoked=frozenset(revoke),
                community=COMMUNITY,
                gate=GATE,
                now=NOW,
            )
            assert verdict.reason is verify_reason, (person.category, verdict)
            _check_temperatures(person)
            assert person.walks_away == (person.category == "walks_away")
            if person.category == "temporary_questions":
                assert verdict.claims is not None
                assert verdict.claims.kind is PassKind.TEMPORARY
                assert person.answers == {"travel_14d": "no", "symptoms": "no"}
            else:
                assert person.answers is None
    assert set(seen) == {name for name, _ in simulation.CATEGORIES}


def _check_temperatures(person: Person) -> None:
    judged = _judged(person.temperatures_c)
    normal = (True, False)
    match person.category:
        case "resident" | "temporary_questions":
            assert judged == [normal]
        case "cold_morning":  # implausibly low first, then a normal re-measure
            assert judged == [(False, False), normal]
        case "fever":
            assert judged == [(True, True), (True, True)]
        case "fever_not_confirmed":
            assert judged == [(True, True), normal]
        case _:  # denied at the look step, or gone before the thermometer saw anyone
            assert judged == []


def test_the_last_person_never_walks_away(issuer: Issuer) -> None:
    # The same seed draws the same first category: where a crowd of two starts with a
    # walk-away, a crowd of one (whose first person is also the last) must not.
    exercised = 0
    for seed in range(400):
        two, _ = simulation.make_crowd(2, seed=seed, issuer=issuer, now=NOW)
        (one,), _ = simulation.make_crowd(1, seed=seed, issuer=issuer, now=NOW)
        assert not one.walks_away
        assert not two[-1].walks_away
        if two[0].walks_away:
            exercised += 1
            assert one.category == "resident"
    assert exercised > 0


def test_a_walk_away_is_followed_by_a_pass_that_ends_their_visit(issuer: Issuer) -> None:
    # A code that does not verify is a stray while a visit goes on: it would not end the
    # walk-away's visit, and the crowd's expectations would be out of step.
    walk_aways = 0
    for seed in range(60):
        people, _ = simulation.make_crowd(100, seed=seed, issuer=issuer, now=NOW)
        for before, after in itertools.pairwise(people):
            if before.walks_away:
                walk_aways += 1
                assert after.category not in simulation.DENIED_CATEGORIES, (seed, after.category)
    assert walk_aways > 50


def test_where_nobody_is_measured_nobody_has_a_temperature_or_waits_for_one(
    issuer: Issuer,
) -> None:
    people, _ = simulation.make_crowd(
        300, seed=3, issuer=issuer, now=NOW, measures=lambda kind: False
    )
    assert not [p for p in people if p.temperatures_c]
    assert not {p.category for p in people} & simulation.MEASURED_CATEGORIES
    assert {"resident", "temporary_questions"} <= {p.category for p in people}
    assert all(
        p.expected is Outcome.PASSED
        for p in people
        if p.category not in simulation.DENIED_CATEGORIES
    )


def test_a_kind_not_measured_is_not_given_a_temperature(issuer: Issuer) -> None:
    people, _ = simulation.make_crowd(
        300, seed=3, issuer=issuer, now=NOW, measures=lambda kind: kind is PassKind.RESIDENT
    )
    temporary = [p for p in people if p.category == "temporary_questions"]
    assert temporary
    assert not [p for p in temporary if p.temperatures_c]
    assert {p.category for p in people} & simulation.MEASURED_CATEGORIES  # residents still are


# ----------------------------------------------------------------- a real simulated gate


def sim_settings(state_dir: Path, *, recheck_after_s: float = 1.0) -> Settings:
    """The embedded default with state in ``state_dir``, no console, a quicker re-measure."""
    base = load_settings(None)
    fever = base.policy.fever.model_copy(update={"recheck_after_s": recheck_after_s})
    return base.model_copy(
        update={
            "site": base.site.model_copy(update={"state_dir": state_dir}),
            "console": base.console.model_copy(update={"enabled": False}),
            "policy": base.policy.model_copy(update={"fever": fever}),
        }
    )


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    gate = build_gate(sim_settings(tmp_path / "state"))
    yield gate
    gate.stop()


def _run_crowd(gate: Gate, count: int, seed: int) -> dict[str, Any]:
    assert gate.simulation is not None
    crowd_id = gate.simulation.start_crowd("in-1", count, seed)
    deadline = time.monotonic() + CROWD_TIMEOUT_S
    while True:
        status = gate.simulation.crowd_status(crowd_id)
        assert status is not None
        if status["state"] != "running":
            return status
        assert time.monotonic() < deadline, f"crowd still running: {status}"
        time.sleep(0.1)


# Seed 1 brings every category: fevers (confirmed and not), a walk-away, questions, cold
# mornings, and each kind of bad pass. Seed 26 has two walk-aways; it once put a revoked pass
# right after one, which the lane rightly logs as a stray without ending the walk-away's visit.
@pytest.mark.parametrize("seed", [1, 26])
def test_a_crowd_through_the_simulated_gate_gets_every_decision_right(
    gate: Gate, issuer: Issuer, seed: int
) -> None:
    count = 40
    people, _ = simulation.make_crowd(count, seed=seed, issuer=issuer, now=NOW)
    categories = {p.category for p in people}
    assert {"fever", "fever_not_confirmed", "walks_away", "temporary_questions"} <= categories
    pulses: list[BusEvent] = []
    gate.bus.subscribe(lambda e: pulses.append(e) if e.topic == "relay" else None)

    status = _run_crowd(gate, count, seed)

    assert status["state"] == "done", status
    assert status["mismatches"] == []
    assert status["matched"] == status["recorded"] == status["total"] == count
    assert status["by_actual"] == status["by_expected"]
    assert set(status["by_actual"]) == {"passed", "denied", "fever", "abandoned"}

    stored = gate.store.entries(limit=1000)
    assert [e.seq for e in stored] == list(range(1, count + 1))
    assert gate.store.entry_count() == gate.store.last_seq() == count
    assert Counter(e.draft.outcome.value for e in stored) == Counter(status["by_actual"])
    # The relay opened once for each passed entry, for that entry and no other.
    passed = {e.id: e.seq for e in stored if e.draft.outcome is Outcome.PASSED}
    opened = {e.data["entry_id"]: e.data["seq"] for e in pulses if e.data["action"] == "pulse"}
    assert opened == passed
    assert len(pulses) == len(passed)


def test_the_database_holds_the_crowd_after_the_gate_stops(tmp_path: Path) -> None:
    settings = sim_settings(tmp_path / "state")
    gate = build_gate(settings)
    try:
        status = _run_crowd(gate, 12, seed=12)
    finally:
        gate.stop()
    assert status["matched"] == 12, status
    with Store.open_existing(settings.db_path) as store:
        assert store.integrity == "ok"
        assert [e.seq for e in store.entries(limit=100)] == list(range(1, 13))
