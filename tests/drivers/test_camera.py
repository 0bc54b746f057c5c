"""drivers.camera: folder and video-file sources through the real capture and decode threads,
newest-frame-only, the re-read window, contained decoder failures and the stale-frame watchdog."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers import qr
from drivers.base import DeviceStatus, Health, Scan
from drivers.camera import CameraScanner, FolderSource, open_source
from drivers.sim.camera import CameraFault, SimCamera, scene
from tests.drivers.test_qr import EXPECTED, FIXTURES
from tests.drivers.waiting import wait_until


def expected_text(fixture: str) -> str:
    """What a fixture that holds a code reads as."""
    text = EXPECTED[fixture]
    assert text is not None, f"{fixture} holds no code"
    return text


PASS_A = expected_text("printed_near.jpg")
PASS_B = expected_text("phone_tilted.jpg")


class Probe:
    """A CameraScanner's scans and status changes, collected thread-safely."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scans: list[Scan] = []
        self.statuses: list[DeviceStatus] = []

    def on_scan(self, scan: Scan) -> None:
        with self.lock:
            self.scans.append(scan)

    def on_status(self, status: DeviceStatus) -> None:
        with self.lock:
            self.statuses.append(status)

    @property
    def texts(self) -> list[str]:
        with self.lock:
            return [scan.text for scan in self.scans]

    def healths(self) -> list[Health]:
        with self.lock:
            return [status.health for status in self.statuses]


@pytest.fixture
def cameras() -> Iterator[list[CameraScanner]]:
    started: list[CameraScanner] = []
    yield started
    for camera in started:
        camera.stop()


def start(
    cameras: list[CameraScanner], probe: Probe, source: object, **options: object
) -> CameraScanner:
    camera = CameraScanner("cam-1", source, on_status=probe.on_status, **options)  # type: ignore[arg-type]
    cameras.append(camera)
    camera.start(probe.on_scan)
    return camera


def start_simulated(
    cameras: list[CameraScanner], **options: object
) -> tuple[SimCamera, Probe, CameraScanner]:
    """A 30 fps simulated camera scanned with ``options``, and the probe on what it reports."""
    sim = SimCamera(fps=30)
    probe = Probe()
    return sim, probe, start(cameras, probe, sim.open, **options)


