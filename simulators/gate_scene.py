"""A seeded synthetic school-gate scene, as a thermal camera sees it, with ground truth.

People walk toward the camera in a queue (sometimes two side by side), from
``start_m`` to ``end_m`` metres, then pass it. Each head is rendered at
``oversample`` times the sensor resolution in its own small patch (hair, face
skin, cooler nose and cheeks, periorbital area, cornea, inner-canthus hot spots,
optional glasses that hide the canthus, neck) and area-averaged down, so a
distant face blurs its canthus exactly as a real focal plane does. Behind them:
a background gradient, a blackbody at a set temperature, and hot distractors
(a cup of tea on a table and in some hands at 50-70 degC, a sunlit wall, a
heater). The sensor adds NETD noise, a fixed pattern, and a slowly drifting
offset with occasional steps (shutter / FFC events).

Output: frames as replay arrays ((N, H, W) float32 degC, what the ``replay``
thermal camera plays), labels per person (core temperature, fever flag, the
frames in which the head is fully in view with its position and width), and
the raw encodings of each camera for decoder tests (``raw_frames``).

    python -m simulators.gate_scene --people 40 --seed 1 --out scene.npy

writes scene.npy and scene.json (labels, blackbody ROI, a device entry to paste).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from drivers.thermal import codec

CAMERA_HEIGHT_M = 1.40
SHIFT = 4  # fixed-point bits for sub-pixel drawing
ONE = 1 << SHIFT


@dataclass(frozen=True)
class SceneSpec:
    people: int = 40
    seed: int = 1
    width: int = 256
    height: int = 192
    hfov_deg: float = 56.0  # P2 Pro; Lepton 3.5 is 57, MLX90640 55 or 110
    fps: float = 9.0
    oversample: int = 4
    threshold_c: float = 37.3
    fever_share: float = 0.15
    offset_sd_c: float = 0.05  # person to person spread of core minus canthus, around 0.5
    glasses_share: float = 0.05
    pair_share: float = 0.2  # arrivals of two people side by side
    cup_carry_share: float = 0.04
    spacing_s: tuple[float, float] = (1.1, 2.3)  # between arrivals
    start_m: float = 4.5
    end_m: float = 1.1
    ambient_c: float = 20.0
    blackbody: bool = True
    blackbody_c: float = 35.0
    distractors: tuple[str, ...] = ("cup", "wall", "heater")
    netd_c: float = 0.05
    fixed_pattern_c: float = 0.08
    offset_c: float | None = None  # the camera's own absolute error; None: drawn in [-1, 1]
    drift_c: float = 0.3  # amplitude of the slow drift
    step_every_s: float = 60.0  # mean time between offset steps (0: none)
    lead_in_s: float = 1.0
    # optics: another lens and sensor than the default P2 Pro-like one (see OPTICS)
    blur_sigma_px: float = 0.5  # Gaussian optics blur on the sensor
    canthus_scale: float = 1.0  # inner-canthus hot spot radius, times the default 0.04 head widths
    # pupils running through: crossing the measurable range in 2-3 frames at 9 fps
    fast_share: float = 0.0
    fast_speed_mps: tuple[float, float] = (3.0, 4.0)


# Optics parameter sets: (blur sigma px, canthus scale, horizontal field of view). `soft_wide` is a softer,
# wider lens with a smaller-looking canthus: its canthus reads lower than the default blur table expects.
OPTICS: dict[str, dict[str, float]] = {
    "default": {"blur_sigma_px": 0.5, "canthus_scale": 1.0},
    "soft_wide": {"blur_sigma_px": 0.85, "canthus_scale": 0.8, "hfov_deg": 62.0},
}


def with_optics(spec: SceneSpec, name: str) -> SceneSpec:
    return replace(spec, **OPTICS[name])  # type: ignore[arg-type]  # float fields only


@dataclass(frozen=True)
class Person:
    id: int
    core_c: float
    fever: bool
    canthus_c: float
    glasses: bool
    cup_c: float | None
    start_s: float
    speed_mps: float
    lateral_m: float
    eye_height_m: float
    head_width_m: float
    skin_c: float  # forehead
    hair_c: float
    cloth_c: float


@dataclass
class PersonLabel:
    id: int
    core_c: float
    fever: bool
    glasses: bool
    carries_cup: bool
    track: list[tuple[int, float, float, float]] = field(default_factory=list)  # frame, cx, cy, face width px

    @property
    def frames(self) -> list[int]:
        return [t[0] for t in self.track]


@dataclass
class Scene:
    spec: SceneSpec
    frames: np.ndarray  # (N, H, W) float32 degC
    labels: list[PersonLabel]
    blackbody_roi: list[int] | None  # [x, y, w, h], inside the blackbody

    def save(self, out: str | Path) -> tuple[Path, Path]:
        """Write the replay array and its labels (same name, .json)."""
        out = Path(out)
        np.save(out, self.frames.astype(np.float32))
        meta = out.with_suffix(".json")
        meta.write_text(json.dumps(describe(self.spec, self.labels, self.blackbody_roi, out), indent=1))
        return out, meta


def describe(spec: SceneSpec, labels: list[PersonLabel], roi: list[int] | None, out: Path) -> dict:
    device = {"id": "gate-cam", "kind": "thermal_camera", "driver": "replay", "path": str(out),
              "fps": spec.fps}
    if roi is not None:
        device["blackbody"] = {"roi": roi, "temp_c": spec.blackbody_c}
    return {
        "spec": asdict(spec),
        "blackbody_roi": roi,
        "device": device,
        "people": [asdict(lb) | {"frames": lb.frames} for lb in labels],
    }


# -- planning: who walks when ---------------------------------------------------------
def plan(spec: SceneSpec) -> list[Person]:
    rng = np.random.default_rng(spec.seed)
    people: list[Person] = []
    t = spec.lead_in_s
    while len(people) < spec.people:
        pair = rng.random() < spec.pair_share and spec.people - len(people) >= 2
        lanes = [-0.32, 0.32] if pair else [0.0]
        for lane in lanes:
            people.append(_person(rng, spec, len(people), t + rng.uniform(0, 0.3) * pair, lane))
        t += rng.uniform(*spec.spacing_s)
    return people


def _person(rng: np.random.Generator, spec: SceneSpec, pid: int, start: float, lane: float) -> Person:
    fever = bool(rng.random() < spec.fever_share)
    if fever:  # clustered just above the threshold, a tail up to 39.5
        core = spec.threshold_c + min(rng.exponential(0.5), 2.2)
    else:  # healthy pupils around 36.75, with a tail up to just below the threshold
        core = min(rng.normal(36.75, 0.25), spec.threshold_c - 0.01)
    canthus = core - 0.5 + rng.normal(0, spec.offset_sd_c)
    person = Person(
        id=pid, core_c=round(float(core), 3), fever=fever, canthus_c=float(canthus),
        glasses=bool(rng.random() < spec.glasses_share),
        cup_c=float(rng.uniform(50, 70)) if rng.random() < spec.cup_carry_share else None,
        start_s=float(start), speed_mps=float(rng.uniform(1.0, 1.5)),
        lateral_m=float(lane + rng.normal(0, 0.06)), eye_height_m=float(rng.uniform(1.2, 1.6)),
        head_width_m=float(rng.uniform(0.135, 0.16)), skin_c=float(canthus - rng.uniform(1.0, 2.0)),
        hair_c=float(rng.uniform(25.0, 29.0)), cloth_c=float(rng.uniform(22.0, 28.5)),
    )
    if spec.fast_share > 0 and rng.random() < spec.fast_share:  # drawn last: other scenes stay as they were
        person = replace(person, speed_mps=float(rng.uniform(*spec.fast_speed_mps)))
    return person


def calibration_plan(spec: SceneSpec, walkers: int = 5, passes: int = 4, gap_s: float = 4.5) -> list[Person]:
    """Staff walking through the gate one at a time, ``passes`` times each (an on-site calibration)."""
    rng = np.random.default_rng(spec.seed + 31_337)
    calm = replace(spec, glasses_share=0.0, cup_carry_share=0.0, fever_share=0.0, fast_share=0.0)
    staff = [_person(rng, calm, i, 0.0, 0.0) for i in range(walkers)]
    people: list[Person] = []
    t = spec.lead_in_s
    for _ in range(passes):
        for w in staff:
            people.append(replace(w, id=len(people), start_s=t, speed_mps=float(rng.uniform(1.0, 1.4)),
                                  lateral_m=float(rng.normal(0, 0.08))))
            t += gap_s
    return people


def truth_rows(spec: SceneSpec, labels: list[PersonLabel]) -> list[tuple[float, float, float]]:
    """(start_s, end_s, core_c) per person in view: the TRUTH.csv of `campus-edge screening calibrate`."""
    return [(round(lb.track[0][0] / spec.fps, 2), round(lb.track[-1][0] / spec.fps, 2), lb.core_c)
            for lb in labels if lb.track]


def with_core(p: Person, core_c: float, threshold_c: float = 37.3) -> Person:
    """The same person with another core temperature (canthus and skin follow)."""
    shift = core_c - p.core_c
    return replace(p, core_c=core_c, fever=core_c >= threshold_c, canthus_c=p.canthus_c + shift,
                   skin_c=p.skin_c + shift)


@dataclass(frozen=True)
class _Pose:
    d: float
    scale: float  # sensor pixels per metre at this distance
    cx: float
    cy: float  # head centre, sensor pixels
    width_px: float


def _pose(spec: SceneSpec, p: Person, t: float) -> _Pose | None:
    d = spec.start_m - p.speed_mps * (t - p.start_s)
    if t < p.start_s or d < spec.end_m:
        return None
    f = (spec.width / 2) / math.tan(math.radians(spec.hfov_deg) / 2)
    s = f / d
    head_h = 1.3 * p.head_width_m
    cx = spec.width / 2 + p.lateral_m * s
    eye_y = spec.height / 2 - (p.eye_height_m - CAMERA_HEIGHT_M) * s
    return _Pose(d, s, cx, eye_y + 0.05 * head_h * s, p.head_width_m * s)


def _in_view(spec: SceneSpec, pose: _Pose) -> bool:
    half_w, half_h = 0.5 * pose.width_px, 0.65 * pose.width_px
    return (pose.cx - half_w >= 1 and pose.cx + half_w <= spec.width - 1 and pose.cy - half_h >= 1
            and pose.cy + half_h <= spec.height - 1)


def duration_frames(spec: SceneSpec, people: list[Person]) -> int:
    end = max((p.start_s + (spec.start_m - spec.end_m) / p.speed_mps for p in people), default=spec.lead_in_s)
    return int(math.ceil((end + 1.0) * spec.fps))


def labels_for(spec: SceneSpec, people: list[Person]) -> list[PersonLabel]:
    """Per person, the frames in which the head is fully in view and not behind someone nearer."""
    labels = [PersonLabel(p.id, p.core_c, p.fever, p.glasses, p.cup_c is not None) for p in people]
    for i in range(duration_frames(spec, people)):
        t = i / spec.fps
        poses = [(pose, lb) for p, lb in zip(people, labels, strict=True) if (pose := _pose(spec, p, t))]
        for pose, lb in poses:
            if _in_view(spec, pose) and not any(q.d < pose.d and _covers(q, pose) for q, _ in poses):
                lb.track.append((i, round(pose.cx, 2), round(pose.cy, 2), round(pose.width_px, 2)))
    return labels


def _covers(near: _Pose, far: _Pose) -> bool:
    """Does the nearer person's head or body hide the farther one's face centre?"""
    half = max(0.5 * near.width_px, 0.21 * near.scale) + 0.25 * far.width_px
    return abs(far.cx - near.cx) < half and far.cy > near.cy - 0.65 * near.width_px - 0.25 * far.width_px


def blackbody_rect(spec: SceneSpec) -> tuple[int, int, int] | None:
    """(x, y, size) of the blackbody's face in sensor pixels, top right."""
    if not spec.blackbody:
        return None
    size = max(4, round(spec.width * 0.055))
    return spec.width - size - 3, 3, size


