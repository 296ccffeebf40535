"""Every driver the agent knows, by (kind, driver) -> module.

Modules are imported only when a config uses them, so an agent that drives
relays does not load OpenCV. Adding a driver: write the module with a SPEC,
add one line here.
"""

from __future__ import annotations

import importlib

from drivers.base import DriverSpec

CATALOG: dict[tuple[str, str], str] = {
    ("relay", "gpio"): "drivers.relay.gpio",
    ("thermal_camera", "replay"): "drivers.thermal.replay",
    ("thermal_camera", "uvc_p2pro"): "drivers.thermal.uvc_p2pro",
    ("thermal_camera", "lepton"): "drivers.thermal.lepton",
    ("thermal_camera", "mlx90640"): "drivers.thermal.mlx90640",
    ("electricity_meter", "dlt645"): "drivers.dlt645.meter",
    ("electricity_meter", "modbus"): "drivers.modbus.meter",
    ("water_meter", "pulse"): "drivers.pulse.meter",
    ("surveillance", "snapshot"): "drivers.surveillance.snapshot",
    ("surveillance", "rtsp"): "drivers.surveillance.rtsp",
}

# Kinds that take switch commands (on, off, pulse): the targets of the agent's rules.
SWITCH_KINDS = frozenset({"relay"})

# The events each kind emits and the fields they carry (docs/mqtt.md, docs/meters.md, docs/screening.md).
# Agent rules are checked against this when the config loads, so a misspelt event or field is an error
# with its place, not a rule that never fires. A driver that adds an event adds it here.
_SCREENING = ("track", "temp_c", "threshold_c", "uncertainty_c", "frames", "blackbody", "snapshot_png")
_METER = {
    "meter_offline": ("failures", "last_error", "detail"),
    "meter_online": ("offline_seconds",),
    "counter_reset": ("counter", "previous", "current"),
}
EVENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "relay": {},
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


def kinds() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, driver in CATALOG:
        out.setdefault(kind, []).append(driver)
    return out


def spec_for(kind: str, driver: str) -> DriverSpec:
    module = importlib.import_module(CATALOG[(kind, driver)])
    spec: DriverSpec = module.SPEC
    return spec
