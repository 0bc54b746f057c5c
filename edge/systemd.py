"""What systemd hands the service: the notify socket, the watchdog deadline and credentials.

``Type=notify`` with ``WatchdogSec=``: the service says READY=1 once the gate is up, then
WATCHDOG=1 at intervals, and only while every worker (lane threads, device readers, the console)
is alive. When a worker dies the pings stop, systemd kills the process with SIGABRT, runs
``ExecStopPost=`` (``kakou relay-off``) and restarts it: a half-dead gate never lingers. The
protocol is a datagram to ``$NOTIFY_SOCKET`` (sd_notify(3)); it is spoken here with plain
sockets so the gate needs no libsystemd binding, and every call is a no-op without the socket.

Secrets arrive through ``LoadCredential=``: systemd copies them, readable by the service user
only, into ``$CREDENTIALS_DIRECTORY``; a manual run reads them from the configured directory.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_CHECK_INTERVAL_S = 5.0
"""How often the main loop checks its workers when systemd runs no watchdog (a manual run)."""

CREDENTIAL_PREFIX = "kakou_"
"""``LoadCredential=kakou:/etc/kakou/credentials`` loads a directory: systemd names each file
``kakou_<file name>`` (systemd.exec(5), "If an absolute path referring to a directory...")."""


class Notifier:
    """Sends sd_notify messages to ``$NOTIFY_SOCKET``; silently does nothing without one."""

    def __init__(self, address: str | None) -> None:
        self._address: str | bytes | None = None
        if address:
            # "@name" is a socket in the abstract namespace (sd_notify(3)): a leading NUL byte.
            self._address = b"\0" + address[1:].encode() if address[0] == "@" else address
        self._lock = threading.Lock()
        self._failing = False  # log the first failure of a run of them, not every ping

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        return cls(environ.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; False if there is no socket or it failed.

        A failure is logged, never raised: a lost notification must not take the gate down
        (systemd's watchdog notices missing pings on its own).
        """
        if self._address is None:
            return False
        message = "\n".join(fields).encode()
        with self._lock:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                    sock.connect(self._address)
                    sock.sendall(message)
            except OSError as exc:
                if not self._failing:
                    log.warning("sd_notify %r failed: %s", fields, exc)
                self._failing = True
                return False
            if self._failing:
                log.info("sd_notify works again")
            self._failing = False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=stopping")


def watchdog_interval_s(
    environ: Mapping[str, str] = os.environ, *, pid: int | None = None
) -> float | None:
    """Seconds between WATCHDOG=1 pings, or None when systemd runs no watchdog for us.

    Half of ``WatchdogSec=`` (``$WATCHDOG_USEC``), as sd_watchdog_enabled(3) recommends, so one
    late ping is not yet a kill. ``$WATCHDOG_PID``, when set, must be this process: a child that
    inherited the variables must not ping for its parent.
    """
    usec_text = environ.get("WATCHDOG_USEC")
    if not usec_text:
        return None
    pid_text = environ.get("WATCHDOG_PID")
    if pid_text and pid_text != str(os.getpid() if pid is None else pid):
        return None
    try:
        usec = int(usec_text)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not an integer", usec_text)
        return None
    if usec <= 0:
        return None
    return usec / 2 / 1_000_000


@dataclass(frozen=True, slots=True)
class WorkerCheck:
    """One worker the watchdog vouches for: a name for the log and a liveness test."""

    name: str
    alive: Callable[[], bool]


def dead_workers(checks: Iterable[WorkerCheck]) -> list[str]:
    """Names of the workers that are not alive now (a check that raises counts as dead)."""
    dead = []
    for check in checks:
        try:
            ok = check.alive()
        except Exception:  # a broken check must not look like a healthy worker
            log.exception("liveness check %s failed", check.name)
            ok = False
        if not ok:
            dead.append(check.name)
    return dead


def supervise(
    stop: threading.Event,
    checks: Sequence[WorkerCheck],
    notifier: Notifier,
    *,
    interval_s: float,
    on_tick: Callable[[], None] | None = None,
) -> list[str]:
    """The main loop: ping the watchdog while every worker lives; return when ``stop`` is set.

    Once a worker is found dead the loop stops pinging for good (a worker does not come back),
    tells systemd why in STATUS=, and keeps waiting: systemd's watchdog then kills and restarts
    the service, and ``ExecStopPost=`` forces the relays off. Returns the dead workers' names.
    ``on_tick`` runs every round while healthy (small periodic chores of the main loop).
    """
    dead: list[str] = []
    while not stop.wait(interval_s):
        if dead:
            continue
        dead = dead_workers(checks)
        if dead:
            log.critical(
                "worker(s) down: %s; watchdog pings stop so the service is restarted",
                ", ".join(dead),
            )
            notifier.status(f"worker down: {', '.join(dead)}")
            continue
        notifier.watchdog()
        if on_tick is not None:
            on_tick()
    return dead


# ------------------------------------------------------------------------------ credentials


def credential_path(name: str, directory: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """Where the secret ``name`` is read from.

    Under systemd: ``$CREDENTIALS_DIRECTORY/kakou_<name>`` (the unit loads the whole credentials
    directory) or ``$CREDENTIALS_DIRECTORY/<name>`` (a credential loaded by its own name, e.g. a
    drop-in ``LoadCredential=<name>:/path``). Otherwise, or when neither exists there,
    ``directory/<name>``: a manual run as root reads the files systemd would have loaded.
    """
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"credential name {name!r} must be a plain file name")
    loaded = environ.get("CREDENTIALS_DIRECTORY")
    if loaded:
        for candidate in (Path(loaded) / f"{CREDENTIAL_PREFIX}{name}", Path(loaded) / name):
            if candidate.is_file():
                return candidate
    return directory / name


def secret_file_warnings(paths: Iterable[Path]) -> list[str]:
    """Problems with secret files that should not stop the gate, one line each.

    A secret readable by group or others is a warning, not an error: refusing to start would
    lock residents out over a file mode, and the operator can fix it while the gate runs.
    """
    warnings = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            warnings.append(f"{path}: secret file does not exist")
            continue
        except OSError as exc:
            warnings.append(f"{path}: cannot check secret file: {exc}")
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            warnings.append(
                f"{path}: secret file is readable by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); run chmod 600 on it"
            )
    return warnings
