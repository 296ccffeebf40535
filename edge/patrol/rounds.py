"""When the patrol's full rounds fall: pure, tested with fixed instants and zones."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def next_round(now: float, rounds: list[str], tz: Any) -> float | None:
    """The epoch seconds of the next full round after ``now`` (local ``HH:MM`` times), None without rounds."""
    if not rounds:
        return None
    local = datetime.fromtimestamp(now, tz) if tz else datetime.fromtimestamp(now).astimezone()
    best = None
    for day in (0, 1):
        for hm in rounds:
            h, m = (int(x) for x in hm.split(":"))
            t = (local + timedelta(days=day)).replace(hour=h, minute=m, second=0, microsecond=0).timestamp()
            if t > now and (best is None or t < best):
                best = t
    return best
