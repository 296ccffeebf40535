"""Config of the alerts, as it appears under a meter's device entry (`leak:` / `after_hours:`)."""

from __future__ import annotations

from edge.alerts.common import DATE, DAYS, WINDOW, Window
from edge.config.schema import Enum, Field, Float, Int, ListOf, Obj, Str


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_zone(entry: dict, path: str, errors: list[str]) -> None:
    if entry.get("timezone"):
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(entry["timezone"])
        except Exception:
            errors.append(f"{_at(path, 'timezone')}: unknown time zone {entry['timezone']!r}")


def _check_window(key: str):
    def check(entry: dict, path: str, errors: list[str]) -> None:
        w = Window.parse(entry[key])
        if w.start == w.end:
            errors.append(f"{_at(path, key)}: the window is empty")
    return check


def _all(*checks):
    def check(entry: dict, path: str, errors: list[str]) -> None:
        for c in checks:
            c(entry, path, errors)
    return check


TIMEZONE = Field(Str(min_len=1), "IANA time zone of the windows; default: the system's")

LEAK = Obj(
    {
        "night_window": Field(WINDOW, "when the minimum night flow is measured (local time)",
                              default="02:00-04:00"),
        "bucket_minutes": Field(Int(min=1, max=60), "flow is averaged over buckets this long; the night's "
                                "minimum is the lowest bucket", default=15),
        "baseline_nights": Field(Int(min=3, max=365), "nights of history the baseline is learned from",
                                 default=28),
        "min_nights": Field(Int(min=1, max=365), "nights needed before night-flow alerts start", default=7),
        "mad_factor": Field(Float(min=0), "alert above median + this many MADs of the learned nights",
                            default=3.0),
        "min_excess_lpm": Field(Float(min=0), "...and at least this many L/min above the median (a perfectly "
                                "steady history has a MAD of 0)", default=0.5),
        "nights": Field(Int(min=1, max=30), "consecutive high nights before a `leak` alert", default=2),
        "continuous_hours": Field(Int(min=2, max=168), "flow in every one of this many hours in a row "
                                  "(no zero-flow hour) is a leak", default=24),
        "burst_lpm": Field(Float(positive=True), "flow above this (L/min) for `burst_minutes` alerts at "
                           "once; leave out to disable"),
        "burst_minutes": Field(Float(min=0), "see burst_lpm", default=5.0),
        "timezone": TIMEZONE,
    },
    check_whole=_all(_check_window("night_window"), _check_zone),
)

AFTER_HOURS = Obj(
    {
        "school_hours": Field(WINDOW, "when the school is in use on school days (local time)",
                              default="07:00-18:00"),
        "days": Field(ListOf(Enum(choices=DAYS), min_len=1), "school days (ignored when the agent has a "
                      "`calendar`: the calendar decides)", default=lambda: list(DAYS[:5])),
        "holidays": Field(ListOf(DATE), "dates the school is closed all day (also with a `calendar`)",
                          default=list),
        "baseload_window": Field(WINDOW, "when the overnight baseload is learned (local time)",
                                 default="01:00-05:00"),
        "baseline_nights": Field(Int(min=3, max=365), "nights the baseload is learned from (median)",
                                 default=28),
        "min_nights": Field(Int(min=1, max=365),
                            "nights needed before alerts start (unless baseload_w is set)", default=3),
        "baseload_w": Field(Float(min=0), "fixed baseload in W instead of a learned one"),
        "factor": Field(Float(min=1), "alert above baseload x factor ...", default=1.5),
        "margin_w": Field(Float(min=0), "... and at least this many W above the baseload", default=300.0),
        "min_minutes": Field(Float(min=1, max=24 * 60), "average power over this long must be above the "
                             "threshold", default=30.0),
        "timezone": TIMEZONE,
    },
    check_whole=_all(_check_window("school_hours"), _check_window("baseload_window"), _check_zone),
)
