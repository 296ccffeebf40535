"""``sim:`` port strings: a config's ``port`` naming a built-in simulated bus instead of a device file.

Syntax: ``sim:<protocol>[?key=value&key=value...]`` with protocol ``dlt645`` or ``modbus``. Keys:

- ``profile``: consumption profile (simulators.meters.profiles: school_day, night, weekend, slow_leak,
  burst_pipe, ac_overnight, constant); default ``school_day``. ``profile.<address or unit>`` gives one
  meter on the bus its own profile (``profile.000000000162=ac_overnight``).
- ``scale``: simulated seconds per real second (default 1); ``start``: ISO time the simulated clock starts
  at (default now).
- ``addresses`` (dlt645) / ``units`` (modbus): comma-separated meters present; default: any address asked
  answers, so every meter in the config that names this port finds a meter.
- ``model`` (modbus): sdm120 (default) or sdm630; ``faults``: comma-separated faults every meter shows
  (silent, slow, corrupt, bad_checksum, truncate, wrong_address, error, garbage); ``energy``: starting kWh;
  ``onset``, ``leak_lpm``, ``burst_lpm``, ``ac_w``, ``power_w``, ``flow_lpm``: profile parameters;
  ``turnaround``: seconds a meter thinks before answering (default 0.02).

Meters naming the *same string* share one bus (one SerialBus, one simulator answering by address). A
running simulator is kept in ``RUNNING[port]`` so a demo or test can inject faults into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from simulators.meters import profiles
from simulators.meters.clock import SimClock
from simulators.meters.dlt645 import Dlt645Bus
from simulators.meters.modbus import ModbusBus
from simulators.meters.model import FAULTS, SimMeter
from simulators.meters.pty import PtyLink

PROTOCOLS = ("dlt645", "modbus")
KEYS = {"profile", "scale", "start", "addresses", "units", "model", "faults", "energy", "onset", "leak_lpm",
        "burst_lpm", "ac_w", "power_w", "flow_lpm", "turnaround"}
RUNNING: dict[str, RunningSim] = {}


@dataclass(frozen=True)
class SimSpec:
    protocol: str
    params: dict[str, str]


def parse(port: str) -> SimSpec:
    """Check a ``sim:`` string; raises ValueError naming what is wrong."""
    if not port.startswith("sim:"):
        raise ValueError(f"not a simulator port: {port!r}")
    protocol, _, query = port[4:].partition("?")
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown simulated protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    unknown = sorted(k for k in params if k not in KEYS and not k.startswith("profile."))
    if unknown:
        known = ", ".join(sorted(KEYS))
        raise ValueError(f"unknown simulator option(s) {', '.join(unknown)} (known: {known})")
    for key in [k for k in params if k == "profile" or k.startswith("profile.")]:
        profiles.make(params[key], **_profile_params(params))
    bad = sorted(set(_list(params.get("faults"))) - set(FAULTS))
    if bad:
        raise ValueError(f"unknown fault(s) {', '.join(bad)} (known: {', '.join(FAULTS)})")
    for key in ("scale", "energy", "turnaround", "leak_lpm", "burst_lpm", "ac_w", "power_w", "flow_lpm"):
        if key in params:
            float(params[key])
    if "start" in params:
        datetime.fromisoformat(params["start"])
    return SimSpec(protocol, params)


def _list(text: str | None) -> list[str]:
    return [x for x in (text or "").split(",") if x]


def _profile_params(params: dict[str, str]) -> dict[str, Any]:
    names = ("leak_lpm", "burst_lpm", "ac_w", "power_w", "flow_lpm")
    out: dict[str, Any] = {k: float(params[k]) for k in names if k in params}
    if "onset" in params:
        out["onset"] = params["onset"]
    return out


class RunningSim:
    def __init__(self, port: str, bus: Any, link: PtyLink, clock: SimClock) -> None:
        self.port, self.bus, self.link, self.clock = port, bus, link, clock
        self.path = link.path

    def stop(self) -> None:
        self.link.stop()
        RUNNING.pop(self.port, None)


def start_sim(port: str, baudrate: int, bits_per_char: float = 11.0) -> RunningSim:
    spec = parse(port)
    p = spec.params
    start = datetime.fromisoformat(p["start"]) if "start" in p else None
    clock = SimClock(start, float(p.get("scale", 1.0)))
    faults = set(_list(p.get("faults")))
    energy = float(p.get("energy", 1000.0))

    def make(address: str) -> SimMeter:
        name = p.get(f"profile.{address}", p.get("profile", "school_day"))
        profile = profiles.make(name, **_profile_params(p))
        return SimMeter(address, profile, clock, energy_kwh=energy, faults=set(faults))

    bus: Any
    if spec.protocol == "dlt645":
        addresses = _list(p.get("addresses")) or None
        bus = Dlt645Bus(make, addresses)
    else:
        units = [int(u) for u in _list(p.get("units"))] or None
        bus = ModbusBus(make, units, p.get("model", "sdm120"))
    link = PtyLink(bus, baudrate, bits_per_char, float(p.get("turnaround", 0.02))).start()
    sim = RunningSim(port, bus, link, clock)
    RUNNING[port] = sim
    return sim
