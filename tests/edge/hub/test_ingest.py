"""Pure decoding of what the hub hears (edge/hub/ingest.py): vectors, good and bad."""

from __future__ import annotations

import base64
import json

import pytest

from edge.hub import ingest
from edge.hub.ingest import BadPayload
from tests.edge.hub.support import fever, png

MAX = 1_000_000


def dec(topic: str, payload: bytes | str | dict) -> ingest.Record | None:
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return ingest.decode("campus", topic, payload, MAX)


def test_event_with_snapshot_is_decoded_to_png_bytes_and_fields() -> None:
    img = png(1)
    rec = dec("campus/s1/gate/cam-east/event", fever(7, snapshot=img))
    assert isinstance(rec, ingest.EventIn)
    assert (rec.site, rec.node, rec.device, rec.seq, rec.type) == ("s1", "gate", "cam-east", 7, "fever")
    assert rec.snapshot == img
    assert "snapshot_png" not in rec.fields and "seq" not in rec.fields and rec.fields["temp_c"] == 38.1


def test_event_without_snapshot() -> None:
    rec = dec("campus/s1/gate/cam/event", {"ts": 5, "seq": 1, "type": "leak", "reason": "burst"})
    assert isinstance(rec, ingest.EventIn) and rec.snapshot is None and rec.fields == {"reason": "burst"}


@pytest.mark.parametrize("payload, words", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (json.dumps({"ts": 5, "type": "fever"}).encode(), "seq"),
    (json.dumps({"ts": -1, "seq": 1, "type": "fever"}).encode(), "ts"),
    (json.dumps({"ts": 5, "seq": 1, "type": "Fever!"}).encode(), "type"),
    (json.dumps({"ts": 5, "seq": 1, "type": "fever", "snapshot_png": "@@@"}).encode(), "base64"),
    (json.dumps({"ts": 5, "seq": 1, "type": "fever",
                 "snapshot_png": base64.b64encode(b"GIF89a....").decode()}).encode(), "PNG"),
])
def test_bad_events_are_refused_with_a_reason(payload: bytes, words: str) -> None:
    with pytest.raises(BadPayload, match=words):
        ingest.decode("campus", "campus/s1/gate/cam/event", payload, MAX)


def test_bad_topics_and_oversized_payloads() -> None:
    with pytest.raises(BadPayload, match="topic"):
        dec("campus/S1/gate/cam/event", {"ts": 1, "seq": 1, "type": "x"})
    with pytest.raises(BadPayload, match="root"):
        dec("other/s1/gate/cam/event", {"ts": 1, "seq": 1, "type": "x"})
    with pytest.raises(BadPayload, match="max_payload_bytes"):
        ingest.decode("campus", "campus/s1/gate/cam/event", b"x" * 300, 256)


def test_status_info_state_reply_telemetry() -> None:
    assert dec("campus/s1/gate/status", "offline") == ingest.StatusIn("s1", "gate", False)
    assert dec("campus/s1/gate/status", "online") == ingest.StatusIn("s1", "gate", True)
    assert dec("campus/s1/gate/status", b"") is None  # a retained status being cleared
    with pytest.raises(BadPayload):
        dec("campus/s1/gate/status", "maybe")
    rec = dec("campus/s1/gate/info", {"version": "1", "devices": [{"id": "cam", "kind": "thermal_camera",
                                                                     "name": "东门", "groups": ["gates"]}]})
    assert isinstance(rec, ingest.InfoIn) and rec.info["devices"][0]["name"] == "东门"
    assert ingest.place_of(rec.info, "cam") == "东门" and ingest.place_of(rec.info, "other") == "other"
    st = dec("campus/s1/gate/buzzer/state", {"on": True, "ts": 1, "cause": "command"})
    assert isinstance(st, ingest.StateIn) and st.state["on"] is True
    rp = dec("campus/s1/gate/buzzer/reply", {"id": "c1", "ok": True})
    assert isinstance(rp, ingest.ReplyIn) and rp.reply["id"] == "c1"
    tel = dec("campus/s1/gate/cam/telemetry", {"ts": 1, "seq": 3, "values": {"screened": 12, "fevers": 1,
                                                                             "rechecks": 0, "covered": 2}})
    assert isinstance(tel, ingest.TelemetryIn)
    assert ingest.screening_counts(tel.values) == {"screened": 12, "fevers": 1, "rechecks": 0, "covered": 2,
                                                   "unscreened": 0}
    assert ingest.screening_counts({"energy_kwh": 3.0}) is None


def test_subscriptions_cover_every_site() -> None:
    subs = ingest.subscriptions("campus", ["a", "b"])
    assert "campus/a/+/+/event" in subs and "campus/b/+/status" in subs and "campus/b/+/+/reply" in subs


def test_escape_truncates_and_escapes() -> None:
    out = ingest.escape(b"\x00\xff" + b"a" * 500, 20)
    assert out.startswith("b'\\x00\\xff") and out.endswith("...") and len(out) < 40
