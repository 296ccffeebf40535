"""Reed-switch debounce as a pure rule, so it is tested without pins or threads.

A pulse is counted on the *closing* edge only if the line had been quiet
(no edge at all) for ``gap`` seconds before it. Contact bounce on closing and
on opening produces edges a fraction of a millisecond apart, none of which is
preceded by a quiet gap, so one closure counts once. gpiozero's own
``bounce_time`` is not used: its mock pins ignore it, so tests could not see it.
"""

from __future__ import annotations


class Debouncer:
    def __init__(self, gap_seconds: float) -> None:
        self.gap = gap_seconds
        self.last_edge: float | None = None
        self.rejected = 0

    def edge(self, t: float, closed: bool) -> bool:
        """An edge at time ``t`` (seconds); True when it is a new pulse."""
        quiet = self.last_edge is None or t - self.last_edge >= self.gap
        self.last_edge = t
        if closed and not quiet:
            self.rejected += 1
        return closed and quiet
