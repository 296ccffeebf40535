"""Consumption profiles: pure functions from a local time to (electric power W, water flow L/min).

Deterministic (no random numbers), so a test knows what a meter must read and
a benchmark knows when a leak began. ``make(name, **params)`` builds one:

- ``school_day``: the real week: busy 07:00-18:00 Monday to Friday, a small
  overnight baseload and no water at night, quiet weekends.
- ``night`` / ``weekend``: that part of the week, all the time.
- ``slow_leak``: ``school_day`` plus ``leak_lpm`` (default 2 L/min) from ``onset`` on.
- ``burst_pipe``: ``school_day`` plus ``burst_lpm`` (default 80 L/min) from ``onset`` on.
- ``ac_overnight``: ``school_day`` plus ``ac_w`` (default 2500 W) outside school hours from ``onset`` on.
- ``constant``: ``power_w`` and ``flow_lpm`` as given (tests that want exact figures).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Load:
    power_w: float
    flow_lpm: float


Profile = Callable[[datetime], Load]

BASELOAD_W = 600.0  # fridges, servers, emergency lights
SCHOOL_OPEN, SCHOOL_CLOSE = 7 * 60, 18 * 60


def _minute(dt: datetime) -> float:
    return dt.hour * 60 + dt.minute + dt.second / 60


def night(dt: datetime) -> Load:
    # A little wobble (compressor cycles) so the learned baseload has a spread; no water at all.
    return Load(BASELOAD_W + 40 * math.sin(_minute(dt) / 7), 0.0)


def weekend(dt: datetime) -> Load:
    m = _minute(dt)
    if 9 * 60 <= m < 13 * 60 and int(m) % 60 < 5:
        return Load(BASELOAD_W + 300, 6.0)  # a caretaker's round: a few minutes of water each hour
    return night(dt)


def school_day_only(dt: datetime) -> Load:
    m = _minute(dt)
    if not SCHOOL_OPEN <= m < SCHOOL_CLOSE:
        return night(dt)
    # Lights and air conditioners follow the day; water peaks at breaks.
    day = math.sin(math.pi * (m - SCHOOL_OPEN) / (SCHOOL_CLOSE - SCHOOL_OPEN))
    breaks = 1.0 if int(m) % 90 < 15 else 0.3
    return Load(BASELOAD_W + 6000 * day + 800, 4.0 + 30 * breaks * day)


def school_day(dt: datetime) -> Load:
    return school_day_only(dt) if dt.weekday() < 5 else weekend(dt)


def _after(onset: datetime | None, dt: datetime) -> bool:
    return onset is None or dt.timestamp() >= onset.timestamp()


def make(name: str, onset: datetime | str | None = None, leak_lpm: float = 2.0, burst_lpm: float = 80.0,
         ac_w: float = 2500.0, power_w: float = 1000.0, flow_lpm: float = 0.0) -> Profile:
    if isinstance(onset, str):
        onset = datetime.fromisoformat(onset)
    base: dict[str, Profile] = {"school_day": school_day, "night": night, "weekend": weekend}
    if name in base:
        return base[name]
    if name == "constant":
        return lambda dt: Load(power_w, flow_lpm)
    if name == "slow_leak":
        return lambda dt: _plus(school_day(dt), flow=leak_lpm if _after(onset, dt) else 0.0)
    if name == "burst_pipe":
        return lambda dt: _plus(school_day(dt), flow=burst_lpm if _after(onset, dt) else 0.0)
    if name == "ac_overnight":
        def ac(dt: datetime) -> Load:
            closed = dt.weekday() >= 5 or not SCHOOL_OPEN <= _minute(dt) < SCHOOL_CLOSE
            return _plus(school_day(dt), power=ac_w if closed and _after(onset, dt) else 0.0)
        return ac
    raise ValueError(f"unknown profile {name!r} (known: {', '.join(NAMES)})")


NAMES = ("school_day", "night", "weekend", "slow_leak", "burst_pipe", "ac_overnight", "constant")


def _plus(load: Load, power: float = 0.0, flow: float = 0.0) -> Load:
    return Load(load.power_w + power, load.flow_lpm + flow)
