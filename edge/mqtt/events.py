"""The events each kind of device emits and the fields they carry: part of the MQTT contract.

docs/mqtt.md, docs/meters.md, docs/screening.md and docs/upkeep.md describe them. Agent rules are checked
against this table when the config loads (a misspelt event or field is an error with its place, not a rule
that never fires), and Home Assistant's event entities list these types (edge/mqtt/discovery.py). A driver
that adds an event adds it here.
"""

from __future__ import annotations

_SCREENING = ("track", "temp_c", "threshold_c", "uncertainty_c", "frames", "blackbody", "snapshot_png")
_METER = {
    "meter_offline": ("failures", "last_error", "detail"),
    "meter_online": ("offline_seconds",),
    "counter_reset": ("counter", "previous", "current"),
}
EVENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "relay": {  # edge/agent/switching.py: a relay its agent could not switch, and switching again
        "relay_fault": ("error", "action", "cause"),
        "relay_ok": ("cause", "previous", "fault_seconds", "attempts"),
    },
    "thermal_camera": {
        "fever": _SCREENING,
        "recheck": (*_SCREENING, "reason", "site"),
        "camera_offline": ("error",),
        "camera_online": (),
        # edge/screening/payloads.py: nobody passes unseen; the screening says when it cannot screen
        "unscreened": ("track", "reason", "frames", "seen", "width_px", "snapshot_png"),
        "screening_ready": (),
        "screening_degraded": ("reason", "reasons", "detail"),
        "screening_blind": ("reason", "reasons", "detail", "seconds", "face_frames"),
        "calibration_drift": ("mean_c", "band_low_c", "band_high_c", "samples"),
    },
    "electricity_meter": {
        "after_hours_load": ("power_w", "baseload_w", "threshold_w", "excess_w", "minutes", "since"),
        **_METER,
    },
    "water_meter": {
        "leak": ("reason", "flow_lpm", "limit_lpm", "minutes", "hours", "min_hour_litres", "min_flow_lpm",
                 "min_night_flow_lpm", "baseline_lpm", "mad_lpm", "threshold_lpm", "nights"),
        **_METER,
    },
    "surveillance": {  # the patrol (edge/processors/patrol.py, docs/upkeep.md)
        "camera_fault": ("reasons", "reason", "detail", "metrics", "snapshot_png"),
        "camera_ok": ("previous", "after_seconds"),
    },
}
