"""The school calendar: which dates are school days, shared by schedules and after-hours alerts.

One file (``calendar: /etc/campus-edge/calendar.yaml`` in the agent's config, or the same keys
inline)::

    official: cn                    # Chinese public holidays and make-up workdays (chinese-calendar)
    school_days: [mon, tue, wed, thu, fri]
    terms:                          # outside every term is vacation (leave out: the whole year)
      - {name: 2026 autumn, start: "2026-09-01", end: "2027-01-22"}
    holidays:                       # the school is closed (on top of the official holidays)
      - "2026-11-13"
      - {start: "2027-01-23", end: "2027-02-28", name: winter break}
    workdays:                       # 调休: a make-up school day, e.g. a Saturday
      - "2026-10-10"
    special_days:                   # a school day with its own hours
      - {date: "2026-12-24", name: exams, school_hours: "07:30-12:00"}

A date is decided in this order: the school's own ``workdays`` (a school day), its ``holidays``
(closed), outside every term (closed), the official Chinese holidays (closed) and make-up
workdays (a school day), then the day of the week. The official data come from the maintained
``chinese-calendar`` package, which knows the years the State Council has published; for a year
it does not know, the calendar says so (``uncovered_years``, and a warning logged once per year)
and counts only the school's own dates and the day of the week, never silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from edge.config.schema import (
    MISSING,
    ConfigError,
    Date,
    Enum,
    Field,
    ListOf,
    Obj,
    Spec,
    Str,
    _show,
)

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WINDOW_PATTERN = r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d"


class DateOrRange(Spec):
    """``"2026-10-01"`` or ``{start, end, name?}`` (both ends included)."""

    doc_type = "date or {start, end, name}"
    RANGE = Obj({"start": Field(Date(), "first day", required=True),
                 "end": Field(Date(), "last day (included)", required=True),
                 "name": Field(Str(), "what it is (shown in logs)")})

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, dict):
            out = self.RANGE.check(value, path, errors)
            if out is not MISSING and all(isinstance(out.get(k), str) for k in ("start", "end")) \
                    and out["end"] < out["start"]:
                return self.fail(path, errors, f"ends ({out['end']}) before it starts ({out['start']})")
            return out
        return Date().check(value, path, errors)


TERM = Obj({"name": Field(Str(), "the term's name"),
            "start": Field(Date(), "first day of the term", required=True),
            "end": Field(Date(), "last day of the term (included)", required=True)})

SPECIAL = Obj({"date": Field(Date(), "the day", required=True),
               "name": Field(Str(), "what it is (sports day, exams)"),
               "school_hours": Field(Str(pattern=WINDOW_PATTERN, hint="expected a window HH:MM-HH:MM"),
                                     "school hours that day, for after-hours alerts (e.g. a half day)")})

CALENDAR = Obj(
    {
        "official": Field(Enum(choices=("cn", "none")), "official public holidays and make-up workdays: `cn` "
                          "(China, from the chinese-calendar package) or `none`", default="cn"),
        "school_days": Field(ListOf(Enum(choices=DAYS), min_len=1), "days of the week the school is open",
                             default=lambda: list(DAYS[:5])),
        "terms": Field(ListOf(TERM), "school terms; dates outside every term are vacation "
                       "(leave out: no vacations but the holidays)", default=list),
        "holidays": Field(ListOf(DateOrRange()), "dates or ranges the school is closed (beyond the official "
                          "holidays)", default=list),
        "workdays": Field(ListOf(Date()), "make-up school days (调休), e.g. a Saturday", default=list),
        "special_days": Field(ListOf(SPECIAL), "school days with a name and their own hours", default=list),
    }
)


class CalendarRef(Spec):
    """``calendar:`` in an agent config: a file name (loaded and checked now) or the keys inline."""

    doc_type = "file name or mapping"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, str):
            from edge.config.common import load_yaml

            try:
                data = load_yaml(value)
            except ConfigError as exc:
                return self.fail(path, errors, f"{value}: {'; '.join(exc.errors)}")
            inner: list[str] = []
            out = CALENDAR.check(data, "", inner)
            errors.extend(f"{path} ({value}): {e}" for e in inner)
            return MISSING if inner else {**out, "file": str(Path(value))}
        if isinstance(value, dict):
            return CALENDAR.check(value, path, errors)
        return self.fail(path, errors, f"expected a file name or a mapping, got {_show(value)}")


@dataclass(frozen=True)
class Day:
    school_day: bool
    reason: str  # why: "weekday", "weekend", "holiday: winter break", "official holiday: National Day", ...
    school_hours: str | None = None  # a special day's own hours
    covered: bool = True  # False: the official holidays of this year are not known


def _days(entry: Any) -> list[tuple[date, str]]:
    if isinstance(entry, str):
        return [(date.fromisoformat(entry), "")]
    start, end = date.fromisoformat(entry["start"]), date.fromisoformat(entry["end"])
    return [(start + timedelta(n), entry.get("name") or "") for n in range((end - start).days + 1)]


class Calendar:
    def __init__(self, cfg: dict[str, Any], official: Any = None) -> None:
        self.cfg = cfg
        self.school_days = {DAYS.index(d) for d in cfg["school_days"]}
        self.holidays: dict[date, str] = {}
        for entry in cfg["holidays"]:
            self.holidays.update(_days(entry))
        self.workdays = {date.fromisoformat(d) for d in cfg["workdays"]}
        self.terms = [(date.fromisoformat(t["start"]), date.fromisoformat(t["end"]), t.get("name") or "")
                      for t in cfg["terms"]]
        self.special = {date.fromisoformat(s["date"]): s for s in cfg["special_days"]}
        self.official = official if official is not None else (
            OfficialCN() if cfg["official"] == "cn" else None)
        self._warned: set[int] = set()

    def day(self, d: date) -> Day:
        special = self.special.get(d)
        hours = special.get("school_hours") if special else None
        if d in self.workdays:
            return Day(True, "make-up school day", hours)
        if d in self.holidays:
            name = self.holidays[d]
            return Day(False, f"holiday{': ' + name if name else ''}")
        if self.terms and not any(a <= d <= b for a, b, _ in self.terms):
            return Day(False, "vacation (outside every term)")
        covered = True
        if self.official is not None:
            known = self.official.lookup(d)
            if known is None:
                covered = False
                self._warn(d.year)
            elif known[0] == "holiday":
                return Day(False, f"official holiday{': ' + known[1] if known[1] else ''}")
            elif known[0] == "workday":
                return Day(True, "official make-up workday", hours, covered)
        if special:
            return Day(True, f"special day{': ' + special['name'] if special.get('name') else ''}", hours,
                       covered)
        if d.weekday() in self.school_days:
            return Day(True, "school day of the week", hours, covered)
        return Day(False, "not a school day of the week", None, covered)

    def is_school_day(self, d: date) -> bool:
        return self.day(d).school_day

    def uncovered_years(self, years: list[int]) -> list[int]:
        if self.official is None:
            return []
        return [y for y in years if not self.official.covers(y)]

    def coverage_warning(self, years: list[int]) -> str | None:
        missing = self.uncovered_years(years)
        if not missing or self.official is None:
            return None
        first, last = self.official.range()
        ys = ", ".join(map(str, missing))
        return (f"calendar: the official Chinese holidays of {ys} are not known "
                f"({self.official.source} covers {first}-{last}): in {ys} only the school's own "
                "holidays/workdays and the days of the week count; upgrade chinese-calendar once the "
                "State Council publishes them, or list them under holidays: and workdays:")

    def _warn(self, year: int) -> None:
        if year not in self._warned:
            self._warned.add(year)
            log.warning("%s", self.coverage_warning([year]))


class OfficialCN:
    """China's public holidays and make-up workdays from the chinese-calendar package."""

    def __init__(self) -> None:
        import chinese_calendar
        from chinese_calendar import constants

        self._cc = chinese_calendar
        self._holidays: dict[date, Any] = constants.holidays
        self._workdays: dict[date, Any] = constants.workdays
        years = [d.year for d in self._holidays]
        self._first, self._last = min(years), max(years)
        self.source = f"chinese-calendar {getattr(chinese_calendar, '__version__', '')}".strip()

    def range(self) -> tuple[int, int]:
        return self._first, self._last

    def covers(self, year: int) -> bool:
        return self._first <= year <= self._last

    def lookup(self, d: date) -> tuple[str, str] | None:
        """("holiday", name), ("workday", name), ("normal", "") or None when the year is not covered."""
        if not self.covers(d.year):
            return None
        if d in self._holidays:
            return "holiday", _name(self._holidays[d])
        if d in self._workdays:
            return "workday", _name(self._workdays[d])
        return "normal", ""


def _name(holiday: Any) -> str:
    return getattr(holiday, "value", None) or str(holiday or "")


def calendar_from(cfg: dict[str, Any] | None, today: date | None = None) -> Calendar | None:
    """The agent's calendar (``calendar:`` validated), or None when it has none.

    Warns at once when this year or the next (a school year spans two) has no official data."""
    if not cfg:
        return None
    cal = Calendar(cfg)
    year = (today or date.today()).year
    warning = cal.coverage_warning([year, year + 1])
    if warning:
        log.warning("%s", warning)
        cal._warned.update(cal.uncovered_years([year, year + 1]))
    return cal
