"""Deterministic gate-realistic QR images: Kakou passes seen by a 640×480 gate camera.

Every image is a real pass token (edge.passes.issue) drawn as a printed card (40 mm symbol, as
edge/passes_pdf.py prints it) or on a phone screen, placed 15–40 cm in front of a pinhole camera
(62° horizontal field of view, a common USB/Pi camera) with up to 35° of tilt and any in-plane
rotation, rendered at 3× and area-averaged down, as a sensor integrates light. Then the faults a
gate sees: defocus and motion blur, glare, low contrast, sensor noise, JPEG, inverted (dark-mode)
codes and a finger over the symbol. Same seed, same images, on any machine.

    python bench/qr_images.py --fixtures tests/fixtures/qr   # regenerate the golden test images
    python bench/qr_images.py --out /tmp/qr-set --count 300  # write the benchmark set to look at
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from numpy.typing import NDArray

from drivers.sim.camera import qr_modules
from edge import passes
from edge.model import PassKind

Image = NDArray[np.uint8]

WIDTH, HEIGHT = 640, 480
HFOV_DEG = 62.0
SUPERSAMPLE = 3
TEXTURE_MODULE_PX = 6
PRINTED_SYMBOL_MM = 40.0  # edge/passes_pdf.py QR_SYMBOL_MM
ISSUED = datetime(2026, 11, 1, tzinfo=UTC)

FAULTS = ("blur", "motion", "glare", "low_contrast", "noise", "jpeg", "occlusion", "moire")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


@dataclass(frozen=True)
class Camera:
    """A pinhole gate camera: frame size and horizontal field of view (62°: a common USB/Pi
    camera; its 16:9 modes crop the sensor vertically, so the horizontal view stays)."""

    width: int = WIDTH
    height: int = HEIGHT
    hfov_deg: float = HFOV_DEG

    @property
    def focal_px(self) -> float:
        return (self.width / 2) / math.tan(math.radians(self.hfov_deg / 2))


VGA = Camera()
HD = Camera(1280, 720)


@dataclass(frozen=True)
class Sample:
    """One camera frame and what a decoder should read from it (None: nothing)."""

    name: str
    image: Image
    payload: str | None
    tags: tuple[str, ...]
    distance_cm: float = 0.0
    tilt_deg: float = 0.0
    module_px: float = 0.0  # the symbol's module pitch in the frame, pixels


# --- pass tokens -----------------------------------------------------------------------------


def issuer_key(seed: int) -> Ed25519PrivateKey:
    """A deterministic signing key (benchmark and fixtures only: never a real community's key)."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"kakou-bench-{seed}".encode()).digest()
    )


def pass_tokens(count: int, seed: int) -> list[str]:
    """``count`` real KK1 pass tokens of every kind, as an office would issue them."""
    rng = random.Random(seed)
    key = issuer_key(seed)
    kinds = list(PassKind)
    tokens = []
    for number in range(count):
        kind = kinds[number % len(kinds)]
        building, entrance, room = rng.randint(1, 30), rng.randint(1, 6), rng.randint(101, 2802)
        gates = tuple(rng.sample(["north", "south", "east", "west"], rng.randint(0, 2)))
        tokens.append(
            passes.issue(
                key,
                key_id="hxy-2026a",
                community="hxy",
                pass_id=f"{kind.value[0].upper()}-{rng.randint(1, 9_999_999):07d}",
                kind=kind,
                holder=rng.choice(SURNAMES) + "*" + rng.choice(SURNAMES),
                unit=f"{building}-{entrance}-{room}",
                not_before=ISSUED,
                expires=ISSUED + timedelta(days=rng.choice((2, 30, 365))),
                issued_at=ISSUED,
                gates=gates,
                plate=f"京A{rng.randint(10000, 99999)}" if kind is PassKind.VEHICLE else None,
            )
        )
    return tokens


# --- the object in front of the camera -------------------------------------------------------


@dataclass(frozen=True)
class Texture:
    """A flat object (card or phone) as an image, its physical width, and where the symbol is."""

    image: Image  # BGR
    width_mm: float
    symbol_box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the symbol incl. quiet zone, px


