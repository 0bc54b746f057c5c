"""The lane: the imperative shell around the pure rule for one gate lane.

One worker thread owns the rule's state. Device callbacks and guard actions only enqueue; the
worker verifies passes, reads the pass history, steps the rule and carries out its commands in
order. A command that fails stops the rest of its list, so an entry that could not be stored
never opens the gate (fail-secure); the unsaved entry is kept and retried.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from drivers.base import Indicator, Reading, Relay, Scan, Thermometer
from drivers.threads import Worker
from edge import passes, rule
from edge.bus import (
    ActionRejected,
    AlarmRaised,
    Bus,
    EntryRecorded,
    PolicyApplied,
    Prompted,
    RelayMoved,
    ScanRead,
    StepChanged,
)
from edge.clock import Clock
from edge.model import (
    Entry,
    EntryDraft,
    GateMode,
    Instant,
    Step,
    Verdict,
    VerifyReason,
    gate_not_opened,
)
from edge.policy import PassHistory, Policy, quota_applies, quota_window_start
from edge.timepolicy import TrustedTime, UnsyncedPolicy, pass_time

log = logging.getLogger(__name__)

OFFICE = "office"
"""The guard id a mode change ordered by the office's signed policy is recorded under."""


def start_mode(policy_mode: GateMode, last_mode: GateMode | None) -> GateMode:
    """The mode a lane starts in: the policy's, except that a lockdown the lane was in when it
    stopped (``last_mode``, from its last mode-change entry) is resumed: a power cut or a
    restart never lifts a lockdown. An emergency is not resumed: a gate comes back locked, and
    holding it open again is for the guard on site."""
    if last_mode is GateMode.LOCKDOWN and policy_mode is GateMode.NORMAL:
        return GateMode.LOCKDOWN
    return policy_mode


def _as_unsaved(draft: EntryDraft, then: Sequence[rule.Command]) -> EntryDraft:
    """The entry to keep for ``draft`` when it could not be stored: ``gate_not_opened`` if the
    commands after it, up to the next entry, were to open the gate, else the draft itself."""
    for command in then:
        if isinstance(command, rule.RecordEntry):
            break
        if isinstance(command, rule.OpenGate | rule.HoldGateOpen):
            return gate_not_opened(draft)
    return draft


MAX_SCAN_CHARS = 4096  # far above any pass (2 KB) yet bounded: a 1 MB scan is cut, never held


class EntrySink(Protocol):
    """What the lane needs from the store: durable entries and the pass history."""

    def record_entry(
        self,
        draft: EntryDraft,
        *,
        boot_id: str,
        recorded_at: Any,
        extra: Mapping[str, str] | None = None,
    ) -> Entry: ...

    def last_passed_direction(self, pass_id: str) -> Any: ...

    def household_exits(self, household: str, since: Any) -> int: ...


@dataclass(frozen=True, slots=True)
class TrustMaterial:
    """Keys and revocations the lane verifies against; swapped whole when the store changes."""

    keys: Mapping[str, Any]
    revoked: frozenset[str]
    gate_key_max_validity: timedelta = timedelta(days=7)
    """The longest pass a gate's visitor key ("gate-…") may sign ([visitors] max_days)."""


TrustLoader = Callable[[], TrustMaterial]


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a guard action led to: the rule's refusal, or the entries it recorded."""

    rejected: rule.Reject | None
    entries: tuple[Entry, ...]


_StepInput = Callable[[Instant], rule.Event | None]
_QueueItem = tuple[_StepInput, "Future[ActionResult]"]
_TICK: _QueueItem = (lambda at: None, Future())  # sentinel: time to tick


