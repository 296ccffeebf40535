"""Log-in throttling and session helpers: pure enough to test with a fake clock.

A wrong password counts against (name, address); after ``max_failures`` within ``window_s`` that pair is
locked out for ``lockout_s`` and even a right password is refused until then. A good log-in clears the
pair's count. Kept in memory: a hub restart forgets it, which is acceptable for a school LAN console (an
attacker who can restart the hub has the machine already).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window_s: float = 900.0, lockout_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window_s, self.lockout_s = max_failures, window_s, lockout_s
        self._clock = clock
        self._by_key: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()

    def locked_for(self, name: str, ip: str) -> float:
        """Seconds the pair must still wait (0: may try)."""
        with self._lock:
            f = self._by_key.get((name.lower(), ip))
            return max(0.0, f.locked_until - self._clock()) if f else 0.0

    def failed(self, name: str, ip: str) -> bool:
        """Count a failure; True when it locks the pair out."""
        now = self._clock()
        with self._lock:
            if len(self._by_key) > 10_000:  # bounded memory under a spray of names
                self._by_key = {k: v for k, v in self._by_key.items() if v.locked_until > now}
            f = self._by_key.setdefault((name.lower(), ip), _Failures())
            f.times = [t for t in f.times if now - t < self.window_s] + [now]
            if len(f.times) >= self.max_failures:
                f.locked_until, f.times = now + self.lockout_s, []
                return True
            return False

    def succeeded(self, name: str, ip: str) -> None:
        with self._lock:
            self._by_key.pop((name.lower(), ip), None)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(str(a), str(b))
