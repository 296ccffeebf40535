"""Live updates to browsers: the hub's listener hands items to a Broadcaster, which never blocks.

Each connected page has a bounded queue. ``publish`` (called on the hub's main loop) appends to every
queue and wakes its reader with ``call_soon_threadsafe``; a page that falls ``maxsize`` items behind is
marked dropped and its stream ends (the browser's EventSource reconnects and the page reloads its state
from the journal), so a slow phone can never hold the hub up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Any

log = logging.getLogger(__name__)


class Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self.loop, self.maxsize = loop, maxsize
        self.items: deque[Any] = deque()
        self.wake = asyncio.Event()
        self.dropped = False

    def offer(self, item: Any) -> None:  # any thread
        if self.dropped:
            return
        if len(self.items) >= self.maxsize:
            self.dropped = True
        else:
            self.items.append(item)
        try:
            self.loop.call_soon_threadsafe(self.wake.set)
        except RuntimeError:  # the web loop has closed; the subscriber goes with it
            self.dropped = True

    async def next_items(self, timeout: float) -> list[Any]:
        """What arrived since the last call (empty after ``timeout`` s: time for a keep-alive)."""
        if not self.items:
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
            except TimeoutError:
                return []
        out = []
        while self.items:
            out.append(self.items.popleft())
        return out


class Broadcaster:
    def __init__(self, maxsize: int = 200) -> None:
        self.maxsize = maxsize
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()
        self.dropped = 0  # slow pages cut off since start (shown on the nodes page)

    def publish(self, item: Any) -> None:
        """Hand an item to every page; never blocks, never raises into the hub's loop."""
        with self._lock:
            subs = list(self._subs)
        for s in subs:
            was = s.dropped
            s.offer(item)
            if s.dropped and not was:
                self.dropped += 1
                log.warning("console: a page fell %d updates behind and was cut off (it reconnects)",
                            self.maxsize)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._subs)

    def add(self) -> Subscriber:
        s = Subscriber(asyncio.get_running_loop(), self.maxsize)
        with self._lock:
            self._subs.add(s)
        return s

    def remove(self, s: Subscriber) -> None:
        with self._lock:
            self._subs.discard(s)


def frame(event: str, data: str) -> str:
    """One Server-Sent Events frame (data may span lines)."""
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event}\n{lines}\n"
