"""The command and message payloads of the MQTT contract, as bytes."""

from __future__ import annotations

import json

import pytest

from edge.mqtt import payloads
from edge.mqtt.payloads import Command, PayloadError, parse_command


@pytest.mark.parametrize("raw, action", [(b"ON", "on"), (b"off", "off"), (b" Toggle\n", "toggle")])
def test_plain_payloads_as_home_assistant_sends_them(raw: bytes, action: str) -> None:
    assert parse_command(raw) == Command(action=action)


def test_json_command_round_trip() -> None:
    cmd = parse_command(b'{"id":"abc","action":"pulse","seconds":2.5,"expires":1700000000000}')
    assert cmd == Command(action="pulse", id="abc", seconds=2.5, expires_ms=1700000000000)


@pytest.mark.parametrize(
    "raw, error",
    [
        (b"", "command is empty"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{nope", "neither ON/OFF/TOGGLE nor JSON"),
        (b"[1,2]", "must be an object"),
        (b'{"action":"on"}', "'id' must be a non-empty string"),
        (b'{"id":"1","action":"explode"}', "'action' must be one of on, off, toggle, pulse"),
        (b'{"id":"1","action":"pulse"}', "'pulse' needs 'seconds'"),
        (b'{"id":"1","action":"on","seconds":3}', "'seconds' only goes with 'pulse'"),
        (b'{"id":"1","action":"on","expires":"soon"}', "'expires' must be a time"),
        (b'{"id":"1","action":"on","colour":"red"}', "unknown field(s) in command: colour"),
        (b"x" * 5000, "the limit is 4096"),
    ],
)
def test_malformed_commands_name_the_problem(raw: bytes, error: str) -> None:
    with pytest.raises(PayloadError) as exc:
        parse_command(raw)
    assert error in str(exc.value)


def test_peek_id_of_a_broken_command() -> None:
    assert payloads.peek_id(b'{"id":"c7","action":"fly"}') == "c7"
    assert payloads.peek_id(b"garbage") is None


def test_telemetry_refuses_non_numbers() -> None:
    assert payloads.telemetry(1, 2, {"a": 1.5}) == {"ts": 1, "seq": 2, "values": {"a": 1.5}}
    for bad in (float("nan"), "3", True, None):
        with pytest.raises(PayloadError):
            payloads.telemetry(1, 2, {"a": bad})


def test_event_keeps_contract_fields_and_dumps_compact_json() -> None:
    ev = payloads.event(5, 6, "leak", {"flow_lpm": 3.2})
    assert payloads.dumps(ev) == b'{"ts":5,"seq":6,"type":"leak","flow_lpm":3.2}'
    with pytest.raises(PayloadError):
        payloads.event(5, 6, "leak", {"seq": 1})
    assert json.loads(payloads.dumps(payloads.reply_error("i", "bad", 9))) == {
        "id": "i",
        "ok": False,
        "error": "bad",
        "ts": 9,
    }


def test_small_node_info_is_unchanged_and_10000_meters_are_paged_under_the_bridge_limit() -> None:
    small = [{"id": "ac-301", "kind": "relay", "driver": "gpio"}]
    assert payloads.info_pages("1.0", 3, 5, small) == [payloads.info("1.0", 3, 5, small)]
    meters = [
        {"id": f"meter-{i:05d}", "kind": "energy_meter", "driver": "dlt645", "name": f"Room {i}"}
        for i in range(10_000)
    ]
    pages = payloads.info_pages("1.0", 3, 5, meters)
    assert len(payloads.dumps(payloads.info("1.0", 3, 5, meters))) > 256 * 1024  # what broke the bridge
    assert all(len(payloads.dumps(p)) <= payloads.INFO_PAGE_BYTES for p in pages)
    assert pages[0]["pages"] == len(pages) and pages[0]["device_count"] == 10_000
    assert [p["page"] for p in pages[1:]] == list(range(2, len(pages) + 1))
    assert [d for p in pages for d in p["devices"]] == meters


@pytest.mark.parametrize(
    "raw, error",
    [
        (b"[" * 2000 + b"]" * 2000, "nested deeper than 32"),
        (b'{"id":"\\ud800","action":"on"}', "lone surrogate"),
        (b'{"id":"a","action":"on","x":' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper"),
    ],
)
def test_hostile_json_is_refused_in_words(raw: bytes, error: str) -> None:
    with pytest.raises(PayloadError, match=error):
        parse_command(raw)
    assert payloads.peek_id(raw) is None


def test_printable_escapes_what_could_forge_a_log_line() -> None:
    evil = "c-1\n2026-11-30 INFO connected to evil\x1b[2J\u2028\ud800\\"
    out = payloads.printable(evil)
    assert "\n" not in out and "\x1b" not in out and "\u2028" not in out
    assert out == "c-1\\x0a2026-11-30 INFO connected to evil\\x1b[2J\\u2028\\ud800\\\\"
    assert payloads.printable("x" * 500, 10) == "xxxxxxxxxx... (500 chars)"
    assert payloads.printable(b"\xffok") == "\ufffdok"
    assert payloads.printable("教室 301 空调") == "教室 301 空调"
