"""The broker's access control list for a community: who may publish and read which topic.

Why explicit ``user`` blocks rather than Mosquitto's ``pattern`` lines: a pattern applies to every
account and pastes the whole user name (``%u``) into one topic level, so each gate's account would
have to be named exactly like its gate id, and every other account (receivers, the office) would
be allowed to publish as a gate of its own name. Gate accounts are called ``gate-<gate>``
instead, so an account's job shows in its name and in the broker's log, and this module writes
one block per account from the topic functions of ``sync.contract`` (the only place topics are
built). A site admin runs ``kakou server acl`` after adding a gate and reloads Mosquitto (SIGHUP
rereads the ACL and password files).

With this file a gate can publish only its own entries, status (and last will) and alerts, and
read only its own ack and the community's signed downlink; a receiver account reads every listed
gate's entries, status and alerts and publishes their acks and the downlink. Mosquitto refuses an
unauthorised QoS 1 publish from an MQTT v5 client with PUBACK reason 0x87 (Not authorized) and
drops it silently for MQTT 3.1.1; it grants every SUBSCRIBE but delivers only what the account
may read (tests/sync/test_broker_acl.py shows each).
"""

from __future__ import annotations

from collections.abc import Sequence

from sync.contract import Channel, check_id, downlink_filter, gate_topic

GATE_USER_PREFIX = "gate-"


def gate_username(gate: str) -> str:
    """The broker account of gate ``gate``: ``gate-<gate>`` (``[mqtt] username`` on the gate)."""
    return GATE_USER_PREFIX + check_id("gate", gate)


def gate_grants(community: str, gate: str) -> list[str]:
    """The ACL lines of one gate's account (without its ``user`` line)."""
    return [
        f"topic write {gate_topic(community, gate, Channel.ENTRIES)}",
        f"topic write {gate_topic(community, gate, Channel.STATUS)}",
        f"topic write {gate_topic(community, gate, Channel.ALERTS)}/#",
        f"topic read {gate_topic(community, gate, Channel.ACK)}",
        f"topic read {downlink_filter(community)}",
    ]


def receiver_grants(community: str, gates: Sequence[str]) -> list[str]:
    """The ACL lines of a receiver (and office) account: every listed gate's entries, status
    and alerts, their acks, and the downlink."""
    lines = []
    for gate in gates:
        lines += [
            f"topic read {gate_topic(community, gate, Channel.ENTRIES)}",
            f"topic read {gate_topic(community, gate, Channel.STATUS)}",
            f"topic read {gate_topic(community, gate, Channel.ALERTS)}/#",
            f"topic write {gate_topic(community, gate, Channel.ACK)}",
        ]
    lines.append(f"topic write {downlink_filter(community)}")
    return lines


def broker_acl(community: str, gates: Sequence[str], receivers: Sequence[str]) -> str:
    """The Mosquitto ACL file for ``community``; raises ``ValueError`` for a bad or clashing id."""
    check_id("community", community)
    if not gates or not receivers:
        raise ValueError("name at least one gate and one receiver account")
    gate_users = [gate_username(gate) for gate in gates]
    for name in receivers:
        check_id("receiver account", name)
    accounts = [*gate_users, *receivers]
    repeated = sorted({name for name in accounts if accounts.count(name) > 1})
    if repeated:
        # Mosquitto merges blocks of one user name: a receiver called gate-x would give gate x
        # the receiver's rights.
        raise ValueError(f"account names used twice: {', '.join(repeated)}")
    lines = [
        f"# Mosquitto ACL for Kakou community {community}, made by `kakou server acl`.",
        "# Change the gate list in that command and run it again rather than editing this file.",
        "# Gates publish only their own topics and read their ack and the downlink.",
    ]
    for gate, user in zip(gates, gate_users, strict=True):
        lines += ["", f"user {user}", *gate_grants(community, gate)]
    for name in receivers:
        lines += ["", f"user {name}", *receiver_grants(community, gates)]
    return "\n".join(lines) + "\n"
