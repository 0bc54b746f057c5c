"""The simulated gate: people with passes walking up to simulated devices.

A crowd is a list of people, each with a pass (mostly valid; some expired, revoked, forged or
garbage), the temperatures the sensor will read from them, and the outcome the rule should reach.
People act only through the devices a real person would use — the scanner and the thermometer,
both simulated modules on pseudo-terminals — and through a guard's answers on the console, so the
real drivers, the real lane and the real store do the work.

What the thermometer is told to read belongs to one visit: when the lane records the visit's
entry, the values it did not use are dropped, so they never become the next person's reading.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.threads import Worker
from edge import passes
from edge.bus import Bus, BusEvent, EntryRecorded, Prompted
from edge.model import Entry, Outcome, PassKind, VerifyReason
from edge.policy import needs_measure
from edge.rule import LaneContext, Reason

log = logging.getLogger(__name__)

PERSON_TIMEOUT_S = 60.0
SIM_GUARD = "sim-guard"


class ScannerSim(Protocol):
    def present(self, payload: str | bytes) -> None: ...


class ThermometerSim(Protocol):
    def present(self, values_c: list[float], then_c: float | None = None) -> None: ...
    def clear(self) -> None: ...


class DoorSim(Protocol):
    @property
    def is_open(self) -> bool: ...
    def open(self) -> None: ...
    def shut(self) -> None: ...


class LaneActions(Protocol):
    @property
    def ctx(self) -> LaneContext: ...
    def answer(self, answers: Mapping[str, str], guard_id: str | None) -> Any: ...


@dataclass(frozen=True)
class SimLane:
    """One lane's simulated devices and the lane a guard would answer on."""

    scanner: ScannerSim
    thermometer: ThermometerSim
    lane: LaneActions
    door: DoorSim | None = None

    def measures(self, kind: PassKind) -> bool:
        """Whether this lane measures a visit of ``kind`` now (an exit lane: nobody, by default)."""
        ctx = self.lane.ctx
        return needs_measure(ctx.policy, kind, ctx.direction)


class NoDoor(LookupError):  # noqa: N818
    """The lane has no door contact to open or shut."""


@dataclass(frozen=True)
class Person:
    """One simulated person and what the rule should decide for them."""

    category: str
    token: str
    temperatures_c: tuple[float, ...]
    expected: Outcome
    expected_reason: str | None = None
    answers: Mapping[str, str] | None = None
    walks_away: bool = False


# (category, weight): most people are ordinary residents with a normal temperature.
CATEGORIES: tuple[tuple[str, int], ...] = (
    ("resident", 62),
    ("temporary_questions", 8),
    ("cold_morning", 6),
    ("fever", 5),
    ("fever_not_confirmed", 3),
    ("expired", 3),
    ("revoked", 3),
    ("forged", 3),
    ("unknown_key", 2),
    ("garbage", 2),
    ("walks_away", 3),
)


# One made-up pass for the console's simulation panel: (kind, valid days around now, forged).
SAMPLE_CASES: dict[str, tuple[PassKind, tuple[float, float], bool]] = {
    "resident": (PassKind.RESIDENT, (-30, 335), False),
    "temporary": (PassKind.TEMPORARY, (-1, 13), False),
    "staff": (PassKind.STAFF, (-30, 335), False),
    "expired": (PassKind.RESIDENT, (-60, -1), False),
    "forged": (PassKind.RESIDENT, (-30, 335), True),
}

# Categories whose code does not verify: denied at the look step.
DENIED_CATEGORIES = frozenset({"expired", "revoked", "forged", "unknown_key", "garbage"})

# Categories that exist only where residents are measured: on a lane that measures nobody (an
# exit, by default) such a person is an ordinary resident who passes unmeasured.
MEASURED_CATEGORIES = frozenset({"cold_morning", "fever", "fever_not_confirmed", "walks_away"})


def _measured(kind: PassKind) -> bool:
    return True


