"""Real parts for the sync tests and the sync benchmarks: a Mosquitto broker and a PostgreSQL
server started on free ports, a TCP proxy that can cut or freeze the link, a crowd of entries,
and a gate process (store + sync) that can be killed with SIGKILL.

Shared by tests/sync/ and bench/bench_sync.py, bench/fault_campaign.py, so the campaign and the
tests exercise the same rig. Run ``python -m tests.sync.rig edge --help`` for the gate process.

Every child process goes through ``spawn``, so none outlives the run that started it: each gets
a process group of its own (stopping it stops whatever it started), is SIGKILLed on a timeout,
dies with its parent even when the parent is SIGKILLed (``setpriv --pdeathsig``), and is listed
for ``sweep_processes``, which the sync tests' fixtures run after each test and at the end.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drivers.base import Reading
from edge.model import Direction, EntryDraft, MeasuredTemperature, Outcome, PassKind

ROOT = Path(__file__).resolve().parents[2]
MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = Path("/usr/bin/mosquitto_passwd")
PYTHON = sys.executable
SETPRIV = shutil.which("setpriv")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.05
) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------- child processes

_spawned: list[subprocess.Popen[bytes]] = []
_session_wide: set[subprocess.Popen[bytes]] = set()
_spawned_lock = threading.Lock()


def spawn(
    args: list[str], *, as_user: str | None = None, session: bool = False, **popen: Any
) -> subprocess.Popen[bytes]:
    """Start a child process that cannot outlive us: see the module docstring.

    ``as_user`` runs it as that system user (PostgreSQL refuses to run as root); ``session``
    marks a server shared by many tests, which the sweep after each test leaves alone.
    """
    prefix: list[str] = []
    # PR_SET_PDEATHSIG fires when the *thread* that forked exits: only the main thread lives as
    # long as the process. From other threads the sweep is the safety net.
    dies_with_us = threading.current_thread() is threading.main_thread()
    if SETPRIV is not None and (dies_with_us or as_user is not None):
        prefix = [SETPRIV]
        if dies_with_us:
            prefix += ["--pdeathsig", "KILL"]
        if as_user is not None:  # setpriv sets the death signal after changing user: it holds
            prefix += [f"--reuid={as_user}", f"--regid={as_user}", "--init-groups"]
        prefix.append("--")
    elif as_user is not None:
        prefix = ["runuser", "-u", as_user, "--"]
    process: subprocess.Popen[bytes] = subprocess.Popen(
        [*prefix, *args], start_new_session=True, **popen
    )
    with _spawned_lock:
        _spawned.append(process)
        if session:
            _session_wide.add(process)
    return process


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)  # start_new_session: the group id is the child's pid


def stop_process(
    process: subprocess.Popen[bytes] | None, signum: int = signal.SIGTERM, timeout_s: float = 10.0
) -> None:
    """Send ``signum`` to the child's process group and wait; SIGKILL the group if it is not
    gone within ``timeout_s``. Whatever else is left in the group is killed too."""
    if process is None or process.returncode is not None:
        return  # reaped before: its pid, and so its group id, may belong to another by now
    if process.poll() is None:
        _signal_group(process, signum)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(10)
    _signal_group(process, signal.SIGKILL)  # children that outlived their leader


def spawned_count() -> int:
    """A mark for ``sweep_processes(since=...)``: how many children were started so far."""
    with _spawned_lock:
        return len(_spawned)


def sweep_processes(since: int = 0, *, session_wide: bool = True) -> list[str]:
    """Kill every child started (from mark ``since`` on) that is still running; say which.

    ``session_wide=False`` spares the servers spawned with ``session=True``.
    """
    with _spawned_lock:
        children = [
            process for process in _spawned[since:] if session_wide or process not in _session_wide
        ]
    killed = []
    for process in children:
        if process.poll() is None:
            args = process.args if isinstance(process.args, list) else [process.args]
            command = " ".join(str(arg) for arg in args)
            killed.append(f"{command[:160]} (pid {process.pid})")
            stop_process(process, signal.SIGKILL)
    return killed


atexit.register(sweep_processes)


# -------------------------------------------------------------------------------- Mosquitto


class RunningProcess:
    """A child process the rig started; ``_process`` is None before the first start."""

    _process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid


class PortTakenError(RuntimeError):
    """The broker exited because something else listens on its port."""


class Mosquitto(RunningProcess):
    """A broker of our own on a free port, with persistence, that tests stop and start."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        tls: tuple[Path, Path, Path] | None = None,
        password_file: Path | None = None,
        acl_file: Path | None = None,
    ) -> None:
        """``tls`` is (CA, certificate, key) for a TLS listener; ``password_file`` (made with
        mosquitto_passwd) turns anonymous access off; ``acl_file`` limits each account's topics
        (sync/receiver/acl.py)."""
        if not MOSQUITTO.exists():
            raise RuntimeError(f"{MOSQUITTO} is missing: apt-get install mosquitto")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        # Only a port we picked may move, and only until the first start: a restart keeps the
        # port its clients were given.
        self._port_may_move = port is None
        self.tls = tls
        self.password_file = password_file
        self.acl_file = acl_file
        self.config = directory / "mosquitto.conf"
        self.log_path = directory / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    def write_config(self) -> None:
        listener = [f"listener {self.port} 127.0.0.1"]
        if self.tls is not None:
            ca, cert, key = self.tls
            listener += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        if self.password_file is not None:
            listener += ["allow_anonymous false", f"password_file {self.password_file}"]
        else:
            listener += ["allow_anonymous true"]
        if self.acl_file is not None:
            listener += [f"acl_file {self.acl_file}"]
        self.config.write_text(
            "\n".join(
                [
                    *listener,
                    "persistence true",
                    f"persistence_location {self.directory}/",
                    "autosave_interval 1",
                    "user root",  # the tests run as root; without this it drops to 'mosquitto'
                    "log_dest stderr",  # unbuffered, into log_path: start() reads it at once
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_type information",  # "running": the listener is ours
                    "max_queued_messages 100000",
                    "",
                ]
            )
        )

    def start(self) -> None:
        """Start and wait until *this* broker listens: other test runs on the machine start
        brokers too, and one of theirs could have taken the port while ours was down.

        A free port can also be taken by another test worker before the broker binds it: on the
        first start of a broker on a port it picked, it tries another free port (5 in all)."""
        attempts = 5 if self._port_may_move else 1
        for attempt in range(1, attempts + 1):
            self.write_config()
            try:
                self.start_with(self.config)
            except PortTakenError:
                if attempt == attempts:
                    raise
                self.port = free_port()
            else:
                break
        self._port_may_move = False

    def start_with(self, config: Path) -> None:
        """Start on a configuration file of the caller's (it must listen on ``self.port`` and
        log to stderr); on any failure the process is killed before the error is raised."""
        logged = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self._process = spawn(
                [str(MOSQUITTO), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=log
            )
        try:
            deadline = time.monotonic() + 10
            while True:
                if self._process.poll() is not None:
                    taken = "Address already in use" in self._log_since(logged)
                    error = PortTakenError if taken else RuntimeError
                    raise error(f"mosquitto exited: {self.log_tail()}")
                if " running" in self._log_since(logged) and port_open(self.port):
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mosquitto did not listen on {self.port}: {self.log_tail()}"
                    )
                time.sleep(0.02)
        except BaseException:
            self.kill()
            raise

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its persistence file on the way out (SIGKILL after 10 s)."""
        process, self._process = self._process, None
        stop_process(process, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: whatever was not autosaved is lost, as in a power cut."""
        process, self._process = self._process, None
        stop_process(process, signal.SIGKILL)

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def serving(broker: Mosquitto) -> Iterator[Mosquitto]:
    """For a fixture: ``yield from serving(broker)`` starts it, and kills it after the test
    whatever the test did with it (stopped, restarted, or left running when it failed)."""
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