def blackbody_roi(spec: SceneSpec) -> list[int] | None:
    r = blackbody_rect(spec)
    if r is None:
        return None
    x, y, size = r
    m = max(1, size // 4)  # stay off its blurred edges
    return [x + m, y + m, size - 2 * m, size - 2 * m]


# -- rendering -----------------------------------------------------------------------
def _ell(img: np.ndarray, cx: float, cy: float, ax: float, ay: float, value: float) -> None:
    cv2.ellipse(img, (round(cx * ONE), round(cy * ONE)), (max(1, round(ax * ONE)), max(1, round(ay * ONE))),
                0, 0, 360, (float(value),), -1, cv2.LINE_8, SHIFT)


def _rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, value: float) -> None:
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) * ONE
    cv2.fillConvexPoly(img, np.round(pts).astype(np.int32), (float(value),), cv2.LINE_8, SHIFT)


def background(spec: SceneSpec, rng: np.random.Generator) -> np.ndarray:
    k, w, h = spec.oversample, spec.width, spec.height
    yy, xx = np.mgrid[0:h * k, 0:w * k].astype(np.float32)
    bg = spec.ambient_c - 1.5 + 3.0 * yy / (h * k) + 1.0 * xx / (w * k)  # floor warmer than the sky
    hi = bg.astype(np.float32)
    if "wall" in spec.distractors:  # a sunlit wall on the left, up to 40 degC
        wall_w = int(0.12 * w * k)
        hi[:, :wall_w] = 36.0 + 4.0 * (1 - yy[:, :wall_w] / (h * k)) + rng.normal(0, 0.3)
    if "heater" in spec.distractors:
        _rect(hi, 0.84 * w * k, 0.5 * h * k, 0.97 * w * k, 0.75 * h * k, rng.uniform(50, 65))
    if "cup" in spec.distractors:  # a cup of tea on a table
        _rect(hi, 0.18 * w * k, 0.86 * h * k, 0.40 * w * k, 1.0 * h * k, spec.ambient_c + 1)
        _ell(hi, 0.27 * w * k, 0.82 * h * k, 0.025 * w * k, 0.035 * w * k, rng.uniform(50, 70))
    low = cv2.resize(hi, (w, h), interpolation=cv2.INTER_AREA)
    rect = blackbody_rect(spec)
    if rect is not None:
        x, y, size = rect
        low[y:y + size, x:x + size] = spec.blackbody_c
    return low


