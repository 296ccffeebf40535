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


def kinds() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, driver in CATALOG:
        out.setdefault(kind, []).append(driver)
    return out


def spec_for(kind: str, driver: str) -> DriverSpec:
    module = importlib.import_module(CATALOG[(kind, driver)])
    spec: DriverSpec = module.SPEC
    return spec
