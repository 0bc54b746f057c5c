"""The visitor desk: registers visitors and vehicles and signs their passes at the gate.

Field notes: visitors, couriers and contractors come without a pass and are registered by hand
(name, phone, host household, reason); vehicles stop with every occupant measured. Here a
registration is checked field by field (ID card check digit, phone, plate), kept with phone and
ID numbers only in the form the policy allows, audited, and turned into an ordinary KK1 pass
signed by the gate's own key, so the lane verifies it like any other and the entry log names it.
The gate key is scoped by its name (``edge.passes.within_gate_key_scope``).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, PositiveFloat

from edge import passes
from edge.configmodel import ConfigModel
from edge.identity import (
    InvalidFieldError,
    check_id_number,
    check_phone,
    check_plate,
    mask_id_number,
    mask_phone,
)
from edge.model import PassKind
from edge.policy import Policy
from edge.rule import MAX_OCCUPANTS
from edge.store import Store
from edge.store.registrations import Registration, RegistrationBook, StoredPerson

MAX_REASON_CHARS = 100


class StoredForm(StrEnum):
    """How a visitor's phone or ID number is kept once it has been checked."""

    FULL = "full"
    MASKED = "masked"
    NONE = "none"


class VisitorSettings(ConfigModel):
    """Registering visitors and vehicles at the gate, and the passes the gate signs for them."""

    enabled: bool = True
    """Guards may register visitors and vehicles."""
    issuer_kid: str = Field(default="", pattern=r"^(gate-[A-Za-z0-9_-]{1,27})?$")
    """Key id of this gate's visitor-pass key (state_dir/issuer/KID.key, made on first start); it
    must start with 'gate-', which limits it, on every gate, to visitor and vehicle passes no
    longer than max_days. Empty: 'gate-' plus the gate id.
    """
    max_days: int = Field(default=7, ge=1, le=31)
    """Longest validity a guard may give a visitor pass."""
    default_hours: float = Field(default=12.0, gt=0, le=744)
    """Validity offered by the registration form."""
    store_phone: StoredForm = StoredForm.MASKED
    """Keep the phone number full, masked (138****5678) or not at all."""
    store_id_number: StoredForm = StoredForm.MASKED
    """Keep the ID card number full, masked (1101**********123X) or not at all."""
    require_id_number: bool = False
    """Refuse a visitor registration without an ID card number."""
    keep_days: PositiveFloat = 30.0
    """Registrations older than this (past their validity) are deleted."""


@dataclass(frozen=True, slots=True)
class PersonForm:
    """One person as the guard typed them in; nothing here is trusted yet."""

    name: str
    phone: str = ""
    id_number: str = ""


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    """A visitor (one person, no plate) or a vehicle (a plate and its occupants, driver first)."""

    host_household: str
    reason: str
    hours: float
    people: tuple[PersonForm, ...]
    plate: str | None = None
    lane: str | None = None

    @property
    def kind(self) -> PassKind:
        return PassKind.VEHICLE if self.plate is not None else PassKind.VISITOR


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused field: a code the console translates, and an English explanation."""

    code: str
    message: str


class RegistrationError(ValueError):
    """Every field that is wrong, by its path in the form ("people.0.phone"), in one go."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__("; ".join(f"{k}: {p.message}" for k, p in problems.items()))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class HoursWarning:
    """The pass is valid now but its kind is outside its hours (``policy.kinds.<kind>.hours``):
    the lane will refuse it (``kind_outside_hours``) until ``first_usable_at``, gate time, or,
    when that is None, for as long as it is valid."""

    hours: tuple[str, ...]
    first_usable_at: datetime | None

    @property
    def code(self) -> str:
        return "outside_hours" if self.first_usable_at is not None else "never_in_hours"

    @property
    def message(self) -> str:
        hours = ", ".join(self.hours)
        if self.first_usable_at is None:
            return f"valid only outside the hours of its kind ({hours}): the lane refuses it"
        at = self.first_usable_at.strftime("%Y-%m-%d %H:%M")
        return f"outside the hours of its kind ({hours}) now: it first works at {at}"


