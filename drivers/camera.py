"""CameraScanner: QR codes seen by a camera, as a drivers.base.Scanner.

Two threads. The capture thread reads frames as fast as the source gives them and keeps only
the newest (a single slot, never a queue), so a slow decoder always works on what the camera
sees now, never on a backlog of stale frames. The decode thread takes the newest frame at most
``max_decode_fps`` times a second, runs drivers.qr on it, and reports each code once per
presentation (the re-read window). It is also the watchdog: a source that stops delivering
frames makes the camera DEGRADED, then DOWN, and is reopened with backoff; a capture thread
stuck inside a read is abandoned (it closes its own handle if the read ever returns).

Sources: a V4L2 device (index or /dev/video path), a video file, or a folder of images; tests
and demos use the last two, and drivers.sim.camera, through the same code path. Saving the frame
of each scan is off by default: frames show residents' faces.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from drivers import qr
from drivers.base import (
    DeviceStatus,
    Health,
    RereadWindow,
    Scan,
    ScanListener,
    StatusListener,
)
from drivers.qr import DecodeOptions
from drivers.status import HealthRecord, StatusChanges, counted
from drivers.threads import Backoff, Worker

log = logging.getLogger(__name__)

Frame = NDArray[np.uint8]
Decoder = Callable[[Frame], list[Scan]]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
# What opening or reading a source raises when the device is gone or the file is unreadable.
SOURCE_ERRORS = (OSError, cv2.error)


class FrameSource(Protocol):
    """An open camera, video file or image folder.

    ``read`` returns the next frame, or None when there is none now (a live source) or no more
    (a finite one: ``finite`` is True); it raises OSError when the device failed.
    ``frame_interval_s`` paces finite sources like a camera (0: the source paces itself).
    """

    @property
    def finite(self) -> bool: ...
    @property
    def description(self) -> str: ...
    @property
    def frame_interval_s(self) -> float: ...
    def read(self) -> Frame | None: ...
    def close(self) -> None: ...


SourceOpener = Callable[[], FrameSource]


# --- sources ------------------------------------------------------------------------------------


class CaptureSource:
    """A V4L2 device or a video file through cv2.VideoCapture."""

    def __init__(
        self,
        spec: str | int,
        *,
        device: bool,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        fourcc: str | None = None,
    ) -> None:
        self.description = str(spec)
        self.finite = not device
        if device:
            self._capture = cv2.VideoCapture(spec, cv2.CAP_V4L2)
        else:
            self._capture = cv2.VideoCapture(str(spec))
        if not self._capture.isOpened():
            self._capture.release()
            raise OSError(f"cannot open {'camera' if device else 'video'} {spec}")
        if device:
            # One buffered frame: the driver must see the scene now, not the V4L2 queue.
            self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            if fourcc:
                self._capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fourcc))
            if width and height:
                self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
                self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            if fps:
                self._capture.set(cv2.CAP_PROP_FPS, fps)
            self.frame_interval_s = 0.0
        else:
            file_fps = fps or self._capture.get(cv2.CAP_PROP_FPS) or 15.0
            self.frame_interval_s = 1.0 / file_fps

    def read(self) -> Frame | None:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        self._capture.release()


class FolderSource:
    """A folder's images in name order, one per ``frame_interval_s``; unreadable ones skipped.

    The default 5 images a second is slower than the decoder's default 10 frames a second, so
    every image is decoded (faster, the newest-frame rule skips some, as with a real camera).
    """

    finite = True

    def __init__(self, folder: Path, *, fps: float = 5.0) -> None:
        if not folder.is_dir():
            raise OSError(f"no image folder {folder}")
        self.description = str(folder)
        self.frame_interval_s = 1.0 / fps
        self._files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        self._next = 0
        self.skipped = 0

    def read(self) -> Frame | None:
        while self._next < len(self._files):
            path = self._files[self._next]
            self._next += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                return np.asarray(image, dtype=np.uint8)
            self.skipped += 1  # a damaged or truncated file is a bad frame, not the end
            log.warning("folder source: cannot read image %s", path)
        return None

    def close(self) -> None:
        self._next = len(self._files)


def open_source(
    spec: str | int | Path,
    *,
    width: int | None = 1280,
    height: int | None = 720,
    fps: float | None = None,
    fourcc: str | None = "MJPG",
) -> FrameSource:
    """Open a device index or /dev/video path, a folder of images, or a video file.

    Devices ask for 1280×720 by default: there a pass reads at arm's length (40 cm and more),
    at 640×480 it does not (bench/bench_distance.py, docs/camera.md). MJPG keeps 720p at full
    frame rate over USB 2.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CaptureSource(
            int(spec), device=True, width=width, height=height, fps=fps, fourcc=fourcc
        )
    path = Path(spec)
    if str(path).startswith("/dev/"):
        return CaptureSource(
            str(path), device=True, width=width, height=height, fps=fps, fourcc=fourcc
        )
    if path.is_dir():
        return FolderSource(path, fps=fps or 5.0)
    return CaptureSource(str(path), device=False, fps=fps)


