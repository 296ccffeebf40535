"""Reassembling a large node's paged birth info (docs/mqtt.md "Birth info of a large node").

A node whose info does not fit one message publishes the first devices on ``{base}/info`` with
``"pages": n``, and the others on ``{base}/info/2`` .. ``{base}/info/{n}``, all with the same
``session``. A reader feeds every page it gets (in any order: retained messages arrive as the
broker sends them) and gets the whole info back once it holds pages 1..n of one session. Pure: no
I/O; the bridge and the hub each keep one.
"""

from __future__ import annotations

from typing import Any

Key = Any  # the reader's name for a node, e.g. (site, node)


def page_of_topic(topic: str) -> int | None:
    """1 for ``.../info``, n for ``.../info/{n}`` (n >= 2), else None."""
    parts = topic.rsplit("/", 2)
    if parts[-1] == "info":
        return 1
    if len(parts) == 3 and parts[1] == "info" and parts[2].isdigit() and int(parts[2]) >= 2:
        return int(parts[2])
    return None


class InfoPages:
    """The pages held per node; ``feed`` returns the node's whole info when it is complete."""

    def __init__(self) -> None:
        self._pages: dict[Key, dict[int, dict[str, Any]]] = {}

    def feed(self, key: Key, page: int, info: dict[str, Any] | None) -> dict[str, Any] | None:
        """Take one page (``None``: the retained page was cleared). Returns page 1's fields with the
        devices of every page, in page order, once pages 1..n of page 1's session are all here; else None."""
        held = self._pages.setdefault(key, {})
        if info is None:
            held.pop(page, None)
            return None
        held[page] = info
        first = held.get(1)
        if first is None:
            return None
        pages = first.get("pages")
        if not isinstance(pages, int) or pages <= 1:
            for n in [n for n in held if n != 1]:  # a node that shrank to one message
                del held[n]
            return first
        for n in [n for n in held if n > pages]:
            del held[n]
        session = first.get("session")
        rest = [held.get(n) for n in range(2, pages + 1)]
        if any(p is None or p.get("session") != session for p in rest):
            return None  # pages of this session still to come
        devices = list(first.get("devices") or [])
        for p in rest:
            devices += list(p.get("devices") or [])  # type: ignore[union-attr]
        return {**first, "devices": devices}
