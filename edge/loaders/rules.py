"""The agent's `rules:`: on an event of a local device, switch a local relay, with or without a network.

    rules:
      - name: fever-buzzer
        when: {device: gate-cam, event: fever}
        then: {device: gate-buzzer, action: pulse, seconds: 3}
      - when: {device: water-main, event: leak, where: {reason: burst}}
        then: {device: water-valve, action: off}
      - when: {event: fever, where: {temp_c: ">= 38.0"}}
        then: {group: gate-lights, action: on}

The keys are `when` / `then`, not `on` / `do`: PyYAML reads YAML 1.1, in which a bare `on` (like `off`,
`yes`, `no`) is a boolean, so `{on: {...}}` would reach us as the key True. Such a key gets an error
that says so.

A condition is `field: value` (the field equals the value) or `field: "OP value"` with OP one of
==, !=, >, >=, <, <= (quoted: a bare `>` starts a YAML block); a list of them on one field must all
hold (`temp_c: [">= 38", "< 43"]`). The validated form is a list of {field, op, value}.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from drivers import catalog
from edge.config.common import ID
from edge.config.schema import MISSING, Enum, Field, Float, Obj, Spec, Str, _show
from edge.mqtt.events import EVENTS

OPERATORS = ("==", "!=", ">=", "<=", ">", "<")
NUMERIC_OPERATORS = (">=", "<=", ">", "<")
RULE_ACTION = "rule_action"  # the event a rule's action publishes; it triggers no rule
_CONDITION = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*(.*?)\s*")
_FIELD = r"[A-Za-z_][A-Za-z0-9_]*"


def parse_condition(text: Any) -> tuple[str, Any] | str:
    """``(op, value)`` for one condition as written, or a message saying what is wrong with it.

    >>> parse_condition(">= 38"), parse_condition("burst"), parse_condition("!= night_flow")
    (('>=', 38.0), ('==', 'burst'), ('!=', 'night_flow'))
    """
    if isinstance(text, bool):
        return ("==", text)
    if isinstance(text, int | float):
        if not math.isfinite(text):
            return f"expected a finite number, got {text}"
        return ("==", float(text))
    if not isinstance(text, str):
        return f'expected a value or a comparison such as ">= 38", got {_show(text)}'
    m = _CONDITION.fullmatch(text)
    if m is None:  # a plain word or number: the field equals it
        number = _number(text)
        return ("==", number if number is not None else text)
    op, rest = m.group(1), m.group(2)
    if not rest:
        return f"nothing to compare with after {op!r}"
    number = _number(rest)
    if op in NUMERIC_OPERATORS:
        if number is None:
            return f"expected a number after {op!r}, got {rest!r}"
        return (op, number)
    if rest in ("true", "false"):
        return (op, rest == "true")
    return (op, number if number is not None else rest)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class Where(Spec):
    """``{field: condition | [conditions]}`` -> ``[{"field", "op", "value"}, ...]``."""

    doc_type = "mapping"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if value is None:
            return []
        if not isinstance(value, Mapping):
            return self.fail(path, errors, f"expected a mapping of field: condition, got {_show(value)}")
        out: list[dict[str, Any]] = []
        ok = True
        for name, written in value.items():
            place = f"{path}.{name}"
            if not isinstance(name, str) or not re.fullmatch(_FIELD, name):
                ok = False
                self.fail(place, errors, "expected a field name (letters, digits, '_')")
                continue
            items = written if isinstance(written, list) else [written]
            if not items:
                ok = False
                self.fail(place, errors, "an empty list: give at least one condition")
            for i, item in enumerate(items):
                parsed = parse_condition(item)
                if isinstance(parsed, str):
                    ok = False
                    self.fail(f"{place}[{i}]" if isinstance(written, list) else place, errors, parsed)
                else:
                    out.append({"field": name, "op": parsed[0], "value": parsed[1]})
        return out if ok else MISSING


def _check_then(then: dict, path: str, errors: list[str]) -> None:
    if bool(then["device"]) == bool(then["group"]):
        errors.append(f"{path}: name one device or one group")
    if then["action"] == "pulse" and then["seconds"] is None:
        errors.append(f"{path}.seconds: `pulse` needs seconds, the time the relay stays on")
    if then["action"] != "pulse" and then["seconds"] is not None:
        errors.append(f"{path}.seconds: seconds only go with `pulse`, not `{then['action']}`")


class RuleSpec(Obj):
    """A rule; a key YAML turned into a boolean (`on:`) gets an error that explains why."""

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, Mapping) and any(isinstance(k, bool) for k in value):
            for key in (k for k in value if isinstance(k, bool)):
                words = "`on` or `yes`" if key else "`off` or `no`"
                errors.append(
                    f"{path}: a key written {words} is read by YAML as {_show(key)}; "
                    "put the trigger under `when:` and the action under `then:`"
                )
            value = {k: v for k, v in value.items() if not isinstance(k, bool)}
        return super().check(value, path, errors)


WHEN = Obj(
    {
        "device": Field(
            ID, "the device whose event triggers the rule; leave out for any device on this node"
        ),
        "event": Field(
            Str(pattern=r"[a-z0-9_]+", hint="expected an event type such as fever or leak"),
            "event type: fever, recheck, leak, after_hours_load, meter_offline, ... (docs/mqtt.md)",
            required=True,
        ),
        "where": Field(
            Where(),
            "conditions on the event's fields, all of which must hold: `reason: burst` (equals), "
            '`temp_c: ">= 38.0"` (==, !=, >, >=, <, <=; quoted), or a list of these for one field',
            default=list,
        ),
    }
)

THEN = Obj(
    {
        "device": Field(ID, "the relay to switch (a device on this node)"),
        "group": Field(ID, "or every relay on this node in this group"),
        "action": Field(Enum(choices=("on", "off", "pulse")), "what to do", required=True),
        "seconds": Field(Float(positive=True), "how long a `pulse` keeps the relay on"),
    },
    check_whole=_check_then,
)

RULE = RuleSpec(
    {
        "name": Field(Str(min_len=1), "a name for logs and the `rule_action` event; default `rules[N]`"),
        "when": Field(WHEN, "the triggering event", required=True),
        "then": Field(THEN, "the relay action, carried out once per triggering event", required=True),
    }
)


def check_rules(cfg: dict[str, Any], errors: list[str]) -> None:
    """Cross-checks against the node's devices: they exist, emit that event with those fields, the
    targets are relays, a pulse fits the relay's `max_pulse_seconds`."""
    devices = [d for d in cfg.get("devices") or [] if isinstance(d, dict) and isinstance(d.get("id"), str)]
    by_id = {d["id"]: d for d in devices}
    rules: list[Any] = cfg["rules"] if isinstance(cfg.get("rules"), list) else []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        if isinstance(rule.get("when"), dict):
            _check_when(rule["when"], f"rules[{i}].when", by_id, errors)
        if isinstance(rule.get("then"), dict):
            _check_target(rule["then"], f"rules[{i}].then", devices, by_id, errors)


