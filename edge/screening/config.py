"""Screening settings: one frozen value, built from a validated device entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CANTHUS = "canthus"
FACE_MAX = "face_max"


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
    confirm_frames: int = 2  # re-measurements that must confirm a fever before the alert
    hysteresis_c: float = 0.2  # a suspicion clears only below threshold - this
    merge_seconds: float = 3.0  # a new track next to an alerted one this soon is the same person
    lost_seconds: float = 0.6  # a track unseen this long has left
    snapshot: bool = True

    @property
    def uncertainty(self) -> float:
        if self.uncertainty_c is not None:
            return self.uncertainty_c
        return 0.3 if self.method == CANTHUS else 1.0

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
        """From a validated thermal_camera device entry (keys as in drivers/thermal/fields.py)."""
        bb = cfg.get("blackbody")
        fw = cfg.get("face_width_px")
        return cls(
            threshold_c=cfg["threshold_c"], canthus_offset_c=cfg["canthus_offset_c"], method=cfg["method"],
            uncertainty_c=cfg.get("uncertainty_c"),
            blackbody=Blackbody(tuple(bb["roi"]), bb["temp_c"]) if bb else None,
            skin_min_c=cfg["skin_min_c"], skin_max_c=cfg["skin_max_c"],
            face_width_px=tuple(fw) if fw else None, measure_width_px=cfg.get("measure_width_px"),
            masks=tuple(tuple(m) for m in cfg.get("masks") or ()), min_frames=cfg["min_frames"],
            confirm_frames=cfg["confirm_frames"], hysteresis_c=cfg["hysteresis_c"],
            merge_seconds=cfg["merge_seconds"], snapshot=cfg["snapshot"],
        )
