"""A simulated camera: frames with (or without) a QR code, and the faults real cameras show.

``SimCamera`` is a ``drivers.camera.FrameSource`` factory: the real ``CameraScanner`` opens it
like a V4L2 device, so tests and demos run the capture thread, the decoder, the re-read window
and the stale-frame watchdog unchanged. ``present`` puts a code in front of the lens for a while;
``freeze`` (no new frames), ``hang`` (a read that blocks, as a wedged USB camera does) and
``unplug`` (open and read fail) are switchable while it runs.
"""

from __future__ import annotations

import threading
import time
from enum import StrEnum

import cv2
import numpy as np
import qrcode
import qrcode.constants
from numpy.typing import NDArray

Frame = NDArray[np.uint8]

FRAME_SIZE = (640, 480)  # width, height: the gate camera's default capture size


def qr_modules(
    payload: str | bytes, *, border: int = 4, mask_pattern: int | None = None
) -> NDArray[np.bool_]:
    """The QR symbol's modules (True = dark) at EC level M, quiet zone included.

    Level M is what printed passes use (edge/passes_pdf.py); the symbol is the smallest that fits.
    ``mask_pattern`` (0-7) skips the encoder's search for the best mask, which is slow.
    """
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=border, mask_pattern=mask_pattern
    )
    qr.add_data(payload)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def render_qr(payload: str | bytes, *, module_px: int = 4, invert: bool = False) -> Frame:
    """The symbol as a grayscale image, ``module_px`` pixels per module (dark 0, light 255)."""
    modules = qr_modules(payload)
    light = np.where(modules, 0, 255).astype(np.uint8)
    image = np.kron(light, np.ones((module_px, module_px), dtype=np.uint8))
    return np.invert(image) if invert else image  # 255 - v for uint8, and stays uint8


def scene(payload: str | bytes | None, *, size: tuple[int, int] = FRAME_SIZE) -> Frame:
    """A plain BGR frame: mid-grey background, and the code centred when ``payload`` is given."""
    width, height = size
    frame = np.full((height, width, 3), 96, dtype=np.uint8)
    if payload is not None:
        symbol = render_qr(payload, module_px=max(1, min(width, height) // 2 // 57))
        top = (height - symbol.shape[0]) // 2
        left = (width - symbol.shape[1]) // 2
        region = frame[top : top + symbol.shape[0], left : left + symbol.shape[1]]
        region[:] = cv2.cvtColor(symbol, cv2.COLOR_GRAY2BGR)
    return frame


class CameraFault(StrEnum):
    """How the simulated camera misbehaves; switchable while it runs."""

    NONE = "none"
    FREEZE = "freeze"  # read() returns no frame (the stream stopped, the device still open)
    HANG = "hang"  # read() blocks until the fault is cleared or the source is closed
    UNPLUG = "unplug"  # open() and read() raise OSError, as a vanished /dev/video node does


class SimCamera:
    """A camera producing ``fps`` frames per second of a fixed scene; open it with ``open()``."""

    def __init__(self, *, fps: float = 30.0, size: tuple[int, int] = FRAME_SIZE) -> None:
        self.fps = fps
        self.size = size
        self._lock = threading.Condition()
        self._fault = CameraFault.NONE
        self._empty = scene(None, size=size)
        self._showing: Frame | None = None
        self._showing_until_s = 0.0
        self.opens = 0
        self.frames_delivered = 0

    @property
    def fault(self) -> CameraFault:
        with self._lock:
            return self._fault

    @fault.setter
    def fault(self, fault: CameraFault) -> None:
        with self._lock:
            self._fault = fault
            self._lock.notify_all()

    def present(self, payload: str | bytes, seconds: float = 1.0) -> None:
        """Hold a code in front of the lens for ``seconds``."""
        frame = scene(payload, size=self.size)
        with self._lock:
            self._showing = frame
            self._showing_until_s = time.monotonic() + seconds

    def open(self) -> SimCameraStream:
        """What a driver calls to open the device; raises OSError while unplugged."""
        with self._lock:
            if self._fault is CameraFault.UNPLUG:
                raise OSError("simulated camera unplugged")
            self.opens += 1
        return SimCameraStream(self)

    # --- used by the stream ------------------------------------------------------------------

    def _next_frame(self, stream: SimCameraStream) -> Frame | None:
        time.sleep(1.0 / self.fps)
        with self._lock:
            while self._fault is CameraFault.HANG and not stream.closed:
                self._lock.wait(0.05)
            if self._fault is CameraFault.UNPLUG:
                raise OSError("simulated camera unplugged")
            if self._fault is CameraFault.FREEZE or stream.closed:
                return None
            frame = self._empty
            if self._showing is not None and time.monotonic() < self._showing_until_s:
                frame = self._showing
            self.frames_delivered += 1
            return frame.copy()

    def _wake(self) -> None:
        with self._lock:
            self._lock.notify_all()


class SimCameraStream:
    """One open handle on a SimCamera (a FrameSource)."""

    finite = False
    description = "sim"
    frame_interval_s = 0.0  # the camera paces itself

    def __init__(self, camera: SimCamera) -> None:
        self._camera = camera
        self.closed = False

    def read(self) -> Frame | None:
        return self._camera._next_frame(self)

    def close(self) -> None:
        self.closed = True
        self._camera._wake()
