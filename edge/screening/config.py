"""Screening settings: one frozen value, built from a validated device entry."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from edge.config.schema import Bool, Enum, Field, Float, Int, ListOf

CANTHUS = "canthus"
FACE_MAX = "face_max"

# Blur compensation for the canthus reading: (face width in pixels, degC to add), linearly interpolated,
# held at the ends. The canthus is ~0.09 face widths across, so on a face W pixels wide the optics spread
# it over ~0.09 W pixels and the hottest pixels read low; the loss depends on pixels across the face, not
# on the sensor's size. Defaults: the mean loss of measure_canthus by face width on scenes of
# simulators.gate_scene (heads rendered 4x oversampled and area-averaged, Gaussian sigma 0.5 px, NETD
# 0.05 degC), seed 7, 160x120 and 256x192 pooled: blur (roughly 1.0 degC * exp(-(0.0435 W)^2 / (2 * 0.58^2)),
# a blurred disc) net of the noise's small pull upward on a mean of hottest pixels (hence < 0 on wide faces).
# Re-derive: `bench_screening.py --derive-blur-table`. Another lens: measure its own (docs/screening.md).
BLUR_TABLE_C: tuple[tuple[float, float], ...] = (
    (8, 0.87), (10, 0.79), (12, 0.69), (14, 0.56), (16, 0.42), (18, 0.34), (20, 0.27), (24, 0.15),
    (28, 0.07), (32, 0.05), (40, -0.04), (48, -0.08),
)


@dataclass(frozen=True)
class Blackbody:
    roi: tuple[int, int, int, int]  # x, y, w, h inside the blackbody's face
    temp_c: float


@dataclass(frozen=True)
class ScreeningConfig:
    threshold_c: float = 37.3
    canthus_offset_c: float = 0.5  # core = canthus + this
    method: str = CANTHUS  # `face_max` for sensors too coarse to resolve the canthus (MLX90640)
    uncertainty_c: float | None = None  # None: 0.3 for canthus, 1.0 for face_max
    blackbody: Blackbody | None = None
    skin_min_c: float = 30.0
    skin_max_c: float = 42.0  # anything hotter is an object (cup, heater), never a face
    face_width_px: tuple[int, int] | None = None  # None: derived from the frame width
    measure_width_px: int | None = None  # faces narrower than this are tracked, not measured
    masks: tuple[tuple[int, int, int, int], ...] = ()  # static masks: x, y, w, h
    min_frames: int = 3  # good measurements before a decision
    # a fever alerts at an estimate >= threshold + this. The estimate is unbiased, so someone just below the
    # threshold alerts about half the time without it. Its per-person error is ~0.08 degC sd at 256x192
    # (0.05 of it the canthus-to-core spread between people, which no camera removes; seeds 7 and 8, not
    # benchmarked): 0.1 (1.3 sd) keeps ~90 % of those just below quiet and costs someone at +0.3 ~1 %.
    alert_margin_c: float = 0.1
    confirm_frames: int = 2  # re-measurements that must confirm a fever before the alert
    hysteresis_c: float = 0.2  # a suspicion clears only below threshold - this
    merge_seconds: float = 3.0  # a new track next to an alerted one this soon is the same person
    lost_seconds: float = 0.6  # a track unseen this long has left
    snapshot: bool = True
    # degC added to the canthus by face width in pixels; None: BLUR_TABLE_C for canthus, nothing for face_max
    blur_table_c: tuple[tuple[float, float], ...] | None = None
    # eyes covered (glasses): the forehead is measured instead, and a reading near or above the threshold
    # raises a `recheck` (never a `fever`): the forehead says far less about the core than the canthus
    fallback: bool = True
    fallback_offset_c: float = 2.0  # core = forehead + this
    fallback_uncertainty_c: float = 0.6
    recheck_margin_c: float = 0.3  # recheck at a forehead estimate >= threshold - this
    # nobody passes unseen: a track leaving without a decision is an Unscreened event
    unscreened: bool = True
    # the screening's own health (health.py): a problem must last health_seconds before it counts
    health_seconds: float = 2.0
    degraded_alert_seconds: float = 5.0  # degraded this long while faces pass: a screening_blind alert
    warmup_seconds: float = 0.0  # after start-up the sensor's offset still drifts: degraded this long
    min_fps: float = 5.0  # fewer frames per second leave too few good frames per person
    ambient_range_c: tuple[float, float] = (10.0, 35.0)  # the scene's median, blackbody-corrected
    blackbody_max_offset_c: float = 3.0  # |set - raw ROI reading| above this: not the blackbody, or off
    frozen_frames: int = 5  # identical frames in a row: the camera has frozen
    # crowd reference (crowd.py): trimmed mean of the last crowd_samples healthy estimates
    crowd_samples: int = 10
    crowd_band_c: tuple[float, float] = (36.3, 37.1)  # outside: calibration_drift
    threshold_mode: str = "absolute"  # `relative`: alarm above the crowd mean + allowed_deviation_c
    allowed_deviation_c: float = 0.6

    @property
    def uncertainty(self) -> float:
        if self.uncertainty_c is not None:
            return self.uncertainty_c
        return 0.3 if self.method == CANTHUS else 1.0

    def blur_table(self) -> tuple[tuple[float, float], ...]:
        if self.blur_table_c is not None:
            return self.blur_table_c
        return BLUR_TABLE_C if self.method == CANTHUS else ()

    def face_widths(self, frame_width: int) -> tuple[int, int]:
        if self.face_width_px is not None:
            return self.face_width_px
        return max(2, round(frame_width / 32)), max(4, round(frame_width / 3))

    def measure_width(self, frame_width: int) -> int:
        if self.measure_width_px is not None:
            return self.measure_width_px
        return max(2, round(frame_width / 16))

    @classmethod
    def from_device(cls, cfg: dict[str, Any]) -> ScreeningConfig:
        """From a validated thermal_camera device entry: every key named after a field of this class
        (edge/processors/screening_fields.py declares them with these defaults); lists become tuples."""
        values = {f.name: cfg[f.name] for f in fields(cls) if f.name in cfg}
        bb = values.get("blackbody")
        values["blackbody"] = Blackbody(tuple(bb["roi"]), bb["temp_c"]) if bb else None
        if values.get("face_width_px"):
            values["face_width_px"] = tuple(values["face_width_px"])
        values["masks"] = tuple(tuple(m) for m in values.get("masks") or ())
        for key in HEALTH_FIELDS:  # [min, max] ranges
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        if values.get("blur_table_c") is not None:
            values["blur_table_c"] = tuple((float(w), float(c)) for w, c in values["blur_table_c"])
        return cls(**values)


_RANGE = ListOf(Float(min=-40, max=60), min_len=2, max_len=2)

# Config keys of the screening's health, unscreened reports and crowd reference (docs/screening.md): the
# drivers' field table (drivers/thermal/fields.py) takes them as they are.
HEALTH_FIELDS: dict[str, Field] = {
    "unscreened": Field(Bool(), "report a person who leaves without a decision as an `unscreened` event",
                        default=True),
    "health_seconds": Field(Float(min=0, max=600), "a screening problem must last this long before "
                            "`screening_degraded`", default=2.0),
    "degraded_alert_seconds": Field(Float(min=0, max=3600), "degraded this long while faces pass: a "
                                    "`screening_blind` alert", default=5.0),
    "warmup_seconds": Field(Float(min=0, max=3600), "degraded (`warming_up`) this long after start-up",
                            default=0.0),
    "min_fps": Field(Float(min=0, max=100), "degraded (`low_fps`) below this frame rate", default=5.0),
    "ambient_range_c": Field(_RANGE, "[min, max] scene median (blackbody-corrected) screening accepts",
                             default=lambda: [10.0, 35.0]),
    "blackbody_max_offset_c": Field(Float(min=0.1, max=20), "the blackbody ROI reading this far from its set "
                                    "temperature: not the blackbody", default=3.0),
    "frozen_frames": Field(Int(min=2, max=1000), "identical frames in a row: camera frozen", default=5),
    "crowd_samples": Field(Int(min=3, max=1000), "healthy estimates in the crowd reference (trimmed mean)",
                           default=10),
    "crowd_band_c": Field(_RANGE, "[min, max] plausible crowd mean; outside: `calibration_drift`",
                          default=lambda: [36.3, 37.1]),
    "threshold_mode": Field(Enum(choices=("absolute", "relative")), "`relative`: alarm above the crowd mean "
                            "+ allowed_deviation_c (cameras without a blackbody)", default="absolute"),
    "allowed_deviation_c": Field(Float(min=0.1, max=3), "relative mode: alarm this far above the crowd mean",
                                 default=0.6),
}


def check_health(entry: dict, path: str, errors: list[str]) -> None:
    for key in ("ambient_range_c", "crowd_band_c"):
        lo, hi = entry.get(key) or (0, 1)
        if lo >= hi:
            errors.append(f"{path}.{key}: min must be below max, got {[lo, hi]}")