def _on_day(day: date, hhmm: str, zone: tzinfo | None) -> datetime:
    """ "HH:MM" on ``day`` in ``zone``; "24:00" is the midnight that ends the day."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day + timedelta(days=hours // 24), time(hours % 24, minutes), zone)


def _windows_around(hours: tuple[str, ...], moment: datetime) -> list[tuple[datetime, datetime]]:
    """Each window ("HH:MM-HH:MM", gate time) as it falls on the day before ``moment``'s day,
    that day and the next, as [start, end) instants; one that ends before it starts runs past
    midnight (as the look step reads it)."""
    found = []
    for offset in (-1, 0, 1):
        day = moment.date() + timedelta(days=offset)
        for window in hours:
            start_text, end_text = window.split("-")
            start = _on_day(day, start_text, moment.tzinfo)
            end = _on_day(day, end_text, moment.tzinfo)
            if end < start:
                end += timedelta(days=1)
            found.append((start, end))
    return found


def first_usable_at(
    policy: Policy, kind: PassKind, valid_from: datetime, valid_until: datetime
) -> datetime | None:
    """The first moment in [valid_from, valid_until) at which the kind's hours let the pass
    through, in the gate's time zone; None if never. Mirrors the look step's hours check
    (``edge.policy.check_pass``)."""
    hours = policy.rule_for(kind).hours
    zone = policy.zone()
    moment = valid_from.astimezone(zone)
    if not hours:
        return moment
    while moment < valid_until:
        windows = _windows_around(hours, moment)
        if any(start <= moment < end for start, end in windows):
            return moment
        later = [start for start, _ in windows if start > moment]
        # Three days of windows always hold the next start after a moment of the middle day.
        moment = min(later).astimezone(zone)
    return None


def hours_warning(
    policy: Policy, kind: PassKind, valid_from: datetime, valid_until: datetime
) -> HoursWarning | None:
    """A warning when a pass valid from ``valid_from`` would be refused then for its kind's
    hours; None when it works at once."""
    first = first_usable_at(policy, kind, valid_from, valid_until)
    if first is not None and first <= valid_from:
        return None
    return HoursWarning(policy.rule_for(kind).hours, first)


@dataclass(frozen=True, slots=True)
class Issued:
    registration: Registration
    token: str
    warning: HoursWarning | None = None


@dataclass(frozen=True, slots=True)
class GateKey:
    """The gate's visitor key: its id (``gate-…``) and private half."""

    key_id: str
    key: Ed25519PrivateKey