@dataclass
class Issuer:
    """What the crowd signs passes with: the trusted simulator key and an untrusted forger."""

    community: str
    key_id: str
    key: Ed25519PrivateKey
    forger: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def token(
        self,
        rng: random.Random,
        number: int,
        kind: PassKind,
        now: datetime,
        *,
        valid_days: tuple[float, float] = (-30, 335),
        key: Ed25519PrivateKey | None = None,
        key_id: str | None = None,
    ) -> tuple[str, str]:
        """A pass id and its token, in the contract new passes get (``passes.DEFAULT_FORMAT``)."""
        pass_id = f"S-{number:06d}"
        building, unit, room = rng.randint(1, 12), rng.randint(1, 4), rng.randint(101, 1802)
        start = now + timedelta(days=valid_days[0])
        token = passes.issue(
            key or self.key,
            key_id=key_id or self.key_id,
            community=self.community,
            pass_id=pass_id,
            kind=kind,
            holder=rng.choice(SURNAMES) + "*",
            unit=f"{building}-{unit}-{room}",
            not_before=start,
            expires=now + timedelta(days=valid_days[1]),
            issued_at=start,
        )
        return pass_id, token


SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱")


def make_crowd(
    count: int,
    *,
    seed: int,
    issuer: Issuer,
    now: datetime,
    first_number: int = 1,
    measures: Callable[[PassKind], bool] = _measured,
) -> tuple[list[Person], list[str]]:
    """The people of a crowd and the pass ids that must be revoked before it starts.

    ``measures`` says whether the lane measures a kind; where it does not, nobody has a
    temperature to read and nobody is expected to be held for one."""
    rng = random.Random(seed)
    names = [name for name, _ in CATEGORIES]
    weights = [weight for _, weight in CATEGORIES]
    people: list[Person] = []
    revoke: list[str] = []
    for index in range(count):
        category = rng.choices(names, weights)[0]
        if index == count - 1 and category == "walks_away":
            category = "resident"  # the last person's visit must end on its own
        if category in MEASURED_CATEGORIES and not measures(PassKind.RESIDENT):
            category = "resident"
        if people and people[-1].walks_away and category in DENIED_CATEGORIES:
            # A code that does not verify, read while a visit goes on, is logged as a stray and
            # leaves that visit running (edge.rule): only a valid pass ends a walk-away's visit.
            category = "resident"
        number = first_number + index
        person = _person(category, rng, number, issuer, now, revoke)
        kind = PassKind.TEMPORARY if category == "temporary_questions" else PassKind.RESIDENT
        if person.temperatures_c and not measures(kind):
            person = replace(person, temperatures_c=())
        people.append(person)
    return people, revoke


def _normal_c(rng: random.Random) -> float:
    return round(rng.uniform(36.0, 37.1), 1)


def _person(
    category: str, rng: random.Random, number: int, issuer: Issuer, now: datetime, revoke: list[str]
) -> Person:
    resident = PassKind.RESIDENT
    if category == "temporary_questions":
        _, token = issuer.token(rng, number, PassKind.TEMPORARY, now)
        answers = {"travel_14d": "no", "symptoms": "no"}
        return Person(category, token, (_normal_c(rng),), Outcome.PASSED, answers=answers)
    if category == "cold_morning":
        _, token = issuer.token(rng, number, resident, now)
        cold = round(rng.uniform(32.5, 34.4), 1)
        return Person(category, token, (cold, _normal_c(rng)), Outcome.PASSED)
    if category == "fever":
        _, token = issuer.token(rng, number, resident, now)
        first, second = round(rng.uniform(37.5, 39.0), 1), round(rng.uniform(37.4, 39.0), 1)
        return Person(category, token, (first, second), Outcome.FEVER, Reason.FEVER.value)
    if category == "fever_not_confirmed":
        _, token = issuer.token(rng, number, resident, now)
        temps = (round(rng.uniform(37.4, 38.0), 1), _normal_c(rng))
        return Person(category, token, temps, Outcome.PASSED, Reason.FEVER_NOT_CONFIRMED.value)
    if category == "expired":
        _, token = issuer.token(rng, number, resident, now, valid_days=(-400, -1))
        return Person(category, token, (), Outcome.DENIED, VerifyReason.EXPIRED.value)
    if category == "revoked":
        pass_id, token = issuer.token(rng, number, resident, now)
        revoke.append(pass_id)
        return Person(category, token, (), Outcome.DENIED, VerifyReason.REVOKED.value)
    if category == "forged":
        _, token = issuer.token(rng, number, resident, now, key=issuer.forger)
        return Person(category, token, (), Outcome.DENIED, VerifyReason.BAD_SIGNATURE.value)
    if category == "unknown_key":
        _, token = issuer.token(rng, number, resident, now, key=issuer.forger, key_id="other")
        return Person(category, token, (), Outcome.DENIED, VerifyReason.UNKNOWN_KEY.value)
    if category == "garbage":
        junk = "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:") for _ in range(80)
        )
        return Person(category, "KK1:" + junk, (), Outcome.DENIED, VerifyReason.BAD_ENCODING.value)
    if category == "walks_away":
        _, token = issuer.token(rng, number, resident, now)
        return Person(
            category, token, (), Outcome.ABANDONED, Reason.SUPERSEDED.value, walks_away=True
        )
    _, token = issuer.token(rng, number, resident, now)
    return Person("resident", token, (_normal_c(rng),), Outcome.PASSED)