# --- scans ----------------------------------------------------------------------------------------


class FrameArchive:
    """Keeps the frame of each scan as JPEG, newest ``max_files`` only (privacy: opt-in)."""

    def __init__(self, folder: Path, *, max_files: int = 200, quality: int = 85) -> None:
        self.folder = folder
        self.max_files = max_files
        self.quality = quality
        folder.mkdir(parents=True, exist_ok=True)

    def save(self, frame: Frame, scan: Scan, wall_s: float) -> Path | None:
        stamp = datetime.fromtimestamp(wall_s, UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        digest = hashlib.sha256(scan.text.encode("utf-8", "replace")).hexdigest()[:12]
        path = self.folder / f"{stamp}-{digest}.jpg"
        if not cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality]):
            log.warning("could not save the scan frame to %s", path)
            return None
        kept = sorted(self.folder.glob("*.jpg"))
        for old in kept[: max(0, len(kept) - self.max_files)]:
            old.unlink(missing_ok=True)
        return path


# --- the scanner ------------------------------------------------------------------------------


class CameraScanner:
    """A camera reading QR codes, implementing drivers.base.Scanner.

    ``source`` is a device index or path, a video file, an image folder, or a callable that
    opens a FrameSource (drivers.sim.camera). ``decode_options`` carry the region of interest
    and the per-frame time budget; ``max_decode_fps`` caps decoding (the frame-rate cap);
    ``source_fps`` paces folders and asks a device for a rate, ``capture_size`` for a frame
    size (None: the device's own). A code seen again within ``reread_window_s`` is one scan.
    No frame for ``stale_after_s`` is DEGRADED, for ``down_after_s`` DOWN and a reopen, backing
    off from ``reopen_min_s`` to ``reopen_max_s``. A finite source ends (DEGRADED) unless
    ``loop``. ``save_dir`` (off by default: frames show faces) keeps the newest
    ``save_max_files`` frames that produced a scan.
    """

    def __init__(
        self,
        name: str,
        source: str | int | Path | SourceOpener,
        *,
        decode_options: DecodeOptions = qr.DEFAULT_OPTIONS,
        decoder: Decoder | None = None,
        max_decode_fps: float = 10.0,
        source_fps: float | None = None,
        capture_size: tuple[int, int] | None = (1280, 720),
        reread_window_s: float = 1.0,
        stale_after_s: float = 2.0,
        down_after_s: float = 5.0,
        reopen_min_s: float = 0.5,
        reopen_max_s: float = 10.0,
        loop: bool = False,
        save_dir: Path | None = None,
        save_max_files: int = 200,
        on_status: StatusListener | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if max_decode_fps <= 0:
            raise ValueError("max_decode_fps must be positive")
        if not 0 < stale_after_s <= down_after_s:
            raise ValueError("need 0 < stale_after_s <= down_after_s")
        self.name = name
        if callable(source):
            self._open: SourceOpener = source
            self.source_description = getattr(source, "__qualname__", "source")
        else:
            spec = source
            width, height = capture_size if capture_size is not None else (None, None)
            self._open = lambda: open_source(spec, width=width, height=height, fps=source_fps)
            self.source_description = str(source)
        options = decode_options
        self._decode: Decoder = decoder or (lambda frame: qr.decode(frame, options, source=name))
        self._decode_interval_s = 1.0 / max_decode_fps
        self._stale_after_s = stale_after_s
        self._down_after_s = down_after_s
        self._reopen = Backoff(reopen_min_s, reopen_max_s)
        self._loop = loop
        self._archive = FrameArchive(save_dir, max_files=save_max_files) if save_dir else None
        self._status_changes = StatusChanges(self.status, on_status)
        self._clock = clock
        self._wall_clock = wall_clock
        self._reread = RereadWindow(reread_window_s)
        self._on_scan: ScanListener | None = None

        self._lock = threading.Condition()
        self._frame: Frame | None = None
        self._frame_seq = 0
        self._taken_seq = 0
        self._generation = 0
        self._state = "stopped"  # opening | open | ended | stopped
        self._opened_s = 0.0
        self._last_frame_s = 0.0
        self._record = HealthRecord(name, self._lock)
        self._counts: Counter[str] = Counter()
        self._decode_ms: list[float] = []
        # The decoder's stop event is the camera's: the capture threads wait on it too.
        self._decoder = Worker(f"camera-{name}", self._decode_loop, on_crash=self._crashed)
        self._captures: list[Worker] = []

    # --- Scanner protocol ------------------------------------------------------------------

    def start(self, on_scan: ScanListener) -> None:
        if self._decoder.alive:
            return
        self._on_scan = on_scan
        self._decoder.start()  # first: its fresh stop event is the one the capture waits on
        self._start_capture(delay_s=0.0)

    def stop(self, timeout_s: float = 2.0) -> None:
        with self._lock:
            self._generation += 1  # every capture thread is now stale and closes its source
            self._lock.notify_all()
        for worker in [self._decoder, *self._captures]:
            worker.stop(timeout_s)
        self._captures = []
        self._set_status(Health.DOWN, "stopped", quiet=True)

    def status(self) -> DeviceStatus:
        now_s = self._clock()
        with self._lock:
            extra = counted(self._counts)
            extra["source"] = self.source_description
            extra["last_error"] = self._record.last_error
            if self._last_frame_s:
                extra["last_frame_age_s"] = f"{now_s - self._last_frame_s:.1f}"
            if self._decode_ms:
                ordered = sorted(self._decode_ms)
                extra["decode_ms_median"] = f"{ordered[len(ordered) // 2]:.1f}"
            return DeviceStatus(self.name, self._record.health, self._record.detail, extra)

    # --- capture threads ---------------------------------------------------------------------

    def _start_capture(self, delay_s: float) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._state = "opening"
            self._captures = [worker for worker in self._captures if worker.alive]
        capture = Worker(
            f"camera-{self.name}-capture-{generation}",
            lambda: self._capture_loop(generation, delay_s),
            on_crash=self._crashed,
        )
        self._captures.append(capture)
        capture.start()

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation and not self._decoder.stopping

    def _capture_loop(self, generation: int, delay_s: float) -> None:
        if delay_s and self._decoder.wait(delay_s):
            return
        while self._current(generation):
            source = self._open_source()
            if source is None:
                if self._decoder.wait(self._next_delay()):
                    return
                continue
            try:
                if not self._pump(source, generation):
                    return
            finally:
                source.close()
            if self._decoder.wait(self._next_delay()):
                return

    def _crashed(self, exc: Exception) -> None:
        """A capture or decode thread raised (it is logged): the camera is down, the process
        goes on."""
        self._set_status(Health.DOWN, f"internal error: {exc!r}")

    def _open_source(self) -> FrameSource | None:
        try:
            source = self._open()
        except SOURCE_ERRORS as exc:
            self._down("open_failures", f"cannot open {self.source_description}: {exc}")
            return None
        now_s = self._clock()
        with self._lock:
            self._state = "open"
            self._opened_s = now_s
            self._counts["opens"] += 1
            first_open = self._counts["opens"] == 1
            health = self._record.health
        if first_open:
            self._set_status(Health.OK, f"open: {source.description}")
        else:  # a reopened camera is healthy again at its first frame, not at open()
            self._set_status(
                health, f"reopened {source.description}; waiting for frames", quiet=True
            )
        return source

    def _pump(self, source: FrameSource, generation: int) -> bool:
        """Read frames into the slot. False: stop for good; True: reopen after a pause."""
        next_s = self._clock()
        while self._current(generation):
            try:
                frame = source.read()
            except SOURCE_ERRORS as exc:
                self._down("read_failures", f"read failed: {exc}")
                return True
            if not self._current(generation):
                return False  # the watchdog gave up on this read; a newer thread owns the camera
            if frame is None:
                if source.finite:
                    return self._ended(source)
                self._decoder.wait(0.01)  # a live source with nothing yet: the watchdog judges
                continue
            self._put(frame)
            if source.frame_interval_s:
                next_s += source.frame_interval_s
                delay_s = next_s - self._clock()
                if delay_s > 0 and self._decoder.wait(delay_s):
                    return False
                next_s = max(next_s, self._clock() - source.frame_interval_s)
        return False

    def _ended(self, source: FrameSource) -> bool:
        if self._loop:
            self._count("loops")
            return True
        with self._lock:
            self._state = "ended"
            frames = self._counts["frames"]
        self._set_status(Health.DEGRADED, f"end of {source.description} after {frames} frames")
        return False

    def _put(self, frame: Frame) -> None:
        now_s = self._clock()
        with self._lock:
            if self._frame_seq > self._taken_seq:
                self._counts["dropped"] += 1  # never decoded: a newer frame replaced it
            self._frame = frame
            self._frame_seq += 1
            self._counts["frames"] += 1
            self._last_frame_s = now_s
            self._reopen.reset()
            recovered = self._record.health is not Health.OK
            self._lock.notify_all()
        if recovered:
            self._set_status(Health.OK, f"frames from {self.source_description}")

    def _next_delay(self) -> float:
        with self._lock:
            return self._reopen.next_s()

    # --- decode thread and watchdog ---------------------------------------------------------

    def _decode_loop(self) -> None:
        next_decode_s = self._clock()
        while not self._decoder.stopping:
            frame = self._take(timeout_s=min(0.1, self._stale_after_s / 4))
            self._watchdog()
            if frame is None:
                continue
            self._process(frame)
            next_decode_s = max(next_decode_s + self._decode_interval_s, self._clock())
            delay_s = next_decode_s - self._clock()
            if delay_s > 0 and self._decoder.wait(delay_s):
                return

    def _take(self, timeout_s: float) -> Frame | None:
        """The newest frame not yet decoded, waiting up to ``timeout_s`` for one."""
        with self._lock:
            if self._frame_seq == self._taken_seq:
                self._lock.wait(timeout_s)
            if self._frame_seq == self._taken_seq or self._frame is None:
                return None
            self._taken_seq = self._frame_seq
            frame, self._frame = self._frame, None
            return frame

    def _process(self, frame: Frame) -> None:
        started_s = time.perf_counter()
        scans = self._decode(frame)
        elapsed_ms = (time.perf_counter() - started_s) * 1000
        now_s = self._clock()
        with self._lock:
            self._counts["decoded"] += 1
            self._decode_ms = [*self._decode_ms[-99:], elapsed_ms]
        for scan in scans:
            if self._reread.is_reread(scan, now_s):
                self._count("rereads")
                continue
            self._count("truncated" if scan.truncated else "scans")
            if self._archive is not None:
                self._archive.save(frame, scan, self._wall_clock())
            if self._on_scan is not None:
                self._on_scan(scan)

    def _watchdog(self) -> None:
        now_s = self._clock()
        with self._lock:
            if self._state != "open":
                return
            silent_s = now_s - max(self._last_frame_s, self._opened_s)
        # Details name the threshold, not the running time, so each state is announced once.
        if silent_s >= self._down_after_s:
            self._down("watchdog_reopens", f"no frame for {self._down_after_s:g} s; reopening")
            self._start_capture(delay_s=self._next_delay())
        elif silent_s >= self._stale_after_s:
            self._set_status(Health.DEGRADED, f"no frame for {self._stale_after_s:g} s")

    # --- status --------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def _down(self, counter: str, detail: str) -> None:
        """Count a failure of the source under ``counter`` and report the camera DOWN."""
        self._count(counter)
        self._set_status(Health.DOWN, detail)

    def _set_status(self, health: Health, detail: str, *, quiet: bool = False) -> None:
        if self._record.set(health, detail, quiet=quiet):
            self._status_changes.check()
