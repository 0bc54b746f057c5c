"""Sign-in limits that do not depend on the account: failures per client, and hashing at once.

The store locks an account after ``MAX_FAILURES`` wrong secrets in a row. Alone, that lets one
stranger lock a named guard out every few minutes for ever, and try many names. Here each client
(an address; an IPv6 client by its /64, which one machine can fill) may fail ``CLIENT_FAILURES``
times in a sliding ``WINDOW`` across all names and ``PAIR_FAILURES`` times at one name; past
that it is answered 429 with Retry-After before anything is hashed or counted against an
account. An attempt counts as a failure from the moment it is admitted (a success gives it back),
so parallel requests cannot all slip under the limit.

Sign-ins hash on their own ``KDF_SLOTS`` threads (``edge.console.work``), never the shared pool
the other routes use; past ``MAX_WAITING`` queued the answer is 503 at once, so memory and
threads stay bounded.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from fastapi import HTTPException, Request

from edge.console.sessions import seconds_until, too_many
from edge.console.work import BoundedWork, Busy
from edge.store.guards import KDF_SLOTS, MAX_FAILURES

CLIENT_FAILURES = 10
PAIR_FAILURES = MAX_FAILURES
WINDOW = timedelta(minutes=15)
MAX_WAITING = 16
MAX_CLIENTS = 4096
"""Clients tracked at once; past it the expired ones are swept and, if still full, a new
client is refused (429) rather than the table growing without end."""

Who = TypeVar("Who")


class AccountFailure(Protocol):
    """Why an account refused a sign-in (a guard's or an officer's ``SignInFailure``)."""

    @property
    def code(self) -> str: ...

    @property
    def locked_until(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class SignInRefused:
    """A sign-in that did not happen: 401 (wrong name or secret), 429 (too many failures) or
    503 (too many sign-ins at once), and how long to wait before trying again."""

    status: int
    retry_after_s: int | None = None

    def http_error(self, wrong: str) -> HTTPException:
        """The API's answer; ``wrong`` says what a 401 got wrong ("wrong name or PIN")."""
        if self.status == 429:
            return too_many(self.retry_after_s or 1)
        if self.status == 503:
            retry = str(self.retry_after_s or 1)
            return HTTPException(503, "busy; try again", headers={"Retry-After": retry})
        return HTTPException(self.status, wrong)


def sign_in_responses(wrong: str) -> dict[int | str, dict[str, Any]]:
    """What a sign-in route answers besides its success, for its OpenAPI description; ``wrong``
    describes the 401."""
    return {
        401: {"description": wrong},
        429: {"description": "Too many failures from this client or at this account."},
        503: {"description": "Too many sign-ins at once; try again in a second."},
    }


def client_key(host: str | None) -> str:
    """The address a client is counted by: IPv4 as is, IPv6 by its /64."""
    if host is None:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


@dataclass(frozen=True, slots=True)
class Attempt:
    """An admitted sign-in, counted as a failure until ``SignInThrottle.succeeded``."""

    client: str
    name: str
    at: datetime


class SignInThrottle:
    """Failures per client and per (client, name), in a sliding window, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str | None], list[datetime]] = {}

    def admit(self, client: str, name: str, now: datetime) -> Attempt | int:
        """An ``Attempt``, or the seconds to wait before this client may try ``name``."""
        keys = ((client, None), CLIENT_FAILURES), ((client, name), PAIR_FAILURES)
        with self._lock:
            if len(self._failures) >= MAX_CLIENTS:
                self._sweep(now)
                if len(self._failures) >= MAX_CLIENTS:
                    return math.ceil(WINDOW.total_seconds())
            for key, limit in keys:
                recent = self._recent(key, now)
                if len(recent) >= limit:
                    return max(1, math.ceil((recent[0] + WINDOW - now).total_seconds()))
            for key, _ in keys:
                self._failures.setdefault(key, []).append(now)
        return Attempt(client, name, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The secret was right: the attempt was no failure, and the name's count starts over."""
        with self._lock:
            self._give_back(attempt)
            self._failures.pop((attempt.client, attempt.name), None)

    def give_back(self, attempt: Attempt) -> None:
        """The attempt was never checked (the gate was busy): it counts for nothing."""
        with self._lock:
            self._give_back(attempt)

    def _give_back(self, attempt: Attempt) -> None:
        for key in ((attempt.client, None), (attempt.client, attempt.name)):
            times = self._failures.get(key)
            if times and attempt.at in times:
                times.remove(attempt.at)
                if not times:
                    del self._failures[key]

    def _recent(self, key: tuple[str, str | None], now: datetime) -> list[datetime]:
        times = [at for at in self._failures.get(key, ()) if at > now - WINDOW]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def _sweep(self, now: datetime) -> None:
        for key in list(self._failures):
            self._recent(key, now)


@dataclass
class SignInLimits:
    """What the sign-in route consults, one per app."""

    throttle: SignInThrottle
    work: BoundedWork
    """Hashing threads: ``KDF_SLOTS`` of them, ``MAX_WAITING`` sign-ins queued at most."""

    @classmethod
    def new(cls) -> SignInLimits:
        return cls(SignInThrottle(), BoundedWork(KDF_SLOTS, MAX_WAITING, "sign-in"))

    async def sign_in(
        self,
        request: Request,
        name: str,
        now: datetime,
        check: Callable[[], tuple[Who, str] | AccountFailure],
    ) -> tuple[Who, str] | SignInRefused:
        """``check`` (the account's own sign-in: it hashes, and may lock the account) behind
        both limits; (who, session token), or why not. One path for both consoles."""
        client = client_key(request.client.host if request.client else None)
        attempt = self.throttle.admit(client, name, now)
        if isinstance(attempt, int):
            return SignInRefused(429, attempt)
        try:
            result = await self.work.run(check)
        except Busy:
            self.throttle.give_back(attempt)
            return SignInRefused(503, 1)
        if isinstance(result, tuple):
            self.throttle.succeeded(attempt)
            return result
        if result.code == "locked":
            return SignInRefused(429, seconds_until(result.locked_until, now))
        return SignInRefused(401)
