"""Event payloads of the screening's reports (pure): unscreened, health, crowd reference.

Fever and recheck payloads stay with the camera device (drivers/thermal/camera.py); these are the
reports that say who was not screened and when the screening itself cannot be trusted.
"""

from __future__ import annotations

import base64
from typing import Any

from edge.screening.crowd import CalibrationDrift
from edge.screening.health import HealthChange, ScreeningBlind
from edge.screening.tracking import Unscreened

# event type -> its fields (edge/mqtt/events.py lists the same)
FIELDS: dict[str, tuple[str, ...]] = {
    "unscreened": ("track", "reason", "frames", "seen", "width_px", "snapshot_png"),
    "screening_ready": (),
    "screening_degraded": ("reason", "reasons", "detail"),
    "screening_blind": ("reason", "reasons", "detail", "seconds", "face_frames"),
    "calibration_drift": ("mean_c", "band_low_c", "band_high_c", "samples"),
}


def event_of(e: Any) -> tuple[str, dict[str, Any], float] | None:
    """(event type, fields, ts) for a report, None for anything else."""
    if isinstance(e, Unscreened):
        png = base64.b64encode(e.snapshot_png).decode("ascii") if e.snapshot_png else None
        return "unscreened", {"track": e.track, "reason": e.reason, "frames": e.frames, "seen": e.seen,
                              "width_px": e.width_px, "snapshot_png": png}, e.ts
    if isinstance(e, HealthChange):
        if e.ready:
            return "screening_ready", {}, e.ts
        fields: dict[str, Any] = {"reason": e.reasons[0], "reasons": list(e.reasons), "detail": e.detail}
        return "screening_degraded", fields, e.ts
    if isinstance(e, ScreeningBlind):
        fields = {"reason": e.reasons[0] if e.reasons else "unknown", "reasons": list(e.reasons),
                  "detail": e.detail, "seconds": e.seconds, "face_frames": e.face_frames}
        return "screening_blind", fields, e.ts
    if isinstance(e, CalibrationDrift):
        fields = {"mean_c": e.mean_c, "band_low_c": e.band_c[0], "band_high_c": e.band_c[1],
                  "samples": e.samples}
        return "calibration_drift", fields, e.ts
    return None


def state_of(e: HealthChange) -> dict[str, Any]:
    """The retained state's screening part."""
    return {"screening": "ready" if e.ready else "degraded", "reasons": list(e.reasons), "detail": e.detail}