@dataclass
class CrowdRun:
    """Progress of one crowd, compared entry by entry with what each person should get."""

    id: str
    total: int
    state: str = "running"
    presented: int = 0
    recorded: int = 0
    matched: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    by_expected: Counter[str] = field(default_factory=Counter)
    by_actual: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "total": self.total,
            "presented": self.presented,
            "recorded": self.recorded,
            "matched": self.matched,
            "mismatches": list(self.mismatches[:50]),
            "by_expected": dict(self.by_expected),
            "by_actual": dict(self.by_actual),
            "error": self.error,
        }


class Crowd:
    """Walks a crowd through one lane, one person at a time, and checks every entry."""

    def __init__(
        self, run: CrowdRun, people: list[Person], sim_lane: SimLane, lane_id: str
    ) -> None:
        self.run = run
        self._people = people
        self._sim = sim_lane
        self._lane_id = lane_id
        self._expecting: deque[Person] = deque()
        self._cond = threading.Condition()
        self._prompts: deque[str] = deque()

    def on_bus(self, event: BusEvent) -> None:
        if event.lane != self._lane_id:
            return
        with self._cond:
            if isinstance(event, EntryRecorded):
                self._check(event.entry)
            elif isinstance(event, Prompted):
                self._prompts.append(event.code)
            self._cond.notify_all()

    def _check(self, entry: Entry) -> None:
        if not self._expecting:
            return  # an entry not made by this crowd (a guard, another tool)
        person = self._expecting.popleft()
        outcome = entry.draft.outcome
        self.run.recorded += 1
        self.run.by_actual[outcome.value] += 1
        reason_ok = person.expected_reason is None or person.expected_reason in entry.draft.reasons
        if outcome is person.expected and reason_ok:
            self.run.matched += 1
        else:
            self.run.mismatches.append(
                {
                    "seq": entry.seq,
                    "category": person.category,
                    "expected": person.expected.value,
                    "expected_reason": person.expected_reason,
                    "actual": outcome.value,
                    "reasons": list(entry.draft.reasons),
                }
            )

    def _wait(self, predicate: Callable[[], bool], timeout_s: float = PERSON_TIMEOUT_S) -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout=timeout_s):
                raise TimeoutError("the lane did not respond in time")

    def walk(self) -> None:
        try:
            for person in self._people:
                self._one(person)
            self._wait(lambda: not self._expecting)
            self.run.state = "done"
        except Exception as exc:  # report any failure to whoever polls the crowd
            log.exception("crowd %s failed", self.run.id)
            self.run.state = "failed"
            self.run.error = str(exc)

    def _one(self, person: Person) -> None:
        with self._cond:
            after_walk_away = bool(self._expecting)
            self._prompts.clear()
            self._expecting.append(person)
            self.run.by_expected[person.expected.value] += 1
        if not after_walk_away:
            self._sim.thermometer.present(list(person.temperatures_c))
        self._sim.scanner.present(person.token)
        self.run.presented += 1
        if after_walk_away:
            # The sensor saw nobody until the walk-away's visit ended; now this person stands there.
            self._wait(lambda: not self._expecting or self._expecting[0] is person)
            self._sim.thermometer.present(list(person.temperatures_c))
        if person.answers is not None:
            self._wait(lambda: "answer_questions" in self._prompts)
            self._sim.lane.answer(person.answers, SIM_GUARD).result(timeout=PERSON_TIMEOUT_S)
        if person.walks_away:
            self._wait(lambda: "remeasure" in self._prompts)
            return
        self._wait(lambda: person not in self._expecting)


