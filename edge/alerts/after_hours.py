"""After-hours waste: electricity above the learned overnight baseload outside school hours.

The baseload is the median, over the last ``baseline_nights`` nights, of the
average power inside ``baseload_window`` (01:00-05:00 by default: fridges,
servers, emergency lights). Outside school hours, on non-school days and on
holidays, an average power above ``max(baseload x factor, baseload + margin_w)``
over ``min_minutes`` is an ``after_hours_load`` event, once per episode: the
air conditioner someone left on. Power comes from the energy counter (exact
over long windows, immune to a missed sample); a counter that goes backwards
restarts the window.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from edge.alerts.common import DAYS, Alert, Window, local, minute_of_day, zone


class AfterHoursDetector:
    def __init__(self, config: dict[str, Any], state: dict[str, Any] | None = None,
                 calendar: Any = None) -> None:
        self.cfg = config
        # With the agent's school calendar (edge.calendar), it decides the school days (make-up
        # Saturdays, terms, official holidays) and a special day's hours; `holidays` still close.
        self.calendar = calendar
        self.hours = Window.parse(config["school_hours"])
        self.base_window = Window.parse(config["baseload_window"])
        self.days = {DAYS.index(d) for d in config["days"]}
        self.holidays = set(config["holidays"])
        self.tz = zone(config.get("timezone"))
        s = state or {}
        self.recent: list[list[float]] = s.get("recent", [])  # [[ts_ms, kWh], ...] over min_minutes
        self.night: list[Any] | None = s.get("night")  # [night, first ts, first kWh, last ts, last kWh]
        self.history: list[list[Any]] = s.get("history", [])  # [[night, average W], ...]
        self.episode: float | None = s.get("episode")  # ts_ms the current alert episode started

    def to_state(self) -> dict[str, Any]:
        return {"recent": self.recent, "night": self.night, "history": self.history, "episode": self.episode}

    def baseload(self) -> float | None:
        if self.cfg.get("baseload_w") is not None:
            return float(self.cfg["baseload_w"])
        if len(self.history) < self.cfg["min_nights"]:
            return None
        return statistics.median(h[1] for h in self.history)

    def threshold(self, baseload: float) -> float:
        return max(baseload * self.cfg["factor"], baseload + self.cfg["margin_w"])

    def school_time(self, dt: datetime) -> bool:
        if dt.date().isoformat() in self.holidays:
            return False
        if self.calendar is not None:
            day = self.calendar.day(dt.date())
            hours = Window.parse(day.school_hours) if day.school_hours else self.hours
            return day.school_day and hours.contains(minute_of_day(dt))
        return dt.weekday() in self.days and self.hours.contains(minute_of_day(dt))

    def feed(self, ts_ms: int, values: dict[str, float]) -> list[Alert]:
        energy = values.get("energy_kwh")
        if energy is None:
            return []
        if self.recent and (energy < self.recent[-1][1] or ts_ms <= self.recent[-1][0]):
            self.recent, self.night = [], None  # meter replaced or clock stepped: start over
        dt = local(ts_ms, self.tz)
        self._learn(ts_ms, dt, energy)
        if self.school_time(dt):
            self.recent, self.episode = [[ts_ms, energy]], None  # the after-hours window starts at closing
            return []
        self.recent.append([ts_ms, energy])
        window_ms = self.cfg["min_minutes"] * 60_000
        while len(self.recent) > 2 and ts_ms - self.recent[1][0] >= window_ms:
            self.recent.pop(0)
        return self._check(ts_ms, window_ms)

    def _learn(self, ts_ms: int, dt: datetime, energy: float) -> None:
        inside = self.base_window.contains(minute_of_day(dt))
        night = dt.date().isoformat()
        if self.base_window.start > self.base_window.end and minute_of_day(dt) >= self.base_window.start:
            night = datetime.fromordinal(dt.date().toordinal() + 1).date().isoformat()
        if self.night is not None and (not inside or night != self.night[0]):
            name, t0, e0, t1, e1 = self.night
            span_h = (t1 - t0) / 3_600_000
            window_h = ((self.base_window.end - self.base_window.start) % 1440) / 60
            if span_h >= 0.5 * window_h:
                keep = self.cfg["baseline_nights"]
                self.history = (self.history + [[name, (e1 - e0) * 1000 / span_h]])[-keep:]
            self.night = None
        if inside:
            if self.night is None:
                self.night = [night, ts_ms, energy, ts_ms, energy]
            else:
                self.night[3], self.night[4] = ts_ms, energy

    def _check(self, ts_ms: int, window_ms: float) -> list[Alert]:
        baseload = self.baseload()
        first = self.recent[0]
        span = ts_ms - first[0]
        if baseload is None or span < window_ms:
            return []
        power = (self.recent[-1][1] - first[1]) * 1000 / (span / 3_600_000)
        limit = self.threshold(baseload)
        if power <= limit:
            self.episode = None
            return []
        if self.episode is not None:
            return []
        self.episode = first[0]
        return [Alert("after_hours_load", ts_ms, {
            "power_w": round(power, 1), "baseload_w": round(baseload, 1), "threshold_w": round(limit, 1),
            "excess_w": round(power - baseload, 1), "minutes": round(span / 60_000, 1),
            "since": int(first[0]),
        })]