def _symbol(payload: str | bytes, invert: bool) -> Image:
    # Any of the eight masks is a valid symbol; fixing one per payload skips the encoder's slow
    # search for the best (every reader must read them all).
    mask = int.from_bytes(hashlib.sha256(_as_bytes(payload)).digest()[:1], "big") % 8
    modules = qr_modules(payload, mask_pattern=mask)
    gray = np.where(modules, 20, 245).astype(np.uint8)
    if invert:
        gray = (255 - gray).astype(np.uint8)
    return np.kron(gray, np.ones((TEXTURE_MODULE_PX, TEXTURE_MODULE_PX), dtype=np.uint8))


def _as_bytes(payload: str | bytes) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def printed_card(payload: str | bytes, rng: np.random.Generator) -> Texture:
    """A pass card: off-white paper, a coloured header band, the symbol and lines of text."""
    symbol = _symbol(payload, invert=False)
    modules = symbol.shape[0] // TEXTURE_MODULE_PX
    px_per_mm = (modules - 8) * TEXTURE_MODULE_PX / PRINTED_SYMBOL_MM
    card_w, card_h = round(85.6 * px_per_mm), round(54.0 * px_per_mm)
    card_h = max(card_h, symbol.shape[0] + round(12 * px_per_mm))
    paper = int(rng.integers(225, 250))
    card = np.full((card_h, card_w, 3), paper, dtype=np.uint8)
    band = (int(rng.integers(60, 200)), int(rng.integers(40, 120)), int(rng.integers(120, 220)))
    card[: round(9 * px_per_mm)] = band
    top = round(10 * px_per_mm)
    card[top : top + symbol.shape[0], : symbol.shape[1]] = cv2.cvtColor(
        np.minimum(symbol, paper).astype(np.uint8), cv2.COLOR_GRAY2BGR
    )
    x_text = symbol.shape[1] + round(2 * px_per_mm)
    for line in range(4):
        y = top + round((4 + line * 9) * px_per_mm)
        card[y : y + round(3 * px_per_mm), x_text : card_w - round(4 * px_per_mm)] = 70
    return Texture(card, 85.6, (0, top, symbol.shape[1], top + symbol.shape[0]))


def phone_screen(payload: str | bytes, rng: np.random.Generator, *, invert: bool) -> Texture:
    """A phone: dark body, a bright (or dark-mode) screen with the symbol 45–58 mm wide."""
    symbol = _symbol(payload, invert=invert)
    symbol_mm = float(rng.uniform(45.0, 58.0))
    px_per_mm = symbol.shape[1] / symbol_mm
    phone_w, phone_h = round(72 * px_per_mm), round(150 * px_per_mm)
    body = int(rng.integers(15, 45))
    phone = np.full((phone_h, phone_w, 3), body, dtype=np.uint8)
    margin = round(3 * px_per_mm)
    screen_level = 30 if invert else int(rng.integers(215, 255))
    tint = np.array([screen_level, screen_level, max(0, screen_level - 12)], dtype=np.uint8)
    phone[margin * 3 : phone_h - margin * 3, margin : phone_w - margin] = tint
    top = (phone_h - symbol.shape[0]) // 2
    left = (phone_w - symbol.shape[1]) // 2
    phone[top : top + symbol.shape[0], left : left + symbol.shape[1]] = cv2.cvtColor(
        symbol, cv2.COLOR_GRAY2BGR
    )
    return Texture(phone, 72.0, (left, top, left + symbol.shape[1], top + symbol.shape[0]))


# --- the camera --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pose:
    """Where the object is: distance, lateral offset (mm), tilt and in-plane rotation (degrees)."""

    distance_mm: float
    offset_mm: tuple[float, float] = (0.0, 0.0)
    pitch_deg: float = 0.0
    yaw_deg: float = 0.0
    roll_deg: float = 0.0

    @property
    def tilt_deg(self) -> float:
        return math.hypot(self.pitch_deg, self.yaw_deg)


def _rotation(pose: Pose) -> NDArray[np.float64]:
    p, y, r = (math.radians(a) for a in (pose.pitch_deg, pose.yaw_deg, pose.roll_deg))
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def project(
    texture: Texture, pose: Pose, points_px: NDArray[np.float64], camera: Camera = VGA
) -> NDArray[np.float64]:
    """Texture pixel coordinates → image pixel coordinates for ``pose``."""
    height, width = texture.image.shape[:2]
    mm_per_px = texture.width_mm / width
    plane = np.column_stack(
        [
            (points_px[:, 0] - width / 2) * mm_per_px,
            (points_px[:, 1] - height / 2) * mm_per_px,
            np.zeros(len(points_px)),
        ]
    )
    seen = plane @ _rotation(pose).T + np.array([*pose.offset_mm, pose.distance_mm])
    focal_px = camera.focal_px
    x = focal_px * seen[:, 0] / seen[:, 2] + camera.width / 2
    y = focal_px * seen[:, 1] / seen[:, 2] + camera.height / 2
    return np.column_stack([x, y])