def _check_when(when: dict, path: str, by_id: dict[str, dict], errors: list[str]) -> None:
    event, where = when.get("event"), when.get("where")
    if not isinstance(event, str):
        return
    if event == RULE_ACTION:
        errors.append(f"{path}.event: `{RULE_ACTION}` events are the rules' own and trigger no rule")
        return
    device = when.get("device")
    if device is not None:
        if device not in by_id:
            errors.append(f"{path}.device: no device {device!r} on this node")
            return
        kinds: list[Any] = [by_id[device].get("kind")]
        none = f"{device} ({kinds[0]}) emits no {event!r} events"
    else:
        kinds = sorted({str(d.get("kind")) for d in by_id.values()})
        none = f"no device on this node emits {event!r} events"
    tables = [EVENTS[k] for k in kinds if k in EVENTS]
    if len(tables) < len(kinds):
        return  # a kind we know nothing about: anything may come from it
    fields = {f for t in tables if event in t for f in t[event]}
    if not any(event in t for t in tables):
        known = sorted({e for t in tables for e in t})
        errors.append(f"{path}.event: {none}" + (f" (known: {', '.join(known)})" if known else ""))
        return
    for cond in where if isinstance(where, list) else []:
        if cond["field"] not in fields:
            errors.append(
                f"{path}.where.{cond['field']}: {event} events have no field {cond['field']!r} "
                f"(fields: {', '.join(sorted(fields)) or 'none'})"
            )


def _check_target(
    then: dict, path: str, devices: list[dict], by_id: dict[str, dict], errors: list[str]
) -> None:
    if then.get("device"):
        target = by_id.get(then["device"])
        if target is None:
            errors.append(f"{path}.device: no device {then['device']!r} on this node")
            return
        if target.get("kind") not in catalog.SWITCH_KINDS:
            errors.append(
                f"{path}.device: {then['device']} is a {target.get('kind')}; rules switch relays only"
            )
            return
        targets = [target]
    elif then.get("group"):
        targets = [
            d
            for d in devices
            if then["group"] in (d.get("groups") or []) and d.get("kind") in catalog.SWITCH_KINDS
        ]
        if not targets:
            errors.append(f"{path}.group: no relay on this node is in group {then['group']!r}")
            return
    else:
        return
    seconds = then.get("seconds")
    if then.get("action") == "pulse" and isinstance(seconds, float):
        for t in targets:
            limit = t.get("max_pulse_seconds")
            if isinstance(limit, float) and seconds > limit:
                errors.append(
                    f"{path}.seconds: {seconds:g} s is longer than {t['id']}'s max_pulse_seconds ({limit:g})"
                )
