"""Paged birth info is reassembled per session, whatever order the pages come in (pure vectors)."""

from __future__ import annotations

from edge.mqtt.info_pages import InfoPages, page_of_topic
from edge.mqtt.payloads import info_pages


def _devices(n: int) -> list[dict]:
    return [{"id": f"m{i:05d}", "kind": "electricity_meter", "driver": "modbus"} for i in range(n)]


def test_pages_in_any_order_give_the_whole_list_once():
    pages = info_pages("1.0", 7, 123, _devices(10_000))
    assert len(pages) > 2
    asm = InfoPages()
    got = None
    for p in reversed(pages):  # page 1 last
        got = asm.feed("n", p.get("page", 1), p)
    assert got is not None and [d["id"] for d in got["devices"]] == [d["id"] for d in _devices(10_000)]
    assert got["session"] == 7 and got["version"] == "1.0"


def test_pages_of_an_older_session_are_not_mixed_in():
    old = info_pages("1.0", 1, 1, _devices(10_000))
    new = info_pages("1.0", 2, 2, _devices(10_000)[:9_000] + [{"id": "x", "kind": "relay"}])
    asm = InfoPages()
    for p in old[1:]:
        asm.feed("n", p["page"], p)
    assert asm.feed("n", 1, new[0]) is None, "page 1 of session 2 with pages of session 1"
    result = None
    for p in new[1:]:
        result = asm.feed("n", p["page"], p)
    assert result is not None and result["devices"][-1]["id"] == "x" and len(result["devices"]) == 9_001


def test_a_small_node_is_its_info_and_a_node_that_shrank_forgets_its_pages():
    asm = InfoPages()
    big = info_pages("1.0", 1, 1, _devices(10_000))
    for p in big:
        asm.feed("n", p.get("page", 1), p)
    small = info_pages("1.0", 2, 2, _devices(3))
    assert len(small) == 1
    assert asm.feed("n", 1, small[0]) == small[0]
    assert asm.feed("n", 2, None) is None  # the cleared retained page 2


def test_page_of_topic():
    assert page_of_topic("campus/s/n/info") == 1
    assert page_of_topic("campus/s/n/info/3") == 3
    assert page_of_topic("campus/s/n/info/1") is None
    assert page_of_topic("campus/s/n/dev/telemetry") is None
    assert page_of_topic("campus/s/n/info/telemetry") is None  # a device named info