@dataclass(eq=False)
class Simulation:
    """The simulator's controls: present a code, set the next temperatures, start a crowd.

    ``revoke`` withdraws passes the way the gate does (store and lanes); ``clock_now`` is the
    gate's wall time."""

    lanes: Mapping[str, SimLane]
    _: KW_ONLY
    bus: Bus
    issuer: Issuer
    revoke: Callable[[list[str]], None]
    clock_now: Callable[[], datetime]
    _runs: dict[str, CrowdRun] = field(default_factory=dict, init=False)
    _next_number: int = field(default=1, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        # Subscribed before any crowd: the values are dropped before a crowd hears the entry and
        # presents the next person's.
        self.bus.on(EntryRecorded, self._visit_ended)

    def _visit_ended(self, event: EntryRecorded) -> None:
        sim_lane = self.lanes.get(event.lane)
        if sim_lane is not None:
            sim_lane.thermometer.clear()

    def present(self, lane: str, payload: bytes) -> None:
        self.lanes[lane].scanner.present(payload)

    def temperature(self, lane: str, values_c: list[float], then_c: float | None) -> None:
        self.lanes[lane].thermometer.present(values_c, then_c)

    def door(self, lane: str, *, open_: bool) -> bool:
        """Open or shut the lane's door contact and say whether the door now reads open;
        ``NoDoor`` if the lane has none."""
        door = self.lanes[lane].door
        if door is None:
            raise NoDoor(f"lane {lane} has no door contact (configure [lanes.door] contact_pin)")
        if open_:
            door.open()
        else:
            door.shut()
        return door.is_open

    def start_crowd(self, lane: str, count: int, seed: int) -> str:
        with self._lock:
            first = self._next_number
            self._next_number += count
        sim_lane = self.lanes[lane]
        people, revoke = make_crowd(
            count,
            seed=seed,
            issuer=self.issuer,
            now=self.clock_now(),
            first_number=first,
            measures=sim_lane.measures,
        )
        if revoke:
            self.revoke(revoke)
        run = CrowdRun(id=uuid.uuid4().hex[:12], total=count)
        crowd = Crowd(run, people, sim_lane, lane)
        unsubscribe = self.bus.subscribe(crowd.on_bus)
        self._runs[run.id] = run

        def walk() -> None:
            try:
                crowd.walk()
            finally:
                unsubscribe()

        Worker(f"crowd-{run.id}", walk).start()
        return run.id

    def present_sample(self, lane: str, case: str) -> str:
        """Show the scanner one made-up pass of ``case`` (SAMPLE_CASES); returns its pass id.

        For someone trying the console without hardware or a token at hand.
        """
        if case not in SAMPLE_CASES:
            raise ValueError(f"case must be one of {sorted(SAMPLE_CASES)}")
        with self._lock:
            number = self._next_number
            self._next_number += 1
        rng = random.Random(number)
        kind, valid_days, forged = SAMPLE_CASES[case]
        pass_id, token = self.issuer.token(
            rng,
            number,
            kind,
            self.clock_now(),
            valid_days=valid_days,
            key=self.issuer.forger if forged else None,
        )
        self.present(lane, token.encode())
        return pass_id

    def crowd_status(self, crowd_id: str) -> dict[str, Any] | None:
        run = self._runs.get(crowd_id)
        return run.as_dict() if run else None