# ------------------------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def ensure_postgres_binaries() -> Path:
    """The PostgreSQL server binaries, installed with apt-get if missing (never skipped)."""
    bindir = postgres_bindir()
    if bindir is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
            check=True,
            env=env,
        )
        bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb) not found after installing")
    return bindir


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster on a free port (fsync off: tests, not power cuts)."""

    base: Path
    bindir: Path
    port: int = field(default_factory=free_port)
    _as_user: list[str] = field(default_factory=list)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.base / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.base.chmod(0o755)
        self.data.mkdir()
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the postgres system user.
            shutil.chown(self.data, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        # A free port can be taken by another test worker before the postmaster binds it:
        # then try another one.
        for _attempt in range(5):
            self._spawn_postmaster()
            if self._process is not None and self._process.poll() is None:
                return
            if "already in use" not in self.log_tail():
                break
            self.port = free_port()
        raise RuntimeError(f"postgres exited: {self.log_tail()}")

    def _spawn_postmaster(self) -> None:
        # The postmaster is our own child (not daemonised by pg_ctl), so it dies with us: see
        # spawn. Its backends notice a dead postmaster and exit.
        with (self.base / "server.log").open("ab") as log:
            self._process = spawn(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.data),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                ],
                as_user="postgres" if os.geteuid() == 0 else None,
                session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._ready, 60, "PostgreSQL to accept connections")

    @property
    def pid(self) -> int | None:
        """The postmaster's."""
        return None if self._process is None else self._process.pid

    def _ready(self) -> bool:
        import psycopg

        if self._process is None or self._process.poll() is not None:
            return True  # start() reports it
        try:
            psycopg.connect(self.dsn(), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            text = (self.base / "server.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT), SIGKILL for the whole group if it hangs."""
        process, self._process = self._process, None
        stop_process(process, signal.SIGQUIT, timeout_s=30)
        shutil.rmtree(self.base, ignore_errors=True)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    # Not under pytest's tmp_path: its parents are private to root and postgres must reach it.
    base = Path(tempfile.mkdtemp(prefix="kakou-pg-"))
    server = PostgresServer(base=base, bindir=ensure_postgres_binaries())
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -------------------------------------------------------------------------------- TCP proxy


class TcpProxy:
    """Sits between a client and the broker; can cut connections, freeze them, or cut one
    right after the broker accepted a PUBLISH and before its PUBACK reaches the client."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._frozen = threading.Event()
        self._cut_on_puback = threading.Event()
        self.pubacks_cut = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="proxy").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_broker: bool) -> None:
        buffer = b""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self._frozen.is_set() and not self._closed:
                    time.sleep(0.01)  # hold the bytes: the link is up but nothing moves
                if not from_broker:
                    sink.sendall(data)
                    continue
                buffer += data
                packets, buffer = _split_packets(buffer)
                for packet in packets:
                    if packet[0] >> 4 == 4 and self._cut_on_puback.is_set():  # PUBACK
                        self._cut_on_puback.clear()
                        self.pubacks_cut += 1
                        self._close(source, sink)
                        return
                    sink.sendall(packet)
        except OSError:
            pass
        self._close(source, sink)

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def cut(self) -> None:
        """Drop every connection now (both sides see a reset or EOF)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            self._close(*pair)

    def freeze(self) -> None:
        self._frozen.set()

    def thaw(self) -> None:
        self._frozen.clear()

    def cut_at_next_puback(self) -> None:
        self._cut_on_puback.set()

    def close(self) -> None:
        self._closed = True
        self._frozen.clear()
        self.cut()
        self._server.close()


def _split_packets(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Whole MQTT packets from the front of ``buffer`` (fixed header: type byte, varint length)."""
    packets: list[bytes] = []
    while len(buffer) >= 2:
        length = multiplier = 0
        index = 1
        while True:
            if index >= len(buffer):
                return packets, buffer
            byte = buffer[index]
            length += (byte & 0x7F) << multiplier
            multiplier += 7
            index += 1
            if not byte & 0x80:
                break
        if len(buffer) < index + length:
            break
        packets.append(buffer[: index + length])
        buffer = buffer[index + length :]
    return packets, buffer


# ------------------------------------------------------------------------------------ crowd

T0 = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
_OUTCOMES = [Outcome.PASSED] * 85 + [Outcome.DENIED] * 6 + [Outcome.ABANDONED] * 3
_OUTCOMES += [Outcome.FEVER] * 2 + [Outcome.OVERRIDDEN] * 2


def crowd_draft(rng: random.Random, at: datetime, lane: str = "in-1") -> EntryDraft:
    """One visit of a simulated crowd: mostly residents passing, some visitors, fevers, denials."""
    outcome = rng.choice(_OUTCOMES)
    kind = PassKind.VISITOR if rng.random() < 0.1 else PassKind.RESIDENT
    value_c = round(rng.gauss(36.5, 0.3), 2) if outcome is not Outcome.FEVER else 38.1
    return EntryDraft(
        lane=lane,
        direction=Direction.OUT if rng.random() < 0.4 else Direction.IN,
        outcome=outcome,
        started_at=at - timedelta(seconds=15),
        decided_at=at,
        reasons=("fever",) if outcome is Outcome.FEVER else (),
        pass_id=f"P-{rng.randrange(5000):05d}",
        pass_kind=kind,
        holder="张*",
        household=f"{rng.randrange(20)}-{rng.randrange(300):03d}",
        key_id="community-2026a",
        answers=(("travel_14d", "否"),) if kind is PassKind.VISITOR else (),
        temperatures=(
            MeasuredTemperature(
                reading=Reading(value_c=value_c, sensor="gy-mcu90614", object_c=value_c),
                body_c=value_c + 0.4,
                at=at - timedelta(seconds=3),
                plausible=True,
                fever=outcome is Outcome.FEVER,
            ),
        ),
        clock_synced=rng.random() > 0.02,
    )


def fill_store(path: Path, community: str, gate: str, count: int, *, seed: int = 1) -> None:
    """Record ``count`` entries quickly (one transaction per 1000: setup, not the gate's path)."""
    from edge.store import Store

    rng = random.Random(seed)
    with Store.open(path, community=community, gate=gate, check_integrity=False) as store:
        done = 0
        while done < count:
            chunk = min(1000, count - done)
            with store._writing():  # nested atomic(): one commit for the chunk
                for index in range(done, done + chunk):
                    at = T0 + timedelta(seconds=index)
                    store.record_entry(crowd_draft(rng, at), boot_id="bench", recorded_at=at)
            done += chunk


# ------------------------------------------------------------------------------ gate process


def sync_settings(port: int, **changes: Any) -> dict[str, Any]:
    """Settings for a test gate: short timers so faults are noticed within seconds."""
    settings: dict[str, Any] = {
        "port": port,
        "keepalive_s": 5,
        "connect_timeout_s": 3.0,
        "reconnect_min_s": 0.2,
        "reconnect_max_s": 1.0,
        "puback_timeout_s": 3.0,
        "ack_timeout_s": 3.0,
        "ack_timeout_max_s": 6.0,
        "status_interval_s": 1.0,
        "downlink_signers": ["office", "office-2026"],  # the office keys the sync tests use
    }
    settings.update(changes)
    return settings


def run_gate(args: argparse.Namespace) -> None:
    """A gate process: the store and its sync, recording entries at ``rate`` until SIGTERM."""
    from edge.bus import Bus
    from edge.store import Store
    from sync.runtime import start_sync
    from sync.settings import SyncSettings

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    store = Store.open(Path(args.db), community=args.community, gate=args.gate)
    handle = start_sync(
        SyncSettings.model_validate(json.loads(args.settings)),
        store=store,
        bus=Bus(),
        community=args.community,
        gate=args.gate,
    )
    rng = random.Random(args.seed)
    made = 0
    Path(args.ready).write_text("ready")
    next_s = time.monotonic()
    while not stop.is_set():
        if args.rate > 0 and (args.count == 0 or made < args.count):
            at = datetime.now(UTC)
            store.record_entry(crowd_draft(rng, at), boot_id="gate", recorded_at=at)
            made += 1
            next_s += rng.expovariate(args.rate)
            stop.wait(max(0.0, next_s - time.monotonic()))
        else:
            stop.wait(0.2)
    handle.stop()
    store.close()


class ChildProcess(RunningProcess):
    """A process the tests start, log to ``<log_name>-<start>.log`` and stop or kill."""

    def __init__(self, directory: Path, log_name: str) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.log_name = log_name
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    def _spawn(self, args: list[str]) -> None:
        """Start the next run of ``args`` from the repository, its output in a fresh log."""
        self.starts += 1
        log = (self.directory / f"{self.log_name}-{self.starts}.log").open("wb")
        self._process = spawn(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill(self) -> None:
        stop_process(self._process, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM (the process finishes cleanly), SIGKILL after 20 s."""
        stop_process(self._process, signal.SIGTERM, timeout_s=20)

    def log_tail(self, lines: int = 30) -> str:
        path = self.directory / f"{self.log_name}-{self.starts}.log"
        with contextlib.suppress(OSError):
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return ""


class GateProcess(ChildProcess):
    """A gate running in a child process, so it can be killed with SIGKILL mid-publish."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int,
        community: str = "hxy",
        gate: str = "north",
        rate: float = 0.0,
        count: int = 0,
        seed: int = 1,
        settings: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(directory, "gate")
        self.db = directory / "kakou.db"
        self.community = community
        self.gate = gate
        self.rate = rate
        self.count = count
        self.seed = seed
        self.settings = settings or sync_settings(port)

    def start(self) -> None:
        ready = self.directory / "ready"
        ready.unlink(missing_ok=True)
        self._spawn(
            [
                PYTHON,
                "-m",
                "tests.sync.rig",
                "gate",
                "--db",
                str(self.db),
                "--community",
                self.community,
                "--gate",
                self.gate,
                "--rate",
                str(self.rate),
                "--count",
                str(self.count),
                "--seed",
                str(self.seed * 1000 + self.starts + 1),
                "--settings",
                json.dumps(self.settings),
                "--ready",
                str(ready),
            ]
        )
        try:
            wait_until(lambda: ready.exists() or not self.running, 30, "the gate process to start")
        except BaseException:
            self.kill()
            raise
        if not self.running:
            raise RuntimeError(f"gate process exited: {self.log_tail()}")

    def outbox(self) -> dict[str, int]:
        """last seq issued, entries held, unacknowledged rows (read beside the running gate)."""
        import sqlite3

        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            last = con.execute("SELECT coalesce(max(last_seq), 0) FROM sequences").fetchone()[0]
            held = con.execute("SELECT count(*) FROM entries").fetchone()[0]
            unacked = con.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[
                0
            ]
            log_row = con.execute("SELECT value FROM meta WHERE key = 'sync.log_id'").fetchone()
        finally:
            con.close()
        return {
            "last_seq": int(last),
            "held": int(held),
            "unacked": int(unacked),
            "has_log": int(log_row is not None),
        }

    def log_id(self) -> str | None:
        import sqlite3

        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'sync.log_id'").fetchone()
        finally:
            con.close()
        return None if row is None else str(row[0])


# -------------------------------------------------------------------------- receiver process


class ReceiverProcess(ChildProcess):
    """``kakou server run`` in a child process (the real command), killable with SIGKILL."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int,
        db: Path | None = None,
        dsn: str | None = None,
        name: str = "receiver-1",
    ) -> None:
        super().__init__(directory, name)
        self.port = port
        self.db = db
        self.dsn = dsn
        self.name = name

    def start(self) -> None:
        backend = ["--db", str(self.db)] if self.dsn is None else ["--dsn", self.dsn]
        self._spawn(
            [
                PYTHON,
                "-m",
                "edge",
                "server",
                "run",
                "--port",
                str(self.port),
                "--name",
                self.name,
                *backend,
                "--log-level",
                "INFO",
            ]
        )

    def wait_subscribed(self, timeout_s: float = 30.0) -> None:
        """Until the receiver is connected and subscribed. Only the very first start needs it:
        before a receiver ever subscribed, the broker has no session to queue batches in."""
        wait_until(
            lambda: "connected to" in self.log_tail(50) or not self.running,
            timeout_s,
            "the receiver to connect",
        )
        if not self.running:
            raise RuntimeError(f"receiver exited: {self.log_tail()}")
        time.sleep(0.3)  # the SUBACK follows the CONNACK


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.sync.rig")
    commands = parser.add_subparsers(dest="command", required=True)
    gate = commands.add_parser("gate", help="run a gate process (store + sync + crowd)")
    gate.add_argument("--db", required=True)
    gate.add_argument("--community", default="hxy")
    gate.add_argument("--gate", default="north")
    gate.add_argument("--rate", type=float, default=0.0, help="entries per second (0: none)")
    gate.add_argument("--count", type=int, default=0, help="stop making entries after this many")
    gate.add_argument("--seed", type=int, default=1)
    gate.add_argument("--settings", required=True, help="SyncSettings as JSON")
    gate.add_argument("--ready", required=True, help="file written once sync has started")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "gate":
        run_gate(args)


if __name__ == "__main__":
    main()


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a broker certificate for 127.0.0.1 and localhost: (ca, cert, key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("kakou test CA"))
        .issuer_name(name("kakou test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "broker.pem", directory / "broker.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return paths


def mosquitto_password_file(path: Path, users: dict[str, str]) -> Path:
    """A Mosquitto password file made with mosquitto_passwd (the broker's own hashing)."""
    if not MOSQUITTO_PASSWD.exists():
        raise RuntimeError(f"{MOSQUITTO_PASSWD} is missing: apt-get install mosquitto")
    path.write_text("")
    for user, password in users.items():
        subprocess.run([str(MOSQUITTO_PASSWD), "-b", str(path), user, password], check=True)
    return path
