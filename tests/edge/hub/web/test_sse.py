"""Live updates never hold the hub up: a page that falls behind is cut off, the others keep going."""

from __future__ import annotations

import asyncio
import threading

from edge.hub.web.sse import Broadcaster, frame


def test_a_slow_page_is_dropped_and_publish_never_blocks():
    async def scenario() -> tuple[list, bool, bool, int]:
        b = Broadcaster(maxsize=5)
        fast, slow = b.add(), b.add()
        got: list = []

        def hub_loop() -> None:  # the hub's main loop thread
            for i in range(20):
                b.publish(("state", {"i": i}))

        t = threading.Thread(target=hub_loop)
        t.start()
        while len(got) < 20:
            got += await fast.next_items(2.0)
            if fast.dropped:
                break
        t.join(5)
        return got, fast.dropped, slow.dropped, b.dropped

    got, fast_dropped, slow_dropped, dropped = asyncio.run(scenario())
    assert slow_dropped and dropped >= 1  # never read: cut off after 5 items
    assert [g[1]["i"] for g in got] == list(range(len(got)))  # in order, nothing duplicated
    assert fast_dropped or len(got) == 20


def test_keepalive_when_nothing_happens_and_frames():
    async def scenario() -> list:
        b = Broadcaster()
        s = b.add()
        out = await s.next_items(0.05)
        b.remove(s)
        b.publish(("x", 1))  # no subscriber left: nothing to do, no error
        return out

    assert asyncio.run(scenario()) == []
    assert frame("alert", '{"a": 1}\n{"b": 2}') == 'event: alert\ndata: {"a": 1}\ndata: {"b": 2}\n\n'
