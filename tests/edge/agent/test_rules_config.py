"""`rules:` in the agent's config: the shipped syntax loads; every mistake is reported with its place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edge.config.schema import ConfigError, validate
from edge.loaders.agent import AGENT, load_agent_config

NODE = """
site: mh-primary
node: gate
devices:
  - {id: gate-cam, kind: thermal_camera, driver: replay, path: /tmp/none.npy}
  - {id: gate-buzzer, kind: relay, driver: gpio, pin: 17, max_pulse_seconds: 10}
  - {id: light-a, kind: relay, driver: gpio, pin: 22, groups: [gate-lights]}
  - {id: water-main, kind: water_meter, driver: pulse, pin: 5, litres_per_pulse: 1, groups: [gate-lights]}
  - {id: water-valve, kind: relay, driver: gpio, pin: 6, initial: restore, safe_state: keep}
"""

GOOD = NODE + """
rules:
  - name: fever-buzzer
    when: {device: gate-cam, event: fever}
    then: {device: gate-buzzer, action: pulse, seconds: 3}
  - when: {device: water-main, event: leak, where: {reason: burst}}
    then: {device: water-valve, action: off}
  - when: {event: fever, where: {temp_c: [">= 38.0", "< 43"]}}
    then: {group: gate-lights, action: on}
"""


def load(text: str, tmp_path: Path) -> dict:
    f = tmp_path / "agent.yaml"
    f.write_text(text)
    return load_agent_config(f)


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        validate(AGENT, yaml.safe_load(text))
    return exc.value.errors


def test_the_documented_syntax_loads(tmp_path):
    cfg = load(GOOD, tmp_path)
    r0, r1, r2 = cfg["rules"]
    assert r0 == {"name": "fever-buzzer", "when": {"device": "gate-cam", "event": "fever", "where": []},
                  "then": {"device": "gate-buzzer", "group": None, "action": "pulse", "seconds": 3.0}}
    assert r1["when"]["where"] == [{"field": "reason", "op": "==", "value": "burst"}]
    assert r1["then"]["action"] == "off"  # YAML's bare `off` is a boolean; read as the word
    assert r2["when"]["where"] == [{"field": "temp_c", "op": ">=", "value": 38.0},
                                   {"field": "temp_c", "op": "<", "value": 43.0}]
    assert load(NODE, tmp_path)["rules"] == []


def test_on_as_a_key_is_explained_not_just_refused():
    errs = errors_of(NODE + """
rules:
  - {on: {device: gate-cam, event: fever}, do: {device: gate-buzzer, action: pulse, seconds: 3}}
""")
    assert errs[0] == ("rules[0]: a key written `on` or `yes` is read by YAML as true; put the trigger under "
                       "`when:` and the action under `then:`")
    assert "rules[0].when: is required" in errs and "rules[0].then: is required" in errs
    assert any(e.startswith("rules[0].do: unknown key (known keys: name, when, then)") for e in errs)


def test_every_mistake_with_its_place():
    errs = errors_of(NODE + """
rules:
  - {when: {device: gate-cm, event: fever}, then: {device: gate-cam, action: on}}
  - {when: {device: gate-cam, event: fevr}, then: {device: gate-buzzer, action: pulse, seconds: 30}}
  - {when: {device: gate-cam, event: fever, where: {temp: ">= 38"}}, then: {group: night, action: off}}
  - {when: {event: fever, where: {temp_c: ">= hot", reason: []}}, then: {device: gate-buzzer, action: pulse}}
  - {when: {event: leak, where: {"9x": 1}}, then: {device: gate-buzzer, group: gate-lights, action: on,
                                                   seconds: 2}}
  - {when: {event: rule_action}, then: {device: nowhere, action: toggle}}
  - {when: {device: water-main, event: fever}, then: {device: water-main, action: off}}
  - "gate-buzzer on fever"
""")
    assert errs == [
        "rules[3].when.where.temp_c: expected a number after '>=', got 'hot'",
        "rules[3].when.where.reason: an empty list: give at least one condition",
        "rules[3].then.seconds: `pulse` needs seconds, the time the relay stays on",
        "rules[4].when.where.9x: expected a field name (letters, digits, '_')",
        "rules[4].then: name one device or one group",
        "rules[4].then.seconds: seconds only go with `pulse`, not `on`",
        "rules[5].then.action: expected one of on, off, pulse, got 'toggle'",
        "rules[7]: expected a mapping, got 'gate-buzzer on fever'",
        "rules[0].when.device: no device 'gate-cm' on this node",
        "rules[0].then.device: gate-cam is a thermal_camera; rules switch relays only",
        "rules[1].when.event: gate-cam (thermal_camera) emits no 'fevr' events "
        "(known: calibration_drift, camera_offline, camera_online, fever, recheck, screening_blind, "
        "screening_degraded, screening_ready, unscreened)",
        "rules[1].then.seconds: 30 s is longer than gate-buzzer's max_pulse_seconds (10)",
        "rules[2].when.where.temp: fever events have no field 'temp' (fields: blackbody, frames, "
        "snapshot_png, temp_c, threshold_c, track, uncertainty_c)",
        "rules[2].then.group: no relay on this node is in group 'night'",
        "rules[5].when.event: `rule_action` events are the rules' own and trigger no rule",
        "rules[5].then.device: no device 'nowhere' on this node",
        "rules[6].when.event: water-main (water_meter) emits no 'fever' events "
        "(known: counter_reset, leak, meter_offline, meter_online)",
        "rules[6].then.device: water-main is a water_meter; rules switch relays only",
    ]


def test_an_event_no_device_here_emits_is_refused_for_any_device():
    errs = errors_of(NODE + """
rules:
  - {when: {event: after_hours_load}, then: {device: gate-buzzer, action: on}}
""")
    assert errs == ["rules[0].when.event: no device on this node emits 'after_hours_load' events (known: "
                    "calibration_drift, camera_offline, camera_online, counter_reset, fever, leak, "
                    "meter_offline, meter_online, recheck, relay_fault, relay_ok, screening_blind, "
                    "screening_degraded, screening_ready, unscreened)"]


def check_config(f: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", "check-config", str(f)], capture_output=True,
                          text=True, timeout=60)


def test_check_config_exits_2_with_places_and_no_traceback(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(NODE + """
rules:
  - {when: {device: gate-cam, event: fever, where: {temp_c: ">= warm"}}, then: {device: ghost, action: off}}
""")
    r = check_config(f)
    out = r.stdout + r.stderr
    assert r.returncode == 2, out
    assert "rules[0].when.where.temp_c: expected a number after '>=', got 'warm'" in out
    assert "Traceback" not in out
    f.write_text(NODE + """
rules:
  - {when: {device: gate-cam, event: fever}, then: {device: ghost, action: off}}
""")
    r = check_config(f)
    assert r.returncode == 2 and "rules[0].then.device: no device 'ghost' on this node" in r.stdout + r.stderr


@pytest.mark.parametrize("name", ["gate", "meter-room"])
def test_the_example_configs_carry_rules(name):
    cfg = load_agent_config(Path(__file__).resolve().parents[3] / "config" / f"{name}.yaml")
    assert cfg["rules"], f"config/{name}.yaml has no rules"