class VisitorDesk:
    """Registers visitors and vehicles; the console and the CLI both call it. Its community and
    gate are the store's, so a registration can never name another gate than its log's."""

    def __init__(
        self,
        store: Store,
        *,
        gate_key: GateKey,
        settings: VisitorSettings,
        now: Callable[[], datetime],
    ) -> None:
        if not passes.is_gate_key(gate_key.key_id):
            raise ValueError(f"a visitor key id must start with {passes.GATE_KEY_PREFIX!r}")
        self.book = RegistrationBook(store)
        self.settings = settings
        self._store = store
        self._gate_key = gate_key
        self._now = now

    @property
    def max_hours(self) -> float:
        return self.settings.max_days * 24.0

    def register(
        self, form: RegistrationForm, guard_id: str, *, policy: Policy | None = None
    ) -> Issued:
        """Check every field, store the registration, sign its pass; ``RegistrationError``
        names each wrong field and nothing is stored. Given the policy in force, the result
        warns when the lane would refuse the pass at first for its kind's hours."""
        now = self._now().replace(microsecond=0)
        people, plate, household, reason = self._checked(form, now)
        letter = "C" if plate is not None else "V"
        registration = Registration(
            id=f"r-{uuid.uuid4().hex[:12]}",
            kind=form.kind.value,
            pass_id=f"{letter}-{self._store.gate[:20]}-{secrets.token_hex(4)}",
            registered_at=now,
            guard_id=guard_id,
            lane=form.lane,
            host_household=household,
            reason=reason,
            plate=plate,
            valid_from=now,
            valid_until=now + timedelta(hours=form.hours),
            people=tuple(self._kept(person) for person in people),
        )
        self.book.add(registration)
        warning = None
        if policy is not None:
            warning = hours_warning(
                policy, form.kind, registration.valid_from, registration.valid_until
            )
        return Issued(registration, self.token(registration), warning)

    def token(self, registration: Registration) -> str:
        """The registration's pass. Ed25519 signs deterministically, so the same registration
        always gives the same token: nothing secret or bulky needs storing to reprint it."""
        return passes.issue(
            self._gate_key.key,
            key_id=self._gate_key.key_id,
            community=self._store.community,
            pass_id=registration.pass_id,
            kind=PassKind(registration.kind),
            holder=passes.mask_holder(registration.people[0].name),
            unit=registration.host_household,
            not_before=registration.valid_from,
            expires=registration.valid_until,
            issued_at=registration.valid_from,
            gates=(self._store.gate,),
            plate=registration.plate,
        )

    # ------------------------------------------------------------------------ checks

    def _checked(
        self, form: RegistrationForm, now: datetime
    ) -> tuple[list[PersonForm], str | None, str, str]:
        problems: dict[str, Problem] = {}
        household = form.host_household.strip()
        reason = " ".join(form.reason.split())
        plate: str | None = None
        try:
            passes.check_field("unit", household)
        except ValueError:
            problems["host_household"] = Problem(
                "household", "host household must be 1 to 32 characters"
            )
        if not reason or len(reason) > MAX_REASON_CHARS or not reason.isprintable():
            problems["reason"] = Problem(
                "reason", f"reason must be 1 to {MAX_REASON_CHARS} characters"
            )
        if not 0 < form.hours <= self.max_hours:
            problems["hours"] = Problem(
                "hours", f"validity must be more than 0 and at most {self.max_hours:g} h"
            )
        if form.plate is not None:
            try:
                plate = check_plate(form.plate)
            except InvalidFieldError as exc:
                problems["plate"] = Problem(exc.code, str(exc))
        most = MAX_OCCUPANTS if form.kind is PassKind.VEHICLE else 1
        if not 1 <= len(form.people) <= most:
            problems["people"] = Problem("people", f"between 1 and {most} people")
        today = now.date()
        people = [self._checked_person(p, i, today, problems) for i, p in enumerate(form.people)]
        if problems:
            raise RegistrationError(problems)
        return people, plate, household, reason

    def _checked_person(
        self, person: PersonForm, index: int, today: date, problems: dict[str, Problem]
    ) -> PersonForm:
        where = f"people.{index}"
        name = " ".join(person.name.split())
        try:
            passes.check_field("holder", name)
        except ValueError:
            problems[f"{where}.name"] = Problem("name", "name must be 1 to 32 characters")
        phone = ""
        if person.phone.strip():
            try:
                phone = check_phone(person.phone)
            except InvalidFieldError as exc:
                problems[f"{where}.phone"] = Problem(exc.code, str(exc))
        elif index == 0:  # the visitor, or a vehicle's driver: someone the office can call
            problems[f"{where}.phone"] = Problem("phone_required", "a phone number is required")
        id_number = ""
        if person.id_number.strip():
            try:
                id_number = check_id_number(person.id_number, today=today)
            except InvalidFieldError as exc:
                problems[f"{where}.id_number"] = Problem(exc.code, str(exc))
        elif self.settings.require_id_number:
            problems[f"{where}.id_number"] = Problem("id_required", "an ID card number is required")
        return PersonForm(name=name, phone=phone, id_number=id_number)

    def _kept(self, person: PersonForm) -> StoredPerson:
        return StoredPerson(
            name=person.name,
            phone=_kept_as(person.phone, self.settings.store_phone, mask_phone),
            id_number=_kept_as(person.id_number, self.settings.store_id_number, mask_id_number),
        )


def _kept_as(value: str, form: StoredForm, mask: Callable[[str], str]) -> str | None:
    """The number as the policy lets the gate keep it once it has been checked."""
    if not value or form is StoredForm.NONE:
        return None
    return value if form is StoredForm.FULL else mask(value)


def display_number(value: str | None, mask: Callable[[str], str]) -> str:
    """What a list shows: always masked, even when the policy keeps the full number."""
    if value is None:
        return ""
    return value if "*" in value else mask(value)
