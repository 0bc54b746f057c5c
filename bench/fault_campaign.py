"""Fault campaign: two gates under a crowd, and faults at random until the time is up.

    .venv/bin/python bench/fault_campaign.py [--minutes 10] [--seed N] [--rate 25] [--postgres]

Two gate processes (store + sync, each recording a simulated crowd at ``--rate`` entries/s),
one ``kakou server run`` receiver and a Mosquitto broker, all real processes on this machine;
the second gate reaches the broker through a TCP proxy. Until the time is up, one fault at a
time, at random: the broker stopped (SIGTERM) or killed (SIGKILL) and restarted after a pause,
a gate killed with SIGKILL mid-publish and restarted, the receiver killed and restarted, the
second gate's link cut, cut right after a PUBLISH and before its PUBACK, or frozen (up but
silent). Then the crowd stops,
the gates drain, and the campaign counts, per gate, the entries produced (the gate's committed
sequence) against those in the receiver's database. Exit status 0 only when nothing is missing,
nothing is duplicated and the gap report is empty.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.receiver.db import open_db
from tests.sync.rig import (
    GateProcess,
    Mosquitto,
    ReceiverProcess,
    TcpProxy,
    postgres_server,
    sync_settings,
    wait_until,
)

COMMUNITY = "campaign"
GATES = ("north", "south")


@dataclass
class Rig:
    broker: Mosquitto
    proxy: TcpProxy
    receiver: ReceiverProcess
    gates: dict[str, GateProcess]


def _outage(
    rng: random.Random, down: Callable[[], None], up: Callable[[], None], longest_s: float
) -> None:
    """Take a part down, leave it down a random while of at most ``longest_s``, bring it back."""
    down()
    time.sleep(rng.uniform(0.0, longest_s))
    up()


def fault_broker_restart(rig: Rig, rng: random.Random) -> None:
    _outage(rng, rig.broker.stop, rig.broker.start, 5.0)


def fault_broker_kill(rig: Rig, rng: random.Random) -> None:
    _outage(rng, rig.broker.kill, rig.broker.start, 5.0)


def fault_gate_kill(rig: Rig, rng: random.Random) -> None:
    gate = rig.gates[rng.choice(GATES)]
    _outage(rng, gate.kill, gate.start, 2.0)


def fault_receiver_kill(rig: Rig, rng: random.Random) -> None:
    _outage(rng, rig.receiver.kill, rig.receiver.start, 3.0)


def fault_link_cut(rig: Rig, rng: random.Random) -> None:
    rig.proxy.cut()


def fault_puback_cut(rig: Rig, rng: random.Random) -> None:
    rig.proxy.cut_at_next_puback()


def fault_link_frozen(rig: Rig, rng: random.Random) -> None:
    # Up but silent: only the gate's PUBACK watchdog notices.
    _outage(rng, rig.proxy.freeze, rig.proxy.thaw, 6.0)


FAULTS: dict[str, Callable[[Rig, random.Random], None]] = {
    "broker restart": fault_broker_restart,
    "broker kill": fault_broker_kill,
    "gate kill": fault_gate_kill,
    "receiver kill": fault_receiver_kill,
    "link cut": fault_link_cut,
    "PUBLISH/PUBACK cut": fault_puback_cut,
    "link frozen": fault_link_frozen,
}


def run_campaign(args: argparse.Namespace, work: Path, dsn: str | None) -> int:
    rng = random.Random(args.seed)
    broker = Mosquitto(work / "mosquitto")
    broker.start()
    proxy = TcpProxy(broker.port)
    receiver = ReceiverProcess(
        work / "receiver", port=broker.port, db=None if dsn else work / "receiver.db", dsn=dsn
    )
    gates = {
        name: GateProcess(
            work / name,
            port=broker.port if index == 0 else proxy.port,
            community=COMMUNITY,
            gate=name,
            rate=args.rate,
            seed=args.seed * 10 + index,
            settings=sync_settings(broker.port if index == 0 else proxy.port),
        )
        for index, name in enumerate(GATES)
    }
    rig = Rig(broker, proxy, receiver, gates)
    faults: Counter[str] = Counter()
    started = time.monotonic()
    deadline = started + args.minutes * 60
    try:
        receiver.start()
        receiver.wait_subscribed()
        for gate in gates.values():
            gate.start()
        while time.monotonic() < deadline:
            time.sleep(min(rng.uniform(1.0, args.spacing_s), max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
            name = rng.choice(list(FAULTS))
            FAULTS[name](rig, rng)
            faults[name] += 1
            if args.verbose:
                print(f"  {time.monotonic() - started:7.1f} s  {name}", flush=True)
        # The crowd goes home; each gate restarts without one and drains what it holds.
        for gate in gates.values():
            gate.stop()
            gate.rate = 0.0
            gate.start()
        drain_started = time.monotonic()
        wait_until(
            lambda: all(gate.outbox()["unacked"] == 0 for gate in gates.values()),
            args.drain_timeout_s,
            "the gates to drain",
            every_s=0.2,
        )
        drain_s = time.monotonic() - drain_started
    finally:
        for gate in gates.values():
            gate.stop()
        receiver.stop()
        proxy.close()
        broker.stop()
    return report(args, work, dsn, gates, faults, time.monotonic() - started, drain_s)


def report(
    args: argparse.Namespace,
    work: Path,
    dsn: str | None,
    gates: dict[str, GateProcess],
    faults: Counter[str],
    elapsed_s: float,
    drain_s: float,
) -> int:
    db = open_db(path=work / "receiver.db") if dsn is None else open_db(dsn=dsn)
    try:
        keys = db.entry_keys()
        counts = db.counts()
        gaps = [gap for gap in db.gaps() if gap.missing or gap.unreceived]
    finally:
        db.close()
    produced_total = stored_total = missing_total = duplicated_total = 0
    lines = []
    for name, gate in gates.items():
        produced = gate.outbox()["last_seq"]
        seqs = [key[3] for key in keys if key[:3] == (COMMUNITY, name, gate.log_id())]
        stored = len(seqs)
        missing = len(set(range(1, produced + 1)) - set(seqs))
        duplicated = stored - len(set(seqs))
        produced_total += produced
        stored_total += stored
        missing_total += missing
        duplicated_total += duplicated
        lines.append(
            f"  gate {name:<6} produced {produced:7d}  stored {stored:7d}  missing {missing}  "
            f"duplicated {duplicated}  (killed {gate.starts - 2} times)"
        )
    other = len(keys) - stored_total  # rows of any other gate or log: there must be none
    ok = missing_total == 0 and duplicated_total == 0 and not gaps and other == 0
    backend = "PostgreSQL" if dsn else "SQLite"
    print(
        f"== fault campaign: {args.minutes:g} min, seed {args.seed}, {len(GATES)} gates at "
        f"{args.rate:g} entries/s each, receiver on {backend}"
    )
    print(f"  ran {elapsed_s:.0f} s; drained in {drain_s:.1f} s after the last fault")
    print("  faults: " + ", ".join(f"{name} {count}" for name, count in sorted(faults.items())))
    print("\n".join(lines))
    print(f"entries produced:   {produced_total}")
    print(f"entries stored:     {stored_total}")
    print(f"missing:            {missing_total}")
    print(f"duplicated:         {duplicated_total}")
    print(f"other rows:         {other}")
    print(f"conflicts, rejects: {counts['conflicts']}, {counts['rejects']}")
    print(f"gap report:         {gaps or 'empty'}")
    print("RESULT: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long faults go on")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--rate", type=float, default=25.0, help="entries/s per gate")
    parser.add_argument("--spacing-s", type=float, default=8.0, help="longest gap between faults")
    parser.add_argument("--postgres", action="store_true", help="receiver on PostgreSQL")
    parser.add_argument(
        "--drain-timeout-s", type=float, default=300.0, help="longest wait for the final drain"
    )
    parser.add_argument("--verbose", action="store_true", help="print each fault")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    work = Path(tempfile.mkdtemp(prefix="kakou-campaign-"))
    try:
        if args.postgres:
            with postgres_server() as postgres:
                status = run_campaign(args, work, postgres.create_database("campaign"))
        else:
            status = run_campaign(args, work, None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
