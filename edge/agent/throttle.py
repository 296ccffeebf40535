"""Rate-limited logging: a fault that repeats (disk full, a flood of bad commands, a failing
device) is said a few times a minute, then counted, not written 100 times a second.

A filter on the agent's and each device's logger: warnings and errors with the same message
template from the same logger pass ``burst`` times per ``window`` seconds; the next one that
passes after a quiet spell says how many were held back. Info and debug lines are not limited.
"""

from __future__ import annotations

import logging
import threading
import time


class Throttle(logging.Filter):
    def __init__(self, burst: int = 10, window: float = 60.0) -> None:
        super().__init__()
        self.burst, self.window = burst, window
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], list] = {}  # key -> [window start, passed, held back]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            entry = self._seen.get(key)
            if entry is None or now - entry[0] >= self.window:
                held = entry[2] if entry else 0
                self._seen[key] = [now, 1, 0]
                if len(self._seen) > 1000:  # templates are few; ids are in the args, not the key
                    self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.window}
                if held:
                    more = f" [{held} more like this in the last {self.window:.0f} s]"
                    record.msg = record.getMessage() + more
                    record.args = None
                return True
            if entry[1] < self.burst:
                entry[1] += 1
                return True
            entry[2] += 1
            return False


THROTTLE = Throttle()


def throttled(logger: logging.Logger) -> logging.Logger:
    """The logger, with the shared throttle attached (once)."""
    if THROTTLE not in logger.filters:
        logger.addFilter(THROTTLE)
    return logger
