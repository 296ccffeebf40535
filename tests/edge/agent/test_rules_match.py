"""Local rules, the pure half: conditions as written, events in, actions out (vectors)."""

from __future__ import annotations

import pytest

from edge.agent.rules import Action, Condition, compile_rules, holds, match, rule_action_fields
from edge.loaders.rules import parse_condition
from edge.store.rule_log import RuleKey


@pytest.mark.parametrize(
    ("written", "parsed"),
    [
        (">= 38", (">=", 38.0)),
        (">=38.5", (">=", 38.5)),
        ("  <  -2 ", ("<", -2.0)),
        ("> 1e3", (">", 1000.0)),
        ("<= 0", ("<=", 0.0)),
        ("== burst", ("==", "burst")),
        ("!= night_flow", ("!=", "night_flow")),
        ("== 3", ("==", 3.0)),
        ("== true", ("==", True)),
        ("burst", ("==", "burst")),
        ("38", ("==", 38.0)),
        ("eyes covered", ("==", "eyes covered")),
        (True, ("==", True)),
        (3, ("==", 3.0)),
        (37.5, ("==", 37.5)),
    ],
)
def test_conditions_as_written(written, parsed):
    assert parse_condition(written) == parsed


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (">= hot", "expected a number after '>=', got 'hot'"),
        ("<", "nothing to compare with after '<'"),
        ("> nan", "expected a number after '>', got 'nan'"),
        ([1], 'expected a value or a comparison such as ">= 38", got a list'),
        (None, 'expected a value or a comparison such as ">= 38", got nothing'),
    ],
)
def test_bad_conditions_say_what_is_wrong(written, message):
    assert parse_condition(written) == message


FEVER = {"track": 4, "temp_c": 38.1, "threshold_c": 37.3, "blackbody": True, "snapshot_png": None}


@pytest.mark.parametrize(
    ("cond", "fields", "result"),
    [
        (Condition("temp_c", ">=", 38.0), FEVER, True),
        (Condition("temp_c", ">=", 38.1), FEVER, True),
        (Condition("temp_c", ">", 38.1), FEVER, False),
        (Condition("temp_c", "<", 38.5), FEVER, True),
        (Condition("temp_c", "<=", 38.0), FEVER, False),
        (Condition("track", "==", 4.0), FEVER, True),  # 4 == 4.0: numbers compare as numbers
        (Condition("track", "!=", 4.0), FEVER, False),
        (Condition("blackbody", "==", True), FEVER, True),
        (Condition("blackbody", "==", 1.0), FEVER, False),  # a boolean is not the number 1
        (Condition("track", "==", True), FEVER, False),
        (Condition("reason", "==", "burst"), {"reason": "burst"}, True),
        (Condition("reason", "==", "burst"), {"reason": "night_flow"}, False),
        (Condition("reason", "!=", "burst"), {"reason": "night_flow"}, True),
        (Condition("reason", "!=", "burst"), {}, False),  # a missing field meets no condition
        (Condition("temp_c", ">=", 38.0), {"temp_c": "38.5"}, False),  # text is not a number
        (Condition("temp_c", "!=", 38.0), {"temp_c": None}, False),
        (Condition("snapshot_png", "==", "x"), FEVER, False),
    ],
)
def test_holds(cond, fields, result):
    assert holds(cond, fields) is result


DEVICES = [
    {"id": "gate-cam", "kind": "thermal_camera"},
    {"id": "gate-buzzer", "kind": "relay", "groups": []},
    {"id": "light-a", "kind": "relay", "groups": ["gate-lights"]},
    {"id": "water-valve", "kind": "relay", "groups": []},
    {"id": "light-b", "kind": "relay", "groups": ["gate-lights", "other"]},
    {"id": "water-main", "kind": "water_meter", "groups": ["gate-lights"]},  # not a relay: never a target
]


def rule(when: dict, then: dict, name: str | None = None) -> dict:
    where = [
        {"field": f, "op": op, "value": v}
        for f, written in when.get("where", {}).items()
        for op, v in [parse_condition(written)]
    ]
    return {
        "name": name,
        "when": {"device": when.get("device"), "event": when["event"], "where": where},
        "then": {"device": None, "group": None, "seconds": None, **then},
    }


RULES = compile_rules(
    [
        rule({"device": "gate-cam", "event": "fever"},
             {"device": "gate-buzzer", "action": "pulse", "seconds": 3}, name="fever-buzzer"),
        rule({"device": "water-main", "event": "leak", "where": {"reason": "burst"}},
             {"device": "water-valve", "action": "off"}),
        rule({"event": "fever", "where": {"temp_c": ">= 38.0"}}, {"group": "gate-lights", "action": "on"}),
    ],
    DEVICES,
)


def test_groups_resolve_to_the_relays_in_them_in_config_order():
    assert RULES[2].targets == ("light-a", "light-b")
    assert [r.name for r in RULES] == ["fever-buzzer", "rules[1]", "rules[2]"]


@pytest.mark.parametrize(
    ("device", "event", "fields", "actions"),
    [
        ("gate-cam", "fever", {"temp_c": 37.6},
         [Action(0, "fever-buzzer", "gate-buzzer", "pulse", 3.0)]),
        ("gate-cam", "fever", {"temp_c": 38.4},
         [Action(0, "fever-buzzer", "gate-buzzer", "pulse", 3.0),
          Action(2, "rules[2]", "light-a", "on", None), Action(2, "rules[2]", "light-b", "on", None)]),
        ("door-cam", "fever", {"temp_c": 38.4},  # rule 2 names no device: any device's fever
         [Action(2, "rules[2]", "light-a", "on", None), Action(2, "rules[2]", "light-b", "on", None)]),
        ("gate-cam", "recheck", {"temp_c": 38.4}, []),
        ("water-main", "leak", {"reason": "burst", "flow_lpm": 300.0},
         [Action(1, "rules[1]", "water-valve", "off", None)]),
        ("water-main", "leak", {"reason": "night_flow"}, []),
        ("meter-b", "leak", {"reason": "burst"}, []),
        ("gate-buzzer", "rule_action", {"temp_c": 39.0}, []),
    ],
)
def test_match(device, event, fields, actions):
    assert match(RULES, device, event, fields) == actions


def test_rule_action_fields():
    key = RuleKey("water-main", 17, 1, "water-valve")
    what = {"name": "burst-valve", "trigger_event": "leak", "trigger_ts": 1764061234567, "action": "off",
            "seconds": None}
    ok = {"id": "rule:water-main:17:1", "ok": True, "state": {"on": False}, "ts": 1}
    assert rule_action_fields(key, what, ok) == {
        "rule": 1, "rule_name": "burst-valve", "trigger_device": "water-main", "trigger_event": "leak",
        "trigger_seq": 17, "trigger_ts": 1764061234567, "action": "off", "ok": True,
    }
    pulse = {**what, "action": "pulse", "seconds": 3.0}
    failed = {"id": "x", "ok": False, "error": "relay could not be switched: closed", "ts": 1}
    fields = rule_action_fields(key, pulse, failed)
    assert fields["seconds"] == 3.0 and fields["ok"] is False
    assert fields["error"] == "relay could not be switched: closed"
    warned = rule_action_fields(key, what, {**ok, "warning": "switched, but not recorded on disk: full"})
    assert warned["ok"] is True and warned["warning"].startswith("switched")