def _corners(x0: float, y0: float, x1: float, y1: float) -> NDArray[np.float64]:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def symbol_corners(texture: Texture, pose: Pose, camera: Camera = VGA) -> NDArray[np.float64]:
    """The symbol's four corners (quiet zone excluded) in the image."""
    x0, y0, x1, y1 = texture.symbol_box
    quiet = 4 * TEXTURE_MODULE_PX
    return project(texture, pose, _corners(x0 + quiet, y0 + quiet, x1 - quiet, y1 - quiet), camera)


def module_px(texture: Texture, corners: NDArray[np.float64]) -> float:
    """The mean module pitch in the image: the symbol's mean side over its module count."""
    modules = (texture.symbol_box[2] - texture.symbol_box[0]) / TEXTURE_MODULE_PX - 8
    sides = [float(np.linalg.norm(corners[i] - corners[(i + 1) % 4])) for i in range(4)]
    return sum(sides) / 4 / modules


def background(rng: np.random.Generator, camera: Camera = VGA) -> Image:
    """A gate scene at 3×: a lit gradient, a door frame, a jacket; never a code."""
    width, height = camera.width, camera.height
    base = rng.uniform(60, 160, size=3).astype(np.float32)
    gradient = np.linspace(-35, 35, width, dtype=np.float32)[None, :, None] * rng.uniform(-1, 1)
    image = np.clip(np.broadcast_to(base, (height, width, 3)) + gradient, 0, 255)
    for _ in range(int(rng.integers(2, 5))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(14, width // 2)), y0 + int(rng.integers(14, height // 2))
        image[y0:y1, x0:x1] = rng.uniform(20, 220, size=3)
    small = image.astype(np.uint8)
    size = (width * SUPERSAMPLE, height * SUPERSAMPLE)
    return np.asarray(cv2.resize(small, size, interpolation=cv2.INTER_NEAREST), dtype=np.uint8)


def place(texture: Texture, pose: Pose, scene: Image, camera: Camera = VGA) -> Image:
    """Draw the texture into the 3× scene with a perspective warp; return the camera's frame."""
    height, width = texture.image.shape[:2]
    frame_size = (camera.width, camera.height)
    source = _corners(0, 0, width, height).astype(np.float32)
    target = project(texture, pose, _corners(0, 0, width, height), camera) * SUPERSAMPLE
    # Warp into the object's bounding box only: the rest of the scene is untouched.
    x0, y0 = np.floor(target.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(target.max(axis=0)).astype(int) + 1
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(scene.shape[1], x1), min(scene.shape[0], y1)
    if x1 <= x0 or y1 <= y0:  # wholly outside the picture
        return np.asarray(cv2.resize(scene, frame_size, interpolation=cv2.INTER_AREA), np.uint8)
    homography = cv2.getPerspectiveTransform(source, (target - [x0, y0]).astype(np.float32))
    size = (int(x1 - x0), int(y1 - y0))
    warped = cv2.warpPerspective(texture.image, homography, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(
        np.full((height, width), 255, dtype=np.uint8), homography, size, flags=cv2.INTER_LINEAR
    )
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    canvas = scene.copy()
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (region * (1 - alpha) + warped.astype(np.float32) * alpha).astype(
        np.uint8
    )
    frame = cv2.resize(canvas, frame_size, interpolation=cv2.INTER_AREA)
    return np.asarray(frame, dtype=np.uint8)


def random_pose(
    texture: Texture,
    rng: np.random.Generator,
    distance_cm: tuple[float, float] = (15, 40),
    camera: Camera = VGA,
) -> Pose:
    """A pose 15–40 cm away, tilted up to 35°, rotated in plane, with the symbol fully in view."""
    distance_mm = float(rng.uniform(*distance_cm)) * 10
    tilt = float(rng.uniform(0, 35))
    direction = float(rng.uniform(0, 2 * math.pi))
    pitch, yaw = tilt * math.cos(direction), tilt * math.sin(direction)
    roll = float(rng.uniform(-45, 45))
    for _ in range(20):
        reach = distance_mm * 0.25
        offset = (float(rng.uniform(-reach, reach)), float(rng.uniform(-reach * 0.7, reach * 0.7)))
        pose = Pose(distance_mm, offset, pitch, yaw, roll)
        corners = symbol_corners(texture, pose, camera)
        inside = (corners[:, 0] > 4) & (corners[:, 0] < camera.width - 4)
        inside &= (corners[:, 1] > 4) & (corners[:, 1] < camera.height - 4)
        if inside.all():
            return pose
    return Pose(distance_mm, (0.0, 0.0), pitch, yaw, roll)


# --- what goes wrong between the code and the sensor -----------------------------------------


def _symbol_region(corners: NDArray[np.float64]) -> tuple[float, float, float]:
    centre = corners.mean(axis=0)
    size = float(np.linalg.norm(corners[0] - corners[2]) / math.sqrt(2))
    return float(centre[0]), float(centre[1]), size


def apply_fault(
    fault: str, frame: Image, corners: NDArray[np.float64], rng: np.random.Generator
) -> Image:
    """One degradation, at a strength drawn from what gates see."""
    cx, cy, size = _symbol_region(corners)
    image = frame.astype(np.float32)
    if fault == "blur":
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 1.2)))
    elif fault == "motion":
        length = int(rng.integers(3, 8))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rotation = cv2.getRotationMatrix2D(
            (length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0
        )
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        image = cv2.filter2D(image, -1, kernel / max(float(kernel.sum()), 1e-6))
    elif fault == "glare":
        yy, xx = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]].astype(np.float32)
        gx = cx + float(rng.uniform(-0.4, 0.4)) * size
        gy = cy + float(rng.uniform(-0.4, 0.4)) * size
        sx, sy = size * float(rng.uniform(0.12, 0.3)), size * float(rng.uniform(0.08, 0.25))
        blob = np.exp(-(((xx - gx) / sx) ** 2 + ((yy - gy) / sy) ** 2) / 2)
        image = image + blob[..., None] * float(rng.uniform(120, 230))
    elif fault == "low_contrast":
        mean = float(image.mean())
        image = mean + (image - mean) * float(rng.uniform(0.22, 0.4))
    elif fault == "noise":
        image = image + rng.normal(0, float(rng.uniform(5, 14)), size=image.shape)
    elif fault == "occlusion":
        angle = float(rng.uniform(0, 2 * math.pi))
        reach = size * float(rng.uniform(0.42, 0.55))
        fx, fy = cx + reach * math.cos(angle), cy + reach * math.sin(angle)
        axes = (round(size * float(rng.uniform(0.1, 0.16))), round(size * 0.45))
        skin = tuple(float(v) for v in rng.uniform([110, 130, 170], [150, 170, 220]))
        cv2.ellipse(image, (round(fx), round(fy)), axes, math.degrees(angle) + 90, 0, 360, skin, -1)
    elif fault == "moire":
        # A phone screen's pixel grid beating with the sensor's: a fine grating over the symbol.
        yy, xx = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]].astype(np.float32)
        period, angle = float(rng.uniform(2.1, 5.0)), float(rng.uniform(0, math.pi))
        phase = (xx * math.cos(angle) + yy * math.sin(angle)) * (2 * math.pi / period)
        near = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.9 * size) ** 2)))
        depth = float(rng.uniform(0.15, 0.35)) * near
        image = image * (1 - depth * (0.5 + 0.5 * np.cos(phase)))[..., None]
    elif fault == "jpeg":
        quality = int(rng.integers(20, 55))
        clipped = np.clip(image, 0, 255).astype(np.uint8)
        ok, data = cv2.imencode(".jpg", clipped, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        image = cv2.imdecode(data, cv2.IMREAD_COLOR).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def render(
    payload: str | bytes,
    rng: np.random.Generator,
    *,
    phone: bool,
    invert: bool = False,
    faults: tuple[str, ...] = (),
    pose: Pose | None = None,
    camera: Camera = VGA,
    distance_cm: tuple[float, float] = (15, 40),
) -> tuple[Image, Pose, float]:
    """One frame of ``payload`` on a card or a phone, at ``pose`` (random if None), and the
    symbol's module pitch in it (pixels)."""
    texture = phone_screen(payload, rng, invert=invert) if phone else printed_card(payload, rng)
    pose = pose if pose is not None else random_pose(texture, rng, distance_cm, camera)
    frame = place(texture, pose, background(rng, camera), camera)
    corners = symbol_corners(texture, pose, camera)
    # JPEG last: the camera (or its USB MJPEG stream) compresses what the sensor saw.
    for fault in sorted(faults, key=lambda name: name == "jpeg"):
        frame = apply_fault(fault, frame, corners, rng)
    return frame, pose, module_px(texture, corners)


SMALL_MODULE_PX = 2.0  # below this pitch a frame is also tagged "small_modules"


def generate(
    count: int = 300,
    seed: int = 2026,
    camera: Camera = VGA,
    distance_cm: tuple[float, float] = (15, 40),
) -> list[Sample]:
    """The benchmark set: ``count`` frames, each a pass 15–40 cm away with 0–3 faults."""
    tokens = pass_tokens(count, seed)
    samples = []
    for index, token in enumerate(tokens):
        rng = np.random.default_rng([seed, index])
        phone = bool(rng.random() < 0.5)
        invert = phone and bool(rng.random() < 0.2)
        faults = tuple(
            sorted(str(f) for f in rng.choice(FAULTS, size=int(rng.integers(0, 4)), replace=False))
        )
        if "moire" in faults and not phone:
            faults = tuple(f for f in faults if f != "moire")  # paper has no pixel grid
        frame, pose, pitch_px = render(
            token,
            rng,
            phone=phone,
            invert=invert,
            faults=faults,
            camera=camera,
            distance_cm=distance_cm,
        )
        tags = ("phone" if phone else "printed", *(("inverted",) if invert else ()), *faults)
        if pitch_px < SMALL_MODULE_PX:
            tags = (*tags, "small_modules")
        samples.append(
            Sample(
                f"{index:04d}", frame, token, tags, pose.distance_mm / 10, pose.tilt_deg, pitch_px
            )
        )
    return samples


# --- a code walking into view -----------------------------------------------------------------


@dataclass(frozen=True)
class Approach:
    """Frames of a pass carried into view and up to the camera, and when it is fully in view."""

    frames: list[Image]
    fps: float
    in_view_index: int
    payload: str
    poses: list[Pose] = field(default_factory=list)


def approach_video(seed: int = 7, fps: float = 15.0, seconds: float = 3.0) -> Approach:
    """A printed pass comes in from the right at 35 cm and is brought up to 17 cm, then held.

    Motion blur follows the speed in the image; the first frame with the whole symbol inside
    the picture is ``in_view_index``.
    """
    token = pass_tokens(1, seed)[0]
    rng = np.random.default_rng([seed, 99])
    texture = printed_card(token, rng)
    scene = background(rng)
    count = round(fps * seconds)
    frames: list[Image] = []
    poses: list[Pose] = []
    in_view = -1
    previous: NDArray[np.float64] | None = None
    for index in range(count):
        progress = min(1.0, index / (count * 0.6))  # moving for 60 % of the clip, then held
        ease = 1 - (1 - progress) ** 2
        pose = Pose(
            distance_mm=350 - 180 * ease,
            offset_mm=(330 * (1 - ease), 40 * (1 - ease)),
            pitch_deg=25 * (1 - ease) + 6,
            yaw_deg=-30 * (1 - ease),
            roll_deg=20 * (1 - ease),
        )
        frame = place(texture, pose, scene)
        corners = symbol_corners(texture, pose)
        if previous is not None:
            shift = float(np.abs(corners - previous).max())
            if shift > 1.5:
                frame = np.asarray(cv2.blur(frame, (max(1, round(shift * 0.3)), 1)), np.uint8)
        previous = corners
        inside = (corners[:, 0] >= 0) & (corners[:, 0] < WIDTH)
        inside &= (corners[:, 1] >= 0) & (corners[:, 1] < HEIGHT)
        if in_view < 0 and inside.all():
            in_view = index
        frames.append(frame)
        poses.append(pose)
    return Approach(frames, fps, in_view, token, poses)


# --- golden images for the tests --------------------------------------------------------------


FIXTURES: tuple[tuple[str, str, dict[str, object]], ...] = (
    # name, what, render options
    ("printed_near", "pass", {"phone": False, "distance_cm": (15, 17)}),
    ("phone_tilted", "pass", {"phone": True, "distance_cm": (16, 18), "tilt": 30.0}),
    ("phone_dark_mode", "pass", {"phone": True, "invert": True, "distance_cm": (15, 17)}),
    ("printed_low_contrast", "pass", {"phone": False, "faults": ("low_contrast",)}),
    ("printed_blur_jpeg", "pass", {"phone": False, "faults": ("blur", "jpeg")}),
    ("phone_glare", "pass", {"phone": True, "faults": ("glare",)}),
    ("chinese_text", "中文出入证：王*华 3-2-501", {"phone": True, "distance_cm": (15, 16)}),
    ("binary_gbk", "gbk", {"phone": False, "distance_cm": (15, 16)}),
    ("printed_far", "pass", {"phone": False, "distance_cm": (31, 32)}),
    ("empty_scene", "none", {}),
    ("damaged_half_torn", "pass", {"phone": False, "distance_cm": (15, 16), "tear": True}),
)


def _fixture_payload(what: str, seed: int) -> str | bytes | None:
    if what == "pass":
        return pass_tokens(1, seed)[0]
    if what == "none":
        return None
    if what == "gbk":
        return "通行证 B-0042".encode("gbk")  # not UTF-8: OpenCV's text API raises on it
    return what


def fixture(name: str, what: str, options: dict[str, object], seed: int) -> Sample:
    """One golden image and the text the decoder must return (None: no scan)."""
    rng = np.random.default_rng([seed, sum(name.encode())])
    payload = _fixture_payload(what, seed + sum(name.encode()))
    if payload is None:
        frame = place_nothing(rng)
        return Sample(name, frame, None, ("empty",))
    phone = bool(options.get("phone", False))
    texture = (
        phone_screen(payload, rng, invert=bool(options.get("invert", False)))
        if phone
        else printed_card(payload, rng)
    )
    low, high = options.get("distance_cm", (16, 22))  # type: ignore[misc]
    pose = random_pose(texture, rng, (float(low), float(high)))
    tilt = float(options.get("tilt", 0.0))  # type: ignore[arg-type]
    if tilt:
        pose = Pose(pose.distance_mm, (0.0, 0.0), tilt * 0.8, tilt * 0.6, pose.roll_deg)
    frame = place(texture, pose, background(rng))
    corners = symbol_corners(texture, pose)
    for fault in options.get("faults", ()):  # type: ignore[attr-defined]
        frame = apply_fault(str(fault), frame, corners, rng)
    expected: str | None
    if options.get("tear"):
        # Half the symbol torn away: far beyond what EC level M recovers; no decoder may guess.
        cv2.fillConvexPoly(
            frame, np.round(np.vstack([corners[:2], corners[2:3]])).astype(np.int32), (200,) * 3
        )
        expected = None
    elif isinstance(payload, bytes):
        expected = ""  # GBK without ECI: not text by the symbol's declaration, so unreadable
    else:
        expected = payload
    return Sample(name, frame, expected, (what,), pose.distance_mm / 10, pose.tilt_deg)


def place_nothing(rng: np.random.Generator, camera: Camera = VGA) -> Image:
    scene = background(rng, camera)
    size = (camera.width, camera.height)
    return np.asarray(cv2.resize(scene, size, interpolation=cv2.INTER_AREA), np.uint8)


def iter_fixtures(seed: int = 11) -> Iterator[Sample]:
    for name, what, options in FIXTURES:
        yield fixture(name, what, options, seed)


def write_fixtures(out_dir: Path, seed: int = 11) -> dict[str, str | None]:
    """Write the golden images (JPEG, as a camera stream delivers them) and expected.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, str | None] = {}
    for sample in iter_fixtures(seed):
        file_name = f"{sample.name}.jpg"
        cv2.imwrite(str(out_dir / file_name), sample.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        manifest[file_name] = sample.payload
    (out_dir / "expected.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, help="write the golden test images here")
    parser.add_argument("--out", type=Path, help="write the benchmark set here as JPEG files")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.fixtures is not None:
        manifest = write_fixtures(args.fixtures)
        size = sum(path.stat().st_size for path in args.fixtures.iterdir())
        print(f"{len(manifest)} golden images in {args.fixtures} ({size / 1024:.0f} KiB)")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for sample in generate(args.count, args.seed):
            tags = "-".join(sample.tags)
            cv2.imwrite(str(args.out / f"{sample.name}-{tags}.jpg"), sample.image)
        print(f"{args.count} images in {args.out}")
    if args.fixtures is None and args.out is None:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
