"""Water leak detection from a cumulative volume counter.

Three signs, each reported as an event ``leak`` with a ``reason`` and the figures behind it:

- ``night_flow``: the minimum night flow (lowest bucket average inside the night
  window, 02:00-04:00 by default) is above the learned baseline (median of the
  last nights + ``mad_factor`` MADs, at least ``min_excess_lpm`` above the
  median) for ``nights`` nights in a row. High nights are kept out of the
  baseline, so a leak does not teach the detector that leaking is normal.
- ``continuous_flow``: water ran in every hour of the last ``continuous_hours``
  (no zero-flow hour in 24 h): a toilet cistern or a buried pipe.
- ``burst``: flow above ``burst_lpm`` for ``burst_minutes``: at once.

A counter that goes backwards (meter replaced) starts a new interval; it is
never turned into negative flow.
"""

from __future__ import annotations

from typing import Any

from edge.alerts.common import Alert, Window, local, median_mad, minute_of_day, zone

HOUR_MS = 3_600_000
MIN_COVERAGE = 0.5  # a bucket or hour counts if readings cover at least half of it


class LeakDetector:
    def __init__(self, config: dict[str, Any], state: dict[str, Any] | None = None) -> None:
        self.cfg = config
        self.window = Window.parse(config["night_window"])
        self.tz = zone(config.get("timezone"))
        s = state or {}
        self.last: list[float] | None = s.get("last")  # [ts_ms, volume_m3]
        self.above_since: float | None = s.get("above_since")
        self.burst_fired: bool = s.get("burst_fired", False)
        self.night: str | None = s.get("night")  # date of the night being measured
        self.buckets: dict[str, list[float]] = s.get("buckets", {})  # bucket -> [litres, seconds]
        self.history: list[list[Any]] = s.get("history", [])  # [[night, min flow L/min], ...]
        self.high_nights: int = s.get("high_nights", 0)
        self.hour: list[float] | None = s.get("hour")  # [hour start ms, litres, seconds]
        self.hours: list[list[float]] = s.get("hours", [])  # closed hours, oldest first
        self.continuous_fired: bool = s.get("continuous_fired", False)

    def to_state(self) -> dict[str, Any]:
        return {"last": self.last, "above_since": self.above_since, "burst_fired": self.burst_fired,
                "night": self.night, "buckets": self.buckets, "history": self.history,
                "high_nights": self.high_nights, "hour": self.hour, "hours": self.hours,
                "continuous_fired": self.continuous_fired}

    # -- learned figures ------------------------------------------------------------------------------------
    def threshold(self) -> tuple[float, float, float] | None:
        """(median, MAD, threshold) of the learned nights, or None while still learning."""
        if len(self.history) < self.cfg["min_nights"]:
            return None
        med, mad = median_mad([h[1] for h in self.history])
        return med, mad, med + max(self.cfg["mad_factor"] * mad, self.cfg["min_excess_lpm"])

    # -- feeding --------------------------------------------------------------------------------------------
    def feed(self, ts_ms: int, values: dict[str, float]) -> list[Alert]:
        volume = values.get("volume_m3")
        if volume is None:
            return []
        alerts: list[Alert] = []
        dt = local(ts_ms, self.tz)
        alerts += self._close_periods(ts_ms, dt)
        if self.last is None or ts_ms <= self.last[0] or volume < self.last[1]:
            self.last = [ts_ms, volume]  # first reading, clock step or counter reset: a fresh start
            return alerts
        seconds = (ts_ms - self.last[0]) / 1000
        litres = (volume - self.last[1]) * 1000
        self.last = [ts_ms, volume]
        flow = litres / (seconds / 60)
        alerts += self._burst(ts_ms, seconds, flow)
        self._account(ts_ms, dt, litres, seconds)
        return alerts

    def _burst(self, ts_ms: int, seconds: float, flow: float) -> list[Alert]:
        limit = self.cfg.get("burst_lpm")
        if limit is None:
            return []
        if flow <= limit:
            self.above_since, self.burst_fired = None, False
            return []
        if self.above_since is None:
            self.above_since = ts_ms - seconds * 1000
        minutes = (ts_ms - self.above_since) / 60000
        if self.burst_fired or minutes < self.cfg["burst_minutes"]:
            return []
        self.burst_fired = True
        return [Alert("leak", ts_ms, {"reason": "burst", "flow_lpm": round(flow, 2), "limit_lpm": limit,
                                      "minutes": round(minutes, 1)})]

    def _account(self, ts_ms: int, dt: Any, litres: float, seconds: float) -> None:
        hour_start = ts_ms - (dt.minute * 60 + dt.second) * 1000 - dt.microsecond // 1000
        if self.hour is None:
            self.hour = [hour_start, 0.0, 0.0]
        self.hour[1] += litres
        self.hour[2] += seconds
        if self.window.contains(minute_of_day(dt)):
            night = self._night_of(dt)
            if self.night != night:
                self.night, self.buckets = night, {}
            bucket = str((minute_of_day(dt) - self.window.start) % 1440 // self.cfg["bucket_minutes"])
            acc = self.buckets.setdefault(bucket, [0.0, 0.0])
            acc[0] += litres
            acc[1] += seconds

    def _night_of(self, dt: Any) -> str:
        # A window that wraps past midnight belongs to the evening it started on.
        if self.window.start > self.window.end and minute_of_day(dt) < self.window.end:
            return str(dt.date().toordinal() - 1)
        return str(dt.date().toordinal())

    def _close_periods(self, ts_ms: int, dt: Any) -> list[Alert]:
        alerts: list[Alert] = []
        if self.hour is not None and ts_ms - self.hour[0] >= HOUR_MS:
            alerts += self._close_hour(ts_ms)
        if self.night is not None and (not self.window.contains(minute_of_day(dt))
                                       or self._night_of(dt) != self.night):
            alerts += self._close_night(ts_ms)
        return alerts

    def _close_hour(self, ts_ms: int) -> list[Alert]:
        assert self.hour is not None
        self.hours.append(self.hour)
        self.hour = None
        n = self.cfg["continuous_hours"]
        self.hours = self.hours[-n:]
        last = self.hours[-1]
        if last[1] <= 0 or last[2] < MIN_COVERAGE * 3600:
            self.continuous_fired = False  # a dry (or unknown) hour: the streak is over
            return []
        if self.continuous_fired or len(self.hours) < n:
            return []
        contiguous = all(b[0] - a[0] == HOUR_MS for a, b in zip(self.hours, self.hours[1:], strict=False))
        wet = all(h[1] > 0 and h[2] >= MIN_COVERAGE * 3600 for h in self.hours)
        if not (contiguous and wet):
            return []
        self.continuous_fired = True
        least = min(h[1] for h in self.hours)
        return [Alert("leak", ts_ms, {"reason": "continuous_flow", "hours": n,
                                      "min_hour_litres": round(least, 2),
                                      "min_flow_lpm": round(least / 60, 3)})]

    def _close_night(self, ts_ms: int) -> list[Alert]:
        need = MIN_COVERAGE * self.cfg["bucket_minutes"] * 60
        full = [acc for acc in self.buckets.values() if acc[1] >= need]
        night, self.night, self.buckets = self.night, None, {}
        if not full:
            return []  # the meter was away: no figure for this night
        mnf = min(litres / (seconds / 60) for litres, seconds in full)
        learned = self.threshold()
        high = learned is not None and mnf > learned[2]
        if not high:
            self.high_nights = 0
            self.history = (self.history + [[night, mnf]])[-self.cfg["baseline_nights"]:]
            return []
        self.high_nights += 1
        if self.high_nights != self.cfg["nights"]:
            return []
        assert learned is not None
        med, mad, limit = learned
        return [Alert("leak", ts_ms, {"reason": "night_flow", "min_night_flow_lpm": round(mnf, 3),
                                      "baseline_lpm": round(med, 3), "mad_lpm": round(mad, 3),
                                      "threshold_lpm": round(limit, 3), "nights": self.high_nights})]