def test_folder_source_reads_each_code_once_in_order(
    tmp_path: Path, cameras: list[CameraScanner]
) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, name in enumerate(
        ["empty_scene.jpg", "printed_near.jpg", "damaged_half_torn.jpg", "chinese_text.jpg"]
    ):
        shutil.copy(FIXTURES / name, folder / f"{index:02d}-{name}")
    (folder / "04-truncated.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (folder / "notes.txt").write_text("not an image")
    probe = Probe()
    camera = start(cameras, probe, folder, reread_window_s=0.5)
    assert wait_until(lambda: "end of" in camera.status().detail, timeout_s=5)
    assert probe.texts == [PASS_A, EXPECTED["chinese_text.jpg"]]
    status = camera.status()
    assert status.health is Health.DEGRADED  # a finished source is no longer a working camera
    assert status.extra["frames"] == "4"  # the broken file was skipped, the text file ignored


def write_video(path: Path, frames: list[qr.Frame], fps: float = 20.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()


def test_video_file_source_one_scan_per_presentation(
    tmp_path: Path, cameras: list[CameraScanner]
) -> None:
    empty, code_a, code_b = scene(None), scene(PASS_A), scene(PASS_B)
    video = tmp_path / "gate.avi"
    write_video(video, [empty] * 4 + [code_a] * 10 + [empty] * 4 + [code_b] * 10 + [empty] * 2)
    probe = Probe()
    camera = start(cameras, probe, str(video), reread_window_s=2.0, max_decode_fps=30)
    assert wait_until(lambda: "end of" in camera.status().detail, timeout_s=8)
    assert probe.texts == [PASS_A, PASS_B]
    assert int(camera.status().extra["rereads"]) > 0


def test_open_source_picks_the_source_by_its_spec(tmp_path: Path) -> None:
    assert isinstance(open_source(FIXTURES), FolderSource)
    with pytest.raises(OSError, match="cannot open video"):
        open_source(tmp_path / "missing.avi")


class GatedSource:
    """A live source that delivers a frame only when the test lets it, numbered in its first
    pixels: what was captured while the decoder worked is known exactly, whatever the load."""

    finite = False
    description = "gated"
    frame_interval_s = 0.0

    def __init__(self) -> None:
        self.produced = 0
        self._allowed = threading.Semaphore(0)

    def allow(self, frames: int) -> None:
        self._allowed.release(frames)

    def read(self) -> qr.Frame | None:
        if not self._allowed.acquire(timeout=0.05):
            return None  # nothing yet; the capture loop asks again
        self.produced += 1
        frame = np.zeros((8, 8), np.uint8)
        frame[0, :4] = np.frombuffer(self.produced.to_bytes(4, "big"), np.uint8)
        return frame

    def close(self) -> None:
        pass


def test_a_slow_decoder_only_ever_sees_the_newest_frame(cameras: list[CameraScanner]) -> None:
    source = GatedSource()
    decoding = threading.Semaphore(0)  # a permit each time a decode starts
    finish = threading.Semaphore(0)  # a permit for each decode the test lets end
    seen: list[int] = []

    def slow_decoder(frame: qr.Frame) -> list[Scan]:
        seen.append(int.from_bytes(frame[0, :4].tobytes(), "big"))
        decoding.release()
        finish.acquire(timeout=10)  # held until the test has let frames in meanwhile
        return []

    # The watchdog must not reopen the source while it waits on the test: stale after 60 s.
    camera = start(
        cameras,
        Probe(),
        lambda: source,
        decoder=slow_decoder,
        max_decode_fps=100,
        stale_after_s=60,
        down_after_s=60,
    )

    def decoded_after_capturing(captured: int) -> int:
        """Capture ``captured`` frames while a decode runs, end it: the frame decoded next."""
        frames = source.produced + captured
        source.allow(captured)
        assert wait_until(lambda: camera.status().extra.get("frames") == str(frames))
        finish.release()
        assert decoding.acquire(timeout=5)
        return seen[-1]

    try:
        source.allow(1)
        assert decoding.acquire(timeout=5)
        # Only the last frame captured during a decode is decoded next; the others were
        # dropped from the single slot, never queued.
        assert decoded_after_capturing(10) == 11
        assert decoded_after_capturing(5) == 16
        assert decoded_after_capturing(20) == 36
        assert seen == [1, 11, 16, 36]
        assert camera.status().extra["dropped"] == str(9 + 4 + 19)
    finally:
        finish.release(10)  # no decode waits on the test after it


def test_the_reread_window_slides_while_the_code_stays_in_view(
    cameras: list[CameraScanner],
) -> None:
    sim, probe, _ = start_simulated(cameras, reread_window_s=0.3, max_decode_fps=20)
    sim.present(PASS_A, seconds=1.0)  # held for longer than the window: still one scan
    time.sleep(1.6)  # then out of view for longer than the window
    assert probe.texts == [PASS_A]
    sim.present(PASS_A, seconds=0.3)  # shown again after the window: a new presentation
    assert wait_until(lambda: len(probe.texts) == 2, timeout_s=2)


def test_frame_rate_cap_limits_decodes(cameras: list[CameraScanner]) -> None:
    sim = SimCamera(fps=60)
    camera = start(cameras, Probe(), sim.open, max_decode_fps=5)
    time.sleep(1.0)
    decoded = int(camera.status().extra.get("decoded", "0"))
    assert 3 <= decoded <= 7, decoded
    assert int(camera.status().extra["dropped"]) > 20


def test_decoder_failures_are_bad_frames_and_the_camera_keeps_running(
    monkeypatch: pytest.MonkeyPatch, cameras: list[CameraScanner]
) -> None:

    def zxing_fails(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("zxing choked")

    monkeypatch.setattr(qr.zxingcpp, "read_barcodes", zxing_fails)
    sim, probe, camera = start_simulated(cameras, max_decode_fps=20)
    sim.present(PASS_A, seconds=5)
    assert wait_until(lambda: int(camera.status().extra.get("decoded", "0")) >= 5)
    # zxing fails on every frame; pyzbar, the cascade's second decoder, still reads the code.
    assert wait_until(lambda: probe.texts == [PASS_A], timeout_s=3)
    assert camera.status().health is Health.OK


def test_an_unexpected_decoder_bug_reports_the_camera_down(cameras: list[CameraScanner]) -> None:
    def buggy(frame: qr.Frame) -> list[Scan]:
        raise KeyError("a bug")

    camera = start(cameras, Probe(), SimCamera(fps=30).open, decoder=buggy)
    assert wait_until(lambda: camera.status().health is Health.DOWN, timeout_s=3)
    assert "internal error" in camera.status().detail


@pytest.mark.parametrize("fault", [CameraFault.FREEZE, CameraFault.HANG])
def test_watchdog_degrades_then_reopens_a_silent_source(
    fault: CameraFault, cameras: list[CameraScanner]
) -> None:
    sim, probe, camera = start_simulated(
        cameras,
        stale_after_s=0.2,
        down_after_s=0.5,
        reopen_min_s=0.05,
        reopen_max_s=0.2,
    )
    assert wait_until(lambda: camera.status().health is Health.OK)
    sim.fault = fault
    assert wait_until(lambda: camera.status().health is Health.DEGRADED, timeout_s=2)
    assert wait_until(lambda: camera.status().health is Health.DOWN, timeout_s=2)
    assert wait_until(lambda: sim.opens >= 2, timeout_s=3)  # reopened without a restart
    assert "no frame for" in camera.status().extra["last_error"]
    sim.fault = CameraFault.NONE
    assert wait_until(lambda: camera.status().health is Health.OK, timeout_s=3)
    sim.present(PASS_A, seconds=1.0)
    assert wait_until(lambda: probe.texts == [PASS_A], timeout_s=3)
    healths = probe.healths()
    assert healths.index(Health.DEGRADED) < healths.index(Health.DOWN)


def test_an_unplugged_camera_is_down_and_comes_back(cameras: list[CameraScanner]) -> None:
    sim = SimCamera(fps=30)
    sim.fault = CameraFault.UNPLUG
    camera = start(cameras, Probe(), sim.open, reopen_min_s=0.05, reopen_max_s=0.2)
    assert wait_until(lambda: "cannot open" in camera.status().detail)
    assert camera.status().health is Health.DOWN
    sim.fault = CameraFault.NONE
    assert wait_until(lambda: camera.status().health is Health.OK, timeout_s=3)
    sim.fault = CameraFault.UNPLUG  # unplugged while streaming: read fails, reopen with backoff
    assert wait_until(lambda: camera.status().health is Health.DOWN, timeout_s=2)
    sim.fault = CameraFault.NONE
    assert wait_until(lambda: camera.status().health is Health.OK, timeout_s=3)
    assert int(camera.status().extra["read_failures"]) >= 1


def test_scan_frames_are_saved_only_when_asked(
    tmp_path: Path, cameras: list[CameraScanner]
) -> None:
    sim, probe, _ = start_simulated(cameras, save_dir=tmp_path / "frames", save_max_files=1)
    sim.present(PASS_A, seconds=0.5)
    assert wait_until(lambda: probe.texts == [PASS_A])
    saved = list((tmp_path / "frames").glob("*.jpg"))
    assert len(saved) == 1
    assert [scan.text for scan in qr.decode(np.asarray(cv2.imread(str(saved[0])), np.uint8))] == [
        PASS_A
    ]
    other = SimCamera(fps=30)
    start(cameras, Probe(), other.open)
    other.present(PASS_A, seconds=0.3)
    time.sleep(0.5)
    assert len(list(tmp_path.rglob("*.jpg"))) == 1