class Lane:
    """Runs one lane: devices in, rule in the middle, store and actuators out."""

    def __init__(
        self,
        ctx: rule.LaneContext,
        *,
        community: str,
        store: EntrySink,
        clock: Clock,
        trust: TrustLoader,
        relay: Relay,
        indicator: Indicator,
        bus: Bus,
        boot_id: str,
        thermometer: Thermometer | None = None,
        tick_s: float = 0.1,
        unsynced_policy: UnsyncedPolicy = UnsyncedPolicy.NOT_BEFORE_LAST_TRUSTED,
        trusted_time: Callable[[], TrustedTime | None] = lambda: None,
        last_mode: GateMode | None = None,
    ) -> None:
        self.ctx = ctx
        self.community = community
        self._store = store
        self._clock = clock
        self._trust_loader = trust
        self._trust = trust()
        self._relay = relay
        self._indicator = indicator
        self._thermometer = thermometer
        self._bus = bus
        self._boot_id = boot_id
        self._tick_s = tick_s
        self._unsynced_policy = unsynced_policy
        self._trusted_time = trusted_time
        self._state = rule.LaneState(mode=start_mode(ctx.policy.mode, last_mode))
        self._queue: queue.Queue[_QueueItem | None] = queue.Queue()
        self._unsaved: list[EntryDraft] = []
        # The drafts stored last and their entry ids: an override links to the one it overrides.
        self._recent_ids: deque[tuple[EntryDraft, str]] = deque(maxlen=16)
        self._worker = Worker(
            f"lane-{ctx.lane}", self._run, join_timeout_s=5.0, on_crash=self._died
        )
        self._alive = threading.Event()
        self._pending_policy: Policy | None = None
        self.last_tick_mono_s = 0.0

    # ----------------------------------------------------------------- life cycle

    def start(self) -> None:
        self._relay.release()  # whatever the pin did before us, the gate starts locked
        if self._state.mode is GateMode.EMERGENCY:
            self._relay.hold_open()  # configured to start in emergency free exit
        self._indicator.show("idle")
        self._alive.set()
        self._worker.start()
        if self._thermometer is not None:
            self._thermometer.start(self.submit_reading)

    def stop(self) -> None:
        self._queue.put(None)
        self._worker.stop()
        self._relay.release()
        self._indicator.show("idle")

    @property
    def alive(self) -> bool:
        return self._alive.is_set() and self._worker.alive

    @property
    def state(self) -> rule.LaneState:
        return self._state

    def reload_trust(self) -> Future[ActionResult]:
        """Re-read keys and revocations (after config or downlink changes)."""
        return self._submit(self._swap_trust)

    def _swap_trust(self, at: Instant) -> None:
        self._trust = self._trust_loader()

    # ------------------------------------------------------------------- inputs

    def set_policy(self, policy: Policy) -> Future[ActionResult]:
        """A new policy (from the office's signed downlink): taken up as soon as no visit is in
        progress, never in the middle of one (its questions and thresholds stay as they began).
        When it changes the policy's ``mode`` (a district lockdown, or its end) the lane
        switches to it then (``_office_mode``); otherwise the mode stays the guard's."""

        def take(at: Instant) -> None:
            self._pending_policy = policy
            self._apply_pending_policy()

        return self._submit(take)

    def _apply_pending_policy(self) -> None:
        if self._pending_policy is None or self._state.visit is not None:
            return
        previous, policy = self.ctx.policy, self._pending_policy
        self.ctx = replace(self.ctx, policy=policy)
        self._pending_policy = None
        log.info("lane %s: new policy in force", self.ctx.lane)
        self._bus.publish(PolicyApplied(lane=self.ctx.lane))
        if policy.mode is not previous.mode:
            self._office_mode(policy.mode)

    def _office_mode(self, mode: GateMode) -> None:
        """The office's policy ordered ``mode``: switch now, recorded as a mode change by
        ``OFFICE``. Never into or out of an emergency: holding a gate open, or ending that, is
        for the guard on site, so such an order is logged and left to them."""
        current = self._state.mode
        if mode is current:
            return
        if GateMode.EMERGENCY in (mode, current):
            log.warning(
                "lane %s: the office's policy asks for %s mode while in %s; left to the guard",
                self.ctx.lane,
                mode.value,
                current.value,
            )
            return
        self._apply(
            rule.ModeChange(
                at=self._clock.now(), mode=mode, guard_id=OFFICE, reason="office policy"
            )
        )

    def submit_scan(self, scan: Scan) -> Future[ActionResult]:
        return self._submit(lambda at: self._pass_event(scan, at))

    def submit_pass(self, text: str, *, occupants: int, source: str) -> Future[ActionResult]:
        """A pass handed to the lane by the console (a visitor or vehicle just registered), with
        how many people it covers; verified exactly like a scanned one."""
        scan = Scan(text=text, source=source)
        return self._submit(lambda at: replace(self._pass_event(scan, at), occupants=occupants))

    def set_occupants(self, count: int, guard_id: str) -> Future[ActionResult]:
        return self._submit(lambda at: rule.OccupantsSet(at=at, count=count, guard_id=guard_id))

    def submit_reading(self, reading: Reading) -> None:
        self._submit(lambda at: rule.TemperatureTaken(at=at, reading=reading))

    def answer(self, answers: Mapping[str, str], guard_id: str | None) -> Future[ActionResult]:
        return self._submit(
            lambda at: rule.AnswersGiven(at=at, answers=dict(answers), guard_id=guard_id)
        )

    def override(self, guard_id: str, reason: str) -> Future[ActionResult]:
        return self._submit(lambda at: rule.GuardOverride(at=at, guard_id=guard_id, reason=reason))

    def cancel(self, guard_id: str) -> Future[ActionResult]:
        return self._submit(lambda at: rule.GuardCancel(at=at, guard_id=guard_id))

    def set_mode(self, mode: GateMode, guard_id: str, reason: str) -> Future[ActionResult]:
        return self._submit(
            lambda at: rule.ModeChange(at=at, mode=mode, guard_id=guard_id, reason=reason)
        )

    def _submit(self, make: Callable[[Instant], rule.Event | None]) -> Future[ActionResult]:
        future: Future[ActionResult] = Future()
        self._queue.put((make, future))
        return future

    # -------------------------------------------------------------------- worker

    def _run(self) -> None:
        next_tick_s = time.monotonic()
        try:
            while True:
                try:
                    item = self._queue.get(timeout=max(0.0, next_tick_s - time.monotonic()))
                except queue.Empty:
                    item = _TICK
                if item is None:
                    return
                if item is not _TICK:
                    make, future = item
                    self._handle(make, future)
                if time.monotonic() >= next_tick_s:  # ticks also run under a steady stream
                    next_tick_s = time.monotonic() + self._tick_s
                    self.last_tick_mono_s = time.monotonic()
                    self._retry_unsaved()
                    self._handle(lambda at: rule.Tick(at=at), None)
        finally:
            self._alive.clear()

    def _died(self, exc: Exception) -> None:
        """The worker raised (the thread logged it): the gate stays locked, the alarm goes up."""
        log.critical("lane %s worker died; the gate stays locked: %r", self.ctx.lane, exc)
        self._relay.release()
        self._bus.publish(AlarmRaised(lane=self.ctx.lane, kind="lane_down", detail="worker died"))

    def _handle(self, make: _StepInput, future: Future[ActionResult] | None) -> None:
        at = self._clock.now()
        try:
            event = make(at)
            result = self._apply(event) if event is not None else ActionResult(None, ())
        except Exception as exc:  # keep the lane alive; the gate stays as it is (locked)
            log.exception("lane %s failed handling input", self.ctx.lane)
            if future is not None:
                future.set_exception(exc)
            return
        self._apply_pending_policy()  # the visit that held it back may just have ended
        if future is not None:
            future.set_result(result)

    def _apply(self, event: rule.Event) -> ActionResult:
        before = self._state.step
        self._state, commands = rule.step(self._state, event, self.ctx)
        result = self._execute(commands)
        if self._state.step is not before:
            self._bus.publish(StepChanged(lane=self.ctx.lane, step=self._state.step.value))
        return result

    def _execute(self, commands: list[rule.Command]) -> ActionResult:
        entries: list[Entry] = []
        rejected: rule.Reject | None = None
        last_entry: Entry | None = None
        for index, command in enumerate(commands):
            match command:
                case rule.RecordEntry(draft=draft, overrides=overrides):
                    if overrides is not None:
                        draft = self._linked(draft, overrides)
                    last_entry = self._record(draft, commands[index + 1 :])
                    if last_entry is None:
                        rest = commands[index + 1 :]
                        self._keep_unsaved(rest)
                        self._indicator.show("deny")
                        # Fail-secure: nothing after this opens the gate, but an alarm (a fever)
                        # or a release still happens; and the guard is told nothing was let in.
                        for later in rest:
                            if isinstance(later, rule.RaiseAlarm | rule.ReleaseGate):
                                self._execute([later])
                        unsaved = rule.Reject(
                            "store_failed", "the entry was not saved; gate kept shut"
                        )
                        return ActionResult(unsaved, tuple(entries))
                    entries.append(last_entry)
                case rule.OpenGate(seconds=seconds):
                    self._relay.pulse(seconds)
                    self._bus.publish(
                        RelayMoved(
                            lane=self.ctx.lane,
                            action="pulse",
                            seconds=seconds,
                            entry_id=last_entry.id if last_entry else None,
                            seq=last_entry.seq if last_entry else None,
                        )
                    )
                case rule.HoldGateOpen():
                    self._relay.hold_open()
                    self._bus.publish(RelayMoved(lane=self.ctx.lane, action="hold_open"))
                case rule.ReleaseGate():
                    self._relay.release()
                    self._bus.publish(RelayMoved(lane=self.ctx.lane, action="release"))
                case rule.RequestReading():
                    self._request_reading()
                case rule.Signal(name=name):
                    self._indicator.show(name)
                case rule.Prompt(step=prompt_step, code=code, detail=detail):
                    self._bus.publish(
                        Prompted(
                            lane=self.ctx.lane, step=prompt_step.value, code=code, detail=detail
                        )
                    )
                case rule.RaiseAlarm(kind=kind, detail=detail):
                    about = {"seq": last_entry.seq} if last_entry else None  # journal: KAKOU_SEQ
                    log.warning("alarm %s on lane %s: %s", kind, self.ctx.lane, detail, extra=about)
                    self._bus.publish(AlarmRaised(lane=self.ctx.lane, kind=kind, detail=detail))
                case rule.Reject():
                    rejected = command
                    self._bus.publish(
                        ActionRejected(lane=self.ctx.lane, code=command.code, detail=command.detail)
                    )
        return ActionResult(rejected, tuple(entries))

    def _linked(self, draft: EntryDraft, overrides: EntryDraft) -> EntryDraft:
        """``draft`` with the id of the stored entry it overrides (when that one is stored)."""
        for recorded, entry_id in reversed(self._recent_ids):
            if recorded is overrides:
                return replace(draft, extra=(*draft.extra, ("overrides", entry_id)))
        return draft

    def _record(self, draft: EntryDraft, then: Sequence[rule.Command]) -> Entry | None:
        """Store ``draft`` behind any unsaved entries (order kept); None if it could not be.

        Stored behind earlier ones, it is as durable as any, so it justifies what follows. Not
        stored, it is kept for the retry as what really happens: the gate stays shut, so an entry
        that was to open it (``then``) is kept as ``gate_not_opened``.
        """
        first_failure = not self._unsaved
        self._unsaved.append(draft)
        stored = self._retry_unsaved()
        if not self._unsaved:
            return stored[-1]
        self._unsaved[-1] = _as_unsaved(draft, then)
        if first_failure:
            log.error("could not store an entry on lane %s; gate kept shut", self.ctx.lane)
            self._bus.publish(
                AlarmRaised(lane=self.ctx.lane, kind="store_failed", detail="entry unsaved")
            )
        return None

    def _keep_unsaved(self, rest: Sequence[rule.Command]) -> None:
        """Keep the entries a failed command list had yet to record (a visit ended by a mode
        change, then the mode change): each is a fact the ledger must still get."""
        for index, command in enumerate(rest):
            if isinstance(command, rule.RecordEntry):
                self._unsaved.append(_as_unsaved(command.draft, rest[index + 1 :]))

    def _retry_unsaved(self) -> list[Entry]:
        """Store the unsaved entries, oldest first; returns those stored now."""
        stored: list[Entry] = []
        while self._unsaved:
            draft = self._unsaved[0]
            try:
                entry = self._store.record_entry(
                    draft, boot_id=self._boot_id, recorded_at=self._clock.now().wall
                )
            except Exception as exc:  # disk full, I/O error: keep the entries, the gate shut
                log.warning(
                    "store failing (%s: %s); %d entries unsaved",
                    type(exc).__name__,
                    exc,
                    len(self._unsaved),
                )
                break
            self._unsaved.pop(0)
            log.info(
                "lane %s: entry %d %s",
                self.ctx.lane,
                entry.seq,
                entry.draft.outcome.value,
                extra={"seq": entry.seq},  # journalctl KAKOU_SEQ=<seq> finds what it was
            )
            self._recent_ids.append((draft, entry.id))
            stored.append(entry)
            self._bus.publish(EntryRecorded(lane=self.ctx.lane, entry=entry))
        return stored

    def _request_reading(self) -> None:
        if self._thermometer is None:
            self._bus.publish(Prompted(lane=self.ctx.lane, step=Step.MEASURE.value, code="manual"))
            return
        self._thermometer.request()

    def _pass_event(self, scan: Scan, at: Instant) -> rule.PassShown:
        text = scan.text[:MAX_SCAN_CHARS]
        if scan.truncated:
            verdict = Verdict(
                reason=VerifyReason.TOO_LARGE, detail=f"{scan.raw_length} bytes scanned"
            )
        else:
            verdict = self._verify(text, at)
        # The re-read check knows a pass by what it signs, whichever zlib spelling was shown;
        # text that is no token is known by the text (16 characters: never a 64-character id).
        digest = (
            verdict.token_id or hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]
        )
        claims = verdict.claims if verdict.valid else None
        policy = self.ctx.policy
        history = PassHistory()
        # Only what the policy will look at is read: most gates run neither check.
        if claims is not None and policy.anti_passback:
            history = replace(
                history, last_direction=self._store.last_passed_direction(claims.pass_id)
            )
        if claims is not None and quota_applies(policy, claims.kind, self.ctx.direction):
            exits = self._store.household_exits(claims.unit, quota_window_start(policy, at.wall))
            history = replace(history, household_exits_in_window=exits)
        self._bus.publish(
            ScanRead(
                lane=self.ctx.lane,
                source=scan.source,
                valid=verdict.valid,
                reason=verdict.reason.value if verdict.reason else None,
            )
        )
        return rule.PassShown(at=at, verdict=verdict, token_digest=digest, history=history)

    def _verify(self, text: str, at: Instant) -> Verdict:
        """Verify at the time the unsynced-clock policy allows (docs/operations.md): winding the
        clock back must not revive an expired pass."""
        judged = pass_time(
            self._unsynced_policy, at, boot_id=self._boot_id, trusted=self._trusted_time()
        )
        if judged.at is None:
            return Verdict(
                reason=VerifyReason.CLOCK_UNSYNCED, detail="no pass is judged before NTP sync"
            )
        verdict = passes.verify(
            text,
            keys=self._trust.keys,
            revoked=self._trust.revoked,
            community=self.community,
            gate=self.ctx.gate,
            now=judged.at,
        )
        return passes.within_gate_key_scope(verdict, max_validity=self._trust.gate_key_max_validity)

    def snapshot(self) -> dict[str, Any]:
        """The lane's state for the console and the simulator."""
        visit = self._state.visit
        return {
            "lane": self.ctx.lane,
            "gate": self.ctx.gate,
            "direction": self.ctx.direction.value,
            "mode": self._state.mode.value,
            "step": self._state.step.value,
            "alive": self.alive,
            "unsaved_entries": len(self._unsaved),
            "relay_energised": self._relay.is_energised,
            "visit": None
            if visit is None
            else {
                "pass_id": visit.claims.pass_id if visit.claims else None,
                "kind": visit.claims.kind.value if visit.claims else None,
                "holder": visit.claims.holder if visit.claims else None,
                "household": visit.claims.unit if visit.claims else None,
                "temperatures_c": [t.body_c for t in visit.temperatures],
                "temperatures_plausible": [t.plausible for t in visit.temperatures],
                "plate": visit.claims.plate if visit.claims else None,
                "occupants": visit.occupants,
                "occupants_cleared": visit.cleared,
                "soft_findings": list(visit.soft_findings),
            },
        }