def _draw_torso(frame: np.ndarray, p: Person, pose: _Pose) -> None:
    s = pose.scale
    head_h = 1.3 * p.head_width_m
    top = pose.cy + (0.7 * head_h + 0.05) * s
    _ell(frame, pose.cx, top + 0.35 * s, 0.21 * s, 0.38 * s, p.cloth_c)
    if p.cup_c is not None:  # held at chest height, in front
        _ell(frame, pose.cx + 0.12 * s, top + 0.22 * s, 0.04 * s, 0.05 * s, p.cup_c)


def _draw_head(frame: np.ndarray, spec: SceneSpec, p: Person, pose: _Pose) -> None:
    """Render the head in its own patch at `oversample` x, then area-average into the frame."""
    k, s = spec.oversample, pose.scale
    wm, hm = p.head_width_m, 1.3 * p.head_width_m
    x0 = math.floor(pose.cx - 0.6 * wm * s)
    y0 = math.floor(pose.cy - 0.6 * hm * s)
    x1 = math.ceil(pose.cx + 0.6 * wm * s)
    y1 = math.ceil(pose.cy + 0.85 * hm * s)
    pw, ph = x1 - x0, y1 - y0
    if pw <= 0 or ph <= 0:
        return
    ks = k * s  # hi-res pixels per metre

    def X(m: float) -> float:
        return (pose.cx - x0) * k + m * ks

    def Y(m: float) -> float:
        return (pose.cy - y0) * k + m * ks

    temp = np.zeros((ph * k, pw * k), np.float32)
    alpha = np.zeros_like(temp)
    neck = p.skin_c - 0.8
    _rect(temp, X(-0.22 * wm), Y(0.3 * hm), X(0.22 * wm), Y(0.85 * hm), neck)
    _rect(alpha, X(-0.22 * wm), Y(0.3 * hm), X(0.22 * wm), Y(0.85 * hm), 1.0)
    _ell(temp, X(0), Y(0), 0.5 * wm * ks, 0.5 * hm * ks, p.hair_c)
    _ell(alpha, X(0), Y(0), 0.5 * wm * ks, 0.5 * hm * ks, 1.0)
    _ell(temp, X(0), Y(0.08 * hm), 0.46 * wm * ks, 0.42 * hm * ks, p.skin_c)
    _ell(temp, X(0), Y(0.27 * hm), 0.38 * wm * ks, 0.2 * hm * ks, p.skin_c - 0.6)  # cheeks, mouth
    eye_y = Y(-0.05 * hm)
    for side in (-1, 1):
        _ell(temp, X(side * 0.19 * wm), eye_y, 0.13 * wm * ks, 0.07 * wm * ks, p.canthus_c - 0.45)
        _ell(temp, X(side * 0.22 * wm), eye_y, 0.07 * wm * ks, 0.045 * wm * ks, p.canthus_c - 1.3)
        r = 0.04 * spec.canthus_scale * wm * ks
        _ell(temp, X(side * 0.09 * wm), eye_y, r, r, p.canthus_c)
        if p.glasses:
            _rect(temp, X(side * 0.05 * wm), eye_y - 0.09 * wm * ks, X(side * 0.36 * wm),
                  eye_y + 0.09 * wm * ks, spec.ambient_c + 4.0)
    _ell(temp, X(0), Y(0.12 * hm), 0.07 * wm * ks, 0.1 * hm * ks, p.skin_c - 2.0)  # nose
    a_low = cv2.resize(alpha, (pw, ph), interpolation=cv2.INTER_AREA)
    ta_low = cv2.resize(temp * alpha, (pw, ph), interpolation=cv2.INTER_AREA)
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(spec.width, x1), min(spec.height, y1)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    a = a_low[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
    ta = ta_low[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
    region = frame[fy0:fy1, fx0:fx1]
    region *= 1.0 - a
    region += ta


class Sensor:
    """What the focal plane adds: optics blur, fixed pattern, drifting offset with steps, NETD noise."""

    def __init__(self, spec: SceneSpec, rng: np.random.Generator) -> None:
        self.spec, self.rng = spec, rng
        h, w = spec.height, spec.width
        self.pattern = (rng.normal(0, spec.fixed_pattern_c, (h, w))
                        + rng.normal(0, spec.fixed_pattern_c / 2, (1, w))).astype(np.float32)
        self.base = float(rng.uniform(-1.0, 1.0)) if spec.offset_c is None else spec.offset_c
        self.phase = float(rng.uniform(0, 2 * math.pi))
        self.step = 0.0
        self.next_step = self._next(0.0)

    def _next(self, t: float) -> float:
        if self.spec.step_every_s <= 0:
            return math.inf
        return t + float(self.rng.exponential(self.spec.step_every_s))

    def offset(self, t: float) -> float:
        while t >= self.next_step:
            self.step += float(self.rng.normal(0, 0.15))
            self.next_step = self._next(self.next_step)
        return self.base + self.spec.drift_c * math.sin(2 * math.pi * t / 600.0 + self.phase) + self.step

    def observe(self, scene: np.ndarray, t: float) -> np.ndarray:
        sigma = self.spec.blur_sigma_px
        out: np.ndarray = (cv2.GaussianBlur(scene, (3, 3), 0.5) if sigma == 0.5
                           else cv2.GaussianBlur(scene, (0, 0), sigma))
        out += self.pattern
        out += np.float32(self.offset(t))
        out += self.rng.standard_normal(out.shape, dtype=np.float32) * np.float32(self.spec.netd_c)
        return out


def iter_frames(spec: SceneSpec, people: list[Person] | None = None) -> Iterator[np.ndarray]:
    """Yield the scene frame by frame (for long scenes that should not sit in memory)."""
    people = plan(spec) if people is None else people
    rng = np.random.default_rng(spec.seed + 7_919)
    bg = background(spec, rng)
    sensor = Sensor(spec, rng)
    for i in range(duration_frames(spec, people)):
        t = i / spec.fps
        frame = bg.copy()
        poses = [(pose, p) for p in people if (pose := _pose(spec, p, t)) is not None]
        poses.sort(key=lambda pp: -pp[0].d)  # far ones first; near ones cover them
        for pose, p in poses:
            _draw_torso(frame, p, pose)
            _draw_head(frame, spec, p, pose)
        yield sensor.observe(frame, t)


def generate(spec: SceneSpec, people: list[Person] | None = None) -> Scene:
    """The whole scene in memory (small scenes: tests, demos). ``people`` overrides the plan."""
    people = plan(spec) if people is None else people
    frames = np.stack(list(iter_frames(spec, people))).astype(np.float32)
    return Scene(spec, frames, labels_for(spec, people), blackbody_roi(spec))


def raw_frames(frames: np.ndarray, camera: str, dead_share: float = 0.004, seed: int = 0) -> list:
    """Encode degC frames as the given camera delivers them: `p2pro`, `lepton` or `mlx90640`."""
    if camera == "p2pro":
        return [codec.encode_p2pro(f) for f in frames]
    if camera == "lepton":
        return [codec.encode_lepton(f) for f in frames]
    if camera == "mlx90640":
        rng = np.random.default_rng(seed)
        dead = rng.random((codec.MLX_HEIGHT, codec.MLX_WIDTH)) < dead_share
        return [codec.encode_mlx90640(f, dead) for f in frames]
    raise ValueError(f"unknown camera {camera!r} (p2pro, lepton, mlx90640)")


class SimulatedCapture:
    """Stands in for cv2.VideoCapture on a UVC thermal camera: serves raw frames, then fails (unplugged).

    ``opened=False`` simulates a missing device. Only the calls the frame sources make exist.
    """

    def __init__(self, raw: list[np.ndarray], opened: bool = True) -> None:
        self.raw, self.opened, self.index = list(raw), opened, 0
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.opened or self.index >= len(self.raw):
            return False, None
        self.index += 1
        return True, self.raw[self.index - 1]

    def release(self) -> None:
        self.opened = False


CAMERAS = {"p2pro": (256, 192, 56.0), "lepton": (160, 120, 57.0), "mlx90640": (32, 24, 55.0)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulators.gate_scene", description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="scene.npy", help="replay array to write (.npy); labels go to .json")
    ap.add_argument("--camera", choices=sorted(CAMERAS), default="p2pro", help="resolution and field of view")
    ap.add_argument("--fps", type=float, default=9.0)
    ap.add_argument("--fever-share", type=float, default=0.15)
    ap.add_argument("--no-blackbody", action="store_true")
    ap.add_argument("--no-distractors", action="store_true")
    ap.add_argument("--optics", choices=sorted(OPTICS), default="default", help="lens blur and canthus size")
    ap.add_argument("--fast-share", type=float, default=0.0, help="share of pupils running through")
    ap.add_argument("--calibration-walk", metavar="WxP",
                    help="staff walking one at a time instead of pupils: W walkers x P passes (e.g. 5x4); "
                         "also writes the truth .csv for `campus-edge screening calibrate`")
    args = ap.parse_args(argv)
    w, h, fov = CAMERAS[args.camera]
    spec = SceneSpec(people=args.people, seed=args.seed, width=w, height=h, hfov_deg=fov, fps=args.fps,
                     fever_share=args.fever_share, blackbody=not args.no_blackbody,
                     distractors=() if args.no_distractors else SceneSpec.distractors)
    spec = replace(with_optics(spec, args.optics), fast_share=args.fast_share)
    if args.optics != "default":  # the lens preset's field of view wins over the camera's
        spec = replace(spec, hfov_deg=OPTICS[args.optics].get("hfov_deg", fov))
    people = None
    if args.calibration_walk:
        walkers, passes = (int(n) for n in args.calibration_walk.lower().split("x"))
        people = calibration_plan(spec, walkers, passes)
    scene = generate(spec, people)
    npy, meta = scene.save(args.out)
    if people is not None:
        truth = npy.with_suffix(".csv")
        truth.write_text("start_s,end_s,core_c\n" + "".join(f"{a},{b},{c}\n" for a, b, c in
                                                             truth_rows(spec, scene.labels)))
        print(f"truth: {truth}")
    fevers = sum(lb.fever for lb in scene.labels)
    print(f"{npy}: {len(scene.frames)} frames {w}x{h} at {args.fps:g} fps, {len(scene.labels)} people, "
          f"{fevers} febrile; labels in {meta}")
    print("device entry:", json.dumps(json.loads(meta.read_text())["device"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
